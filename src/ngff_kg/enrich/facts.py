"""What the knowledge graph knows about one dataset, read back from its graph.

The harvest states the NGFF facts of a dataset as triples (see :mod:`ngff_kg.extract.ngff`);
:func:`facts_from_triples` turns those triples back into a :class:`DatasetFacts` record, so the
enrichment gets the same facts whether they come from a store or from reading the dataset in
memory (:func:`facts_in_memory`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import rdf
from ..discover import FoundRoot
from ..extract.ngff import level0_triples, ngff_triples
from ..vocab import NKG, SCHEMA, XSD_DOUBLE, XSD_INTEGER


@dataclass(frozen=True, slots=True)
class Axis:
    """One axis of the first multiscales, with its level-0 extent and pixel size when known."""

    name: str
    type: str | None = None
    unit: str | None = None
    scale: float | None = None
    size: int | None = None


@dataclass
class DatasetFacts:
    """NGFF facts of a dataset root (every field is optional: plates have no axes...)."""

    kind: str | None = None
    ngff_version: str | None = None
    converter_name: str | None = None
    converter_version: str | None = None
    axes: list[Axis] = field(default_factory=list)
    shape: str | None = None
    levels: int | None = None
    channel_count: int | None = None
    channels: list[str | None] = field(default_factory=list)
    plate_rows: int | None = None
    plate_columns: int | None = None
    wells: int | None = None
    fields_per_well: int | None = None


def _value(term: str) -> str | int | float | None:
    text = rdf.unwrap_literal(term)
    if text is None:
        return None
    if term.endswith(f"^^<{XSD_INTEGER}>"):
        return int(text)
    if term.endswith(f"^^<{XSD_DOUBLE}>"):
        return float(text)
    return text


def facts_from_triples(dataset_iri: str, triples: Iterable[rdf.Triple]) -> DatasetFacts:
    """The facts of the dataset ``dataset_iri`` stated in ``triples`` (N-Triples terms)."""
    ds = f"<{dataset_iri}>"
    direct: dict[str, str | int | float] = {}
    nodes: dict[str, dict[str, str | int | float]] = defaultdict(dict)
    axis_nodes: list[str] = []
    channel_nodes: list[str] = []
    for s, p, o in triples:
        if not p.startswith("<" + NKG) and p != f"<{SCHEMA}name>":
            continue
        name = p[len(NKG) + 1 : -1] if p.startswith("<" + NKG) else "name"
        if s == ds:
            if name == "axis":
                axis_nodes.append(o)
            elif name == "channel":
                channel_nodes.append(o)
            else:
                value = _value(o)
                if value is not None:
                    direct[name] = value
        else:
            value = _value(o)
            if value is not None:
                nodes[s][name] = value
    facts = DatasetFacts(
        kind=_text(direct.get("kind")),
        ngff_version=_text(direct.get("ngffVersion")),
        converter_name=_text(direct.get("converterName")),
        converter_version=_text(direct.get("converterVersion")),
        shape=_text(direct.get("shape")),
        levels=_int(direct.get("resolutionLevels")),
        channel_count=_int(direct.get("channelCount")),
        plate_rows=_int(direct.get("plateRows")),
        plate_columns=_int(direct.get("plateColumns")),
        wells=_int(direct.get("wellCount")),
        fields_per_well=_int(direct.get("fieldCount")),
    )
    for node in sorted(axis_nodes, key=lambda n: _int(nodes[n].get("axisIndex")) or 0):
        values = nodes[node]
        name = _text(values.get("axisName"))
        if name is None:
            continue
        scale = values.get("scale")
        facts.axes.append(
            Axis(
                name,
                _text(values.get("axisType")),
                _text(values.get("axisUnit")),
                float(scale) if isinstance(scale, int | float) else None,
                _int(values.get("size")),
            )
        )
    for node in sorted(channel_nodes, key=lambda n: _int(nodes[n].get("channelIndex")) or 0):
        facts.channels.append(_text(nodes[node].get("name")))
    return facts


def facts_in_memory(found: FoundRoot, dataset_iri: str) -> DatasetFacts:
    """The facts of a dataset root read now, as a harvest would state them."""
    _kind, triples, _errors = ngff_triples(dataset_iri, found.group)
    triples.extend(level0_triples(dataset_iri, found.path, found.group))
    return facts_from_triples(dataset_iri, triples)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

"""What the knowledge graph knows about one dataset, read back from its graph.

The harvest states the NGFF facts of a dataset as triples (see :mod:`ngff_kg.extract.ngff`);
:func:`facts_from_triples` turns those triples back into a :class:`DatasetFacts` record, so the
enrichment gets the same facts whether they come from a store or from reading the dataset in
memory (:func:`facts_in_memory`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ngff_kg import rdf
from ngff_kg.extract.ngff import ngff_triples
from ngff_kg.sources.walk import FoundRoot
from ngff_kg.vocab import NKG, SCHEMA, XSD_DOUBLE, XSD_INTEGER

_QUDT_VALUE = "<http://qudt.org/schema/qudt/numericValue>"


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
    #: the day the metadata says the dataset was published or made (``YYYY-MM-DD``): the
    #: crate's ``datePublished``, else its ``dateCreated``, else the earliest acquisition date
    #: of its images (OME-XML ``AcquisitionDate``); never a file's time
    date_published: str | None = None


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
    """The facts of the dataset ``dataset_iri`` stated in ``triples`` (N-Triples terms).

    Axes, level-0 shape and pixel sizes are those of the dataset's first image: the root
    image (the dataset node itself), else the first bioformats2raw series or plate field.
    """
    ds = f"<{dataset_iri}>"
    nodes: dict[str, dict[str, str | int | float]] = defaultdict(dict)
    links: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in triples:
        if p.startswith("<" + NKG):
            name = p[len(NKG) + 1 : -1]
        elif p == f"<{SCHEMA}name>":
            name = "name"
        elif p == _QUDT_VALUE:
            name = "numericValue"
        elif p in _DATES:
            name = _DATES[p]
        else:
            continue
        if o.startswith("<"):
            links[s][name].append(o)
        else:
            value = _value(o)
            if value is not None:
                nodes[s][name] = value
    direct = nodes[ds]
    facts = DatasetFacts(
        kind=_text(direct.get("kind")),
        ngff_version=_text(direct.get("ngffVersion")),
        converter_name=_text(direct.get("converterName")),
        converter_version=_text(direct.get("converterVersion")),
        plate_rows=_int(direct.get("plateRows")),
        plate_columns=_int(direct.get("plateColumns")),
        wells=_int(direct.get("wellCount")),
        fields_per_well=_int(direct.get("fieldCount")),
    )
    images = sorted(links[ds].get("image", []))
    acquired = sorted(d for i in images if (d := day_of(nodes[i].get("dateCreated"))))
    facts.date_published = (
        day_of(direct.get("datePublished"))
        or day_of(direct.get("dateCreated"))
        or (acquired[0] if acquired else None)
    )
    image = ds if links[ds].get("level") or ds in images else (images[0] if images else ds)
    values = nodes[image]
    facts.levels = _int(values.get("resolutionLevels"))
    facts.channel_count = _int(values.get("channelCount"))
    level0 = next(
        (n for n in links[image].get("level", []) if _int(nodes[n].get("levelIndex")) == 0), None
    )
    shape: list[int] = []
    scales: dict[str, float] = {}
    if level0 is not None:
        facts.shape = _text(nodes[level0].get("shape"))
        if facts.shape:
            shape = [int(n) for n in facts.shape.split(",") if n.strip().isdigit()]
        for size in links[level0].get("pixelSize", []):
            axis_id = links[size].get("axis", [None])[0]
            value = nodes[size].get("numericValue")
            if axis_id is not None and isinstance(value, int | float):
                scales[axis_id] = float(value)
    axis_nodes = sorted(
        links[image].get("axis", []), key=lambda n: _int(nodes[n].get("axisIndex")) or 0
    )
    for index, node in enumerate(axis_nodes):
        axis = nodes[node]
        axis_name = _text(axis.get("axisName"))
        if axis_name is None:
            continue
        facts.axes.append(
            Axis(
                axis_name,
                _text(axis.get("axisType")),
                _text(axis.get("axisUnit")),
                scales.get(node),
                shape[index] if len(shape) == len(axis_nodes) else None,
            )
        )
    channel_nodes = sorted(
        links[image].get("channel", []), key=lambda n: _int(nodes[n].get("channelIndex")) or 0
    )
    facts.channels.extend(_text(nodes[node].get("name")) for node in channel_nodes)
    return facts


def facts_in_memory(found: FoundRoot, dataset_iri: str) -> DatasetFacts:
    """The facts of a dataset root read now, as a harvest would state them."""
    from ngff_kg.sources.hierarchy import read_hierarchy

    _kind, triples, _errors = ngff_triples(dataset_iri, found.group)
    triples.extend(read_hierarchy(found, dataset_iri).triples)
    return facts_from_triples(dataset_iri, triples)


_DATES = {f"<{SCHEMA}datePublished>": "datePublished", f"<{SCHEMA}dateCreated>": "dateCreated"}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def day_of(value: object) -> str | None:
    """The day of an ISO 8601 date or date-time (``2024-05-14T10:22:31`` → ``2024-05-14``)."""
    if not isinstance(value, str) or not (match := _DAY.match(value.strip())):
        return None
    try:
        return dt.date.fromisoformat(match.group(0)).isoformat()
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

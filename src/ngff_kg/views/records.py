"""One record per dataset, read from the graph: what the export writes and the web shows.

Records come from the named queries ``dataset-fields`` and ``dataset-axes``; the organism and
imaging-method hierarchies come from ``term-hierarchy`` (the ontology slims in the store, walked
with ``rdfs:subClassOf*``). :func:`dataset_detail` reads everything the store says about one
dataset by direct index lookups (a dataset page must not scan the whole store).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pyoxigraph as ox

from ngff_kg.errors import UsageError
from ngff_kg.vocab import NCBITAXON, NKG, NKG_GRAPH, RDF_TYPE

if TYPE_CHECKING:
    from ngff_kg.catalog import Catalog

#: NCBI Taxonomy ranks shown in the organism hierarchy (others are skipped, not their taxa's
#: datasets): the Linnaean ranks, plus the newer top ranks.
MAIN_RANKS = frozenset(
    NCBITAXON + rank
    for rank in (
        "realm",
        "domain",
        "superkingdom",
        "kingdom",
        "phylum",
        "class",
        "order",
        "family",
        "genus",
        "species",
    )
)


@dataclass(frozen=True, slots=True)
class Axis:
    """An axis of the first multiscales, with its level-0 extent and pixel size."""

    name: str
    type: str | None = None
    unit: str | None = None
    size: int | None = None
    scale: float | None = None


@dataclass(slots=True)
class DatasetRecord:
    """The catalogue facts of one OME-Zarr dataset root."""

    url: str
    name: str | None = None
    description: str | None = None
    kind: str | None = None
    version: str | None = None
    organisms: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    axes: tuple[Axis, ...] = ()
    axes_text: str | None = None
    shape: tuple[int, ...] | None = None
    bytes: int | None = None
    origin: str | None = None

    @property
    def host(self) -> str:
        """The host of the dataset URL; ``(local files)`` for ``file:`` IRIs."""
        if self.url.startswith("file:"):
            return "(local files)"
        return self.url.partition("://")[2].partition("/")[0]

    @property
    def axis_names(self) -> str | None:
        """Axis names joined by commas (``t,c,z,y,x``)."""
        if self.axes:
            return ",".join(a.name for a in self.axes)
        return self.axes_text

    def text(self) -> str:
        """What free-text search looks at: name, description and the decoded URL."""
        return " ".join(p for p in (self.name, self.description, unquote(self.url)) if p).lower()


@dataclass(frozen=True, slots=True)
class Term:
    """An ontology term of a facet hierarchy."""

    iri: str
    label: str | None
    rank: str | None
    parents: tuple[str, ...]


@dataclass
class Hierarchy:
    """The terms one facet uses, with every ancestor (from ``rdfs:subClassOf`` in the store)."""

    facet: str
    terms: dict[str, Term] = field(default_factory=dict)
    _cache: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def label(self, iri: str) -> str | None:
        term = self.terms.get(iri)
        return term.label if term else None

    def ancestors(self, iri: str) -> frozenset[str]:
        """The term and all its ancestors (just the term when the ontology does not know it)."""
        cache = self._cache
        if iri not in cache:
            seen = {iri}
            stack = [iri]
            while stack:
                term = self.terms.get(stack.pop())
                for parent in term.parents if term else ():
                    if parent not in seen:
                        seen.add(parent)
                        stack.append(parent)
            cache[iri] = frozenset(seen)
        return cache[iri]

    @cached_property
    def ranked(self) -> bool:
        """Whether the terms carry ranks (NCBI Taxonomy); then only main ranks are shown."""
        return any(t.rank for t in self.terms.values())

    def shown(self, iri: str, used: bool) -> bool:
        """Whether a facet tree shows this term: every term used by a dataset, every FBbi
        ancestor, and the taxa of main ranks (class, order, ...)."""
        if used or not self.ranked:
            return True
        term = self.terms.get(iri)
        return term is not None and term.rank in MAIN_RANKS


def read_records(catalog: Catalog) -> list[DatasetRecord]:
    """Every dataset of the store, sorted by URL."""
    records: dict[str, DatasetRecord] = {}
    multi: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for dataset, name, term in catalog.query("dataset-fields").rows:
        url = dataset.value
        record = records.get(url)
        if record is None:
            record = records[url] = DatasetRecord(url)
        _set_field(record, name.value, term, multi[url])
    for url, values in multi.items():
        record = records[url]
        record.organisms = tuple(sorted(values["organism"]))
        record.modalities = tuple(sorted(values["modality"]))
        record.licenses = tuple(sorted(values["license"]))
    axes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in catalog.query("dataset-axes").values():
        axes[row["dataset"]].append(row)
    for url, rows in axes.items():
        record = records.get(url)
        if record is None:
            continue
        # the extent along each axis is the level-0 shape, when it has one number per axis
        shape = record.shape if record.shape and len(record.shape) == len(rows) else None
        record.axes = tuple(
            Axis(
                row["name"],
                row["type"],
                row["unit"],
                shape[index] if shape else None,
                float(row["scale"]) if isinstance(row["scale"], int | float) else None,
            )
            for index, row in enumerate(rows)
        )
    return [records[url] for url in sorted(records)]


def _set_field(record: DatasetRecord, name: str, term: Any, multi: dict[str, set[str]]) -> None:
    value = term.value
    if name in ("organism", "modality", "license"):
        if isinstance(term, ox.NamedNode) or name == "license":
            multi[name].add(value)
    elif name == "bytes":
        try:
            size = int(float(value))
        except ValueError:
            return
        record.bytes = size if record.bytes is None else max(record.bytes, size)
    elif name == "shape":
        try:
            record.shape = tuple(int(n) for n in value.split(","))
        except ValueError:
            return
    elif name == "axes":
        record.axes_text = value
    elif name == "origin":
        if record.origin is None or value < record.origin:
            record.origin = value
    else:  # name, description, kind, version: the first in lexical order, to be deterministic
        current = getattr(record, name)
        if current is None or value < current:
            setattr(record, name, value)


def read_hierarchies(catalog: Catalog) -> dict[str, Hierarchy]:
    """The ``organism`` and ``modality`` hierarchies of the terms the datasets use."""
    out = {"organism": Hierarchy("organism"), "modality": Hierarchy("modality")}
    for row in catalog.query("term-hierarchy").values():
        parents = tuple(p for p in (row["parents"] or "").split() if p)
        out[row["facet"]].terms[row["term"]] = Term(row["term"], row["label"], row["rank"], parents)
    return out


# ---------------------------------------------------------------------- one dataset in full


@dataclass(frozen=True, slots=True)
class Statement:
    """A triple and the named graph it is in, as RDF terms."""

    graph: Any
    subject: Any
    predicate: Any
    object: Any


@dataclass(frozen=True, slots=True)
class RepairRow:
    kind: str
    original: str
    repaired: str


@dataclass
class DatasetDetail:
    """Everything the store says about one dataset: its graph, and triples about it elsewhere."""

    iri: str
    statements: list[Statement]
    repairs: list[RepairRow]


_REPAIR_SET = ox.NamedNode(NKG + "repairSet")
_REPAIR = ox.NamedNode(NKG + "repair")
_KIND = ox.NamedNode(NKG + "repairKind")
_ORIGINAL = ox.NamedNode(NKG + "originalValue")
_REPAIRED = ox.NamedNode(NKG + "repairedValue")
_DATASET_CLASS = ox.NamedNode(NKG + "OmeZarrDataset")


def dataset_detail(store: ox.Store, iri: str) -> DatasetDetail | None:
    """The triples and repairs of the dataset ``iri``; ``None`` when it is no dataset.

    :raises UsageError: ``iri`` is not a valid IRI.
    """
    try:
        node = ox.NamedNode(iri)
    except ValueError as exc:
        raise UsageError(f"{iri!r} is not an IRI: {exc}") from None
    if not any(store.quads_for_pattern(node, ox.NamedNode(RDF_TYPE), _DATASET_CLASS)):
        return None
    statements = [
        Statement(q.graph_name, q.subject, q.predicate, q.object)
        for q in store.quads_for_pattern(None, None, None, node)
    ]
    statements += [
        Statement(q.graph_name, q.subject, q.predicate, q.object)
        for q in store.quads_for_pattern(node, None, None)
        if q.graph_name != node
    ]
    statements.sort(
        key=lambda s: (_order(s.graph, iri), str(s.subject), str(s.predicate), str(s.object))
    )
    return DatasetDetail(iri, statements, _repairs(store, node))


def _order(graph: Any, iri: str) -> tuple[int, str]:
    value = getattr(graph, "value", "")
    return (0 if value == iri else 2 if value.startswith(NKG_GRAPH) else 1, value)


def _repairs(store: ox.Store, node: ox.NamedNode) -> list[RepairRow]:
    rows: set[RepairRow] = set()
    for link in _objects(store, node, _REPAIR_SET):
        for repair in _objects(store, link, _REPAIR):
            kinds = _objects(store, repair, _KIND)
            originals = _objects(store, repair, _ORIGINAL)
            repaired = _objects(store, repair, _REPAIRED)
            for kind in kinds:
                for before in originals:
                    for after in repaired:
                        rows.add(
                            RepairRow(kind.value.rpartition("#")[2], before.value, after.value)
                        )
    return sorted(rows, key=lambda r: (r.kind, r.original, r.repaired))


def _objects(store: ox.Store, subject: Any, predicate: ox.NamedNode) -> Iterable[Any]:
    return sorted({q.object for q in store.quads_for_pattern(subject, predicate, None)}, key=str)

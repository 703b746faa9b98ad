"""One record per dataset, read from the graph: what the export writes and the web shows.

Records come from the named queries ``dataset-fields`` and ``dataset-axes``; the organism and
imaging-method hierarchies come from ``term-hierarchy`` (the ontology slims in the store, walked
with ``rdfs:subClassOf*``). Everything the store says about one dataset, for its page, is
:meth:`~ngff_kg.store.knowledge.KnowledgeStore.dataset_detail`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import unquote, urlsplit

from ngff_kg.queries import QuerySource, is_iri
from ngff_kg.store import catalogue
from ngff_kg.store.knowledge import KnowledgeStore
from ngff_kg.vocab import NCBITAXON, NCBITAXON_RANK, NKG, RDFS

RDFS_LABEL = RDFS + "label"
RDFS_SUBCLASS = RDFS + "subClassOf"

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
        return catalogue.host(self.url)

    @property
    def axis_names(self) -> str | None:
        """Axis names joined by commas (``t,c,z,y,x``)."""
        if self.axes:
            return ",".join(a.name for a in self.axes)
        return self.axes_text

    def text(self) -> str:
        """What free-text search looks at: name, description and the decoded URL."""
        return " ".join(p for p in (self.name, self.description, unquote(self.url)) if p).lower()

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> DatasetRecord:
        """A record as the catalogue index keeps it (:func:`ngff_kg.store.catalogue.fold`)."""
        shape = record["shape"]
        return cls(
            record["url"],
            record["name"],
            record["description"],
            record["kind"],
            record["version"],
            tuple(record["organisms"]),
            tuple(record["modalities"]),
            tuple(record["licenses"]),
            tuple(Axis(*axis) for axis in record["axes"]),
            record["axes_text"],
            tuple(shape) if shape is not None else None,
            record["bytes"],
            record["origin"],
        )


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


def read_records(source: QuerySource) -> list[DatasetRecord]:
    """Every dataset of the store, sorted by URL, read with the named queries (the catalogue
    index holds the same records: :func:`indexed_records`)."""
    records: dict[str, dict[str, Any]] = {}
    for dataset, name, term in source.query("dataset-fields").rows:
        url = dataset.value
        record = records.get(url)
        if record is None:
            record = records[url] = catalogue.new_record(url)
        catalogue.set_field(record, name.value, is_iri(term), term.value)
    axes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in source.query("dataset-axes").values():
        axes[row["dataset"]].append(row)
    for url, rows in axes.items():
        if url in records:
            catalogue.set_axes(records[url], rows)
    return [DatasetRecord.from_json(catalogue.finish(records[url])) for url in sorted(records)]


def indexed_records(index: catalogue.CatalogueIndex) -> Iterator[DatasetRecord]:
    """Every dataset of a store's catalogue index, by URL."""
    for record in index.records():
        yield DatasetRecord.from_json(record)


def read_hierarchies(source: QuerySource) -> dict[str, Hierarchy]:
    """The ``organism`` and ``modality`` hierarchies of the terms the datasets use."""
    out = {"organism": Hierarchy("organism"), "modality": Hierarchy("modality")}
    for row in source.query("term-hierarchy").values():
        parents = tuple(p for p in (row["parents"] or "").split() if p)
        out[row["facet"]].terms[row["term"]] = Term(row["term"], row["label"], row["rank"], parents)
    return out


def term_hierarchies(
    store: KnowledgeStore, used: Mapping[str, Iterable[str]]
) -> dict[str, Hierarchy]:
    """The ``organism`` and ``modality`` hierarchies of the terms ``used`` (facet → IRIs),
    as :func:`read_hierarchies` reads them with ``term-hierarchy``, but by index lookups from
    the given terms instead of a scan of every dataset's links (the terms come from the
    catalogue index)."""
    out = {"organism": Hierarchy("organism"), "modality": Hierarchy("modality")}
    for facet, terms in used.items():
        hierarchy = out[facet]
        stack = list(terms)
        while stack:
            iri = stack.pop()
            if iri in hierarchy.terms:
                continue
            labels = store.values(iri, RDFS_LABEL)
            ranks = store.values(iri, NCBITAXON_RANK)
            parents = tuple(store.values(iri, RDFS_SUBCLASS, iris=True))
            hierarchy.terms[iri] = Term(
                iri, labels[0] if labels else None, ranks[0] if ranks else None, parents
            )
            stack.extend(parents)
    return out


#: The metadata file a dataset was read from (``nkg:metadataSource``).
METADATA_SOURCE = NKG + "metadataSource"


def shown_source(dataset: str, source: str) -> str:
    """The metadata file a dataset was read from, as its page shows it: a local file of a
    dataset harvested with a base URL (so that its IRI is a URL) as its path relative to the
    dataset root (``zarr.json``, ``OME/METADATA.ome.xml``), since the harvesting machine's
    ``file://`` path means nothing to a reader; anything else as it is."""
    if not source.startswith("file:") or dataset.startswith("file:"):
        return source
    path = unquote(urlsplit(source).path)
    root = unquote(urlsplit(dataset).path)
    name = root.rstrip("/").rsplit("/", 1)[-1]  # the root directory (or the OME-XML file)
    if root.endswith("/") and name and f"/{name}/" in path:
        return path.rsplit(f"/{name}/", 1)[1]
    return path.rsplit("/", 1)[-1]

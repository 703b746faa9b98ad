"""The Oxigraph store: one named graph per dataset, shared graphs for repairs, runs, ontologies.

Writes come in batches of whole graphs. Graphs new to the store are bulk-loaded (the fast
path of a first harvest); graphs that exist already are replaced by one SPARQL update per
batch (``DROP GRAPH`` + ``INSERT DATA``), which Oxigraph applies as one transaction, so a reader
never sees a dataset half replaced.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from ngff_kg import rdf
from ngff_kg._resources import resource_dir
from ngff_kg.errors import StoreError, UsageError
from ngff_kg.ontology.index import OntologyIndex, closure
from ngff_kg.processes import pid_alive
from ngff_kg.store.catalogue import (
    FILE_NAME,
    CatalogueIndex,
    SourceRecords,
    graph_files,
    graph_rows,
)
from ngff_kg.store.summary import SUMMARY_GRAPH, summary_nquads
from ngff_kg.vocab import CLOSURE_GRAPH, NKG, NKG_GRAPH, ONTOLOGY_GRAPH, OWL, RDF_TYPE, RDFS

_META_GRAPH = NKG_GRAPH + "meta"
#: In the meta graph: the ontology graphs added at harvest time (lineages), beside the
#: ``nkg:contentHash`` of those loaded from the shipped files.
_ADDED_ONTOLOGY = ox.NamedNode(NKG + "addedOntology")
_LINEAGES = ONTOLOGY_GRAPH + "ncbitaxon-lineages"  # added before the marker existed


def ontology_graph_names(db: ox.Store) -> list[ox.NamedNode]:
    """The ontology graphs of a store, from the markers of the meta graph (listing every named
    graph would read one per dataset: 3.6 s at 1M); a store without markers (loaded from
    shards) is listed."""
    meta = ox.NamedNode(_META_GRAPH)
    found = {
        q.subject.value
        for predicate in (ox.NamedNode(NKG + "contentHash"), _ADDED_ONTOLOGY)
        for q in db.quads_for_pattern(None, predicate, None, meta)
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(ONTOLOGY_GRAPH)
    }
    if not found:
        found = {
            g.value
            for g in db.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value.startswith(ONTOLOGY_GRAPH)
        }
    if db.contains_named_graph(ox.NamedNode(_LINEAGES)):
        found.add(_LINEAGES)
    return [ox.NamedNode(g) for g in sorted(found) if db.contains_named_graph(ox.NamedNode(g))]


#: The ``nkg:sourceFiles`` record of each dataset: a literal about the graph's own name
#: (the kinds of terms are checked in Python: a FILTER costs Oxigraph 0.6 s at 200K rows).
_SOURCE_FILES = f"SELECT ?g ?files WHERE {{ GRAPH ?g {{ ?g <{NKG}sourceFiles> ?files }} }}"


class RdfFormat(StrEnum):
    """Formats the whole store can be written in (:meth:`KnowledgeStore.dump`)."""

    NQUADS = "nquads"
    TRIG = "trig"
    TURTLE = "turtle"


#: Prefixes written into TriG and Turtle dumps.
PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "schema": "http://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "prov": "http://www.w3.org/ns/prov#",
    "obo": "http://purl.obolibrary.org/obo/",
    "nkg": "https://w3id.org/ngff-kg/vocab#",
}


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


@dataclass(frozen=True, slots=True)
class GraphData:
    """The complete content of one named graph, as a TriG block ``<iri> { ... }``, with what
    it gives the catalogue index (:func:`~ngff_kg.store.catalogue.graph_rows` and
    :func:`~ngff_kg.store.catalogue.graph_files`; ``rows`` ``None``: both are worked out from
    the text when the graph is written)."""

    iri: str
    trig: str
    rows: dict[str, dict[str, Any]] | None = None
    files: str | None = None

    @classmethod
    def from_triples(cls, iri: str, triples: Iterable[rdf.Triple]) -> GraphData:
        triples = triples if isinstance(triples, list) else list(triples)
        try:
            rows: dict[str, dict[str, Any]] | None = graph_rows(triples)
        except Exception:  # worked out again from the text when the graph is written
            rows = None
        return cls(iri, rdf.trig_block(iri, triples), rows, graph_files(iri, triples))

    def _triples(self) -> list[rdf.Triple]:
        quads = ox.parse(self.trig.encode("utf-8"), format=ox.RdfFormat.TRIG)
        return [(str(q.subject), str(q.predicate), str(q.object)) for q in quads]

    def catalogue_rows(self) -> dict[str, dict[str, Any]]:
        if self.rows is not None:
            return self.rows
        return graph_rows(self._triples())

    def catalogue_files(self) -> str | None:
        if self.rows is not None:
            return self.files
        return graph_files(self.iri, self._triples())


class KnowledgeStore:
    """An Oxigraph store on disk (or in memory with ``path=None``).

    >>> ks = KnowledgeStore(None)
    >>> ks.write([GraphData.from_triples("https://example.org/ds/", [
    ...     ("<https://example.org/ds/>", "<http://schema.org/name>", '"x"')])])
    >>> ks.dataset_graph_count()
    1
    """

    def __init__(self, path: str | Path | None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self._store: ox.Store | None = None
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                if not Path(path).is_dir():
                    raise StoreError(f"no store at {path}: harvest into it first")
                try:
                    self._store = ox.Store.read_only(str(path))
                except OSError as exc:
                    if _never_completed(Path(path), exc):
                        raise StoreError(
                            f"the store at {path} was left incomplete by an interrupted "
                            "harvest and holds nothing: harvest into it again to create it"
                        ) from exc
                    raise
            else:
                self._store = _open_or_create(Path(path))
        except (OSError, RuntimeError) as exc:
            if isinstance(exc, StoreError):
                raise
            message = str(exc)
            if "lock" in message.lower():
                message = f"the store at {path} is in use by another process ({message})"
            raise StoreError(f"cannot open store at {path}: {message}") from exc
        self.read_only = read_only
        self._catalogue: CatalogueIndex | None = None
        #: the summary graph is to be written at the next flush / was removed this session
        self._summary_due = False
        self._summary_dropped = False
        if not read_only:
            self._catalogue = self._open_catalogue()
            if not self._db.contains_named_graph(ox.NamedNode(SUMMARY_GRAPH)):
                self._summary_due = True

    # ------------------------------------------------------------------ catalogue index
    @property
    def catalogue(self) -> CatalogueIndex:
        """The catalogue index of this store (:mod:`ngff_kg.store.catalogue`): the file in
        the store's directory when it is complete, else one built from the store (in memory
        for a store opened read-only, in the file otherwise)."""
        if self._catalogue is None:
            self._catalogue = self._open_catalogue()
        return self._catalogue

    def following_catalogue(self) -> CatalogueIndex | None:
        """The catalogue index when it holds what the store does (:meth:`CatalogueIndex.
        follows_store`), opening the file of a store opened read-only when it is complete;
        ``None`` rather than building one (which takes minutes at 1M datasets)."""
        index = self._catalogue
        if index is None and self.path is not None:
            file = self.path / FILE_NAME
            if not file.is_file():
                return None
            try:
                index = CatalogueIndex(file, read_only=True)
            except sqlite3.Error:
                return None
            if not index.usable():
                index.close()
                return None
            self._catalogue = index
        return index if index is not None and index.follows_store() else None

    def _open_catalogue(self) -> CatalogueIndex:
        file = self.path / FILE_NAME if self.path is not None else None
        if self.read_only:
            if file is not None and file.is_file():
                try:
                    index = CatalogueIndex(file, read_only=True)
                except sqlite3.Error:
                    pass
                else:
                    if index.usable():
                        return index
                    index.close()
            index = CatalogueIndex(None)
            self._rebuild(index)
            return index
        try:
            index = CatalogueIndex(file)
        except sqlite3.Error:  # not an index (a damaged file): it is made again
            for stale in (file, *(Path(f"{file}{end}") for end in ("-wal", "-shm"))):
                if stale is not None:
                    stale.unlink(missing_ok=True)
            try:
                index = CatalogueIndex(file)
            except sqlite3.Error:  # the file cannot be written: readers build their own
                index = CatalogueIndex(None)
        if not index.usable():
            try:
                self._rebuild(index)
            except sqlite3.Error:  # a full disk: left for the next writer to rebuild
                with contextlib.suppress(sqlite3.Error):
                    index.invalidate()
        elif index.meta("sources") != "complete":  # an index of an earlier version
            if self.path is not None:
                print(
                    f"ngff-kg: recording in the catalogue index of the store at {self.path} "
                    "the files each dataset was read from",
                    file=sys.stderr,
                )
            with contextlib.suppress(sqlite3.Error):  # else read from the store, as before
                index.set_sources(list(self._stored_source_texts().items()), complete=True)
                index.mark_clean()
        return index

    def _rebuild(self, index: CatalogueIndex) -> None:
        """Build ``index`` from the store, saying so when the store has graphs to read (the
        first open of a store made by a version with another index: some ten minutes at
        1M datasets), with how far it got every :data:`REBUILD_NOTE_EVERY` seconds."""
        if self.path is None or next(iter(self._db.named_graphs()), None) is None:
            index.rebuild(self._catalogue_graphs)
            self._summary_due = True
            return
        where = "in memory" if index.path is None else "in its directory"
        total = sum(1 for _ in self._db.named_graphs())  # 2.4 s at 1M: of a 10-minute build
        hint = ""
        if index.path is None:
            hint = (
                " (opened read-only: the next harvest into the store writes the index beside "
                "it, and later opens read it at once)"
            )
        print(
            f"ngff-kg: building the catalogue index of the store at {self.path} {where}, "
            f"from its {total:,} graphs{hint}",
            file=sys.stderr,
        )
        started = time.monotonic()
        index.rebuild(lambda: _noting(self._catalogue_graphs(), total, started))
        self._summary_due = True
        print(
            f"ngff-kg: catalogue index built in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )

    def rebuild_catalogue(self) -> None:
        """Build the catalogue index again from every graph of the store (after loading
        graphs by other means than :meth:`write`); the summary follows at the flush (one the
        loaded graphs brought along, from a dump, goes)."""
        self._begin_change()
        self._db.remove_graph(ox.NamedNode(SUMMARY_GRAPH))
        self._index_update(lambda index: index.rebuild(self._catalogue_graphs))

    def _begin_change(self) -> None:
        """Before the first change of a session: the index says it is being written, and the
        summary, which would no longer hold, goes (written again at the flush)."""
        self._index_update(CatalogueIndex.begin_writing)
        if not self._summary_dropped:
            self._db.remove_graph(ox.NamedNode(SUMMARY_GRAPH))
            self._summary_dropped = True
        self._summary_due = True

    def _write_summary(self) -> None:
        """Write the summary graph anew from the catalogue index, when the index follows the
        store (else the store is left without one: the queries count the slow way)."""
        node = ox.NamedNode(SUMMARY_GRAPH)
        self._db.remove_graph(node)
        index = self.catalogue
        try:
            if not index.follows_store() or not index.faithful():
                return
            text = summary_nquads(index.tallies())
            self._db.load(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS)
        except Exception:  # no summary rather than a wrong one, and the flush goes on
            with contextlib.suppress(Exception):
                self._db.remove_graph(node)

    def _catalogue_graphs(self) -> Iterator[tuple[str, list[rdf.Triple]]]:
        """Every named graph that may hold catalogue facts (not the ontologies)."""
        for graph in self._db.named_graphs():
            if isinstance(graph, ox.NamedNode) and not graph.value.startswith(
                (ONTOLOGY_GRAPH, CLOSURE_GRAPH, SUMMARY_GRAPH)
            ):
                yield graph.value, self.graph_triples(graph.value)

    def _index_update(self, change: Callable[[CatalogueIndex], None]) -> None:
        """Apply ``change`` to the catalogue index; when that fails (a full disk, or a graph
        the index cannot read), the index is marked for a rebuild rather than the store's
        write undone or the harvest stopped."""
        index = self.catalogue
        try:
            change(index)
        except Exception:  # the store is written; the index can be rebuilt
            with contextlib.suppress(sqlite3.Error):
                index.invalidate()

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying :class:`pyoxigraph.Store`, for ``ngff_kg.store`` code and tests only:
        the rest of the package reads through the methods of this class."""
        return self._db

    @property
    def _db(self) -> ox.Store:
        if self._store is None:
            raise StoreError("the store is closed")
        return self._store

    # ------------------------------------------------------------------ writing
    def write(self, graphs: Iterable[GraphData]) -> None:
        """Replace each graph's content (create it when new)."""
        new: list[GraphData] = []
        existing: list[GraphData] = []
        try:
            for graph in graphs:  # ValueError: a graph name the store cannot hold
                target = existing if self.has_graph(graph.iri) else new
                target.append(graph)
            self._begin_change()
            if new:
                text = "".join(g.trig for g in new)
                self._db.bulk_load(text.encode("utf-8"), format=ox.RdfFormat.TRIG)
            for start in range(0, len(existing), 1000):  # updates parse their text whole
                self._db.update(_replace_update(existing[start : start + 1000]))
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(f"writing {len(new) + len(existing)} graphs failed: {exc}") from exc
        self._index_update(
            lambda index: index.replace([(g.iri, g.catalogue_rows()) for g in new], new=True)
        )
        self._index_update(
            lambda index: index.replace([(g.iri, g.catalogue_rows()) for g in existing])
        )
        self._index_update(
            lambda index: index.set_sources([(g.iri, g.catalogue_files()) for g in new + existing])
        )

    def add(self, graph_iri: str, triples: Iterable[rdf.Triple]) -> None:
        """Add triples to a shared graph (set semantics: adding twice changes nothing)."""
        triples = list(triples)
        text = rdf.nquads(triples, f"<{graph_iri}>")
        if not text:
            return
        catalogued = True
        if graph_iri.startswith((ONTOLOGY_GRAPH, CLOSURE_GRAPH)):
            catalogued = False
        else:
            with contextlib.suppress(Exception):  # else the index reads the whole graph
                catalogued = (
                    bool(graph_rows(triples)) or graph_files(graph_iri, triples) is not None
                )
        if catalogued:
            self._begin_change()
        self._db.load(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS)
        if catalogued:  # what the whole graph gives, now that it holds these triples too

            def change(index: CatalogueIndex) -> None:
                whole = self.graph_triples(graph_iri)
                index.replace([(graph_iri, graph_rows(whole))])
                index.set_sources([(graph_iri, graph_files(graph_iri, whole))])

            self._index_update(change)

    def has_graph(self, iri: str) -> bool:
        return self._db.contains_named_graph(ox.NamedNode(iri))

    def remove_graph(self, iri: str) -> None:
        node = ox.NamedNode(iri)
        if self._db.contains_named_graph(node):
            self._drop(node)

    def _drop(self, node: ox.NamedNode) -> None:
        self._begin_change()
        self._db.remove_graph(node)
        self._index_update(lambda index: index.remove([node.value]))

    def discard_graph(self, iri: str) -> None:
        """Remove the graph ``iri`` when there is one (an IRI the store cannot hold names
        none)."""
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return
        if self._db.contains_named_graph(node):
            self._drop(node)

    def list_members(self, list_iri: str) -> tuple[list[str], list[str]]:
        """What a sample list named when it was harvested (its graph): the URLs of the
        datasets it lists (sorted) and of the lists it includes."""
        node = ox.NamedNode(list_iri)
        rows = [
            quad.subject.value
            for quad in self._db.quads_for_pattern(None, ox.NamedNode(f"{NKG}listedIn"), node, node)
            if not isinstance(quad.subject, ox.Triple)
        ]
        lists = [
            quad.object.value
            for quad in self._db.quads_for_pattern(
                node, ox.NamedNode(f"{NKG}includesList"), None, node
            )
            if not isinstance(quad.object, ox.Triple)
        ]
        return sorted(rows), lists

    def source_files(self) -> SourceRecords:
        """Per dataset IRI, the files its last harvest read: [path, size, mtime ns] lists.

        A re-harvest reads one record per dataset of the store, from the catalogue index
        when it holds them (1M datasets: 1.2-1.7 s instead of 13-16 s from the store,
        :meth:`CatalogueIndex.sources`), else from the store; each is parsed when looked up."""
        with contextlib.suppress(sqlite3.Error, StoreError):
            index = self.catalogue
            if index.has_sources():
                return index.sources()
        return SourceRecords(self._stored_source_texts())

    def _stored_source_texts(self) -> dict[str, str]:
        """Per graph, the text of what it records of the files its harvest read (the first
        ``<graph> nkg:sourceFiles`` literal, as :func:`graph_files` takes it): a SPARQL
        select decodes only the graph name and the literal of each (a quad also decodes its
        predicate and graph name)."""
        found: dict[str, str] = {}
        for row in self._db.query(_SOURCE_FILES):  # type: ignore[union-attr]
            graph, files = row[0], row[1]
            if isinstance(graph, ox.NamedNode) and isinstance(files, ox.Literal):
                found.setdefault(graph.value, files.value)
        return found

    def flush(self) -> None:
        """Flush the store; the catalogue index then says it matches the store."""
        if not self.read_only and self._store is not None:
            if self._summary_due:
                self._write_summary()
                self._summary_due = False
                self._summary_dropped = False
            if self.path is not None:
                self._db.flush()
            if self._catalogue is not None:
                self._index_update(CatalogueIndex.mark_clean)

    def close(self) -> None:
        """Flush and release the store (its files can then be opened by others)."""
        if self._store is not None:
            self.flush()
            self._store = None  # pyoxigraph closes the database when the object is dropped
        if self._catalogue is not None:
            self._catalogue.close()
            self._catalogue = None

    # ------------------------------------------------------------------ vocabularies
    def ensure_ontologies(self) -> list[str]:
        """Load the shipped ``ontologies/*.ttl`` into their named graphs when missing or changed,
        and materialize their hierarchy (:meth:`refresh_closure`) when anything changed.

        Returns the names of the files (re)loaded.
        """
        loaded = []
        folder = resource_dir("ontologies")
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if not entry.name.endswith(".ttl"):
                continue
            data = entry.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            graph = ox.NamedNode(ONTOLOGY_GRAPH + entry.name.removesuffix(".ttl"))
            marker = ox.Quad(
                graph,
                ox.NamedNode(NKG + "contentHash"),
                ox.Literal(digest),
                ox.NamedNode(_META_GRAPH),
            )
            if marker in self._db:
                continue
            for old in self._db.quads_for_pattern(
                graph, ox.NamedNode(NKG + "contentHash"), None, ox.NamedNode(_META_GRAPH)
            ):
                self._db.remove(old)
            self._db.remove_graph(graph) if self._db.contains_named_graph(graph) else None
            try:
                self._db.load(data, format=ox.RdfFormat.TURTLE, to_graph=graph)
            except SyntaxError as exc:
                raise StoreError(f"ontology file {entry.name} is not valid Turtle: {exc}") from exc
            self._db.add(marker)
            loaded.append(entry.name)
        if loaded or not self.has_graph(CLOSURE_GRAPH):
            self.refresh_closure()
        return loaded

    def add_ontology_triples(self, name: str, triples: Iterable[rdf.Triple]) -> None:
        """Add facts to the ontology graph ``name`` (not a shipped file) and refresh the
        hierarchy; used for taxon lineages found at harvest time."""
        self.add(ONTOLOGY_GRAPH + name, triples)
        graph = ox.NamedNode(ONTOLOGY_GRAPH + name)
        self._db.add(ox.Quad(graph, _ADDED_ONTOLOGY, ox.Literal("true"), ox.NamedNode(_META_GRAPH)))
        self.refresh_closure()

    def labelled_terms(self) -> set[str]:
        """IRIs that have an ``rdfs:label`` in an ontology graph (the known terms)."""
        label = ox.NamedNode(RDFS + "label")
        return {
            q.subject.value
            for graph in self.ontology_graphs()
            for q in self._db.quads_for_pattern(None, label, None, graph)
            if isinstance(q.subject, ox.NamedNode)
        }

    def ontology_graphs(self) -> list[ox.NamedNode]:
        """The named graphs holding ontologies (slims, vocabulary, added lineages)."""
        return ontology_graph_names(self._db)

    def refresh_closure(self) -> int:
        """Rewrite the ``nkg:subClassOfOrSelf`` graph: every class of the ontology graphs with
        itself and all its ancestors (``rdfs:subClassOf*``, materialized so that queries
        over hierarchies stay fast). Returns the number of triples written."""
        subclass = ox.NamedNode(RDFS + "subClassOf")
        is_a = ox.NamedNode(RDF_TYPE)
        owl_class = ox.NamedNode(OWL + "Class")
        parents: dict[str, list[str]] = {}
        for graph in self.ontology_graphs():
            for quad in self._db.quads_for_pattern(None, subclass, None, graph):
                if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode):
                    parents.setdefault(quad.subject.value, []).append(quad.object.value)
            for quad in self._db.quads_for_pattern(None, is_a, owl_class, graph):
                if isinstance(quad.subject, ox.NamedNode):
                    parents.setdefault(quad.subject.value, [])
        predicate = f"<{NKG}subClassOfOrSelf>"
        lines = [
            f"<{term}> {predicate} <{ancestor}> <{CLOSURE_GRAPH}> .\n"
            for term, ancestors in closure(parents).items()
            for ancestor in sorted(ancestors)
        ]
        self.remove_graph(CLOSURE_GRAPH)
        self._db.load("".join(lines).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
        return len(lines)

    # ------------------------------------------------------------------ reading
    def query(
        self,
        sparql: str,
        *,
        custom_functions: dict[ox.NamedNode, Any] | None = None,
        substitutions: dict[ox.Variable, Any] | None = None,
    ) -> Any:
        """Run a SPARQL query over the union of all graphs; ``substitutions`` give selected
        variables a value before the query runs."""
        return self._db.query(
            sparql,
            use_default_graph_as_union=True,
            custom_functions=custom_functions,
            substitutions=substitutions,
        )

    def graph_triples(self, iri: str) -> list[rdf.Triple]:
        """The triples of the named graph ``iri``, as N-Triples terms."""
        return [
            (str(q.subject), str(q.predicate), str(q.object))
            for q in self._db.quads_for_pattern(None, None, None, ox.NamedNode(iri))
        ]

    def metadata_sources(self) -> dict[str, str]:
        """Metadata file URL → dataset IRI, for every dataset of the store."""
        predicate = ox.NamedNode(NKG + "metadataSource")
        return {
            q.object.value: q.subject.value
            for q in self._db.quads_for_pattern(None, predicate, None, None)
            if isinstance(q.object, ox.NamedNode) and isinstance(q.subject, ox.NamedNode)
        }

    def ontology_index(self, taxonomy: Any = None) -> OntologyIndex:
        """The ontology terms of the store (the shipped files where it has none)."""
        return OntologyIndex.from_store(self._db, taxonomy, self.ontology_graphs())

    def dataset_detail(self, iri: str) -> DatasetDetail | None:
        """The triples and repairs of the dataset ``iri`` by direct index lookups (a dataset
        page must not scan the whole store); ``None`` when it is no dataset.

        :raises UsageError: ``iri`` is not a valid IRI.
        """
        try:
            node = ox.NamedNode(iri)
        except ValueError as exc:
            raise UsageError(f"{iri!r} is not an IRI: {exc}") from None
        dataset_class = ox.NamedNode(NKG + "OmeZarrDataset")
        if not any(self._db.quads_for_pattern(node, ox.NamedNode(RDF_TYPE), dataset_class)):
            return None
        statements = [
            Statement(q.graph_name, q.subject, q.predicate, q.object)
            for q in self._db.quads_for_pattern(None, None, None, node)
        ]
        statements += [
            Statement(q.graph_name, q.subject, q.predicate, q.object)
            for q in self._db.quads_for_pattern(node, None, None)
            if q.graph_name != node
        ]
        statements.sort(
            key=lambda s: (_order(s.graph, iri), str(s.subject), str(s.predicate), str(s.object))
        )
        return DatasetDetail(iri, statements, self._repairs(node))

    def _repairs(self, node: ox.NamedNode) -> list[RepairRow]:
        rows: set[RepairRow] = set()
        for link in self._objects(node, NKG + "repairSet"):
            for repair in self._objects(link, NKG + "repair"):
                kinds = self._objects(repair, NKG + "repairKind")
                originals = self._objects(repair, NKG + "originalValue")
                repaired = self._objects(repair, NKG + "repairedValue")
                for kind in kinds:
                    for before in originals:
                        for after in repaired:
                            rows.add(
                                RepairRow(kind.value.rpartition("#")[2], before.value, after.value)
                            )
        return sorted(rows, key=lambda r: (r.kind, r.original, r.repaired))

    def values(self, subject: str, predicate: str, *, iris: bool = False) -> list[str]:
        """The values of the objects of ``<subject> <predicate>`` in any graph, each once,
        sorted (by index lookup); ``iris``: only the objects that are IRIs."""
        try:
            node = ox.NamedNode(subject)
        except ValueError:
            return []
        found = self._objects(node, predicate)
        return [o.value for o in found if not iris or isinstance(o, ox.NamedNode)]

    def _objects(self, subject: Any, predicate: str) -> list[Any]:
        found = self._db.quads_for_pattern(subject, ox.NamedNode(predicate), None)
        return sorted({q.object for q in found}, key=str)

    def dump(self, fmt: RdfFormat | str, output: IO[bytes]) -> None:
        """Write the whole store as N-Quads, TriG (all named graphs) or Turtle (their union,
        each triple once).

        :raises UsageError: an unknown format.
        """
        try:
            fmt = RdfFormat(fmt)
        except ValueError:
            known = ", ".join(f.value for f in RdfFormat)
            raise UsageError(f"unknown RDF format {fmt!r}; use one of {known}") from None
        if fmt is RdfFormat.NQUADS:
            self._db.dump(output, format=ox.RdfFormat.N_QUADS)
        elif fmt is RdfFormat.TRIG:
            self._db.dump(output, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
        else:
            ox.serialize(self._union(), output, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)

    def _union(self) -> Iterator[ox.Triple]:
        seen: set[ox.Triple] = set()
        for quad in self._db:
            triple = quad.triple
            if triple not in seen:
                seen.add(triple)
                yield triple

    def dataset_graph_count(self) -> int:
        return sum(1 for g in self._db.named_graphs() if not str(g.value).startswith(NKG_GRAPH))

    def __len__(self) -> int:
        return len(self._db)


#: seconds between two notes of how far a catalogue index rebuild got
REBUILD_NOTE_EVERY = 30.0


def _noting(graphs: Iterator[Any], total: int, started: float) -> Iterator[Any]:
    """``graphs``, noting on standard error how many were read and the time left, about every
    :data:`REBUILD_NOTE_EVERY` seconds."""
    noted = started
    for done, graph in enumerate(graphs, start=1):
        yield graph
        now = time.monotonic()
        if now - noted >= REBUILD_NOTE_EVERY:
            noted = now
            share = min(done / total, 1.0) if total else 1.0
            left = (now - started) * (1 - share) / share
            print(
                f"ngff-kg: catalogue index: {done:,} of some {total:,} graphs read "
                f"({share:.0%}, about {left:.0f} s left)",
                file=sys.stderr,
            )


def _order(graph: Any, iri: str) -> tuple[int, str]:
    value = getattr(graph, "value", "")
    return (0 if value == iri else 2 if value.startswith(NKG_GRAPH) else 1, value)


def _replace_update(graphs: Sequence[GraphData]) -> str:
    """One SPARQL update replacing every graph in ``graphs`` (TriG blocks are SPARQL quads)."""
    parts = [f"DROP SILENT GRAPH <{g.iri}> ;\n" for g in graphs]
    parts.append("INSERT DATA {\n")
    parts.extend(f"GRAPH {g.trig}" for g in graphs)
    parts.append("}")
    return "".join(parts)


# ---------------------------------------------------------------------- creating the store
# Creating a RocksDB database takes tens of milliseconds and many files; a process killed
# meanwhile used to leave a directory that no command could open ("Column family not found",
# no CURRENT file). A new store is therefore created beside its target, in a directory named
# ``.<name>.creating-<pid>``, and renamed into place once complete: the target either does not
# exist or is a complete store. Directories left by killed creations are removed by the next.

#: Files RocksDB writes while creating a database (nothing else may be in an incomplete store).
_ROCKSDB_FILE = re.compile(
    r"(LOCK|LOG(\.old\.\d+)?|IDENTITY|CURRENT|MANIFEST-\d+|OPTIONS-\d+(\.dbtmp)?|\d+\.(log|dbtmp))"
)
_CREATING = ".creating-"


def _remove_abandoned(parent: Path, name: str) -> None:
    """Remove ``.<name>.creating-<pid>`` directories whose creating process is gone."""
    prefix = f".{name}{_CREATING}"
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(prefix):
            pid = entry.name[len(prefix) :]
            if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)


def _never_completed(path: Path, exc: BaseException) -> bool:
    """Whether ``path`` is a store whose creation was interrupted: opening it fails the way
    an unfinished creation does, and it holds only the files RocksDB writes while creating
    (no table file, so no data)."""
    message = str(exc)
    if "Column family not found" not in message and "for sequentially reading" not in message:
        return False
    try:
        names = [entry.name for entry in path.iterdir()]
    except OSError:
        return False
    return all(_ROCKSDB_FILE.fullmatch(name) or name.startswith(FILE_NAME) for name in names)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create(path: Path) -> None:
    """Create an empty store at ``path`` (missing or an empty directory), atomically."""
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(parent, path.name)
    staging = parent / f".{path.name}{_CREATING}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    store = ox.Store(str(staging))
    store.flush()
    del store
    gc.collect()  # the database is closed when its last reference goes
    _fsync_dir(staging)
    try:
        os.rename(staging, path)
    except OSError:
        # another process created the store meanwhile (the target is not empty): use it
        shutil.rmtree(staging, ignore_errors=True)
        if not path.is_dir():
            raise
    _fsync_dir(parent)


def _open_or_create(path: Path) -> ox.Store:
    """Open the store at ``path``, creating it first when missing or empty; a store whose
    creation was interrupted is created again (and the repair said on standard error)."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        _create(path)
        return ox.Store(str(path))
    try:
        return ox.Store(str(path))
    except OSError as exc:
        if not _never_completed(path, exc):
            raise
    print(
        f"ngff-kg: the store at {path} was left incomplete by an interrupted run and held "
        "nothing; it is created again",
        file=sys.stderr,
    )
    for entry in path.iterdir():
        entry.unlink()
    _create(path)
    return ox.Store(str(path))

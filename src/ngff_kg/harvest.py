"""Harvest: sources → extractors → store, with a report of everything that happened.

Discovery and extraction run in the calling thread; batches of finished graphs are written
by one background thread, so Oxigraph loads while the next datasets are read. A dataset
whose documents cannot be read is reported (path and reason) and keeps whatever metadata
could be read; the run always goes on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from . import __version__, jsonio, rdf
from .discover import FoundCsv, FoundRoot, WalkError, walk
from .errors import ExtractionError, SourceNotFoundError, StoreError, UsageError
from .extract.hierarchy import MAX_NODES, OME_XML, HierarchyReader, ome_image_iris
from .extract.ngff import ngff_triples
from .extract.omexml import omexml_triples, parse_omexml
from .extract.rocrate import CRATE_FILE, extract_crate
from .jsonld import JsonLdConverter
from .repairs import Repair, repair_set_description, repair_set_iri
from .samples import parse_sample_list, sample_list_triples
from .sources import LocalSource, file_state, unchanged
from .store import GraphData, KnowledgeStore
from .taxonomy import LINEAGE_GRAPH_NAME, load_taxonomy
from .urls import PATH_SAFE, UrlMapper
from .vocab import (
    NCBITAXON,
    NKG,
    PROV,
    RDF_TYPE,
    RDFS,
    REPAIRS_GRAPH,
    RUNS_GRAPH,
    SCHEMA,
    XSD_DATETIME,
)

_P_REPAIR_SET = f"<{NKG}repairSet>"
_P_ERROR = f"<{NKG}extractionError>"
_P_UNDEFINED = f"<{NKG}undefinedTerm>"
_P_SOURCE = f"<{NKG}metadataSource>"
_P_HASH = f"<{NKG}contentHash>"
_P_GENERATED = f"<{PROV}wasGeneratedBy>"
_P_ENGINE = f"<{NKG}jsonldEngine>"
_P_FILES = f"<{NKG}sourceFiles>"
_P_OME_XML = f"<{NKG}omeXmlSource>"
#: Threads reading the documents of one dataset (bounded: plates list thousands of wells).
READ_THREADS = 8


@dataclass
class Problem:
    """A dataset or file that could not be read completely."""

    path: str
    reason: str


@dataclass
class HarvestReport:
    """What a harvest did. ``ok`` is false when any dataset or list failed."""

    run: str
    datasets_found: int = 0
    datasets_harvested: int = 0
    datasets_unchanged: int = 0  # in the store already, documents unchanged: not read again
    datasets_pruned: int = 0  # removed from the store: no longer in the sources
    crates: int = 0
    failed: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    repairs: Counter[str] = field(default_factory=Counter)  # kind → datasets
    repaired_datasets: int = 0
    sample_lists: int = 0
    sample_rows: int = 0
    taxa_added: int = 0  # lineage taxa added from the full taxonomy (taxonomy extra)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


#: Progress callback, called with the number of datasets read so far.
Progress = Callable[[int], None]


@dataclass(slots=True)
class DatasetOutcome:
    """The graph of one dataset and what happened while reading it."""

    path: str
    graph: GraphData
    repairs: frozenset[Repair]
    errors: list[str]
    warnings: list[str]
    has_crate: bool
    organisms: frozenset[str] = frozenset()  # N-Triples IRI terms


class _Writer:
    """Writes batches of graphs in a background thread, one batch in flight at a time."""

    def __init__(self, store: KnowledgeStore, batch_size: int) -> None:
        self.store = store
        self.batch_size = batch_size
        self.pending: list[GraphData] = []
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="ngff-kg-writer")
        self.future: Future[None] | None = None

    def add(self, graph: GraphData) -> None:
        self.pending.append(graph)
        if len(self.pending) >= self.batch_size:
            self._submit()

    def _submit(self) -> None:
        if self.future is not None:
            self.future.result()
        batch, self.pending = self.pending, []
        self.future = self.executor.submit(self.store.write, batch) if batch else None

    def close(self) -> None:
        try:
            self._submit()
            if self.future is not None:
                self.future.result()
        finally:
            self.executor.shutdown(wait=True)


class _Extraction:
    """Extracts datasets in this thread and hands their graphs to the writer thread."""

    def __init__(self, harvester: Harvester, state: _RunState) -> None:
        self.harvester = harvester
        self.state = state
        self.writer = _Writer(harvester.store, harvester.batch_size)
        self._readers: ThreadPoolExecutor | None = None

    def __enter__(self) -> _Extraction:
        return self

    def add(self, found: FoundRoot, iri: str) -> None:
        harvester = self.harvester
        outcome = process_root(
            found,
            iri,
            harvester.converter,
            self.state.run_term,
            max_nodes=harvester.max_nodes_per_dataset,
            executor=self.readers,
        )
        self.writer.add(outcome.graph)
        harvester.record(outcome, self.state)

    def add_omexml(self, path: Path, iri: str) -> None:
        outcome = process_omexml_file(path, iri, self.state.run_term)
        self.writer.add(outcome.graph)
        self.harvester.record(outcome, self.state)

    @property
    def readers(self) -> ThreadPoolExecutor:
        """Threads that read a dataset's many documents (a plate's wells) concurrently."""
        if self._readers is None:
            self._readers = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="ngff-kg-read")
        return self._readers

    def __exit__(self, *exc: object) -> None:
        try:
            self.writer.close()
        finally:
            if self._readers is not None:
                self._readers.shutdown(wait=True)


class Harvester:
    """Harvests local sources into a :class:`KnowledgeStore`."""

    def __init__(
        self,
        store: KnowledgeStore,
        converter: JsonLdConverter | None = None,
        *,
        batch_size: int = 1000,
        progress: Progress | None = None,
        max_nodes_per_dataset: int = MAX_NODES,
    ) -> None:
        if max_nodes_per_dataset < 1:
            raise UsageError(
                f"max_nodes_per_dataset must be at least 1, got {max_nodes_per_dataset}"
            )
        self.store = store
        self.converter = converter or JsonLdConverter()
        self.batch_size = batch_size
        self.progress = progress
        self.max_nodes_per_dataset = max_nodes_per_dataset

    def harvest(
        self,
        sources: Iterable[str | Path],
        base_url: str | None = None,
        *,
        force: bool = False,
        prune: bool = False,
    ) -> HarvestReport:
        """Harvest every source: directories are walked, ``.csv`` files read as sample lists,
        ``.ome.xml`` files harvested as datasets of their own.

        A dataset already in the store whose documents all keep their size and modification
        time (checked with ``stat``, nothing read but the root metadata the walk needs) is
        left as it is, unless ``force``. With ``prune``, datasets of the store below a walked
        source that the walk no longer finds are removed.

        :raises SourceNotFoundError: a source does not exist (checked before anything is read).
        :raises UsageError: ``base_url`` is not an absolute URL prefix.
        :raises StoreError: the store cannot be written.
        """
        paths = [Path(s) for s in sources]
        if not paths:
            raise UsageError("no source given: name at least one directory or CSV file")
        for path in paths:
            if not path.exists():
                raise SourceNotFoundError(f"source {path} does not exist")
        mappers = [UrlMapper(p.parent if p.is_file() else p, base_url) for p in paths]
        started = time.perf_counter()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        run = f"https://w3id.org/ngff-kg/run/{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        report = HarvestReport(run)
        self.store.ensure_ontologies()
        state = _RunState(report, run)
        known = {} if force else self.store.source_files()
        state.known = known
        csvs: list[tuple[Path, UrlMapper]] = []
        with _Extraction(self, state) as extraction:
            for path, mapper in zip(paths, mappers, strict=True):
                if path.is_file():
                    if path.suffix.lower() == ".csv":
                        csvs.append((path, mapper))
                        continue
                    if path.name.lower().endswith(".ome.xml"):
                        iri = mapper.url(path, directory=False)
                        report.datasets_found += 1
                        if iri in state.datasets:
                            report.warnings.append(
                                Problem(str(path), f"same dataset IRI as {state.datasets[iri]}")
                            )
                        else:
                            state.datasets[iri] = str(path)
                            extraction.add_omexml(path, iri)
                        continue
                    path = path.parent
                for found in walk(path):
                    if isinstance(found, FoundRoot):
                        iri = mapper.url(found.path, directory=True)
                        report.datasets_found += 1
                        if iri in state.datasets:
                            report.warnings.append(
                                Problem(found.path, f"same dataset IRI as {state.datasets[iri]}")
                            )
                            continue
                        state.datasets[iri] = found.path
                        files = known.get(iri)
                        if files is not None and unchanged(found.path, files):
                            report.datasets_unchanged += 1
                            state.done += 1
                            continue
                        extraction.add(found, iri)
                    elif isinstance(found, FoundCsv):
                        csvs.append((found.path, mapper))
                    elif isinstance(found, WalkError):
                        report.warnings.append(Problem(str(found.path), found.reason))
            for path, mapper in csvs:
                self._sample_list(path, mapper, state, extraction.writer, explicit=path in paths)
        if prune:
            report.datasets_pruned = self._prune(paths, mappers, state)
        report.taxa_added = self._add_lineages(state.organisms)
        self._finish(state, now)
        report.seconds = time.perf_counter() - started
        return report

    def _prune(self, paths: list[Path], mappers: list[UrlMapper], state: _RunState) -> int:
        """Remove the graphs of datasets below the walked directories that were not found."""
        prefixes = tuple(
            # a walked directory's own URL is the base URL (with "https://", just the scheme)
            mapper.base_url if mapper.base_url is not None else mapper.url(path, directory=True)
            for path, mapper in zip(paths, mappers, strict=True)
            if path.is_dir()
        )
        gone = [
            iri
            for iri in self.store.source_files()
            if iri.startswith(prefixes) and iri not in state.datasets and iri not in state.list_iris
        ]
        for iri in gone:
            self.store.remove_graph(iri)
        return len(gone)

    def record(self, outcome: DatasetOutcome, state: _RunState) -> None:
        report = state.report
        report.crates += outcome.has_crate
        if outcome.errors:
            report.failed.append(Problem(outcome.path, "; ".join(outcome.errors)))
        else:
            report.datasets_harvested += 1
        for message in outcome.warnings:
            report.warnings.append(Problem(outcome.path, message))
        if outcome.repairs:
            report.repaired_datasets += 1
            for kind in {r.kind for r in outcome.repairs}:
                report.repairs[kind] += 1
            state.repair_sets.add(outcome.repairs)
        state.organisms |= outcome.organisms
        state.done += 1
        if self.progress is not None:
            self.progress(state.done)

    def _add_lineages(self, organisms: set[str]) -> int:
        """With the taxonomy extra: add the lineages of harvested taxa that the ontology
        graphs lack. Returns the number of taxa added."""
        taxonomy = load_taxonomy()
        wanted = {o[1:-1] for o in organisms if o.startswith("<" + NCBITAXON)}
        if taxonomy is None or not wanted:
            return 0
        known = self.store.labelled_terms()
        triples = taxonomy.lineage_triples(wanted - known, known)
        if triples:
            self.store.add_ontology_triples(LINEAGE_GRAPH_NAME, triples)
        return sum(1 for _, p, _ in triples if p == f"<{RDFS}label>")

    # ---------------------------------------------------------------- sample lists
    def _sample_list(
        self, path: Path, mapper: UrlMapper, state: _RunState, writer: _Writer, *, explicit: bool
    ) -> None:
        key = path.resolve()
        if key in state.lists:
            return
        state.lists.add(key)
        report = state.report
        try:
            parsed = parse_sample_list(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            report.failed.append(Problem(str(path), f"cannot read CSV: {exc}"))
            return
        except ExtractionError as exc:
            if explicit:
                report.failed.append(Problem(str(path), str(exc)))
            return
        list_iri = mapper.url(path, directory=False)
        state.list_iris.add(list_iri)
        files = [file_state(str(path.parent), path.name)]
        known = state.known.get(list_iri)
        if known is None or not unchanged(str(path.parent), known):
            triples = sample_list_triples(list_iri, parsed)
            triples.append((rdf.iri(list_iri), _P_FILES, rdf.literal(json.dumps(files))))
            writer.add(GraphData.from_triples(list_iri, triples))
        report.sample_lists += 1
        report.sample_rows += len(parsed.rows)
        for message in parsed.warnings:
            report.warnings.append(Problem(str(path), message))
        for _source, url in parsed.lists:
            local = mapper.path(url)
            if local is not None and local.is_file():
                self._sample_list(local, mapper, state, writer, explicit=True)
            else:
                report.warnings.append(
                    Problem(str(path), f"listed sample list {url} is not available locally")
                )

    # ---------------------------------------------------------------- shared graphs
    def _finish(self, state: _RunState, started: dt.datetime) -> None:
        repairs: list[rdf.Triple] = []
        for repair in sorted(set().union(*state.repair_sets)):
            repairs.extend(repair.description())
        for repair_set in state.repair_sets:
            repairs.extend(repair_set_description(repair_set))
        self.store.add(REPAIRS_GRAPH, repairs)
        run = state.run_term
        ended = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.store.add(
            RUNS_GRAPH,
            [
                (run, "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", f"<{PROV}Activity>"),
                (run, f"<{PROV}startedAtTime>", rdf.literal(started.isoformat(), XSD_DATETIME)),
                (run, f"<{PROV}endedAtTime>", rdf.literal(ended.isoformat(), XSD_DATETIME)),
                (run, f"<{NKG}toolVersion>", rdf.literal(__version__)),
                (run, f"<{NKG}datasetsHarvested>", rdf.integer(state.report.datasets_harvested)),
            ],
        )
        try:
            self.store.flush()
        except OSError as exc:
            raise StoreError(f"flushing the store failed: {exc}") from exc


@dataclass
class _RunState:
    report: HarvestReport
    run: str
    datasets: dict[str, str] = field(default_factory=dict)
    lists: set[Path] = field(default_factory=set)
    repair_sets: set[frozenset[Repair]] = field(default_factory=set)
    organisms: set[str] = field(default_factory=set)
    done: int = 0
    known: dict[str, list[list[object]]] = field(default_factory=dict)
    list_iris: set[str] = field(default_factory=set)

    @property
    def run_term(self) -> str:
        return f"<{self.run}>"


def process_root(
    found: FoundRoot,
    iri: str,
    converter: JsonLdConverter,
    run_term: str,
    *,
    max_nodes: int = MAX_NODES,
    executor: Executor | None = None,
) -> DatasetOutcome:
    """The complete graph of one dataset: NGFF facts of the whole hierarchy, OME-XML, crate,
    repairs, provenance."""
    ds = f"<{iri}>"
    errors: list[str] = []
    warnings: list[str] = []
    hasher = hashlib.sha256(found.metadata_bytes)
    triples: list[rdf.Triple] = []
    notes: list[str] = []
    _kind, ngff, ngff_errors = ngff_triples(iri, found.group, notes)
    triples.extend(ngff)
    errors.extend(f"{found.metadata_file}: {message}" for message in ngff_errors)
    warnings.extend(f"{found.metadata_file}: {message}" for message in notes)
    deep = read_hierarchy(found, iri, max_nodes, executor)
    triples.extend(deep.triples)
    errors.extend(deep.errors)
    warnings.extend(deep.warnings)
    repairs: set[Repair] = set()
    organisms: frozenset[str] = frozenset()
    crate_path = os.path.join(found.path, CRATE_FILE)
    has_crate = found.has_crate
    try:
        if not has_crate:
            raise FileNotFoundError(crate_path)
        with open(crate_path, "rb") as fh:
            data = fh.read()
        hasher.update(data)
        doc = jsonio.loads(data)
        bnode_prefix = "b" + hashlib.sha1(iri.encode()).hexdigest()[:12]
        crate = extract_crate(doc, iri, converter, bnode_prefix)
    except FileNotFoundError:
        has_crate = False
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc) if isinstance(exc, ExtractionError) else f"invalid JSON: {exc}"
        if isinstance(exc, OSError) and not isinstance(exc, ExtractionError):
            reason = f"cannot read: {exc.strerror or exc}"
        errors.append(f"{CRATE_FILE}: {reason}")
    else:
        triples.extend(crate.triples)
        repairs = crate.repairs
        organisms = frozenset(crate.organisms)
        if repairs:
            triples.append((ds, _P_REPAIR_SET, f"<{repair_set_iri(frozenset(repairs))}>"))
        for term in sorted(crate.dropped_terms):
            triples.append((ds, _P_UNDEFINED, rdf.literal(term)))
            warnings.append(f"{CRATE_FILE}: term {term!r} is not defined by any context; ignored")
        for value in sorted(crate.dropped_iris):
            warnings.append(f"{CRATE_FILE}: {value!r} cannot be made an absolute IRI; ignored")
        if crate.engine != "fast":
            triples.append((ds, _P_ENGINE, rdf.literal(crate.engine)))
    for data in deep.documents:
        hasher.update(data)
    files = [
        file_state(found.path, found.metadata_file),
        file_state(found.path, CRATE_FILE),
        *deep.files,
    ]
    triples.append((ds, _P_FILES, rdf.literal(json.dumps(files, separators=(",", ":")))))
    for message in errors:
        triples.append((ds, _P_ERROR, rdf.literal(message)))
    source = os.path.abspath(os.path.join(found.path, found.metadata_file))
    triples.append((ds, _P_SOURCE, rdf.iri("file://" + quote(source, safe=PATH_SAFE))))
    triples.append((ds, _P_HASH, rdf.literal("sha256:" + hasher.hexdigest())))
    triples.append((ds, _P_GENERATED, run_term))
    graph = GraphData.from_triples(iri, triples)
    return DatasetOutcome(
        found.path, graph, frozenset(repairs), errors, warnings, has_crate, organisms
    )


@dataclass(slots=True)
class _Deep:
    triples: list[rdf.Triple]
    errors: list[str]
    warnings: list[str]
    documents: list[bytes]
    files: list[tuple[str, int, int]] = field(default_factory=list)


def read_hierarchy(
    found: FoundRoot, iri: str, max_nodes: int = MAX_NODES, executor: Executor | None = None
) -> _Deep:
    """The nodes below the root, and the root's OME-XML (bioformats2raw layouts)."""
    root_doc = None
    if found.group.zarr_format == 3 and b"consolidated_metadata" in found.metadata_bytes:
        root_doc = jsonio.loads(found.metadata_bytes)
    source = LocalSource(found.path, found.names)
    reader = HierarchyReader(
        source, iri, found.group, root_doc=root_doc, max_nodes=max_nodes, executor=executor
    )
    hierarchy = reader.read()
    deep = _Deep(
        hierarchy.triples,
        hierarchy.errors,
        hierarchy.warnings,
        hierarchy.documents,
        source.accessed,
    )
    if hierarchy.ome_xml is not None:
        try:
            doc = parse_omexml(hierarchy.ome_xml)
        except ExtractionError as exc:
            deep.errors.append(f"{OME_XML}: {exc}")
        else:
            deep.warnings.extend(f"{OME_XML}: {message}" for message in doc.warnings)
            names = ome_image_iris(reader, hierarchy, doc.ome.plates)
            deep.triples.extend(omexml_triples(doc, iri, names))
            deep.triples.append((f"<{iri}>", _P_OME_XML, rdf.iri(iri + OME_XML)))
    return deep


def process_omexml_file(path: Path, iri: str, run_term: str) -> DatasetOutcome:
    """A ``.ome.xml`` file as a dataset of its own (IRI: the file's URL)."""
    ds = f"<{iri}>"
    errors: list[str] = []
    warnings: list[str] = []
    triples: list[rdf.Triple] = [
        (ds, f"<{RDF_TYPE}>", f"<{NKG}OmeXmlDataset>"),
        (ds, f"<{RDF_TYPE}>", f"<{SCHEMA}Dataset>"),
    ]
    data = b""
    try:
        data = path.read_bytes()
        doc = parse_omexml(data)
    except OSError as exc:
        errors.append(f"cannot read: {exc.strerror or exc}")
    except ExtractionError as exc:
        errors.append(str(exc))
    else:
        warnings.extend(doc.warnings)
        triples.extend(
            omexml_triples(doc, iri, lambda _i, ident: f"{iri}#ome-{quote(ident, safe=':')}")
        )
    for message in errors:
        triples.append((ds, _P_ERROR, rdf.literal(message)))
    source = "file://" + quote(os.path.abspath(path), safe=PATH_SAFE)
    triples.append((ds, _P_SOURCE, rdf.iri(source)))
    triples.append((ds, _P_HASH, rdf.literal("sha256:" + hashlib.sha256(data).hexdigest())))
    triples.append((ds, _P_GENERATED, run_term))
    graph = GraphData.from_triples(iri, triples)
    return DatasetOutcome(str(path), graph, frozenset(), errors, warnings, False)


__all__ = [
    "DatasetOutcome",
    "HarvestReport",
    "Harvester",
    "Problem",
    "process_omexml_file",
    "process_root",
]

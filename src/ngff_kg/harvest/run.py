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
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    Executor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ngff_kg import jsonio, rdf
from ngff_kg._version import __version__
from ngff_kg.errors import ExtractionError, SourceNotFoundError, StoreError, UsageError
from ngff_kg.extract.ngff import ngff_triples
from ngff_kg.extract.omexml import omexml_triples, parse_omexml
from ngff_kg.extract.rocrate import CRATE_FILE, extract_crate
from ngff_kg.extract.samples import SampleList, SampleRow, parse_sample_list, sample_list_triples
from ngff_kg.normalize.jsonld import ContextRegistry, JsonLdConverter
from ngff_kg.normalize.repairs import Repair, repair_set_description, repair_set_iri
from ngff_kg.ontology.taxonomy import LINEAGE_GRAPH_NAME, load_taxonomy
from ngff_kg.reports import Problem, Progress
from ngff_kg.sources.hierarchy import (
    MAX_NODES,
    OME_XML,
    read_hierarchy,
)
from ngff_kg.sources.local import LocalSource, MetadataSource, file_state, unchanged
from ngff_kg.sources.remote import (
    Fetcher,
    RemoteCsv,
    RemoteOptions,
    RemoteSource,
    Unchanged,
    aroot,
    is_remote,
    walk_s3,
)
from ngff_kg.sources.walk import FoundCsv, FoundRoot, KnownRoot, WalkError, root_at, walk
from ngff_kg.store.knowledge import GraphData, KnowledgeStore
from ngff_kg.store.shards import ShardWriter
from ngff_kg.urls import PATH_SAFE, UrlMapper, normalize_url
from ngff_kg.vocab import (
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
#: Threads reading the documents of one dataset (bounded: plates list thousands of wells).
READ_THREADS = 8


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


#: Serialized graphs (characters) gathered before a batch is written. Large batches matter
#: at scale: each bulk load adds files to the store's first level, and many small ones make
#: the store spend its time compacting them (1M datasets: 19 min with batches of 1,000 graphs).
BATCH_CHARS = 48 * 1024 * 1024


class _Writer:
    """Writes batches of graphs in a background thread, one batch in flight at a time. A
    batch ends at ``batch_size`` graphs or :data:`BATCH_CHARS` characters."""

    def __init__(self, store: KnowledgeStore, batch_size: int) -> None:
        self.store = store
        self.batch_size = batch_size
        self.pending: list[GraphData] = []
        self.chars = 0
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="ngff-kg-writer")
        self.future: Future[None] | None = None

    def add(self, graph: GraphData) -> None:
        self.pending.append(graph)
        self.chars += len(graph.trig)
        if len(self.pending) >= self.batch_size or self.chars >= BATCH_CHARS:
            self._submit()

    def _submit(self) -> None:
        if self.future is not None:
            self.future.result()
        batch, self.pending, self.chars = self.pending, [], 0
        self.future = self.executor.submit(self.store.write, batch) if batch else None

    def close(self) -> None:
        try:
            self._submit()
            if self.future is not None:
                self.future.result()
        finally:
            self.executor.shutdown(wait=True)


class _Extraction:
    """Runs dataset jobs and hands their graphs to the writer.

    Local roots are extracted in this thread (CPU-bound: threads would only contend for the
    interpreter). Remote datasets are jobs on a pool of ``concurrency`` threads whose reads
    go through the fetcher's event loop; at most twice that many jobs are queued, so a list
    of a million URLs is never all in memory. With a Dask executor every dataset is a job on
    the cluster. Results are recorded in this thread as they complete.
    """

    def __init__(self, harvester: Harvester, state: _RunState) -> None:
        self.harvester = harvester
        self.state = state
        self.writer = harvester.sink(harvester.batch_size)
        self._readers: ThreadPoolExecutor | None = None
        self._jobs: Executor | None = harvester.executor
        self._own_jobs = False
        self._inflight: dict[Future[Any], str] = {}

    def __enter__(self) -> _Extraction:
        return self

    @property
    def distributed(self) -> bool:
        return self.harvester.executor is not None

    def add(self, found: FoundRoot, iri: str) -> None:
        harvester = self.harvester
        if self.distributed or is_remote(found.path):
            self.submit(
                found.path,
                extract_found,
                found,
                iri,
                self.state.run_term,
                harvester.max_nodes_per_dataset,
                harvester.converter.registry,
                harvester.remote,
            )
            return
        outcome = process_root(
            found,
            iri,
            harvester.converter,
            self.state.run_term,
            max_nodes=harvester.max_nodes_per_dataset,
            executor=self.readers,
        )
        self.done(outcome)

    def add_url(self, url: str, iri: str, records: Any) -> None:
        """A dataset named by its URL (no listing): its metadata is fetched directly."""
        harvester = self.harvester
        self.submit(
            url,
            extract_url,
            url,
            iri,
            records,
            self.state.run_term,
            harvester.max_nodes_per_dataset,
            harvester.converter.registry,
            harvester.remote,
        )

    def add_omexml(self, path: Path, iri: str) -> None:
        self.done(process_omexml_file(path, iri, self.state.run_term))

    def done(self, outcome: DatasetOutcome | Unchanged) -> None:
        if isinstance(outcome, Unchanged):
            self.state.report.datasets_unchanged += 1
            self.state.done += 1
            self.harvester.tick(self.state)
            return
        self.writer.add(outcome.graph)
        self.harvester.record(outcome, self.state)

    def submit(self, path: str, fn: Callable[..., Any], *args: Any) -> None:
        if self._jobs is None:
            workers = self.harvester.remote.concurrency
            self._jobs = ThreadPoolExecutor(workers, thread_name_prefix="ngff-kg-dataset")
            self._own_jobs = True
        limit = 2 * max(self.harvester.remote.concurrency, 8)
        while len(self._inflight) >= limit:
            self._collect(FIRST_COMPLETED)
        self._inflight[self._jobs.submit(fn, *args)] = path

    def _collect(self, when: str = ALL_COMPLETED) -> None:
        finished, _ = wait(list(self._inflight), return_when=when)
        for future in finished:
            path = self._inflight.pop(future)
            try:
                outcome = future.result()
            except (ExtractionError, UsageError) as exc:
                self.failed(path, str(exc))
                continue
            except Exception as exc:  # a failure of one dataset never ends the run
                self.failed(path, f"{type(exc).__name__}: {exc}")
                continue
            self.done(outcome)

    def failed(self, path: str, reason: str) -> None:
        self.state.report.failed.append(Problem(path, reason))
        self.state.done += 1
        self.harvester.tick(self.state)

    @property
    def readers(self) -> ThreadPoolExecutor:
        """Threads that read a dataset's many documents (a plate's wells) concurrently."""
        if self._readers is None:
            self._readers = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="ngff-kg-read")
        return self._readers

    def __exit__(self, kind: object, *exc: object) -> None:
        try:
            if kind is not None:  # interrupted: jobs not started are dropped
                for future in self._inflight:
                    future.cancel()
                self._inflight = {f: p for f, p in self._inflight.items() if not f.cancelled()}
            while self._inflight:
                self._collect()
            self.writer.close()
        finally:
            if self._readers is not None:
                self._readers.shutdown(wait=True)
            if self._own_jobs and self._jobs is not None:
                self._jobs.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class _Csv:
    """A sample list to read: where, from which source, whether named as a source itself,
    and its (size, validator) when a listing showed them."""

    source: _Source
    location: str
    explicit: bool
    listed: tuple[int, str] | None = None


@dataclass
class _Source:
    """One harvest source, classified."""

    kind: str  # "dir", "csv", "omexml", "url", "remote-csv", "s3"
    location: str
    path: Path | None = None  # local sources
    mapper: UrlMapper | None = None  # local sources
    base_url: str | None = None  # remote walked prefixes: URL the prefix maps to

    def iri(self, url: str, *, directory: bool = True) -> str:
        """The IRI of a remote document found below this source."""
        if self.base_url is not None and url.startswith(self.location):
            return normalize_url(self.base_url + url[len(self.location) :], directory=directory)
        return normalize_url(url, directory=directory)


class Harvester:
    """Harvests local and remote sources into a :class:`KnowledgeStore`.

    :param remote: how remote documents are fetched (concurrency, timeout, retries, S3).
    :param executor: run dataset jobs on this executor (a Dask client's, for a cluster);
        ``None`` extracts local datasets in this thread and remote ones on a thread pool.
    :param output: write N-Quads shards to this directory instead of the store.
    """

    def __init__(
        self,
        store: KnowledgeStore,
        converter: JsonLdConverter | None = None,
        *,
        batch_size: int = 100_000,
        progress: Progress | None = None,
        max_nodes_per_dataset: int = MAX_NODES,
        remote: RemoteOptions | None = None,
        executor: Executor | None = None,
        output: Path | None = None,
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
        self.remote = remote or RemoteOptions()
        self.executor = executor
        self.output = output
        self._shards: ShardWriter | None = None

    @property
    def fetcher(self) -> Fetcher:
        return process_fetcher(self.remote)

    def sink(self, batch_size: int) -> Any:
        """Where dataset graphs go: the store, or N-Quads shards with ``output``."""
        if self.output is not None:
            if self._shards is None:
                self._shards = ShardWriter(self.output)
            return self._shards
        return _Writer(self.store, batch_size)

    def harvest(
        self,
        sources: Iterable[str | Path],
        base_url: str | None = None,
        *,
        force: bool = False,
        prune: bool = False,
    ) -> HarvestReport:
        """Harvest every source: directories are walked, ``.csv`` files read as sample lists
        (the datasets they list are harvested from their URLs), ``.ome.xml`` files harvested as
        datasets of their own; ``https://`` URLs name datasets (or sample lists when they end
        in ``.csv``) whose metadata is fetched directly; ``s3://bucket/prefix`` is walked by
        listing.

        A dataset already in the store whose documents are all unchanged (local: size and
        modification time, checked with ``stat``; remote: conditional requests with the
        recorded ETag or Last-Modified) is left as it is, unless ``force``. With ``prune``,
        datasets of the store below a walked directory or prefix that the walk no longer finds
        are removed.

        :raises SourceNotFoundError: a local source does not exist (checked before anything
            is read).
        :raises UsageError: ``base_url`` is not an absolute URL prefix, or a source is not
            usable.
        :raises StoreError: the store cannot be written.
        """
        classified = [self._classify(s, base_url) for s in sources]
        if not classified:
            raise UsageError("no source given: name at least one directory, CSV file or URL")
        started = time.perf_counter()
        self._started = started
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        run = f"https://w3id.org/ngff-kg/run/{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        report = HarvestReport(run)
        if self.output is None:
            self.store.ensure_ontologies()
        state = _RunState(report, run)
        known = {} if force or self.output is not None else self.store.source_files()
        state.known = known
        csvs: list[_Csv] = []
        explicit = {source.location for source in classified}
        with _Extraction(self, state) as extraction:
            for source in classified:
                if source.kind == "omexml":
                    assert source.path is not None and source.mapper is not None
                    iri = source.mapper.url(source.path, directory=False)
                    if self._new_dataset(state, iri, str(source.path)):
                        extraction.add_omexml(source.path, iri)
                elif source.kind in ("csv", "remote-csv"):
                    csvs.append(_Csv(source, source.location, True))
                elif source.kind == "url":
                    iri = source.iri(source.location)
                    if self._new_dataset(state, iri, source.location):
                        extraction.add_url(source.location, iri, known.get(iri))
                elif source.kind == "s3":
                    self._walk_s3(source, state, extraction, csvs)
                else:
                    self._walk_local(source, state, extraction, csvs)
            while csvs:
                csv = csvs.pop(0)
                self._sample_list(
                    csv.source,
                    csv.location,
                    state,
                    extraction,
                    csvs,
                    explicit=csv.explicit,
                    listed=csv.listed,
                )
        del explicit
        if prune:
            report.datasets_pruned = self._prune(classified, state)
        if self.output is None:
            report.taxa_added = self._add_lineages(state.organisms)
        self._finish(state, now)
        report.seconds = time.perf_counter() - started
        return report

    # ---------------------------------------------------------------- sources
    def _classify(self, source: str | Path, base_url: str | None) -> _Source:
        text = os.fspath(source)
        if is_remote(text):
            lowered = text.lower()
            if lowered.endswith(".csv"):
                return _Source("remote-csv", normalize_url(text, directory=False))
            if lowered.startswith("s3://"):
                if base_url is not None:
                    UrlMapper(Path("."), base_url)  # checks the base URL
                    base_url = base_url if base_url.endswith("/") else base_url + "/"
                return _Source("s3", normalize_url(text, directory=True), base_url=base_url)
            return _Source("url", normalize_url(text, directory=True))
        path = Path(text)
        if not path.exists():
            raise SourceNotFoundError(f"source {path} does not exist")
        mapper = UrlMapper(path.parent if path.is_file() else path, base_url)
        if path.is_file():
            if path.suffix.lower() == ".csv":
                return _Source("csv", str(path), path, mapper)
            if path.name.lower().endswith(".ome.xml"):
                return _Source("omexml", str(path), path, mapper)
            path = path.parent
        return _Source("dir", str(path), path, mapper)

    def _new_dataset(self, state: _RunState, iri: str, where: str) -> bool:
        """Count a found dataset; False (with a warning) when its IRI was seen already."""
        state.report.datasets_found += 1
        if iri in state.datasets:
            state.report.warnings.append(
                Problem(where, f"same dataset IRI as {state.datasets[iri]}")
            )
            return False
        state.datasets[iri] = where
        return True

    def _walk_local(
        self,
        source: _Source,
        state: _RunState,
        extraction: _Extraction,
        csvs: list[_Csv],
    ) -> None:
        assert source.path is not None and source.mapper is not None
        mapper = source.mapper

        iris: dict[str, str] = {}

        def known(directory: str) -> Any:
            iri = iris[directory] = mapper.url(directory, directory=True)
            return state.known.get(iri)

        for found in walk(source.path, known if state.known else None):
            if isinstance(found, KnownRoot):
                iri = iris.pop(found.path)
                if not self._new_dataset(state, iri, found.path):
                    continue
                if unchanged(found.path, found.records[1:]):  # type: ignore[arg-type]
                    extraction.done(Unchanged(found.path))
                    continue
                try:
                    changed = root_at(found.path)
                except OSError as exc:
                    changed = None
                    state.report.warnings.append(Problem(found.path, f"cannot list: {exc}"))
                if changed is None:  # no longer a root (--prune removes it)
                    del state.datasets[iri]
                    state.report.datasets_found -= 1
                    continue
                extraction.add(changed, iri)
            elif isinstance(found, FoundRoot):
                iri = iris.pop(found.path, None) or mapper.url(found.path, directory=True)
                if not self._new_dataset(state, iri, found.path):
                    continue
                files = state.known.get(iri)
                if files is not None and unchanged(found.path, files):
                    extraction.done(Unchanged(found.path))
                    continue
                extraction.add(found, iri)
            elif isinstance(found, FoundCsv):
                csvs.append(_Csv(source, str(found.path), False))
            elif isinstance(found, WalkError):
                state.report.warnings.append(Problem(str(found.path), found.reason))

    def _walk_s3(
        self,
        source: _Source,
        state: _RunState,
        extraction: _Extraction,
        csvs: list[_Csv],
    ) -> None:
        def known(url: str) -> Any:
            return state.known.get(source.iri(url))

        for found in walk_s3(self.fetcher, source.location, known):
            if isinstance(found, FoundRoot | Unchanged):
                iri = source.iri(found.path)
                if not self._new_dataset(state, iri, found.path):
                    continue
                if isinstance(found, Unchanged):
                    extraction.done(found)
                else:
                    extraction.add(found, iri)
            elif isinstance(found, RemoteCsv):
                csvs.append(_Csv(source, found.path, False, found.listed))
            elif isinstance(found, WalkError):
                if found.path == source.location and not state.report.datasets_found:
                    raise SourceNotFoundError(f"cannot walk {source.location}: {found.reason}")
                state.report.warnings.append(Problem(str(found.path), found.reason))

    def _prune(self, sources: list[_Source], state: _RunState) -> int:
        """Remove the graphs of datasets below the walked directories and prefixes that were
        not found, and of datasets that a list named as a source no longer names."""
        prefixes: list[str] = []
        for source in sources:
            if source.kind == "dir":
                assert source.path is not None and source.mapper is not None
                mapper = source.mapper
                # a walked directory's own URL is the base URL (with "https://", the scheme)
                prefixes.append(
                    mapper.base_url
                    if mapper.base_url is not None
                    else mapper.url(source.path, directory=True)
                )
            elif source.kind == "s3":
                prefixes.append(source.base_url or source.location)
        stored = self.store.source_files()
        gone = [
            iri
            for iri in stored
            if ((prefixes and iri.startswith(tuple(prefixes))) or iri in state.listed_before)
            and iri not in state.datasets
            and iri not in state.list_iris
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
        self.tick(state)

    def tick(self, state: _RunState) -> None:
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
        self,
        source: _Source,
        location: str,
        state: _RunState,
        extraction: _Extraction,
        csvs: list[_Csv],
        *,
        explicit: bool,
        listed: tuple[int, str] | None = None,
    ) -> None:
        """One CSV list: its graph (sizes and origins of the datasets it lists) is written;
        the datasets of a list named as a source are harvested from their URLs, and the lists
        it lists are followed.

        A remote list is asked for with a conditional request (or not at all, when an S3
        listing shows its ETag unchanged, ``listed``); when unchanged, the datasets and lists
        it names are taken from its graph in the store.
        """
        remote = is_remote(location)
        key = location if remote else str(Path(location).resolve())
        if key in state.lists:
            return
        state.lists.add(key)
        report = state.report
        mapper = source.mapper
        if remote:
            list_iri = source.iri(location, directory=False) if source.kind == "s3" else location
        else:
            assert mapper is not None
            list_iri = mapper.url(Path(location), directory=False)
        known = state.known.get(list_iri)
        files: list[Any] = []
        parsed: SampleList | None = None
        try:
            if remote:
                recorded = str(known[0][2]) if known and isinstance(known[0][2], str) else ""
                name = location.rsplit("/", 1)[-1]
                if listed is not None and recorded and listed[1] == recorded:
                    parsed = self._stored_list(list_iri)
                else:
                    fetched = self.fetcher.call(self.fetcher.aget(location, recorded))
                    if fetched.status == "not-modified":
                        parsed = self._stored_list(list_iri)
                    elif fetched.data is None:
                        raise ExtractionError(f"no CSV at {location} (404)")
                    else:
                        text = fetched.data.decode("utf-8")
                        files = [[name, fetched.size, fetched.validator]]
            else:
                path = Path(location)
                if known is not None and unchanged(str(path.parent), known):
                    parsed = self._stored_list(list_iri)  # the graph in the store is current
                else:
                    files = [file_state(str(path.parent), path.name)]
                    text = path.read_text("utf-8")
            if parsed is None:
                parsed = parse_sample_list(text)
        except (OSError, UnicodeDecodeError) as exc:
            report.failed.append(Problem(location, f"cannot read CSV: {exc}"))
            return
        except ExtractionError as exc:
            if explicit:
                report.failed.append(Problem(location, str(exc)))
            return
        state.list_iris.add(list_iri)
        if files:
            if explicit:
                # datasets this list named before: pruned (with --prune) unless found again
                state.listed_before.update(row.url for row in self._stored_list(list_iri).rows)
            triples = sample_list_triples(list_iri, parsed)
            if files[0][2]:  # a validator to ask with next time
                triples.append((rdf.iri(list_iri), _P_FILES, rdf.literal(json.dumps(files))))
            extraction.writer.add(GraphData.from_triples(list_iri, triples))
        report.sample_lists += 1
        report.sample_rows += len(parsed.rows)
        for message in parsed.warnings:
            report.warnings.append(Problem(location, message))
        if explicit:
            for row in parsed.rows:
                self._listed_dataset(row.url, source, state, extraction)
        for _name, url in parsed.lists:
            local = mapper.path(url) if mapper is not None and not remote else None
            if local is not None and local.is_file():
                csvs.append(_Csv(source, str(local), True))
            elif explicit and is_remote(url):
                csvs.append(_Csv(_Source("remote-csv", url), url, True))
            elif not remote:
                report.warnings.append(
                    Problem(location, f"listed sample list {url} is not available locally")
                )

    def _stored_list(self, list_iri: str) -> SampleList:
        """The datasets and lists a sample list named when it was harvested (its graph)."""
        datasets, lists = self.store.sample_list_members(list_iri)
        parsed = SampleList()
        parsed.rows.extend(SampleRow(url, None, None, None) for url in datasets)
        parsed.lists.extend((None, url) for url in lists)
        return parsed

    def _listed_dataset(
        self, url: str, source: _Source, state: _RunState, extraction: _Extraction
    ) -> None:
        """A dataset listed by a sample list named as a source: read from the local copy
        when its URL maps into the list's directory, else fetched from its URL."""
        local = source.mapper.path(url) if source.mapper is not None else None
        if local is not None and local.is_dir():
            found = root_at(local)
            if found is not None:
                iri = source.mapper.url(local, directory=True)  # type: ignore[union-attr]
                if iri in state.datasets:
                    return
                if self._new_dataset(state, iri, found.path):
                    files = state.known.get(iri)
                    if files is not None and unchanged(found.path, files):
                        extraction.done(Unchanged(found.path))
                    else:
                        extraction.add(found, iri)
                return
        if not is_remote(url):
            state.report.failed.append(Problem(url, "listed dataset is neither local nor a URL"))
            return
        iri = normalize_url(url, directory=True)
        if iri in state.datasets:
            return  # found through another source of this run already
        if self._new_dataset(state, iri, url):
            extraction.add_url(iri, iri, state.known.get(iri))

    # ---------------------------------------------------------------- shared graphs
    def _finish(self, state: _RunState, started: dt.datetime) -> None:
        repairs: list[rdf.Triple] = []
        for repair in sorted(set().union(*state.repair_sets)):
            repairs.extend(repair.description())
        for repair_set in state.repair_sets:
            repairs.extend(repair_set_description(repair_set))
        run = state.run_term
        ended = dt.datetime.now(dt.UTC).replace(microsecond=0)
        runs = [
            (run, "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", f"<{PROV}Activity>"),
            (run, f"<{PROV}startedAtTime>", rdf.literal(started.isoformat(), XSD_DATETIME)),
            (run, f"<{PROV}endedAtTime>", rdf.literal(ended.isoformat(), XSD_DATETIME)),
            (run, f"<{NKG}toolVersion>", rdf.literal(__version__)),
            (run, f"<{NKG}datasetsHarvested>", rdf.integer(state.report.datasets_harvested)),
        ]
        if self._shards is not None:
            self._shards.add_shared(REPAIRS_GRAPH, repairs)
            self._shards.add_shared(RUNS_GRAPH, runs)
            self._shards.finish()
            return
        self.store.add(REPAIRS_GRAPH, repairs)
        self.store.add(RUNS_GRAPH, runs)
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
    listed_before: set[str] = field(default_factory=set)

    @property
    def run_term(self) -> str:
        return f"<{self.run}>"


def process_root(
    found: FoundRoot,
    iri: str,
    converter: JsonLdConverter,
    run_term: str,
    *,
    source: MetadataSource | None = None,
    max_nodes: int = MAX_NODES,
    executor: Executor | None = None,
) -> DatasetOutcome:
    """The complete graph of one dataset: NGFF facts of the whole hierarchy, OME-XML, crate,
    repairs, provenance. Documents are read from ``source`` (default: the local directory
    ``found.path``)."""
    if source is None:
        source = LocalSource(found.path, found.names)
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
    repairs: set[Repair] = set()
    organisms: frozenset[str] = frozenset()
    data: bytes | None = None
    prefetch = getattr(source, "prefetch", None)
    if prefetch is not None:
        # a remote crate arrives while the hierarchy is read, with a bioformats2raw layout's
        # first documents in the same batch
        first = [CRATE_FILE] if found.has_crate else []
        if "bioformats2raw.layout" in found.group.attributes:
            document = "zarr.json" if found.group.zarr_format == 3 else ".zattrs"
            first += [OME_XML, f"OME/{document}", f"0/{document}"]
        prefetch(*first)
    deep = read_hierarchy(found, iri, source, max_nodes, executor)
    if found.has_crate:
        try:
            data = source.get(CRATE_FILE)
        except ExtractionError as exc:
            errors.append(f"{CRATE_FILE}: {exc}")
    else:
        source.accessed.append((CRATE_FILE, -1, 0))
    has_crate = data is not None
    if data is not None:
        hasher.update(data)
        try:
            doc = jsonio.loads(data)
            bnode_prefix = "b" + hashlib.sha1(iri.encode()).hexdigest()[:12]
            crate = extract_crate(doc, iri, converter, bnode_prefix)
        except (UnicodeDecodeError, ValueError) as exc:
            reason = str(exc) if isinstance(exc, ExtractionError) else f"invalid JSON: {exc}"
            errors.append(f"{CRATE_FILE}: {reason}")
        else:
            triples.extend(crate.triples)
            repairs = crate.repairs
            organisms = frozenset(crate.organisms)
            if repairs:
                triples.append((ds, _P_REPAIR_SET, f"<{repair_set_iri(frozenset(repairs))}>"))
            for term in sorted(crate.dropped_terms):
                triples.append((ds, _P_UNDEFINED, rdf.literal(term)))
                warnings.append(
                    f"{CRATE_FILE}: term {term!r} is not defined by any context; ignored"
                )
            for value in sorted(crate.dropped_iris):
                warnings.append(f"{CRATE_FILE}: {value!r} cannot be made an absolute IRI; ignored")
            if crate.engine != "fast":
                triples.append((ds, _P_ENGINE, rdf.literal(crate.engine)))
    triples.extend(deep.triples)
    errors.extend(deep.errors)
    warnings.extend(deep.warnings)
    for document in deep.documents:
        hasher.update(document)
    if not source.failed:  # a dataset whose documents could not all be fetched is read again
        accessed = sorted(source.accessed, key=lambda r: r[0] != CRATE_FILE)  # crate first
        files = [found.record or file_state(found.path, found.metadata_file), *accessed]
        triples.append((ds, _P_FILES, rdf.literal(json.dumps(files, separators=(",", ":")))))
    for message in errors:
        triples.append((ds, _P_ERROR, rdf.literal(message)))
    triples.append((ds, _P_SOURCE, rdf.iri(source.url(found.metadata_file))))
    triples.append((ds, _P_HASH, rdf.literal("sha256:" + hasher.hexdigest())))
    triples.append((ds, _P_GENERATED, run_term))
    graph = GraphData.from_triples(iri, triples)
    return DatasetOutcome(
        found.path, graph, frozenset(repairs), errors, warnings, has_crate, organisms
    )


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


# ---------------------------------------------------------------------- dataset jobs
# Module-level functions, so that they can run on Dask workers: each process keeps one
# fetcher per set of remote options and one JSON-LD converter per context registry.
_converters: dict[int, tuple[ContextRegistry, JsonLdConverter]] = {}
_fetchers: dict[RemoteOptions, Fetcher] = {}
_fetchers_lock = threading.Lock()


def process_fetcher(options: RemoteOptions) -> Fetcher:
    """The fetcher of this process for ``options``: one event loop and pooled connections,
    shared by every job (on pool threads or Dask workers) for the life of the process."""
    with _fetchers_lock:
        fetcher = _fetchers.get(options)
        if fetcher is None:
            fetcher = _fetchers[options] = Fetcher(options)
        return fetcher


def _converter(registry: ContextRegistry) -> JsonLdConverter:
    """The converter of this process for a context registry, shared by all threads (its
    caches are only ever replaced or added to, never changed in place)."""
    with _fetchers_lock:
        entry = _converters.get(id(registry))
        if entry is None or entry[0] is not registry:
            entry = _converters[id(registry)] = (registry, JsonLdConverter(registry))
        return entry[1]


def extract_found(
    found: FoundRoot,
    iri: str,
    run_term: str,
    max_nodes: int,
    registry: ContextRegistry,
    options: RemoteOptions,
) -> DatasetOutcome:
    """A job: the graph of a root found by a walk (local, or remote from an S3 listing)."""
    source: MetadataSource | None = None
    if is_remote(found.path):
        source = RemoteSource(process_fetcher(options), found.path, found.names)
    return process_root(
        found, iri, _converter(registry), run_term, source=source, max_nodes=max_nodes
    )


def extract_url(
    url: str,
    iri: str,
    records: Any,
    run_term: str,
    max_nodes: int,
    registry: ContextRegistry,
    options: RemoteOptions,
) -> DatasetOutcome | Unchanged:
    """A job: the graph of a dataset named by its URL, or :class:`Unchanged` when the
    documents recorded by an earlier harvest are unchanged (asked with conditional requests).

    :raises FetchError: the root metadata could not be fetched.
    :raises ExtractionError: there is no OME-Zarr root at the URL.
    """
    fetcher = process_fetcher(options)
    found = fetcher.call(aroot(fetcher, url, records))
    if isinstance(found, Unchanged):
        return found
    source = RemoteSource(fetcher, url)
    return process_root(
        found, iri, _converter(registry), run_term, source=source, max_nodes=max_nodes
    )


__all__ = [
    "DatasetOutcome",
    "HarvestReport",
    "Harvester",
    "Problem",
    "extract_found",
    "extract_url",
    "process_omexml_file",
    "process_root",
]

"""Harvest: sources → extractors → store, with a report of everything that happened.

Discovery and extraction run in the calling thread; batches of finished graphs are written
by one background thread (:class:`ngff_kg.store.writer.BatchWriter`), so Oxigraph loads
while the next datasets are read. Whatever fails for one dataset (reading, parsing,
converting, extracting, writing) is reported with its path, stage and reason, the dataset
keeps whatever could be read, and the run always goes on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from typing import Any

from ngff_kg import rdf
from ngff_kg._version import __version__
from ngff_kg.errors import SourceNotFoundError, StoreError, UsageError
from ngff_kg.harvest.dataset import DatasetOutcome
from ngff_kg.harvest.jobs import Extraction, JobSettings, Result, process_fetcher
from ngff_kg.harvest.lists import Csv, SampleLists
from ngff_kg.harvest.options import HarvestOptions, HarvestReport
from ngff_kg.harvest.state import RunState, Source, classify, prune
from ngff_kg.normalize.jsonld import JsonLdConverter
from ngff_kg.normalize.repairs import repair_set_description
from ngff_kg.ontology.taxonomy import LINEAGE_GRAPH_NAME, load_taxonomy
from ngff_kg.reports import Problem, Progress
from ngff_kg.sources.local import unchanged
from ngff_kg.sources.remote import Fetcher, RemoteCsv, Unchanged, walk_s3
from ngff_kg.sources.walk import FoundCsv, FoundRoot, KnownRoot, WalkError, root_at, walk
from ngff_kg.store.knowledge import KnowledgeStore
from ngff_kg.store.shards import ShardWriter
from ngff_kg.store.writer import BatchWriter, Rejections
from ngff_kg.vocab import NCBITAXON, NKG, PROV, RDFS, REPAIRS_GRAPH, RUNS_GRAPH, XSD_DATETIME

#: The third garbage-collection threshold during a harvest (:func:`fewer_full_collections`).
FULL_COLLECTION_EVERY = 1000
#: the thresholds before the first of the harvests running, and one entry per harvest
_collections_lock = threading.Lock()
_collections_saved: list[int] = []
_collections_raised: list[None] = []


@contextlib.contextmanager
def fewer_full_collections() -> Iterator[None]:
    """Full garbage collections made rare for the duration.

    The graphs waiting for the store's writer (up to two batches of 48 MB, some two million
    objects) are long-lived for the collector, which kept scanning them: 28 full
    collections took 4.3 s of the harvesting thread in a harvest of 100K datasets, against
    one collection (0.04 s) with this, and the same peak RSS. The younger generations are
    collected as usual; what a dataset's reference cycles hold waits for the next full
    collection.
    """
    with _collections_lock:
        if not _collections_raised:
            _collections_saved[:] = gc.get_threshold()
            young, middle, full = _collections_saved
            gc.set_threshold(young, middle, max(full, FULL_COLLECTION_EVERY))
        _collections_raised.append(None)
    try:
        yield
    finally:
        with _collections_lock:  # the last of harvests that overlap (threads) gives them back
            _collections_raised.pop()
            if not _collections_raised:
                gc.set_threshold(*_collections_saved)


class Harvester:
    """Harvests local and remote sources into a :class:`KnowledgeStore`.

    :param options: what to harvest and how (base URL, incremental, remote, output...).
    :param executor: run dataset jobs on this executor (a Dask client's, for a cluster);
        ``None`` extracts local datasets in this thread and remote ones on a thread pool.
    :param total: called once with the number of datasets to read, when the sources have
        all been walked and listed (``progress`` may have been called before).
    """

    def __init__(
        self,
        store: KnowledgeStore,
        converter: JsonLdConverter | None = None,
        options: HarvestOptions | None = None,
        *,
        progress: Progress | None = None,
        executor: Executor | None = None,
        total: Progress | None = None,
    ) -> None:
        self.total = total
        self.store = store
        self.converter = converter or JsonLdConverter()
        self.options = options or HarvestOptions()
        self.progress = progress
        self.executor = executor
        self._shards: ShardWriter | None = None

    @property
    def fetcher(self) -> Fetcher:
        return process_fetcher(self.options.remote)

    def harvest(self, sources: Iterable[str | os.PathLike[str]]) -> HarvestReport:
        """Harvest every source: directories are walked, ``.csv`` files read as sample lists
        (the datasets they list are harvested from their URLs), ``.ome.xml`` files harvested as
        datasets of their own; ``https://`` URLs name datasets (or sample lists when they end
        in ``.csv``) whose metadata is fetched directly; ``s3://bucket/prefix`` is walked by
        listing.

        A dataset already in the store whose documents are all unchanged (local: size and
        modification time, checked with ``stat``; remote: conditional requests with the
        recorded ETag or Last-Modified) is left as it is, unless ``options.force``. With
        ``options.prune``, datasets of the store below a walked directory or prefix that the
        walk no longer finds are removed.

        :raises SourceNotFoundError: a local source does not exist (checked before anything
            is read).
        :raises UsageError: ``base_url`` is not an absolute URL prefix, or a source is not
            usable.
        :raises StoreError: the store cannot be written.
        """
        options = self.options
        classified = [classify(s, options.base_url) for s in sources]
        if not classified:
            raise UsageError("no source given: name at least one directory, CSV file or URL")
        started = time.perf_counter()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        run = f"https://w3id.org/ngff-kg/run/{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        report = HarvestReport(run)
        if options.output is None:
            self.store.ensure_ontologies()
        state = RunState(report, run)
        if not options.force and options.output is None:
            state.known = self.store.source_files()
        settings = JobSettings(
            state.run_term,
            options.max_nodes_per_dataset,
            self.converter.registry,
            options.remote,
        )
        rejections = Rejections()
        if options.output is not None:
            self._shards = ShardWriter(options.output)
            sink: Any = self._shards
        else:
            sink = BatchWriter(self.store, options.batch_size, rejections, bool(state.known))

        def record(result: Result) -> None:
            self._record(result, state)

        extraction = Extraction(settings, self.converter, sink, record, executor=self.executor)
        with fewer_full_collections(), extraction:
            lists = SampleLists(self.store, lambda: self.fetcher, state, extraction)
            for source in classified:
                if source.kind == "omexml":
                    assert source.path is not None and source.mapper is not None
                    iri = source.mapper.url(source.path, directory=False)
                    if state.new_dataset(iri, str(source.path)):
                        extraction.add_omexml(source.path, iri)
                elif source.kind in ("csv", "remote-csv"):
                    lists.queue.append(Csv(source, source.location, True))
                elif source.kind == "url":
                    iri = source.iri(source.location)
                    if state.new_dataset(iri, source.location):
                        extraction.add_url(source.location, iri, state.known.get(iri))
                elif source.kind == "s3":
                    self._walk_s3(source, state, extraction, lists)
                else:
                    self._walk_local(source, state, extraction, lists)
            lists.run()
            if self.total is not None:  # every dataset is known now; some may still be read
                self.total(len(state.datasets))
        self._rejected(rejections, state)
        if options.prune:
            report.datasets_pruned = prune(self.store, classified, state)
        if options.output is None:
            report.taxa_added = self._add_lineages(state.organisms)
        self._finish(state, now)
        report.seconds = time.perf_counter() - started
        return report

    # ---------------------------------------------------------------- sources
    def _walk_local(
        self, source: Source, state: RunState, extraction: Extraction, lists: SampleLists
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
                if not state.new_dataset(iri, found.path):
                    continue
                if unchanged(found.path, found.records[1:], found.names):
                    extraction.done(Unchanged(found.path))
                    continue
                try:
                    changed = root_at(found.path)
                except OSError as exc:
                    changed = None
                    state.report.warnings.append(Problem(found.path, f"cannot list: {exc}"))
                if changed is None:  # no longer a root (--prune removes it)
                    state.forget(iri)
                    continue
                extraction.add(changed, iri)
            elif isinstance(found, FoundRoot):
                iri = iris.pop(found.path, "") or mapper.url(found.path, directory=True)
                if not state.new_dataset(iri, found.path):
                    continue
                files = state.known.get(iri)
                if files is not None and unchanged(found.path, files, metadata=found.metadata_file):
                    extraction.done(Unchanged(found.path))
                    continue
                extraction.add(found, iri)
            elif isinstance(found, FoundCsv):
                lists.queue.append(Csv(source, str(found.path), False))
            elif isinstance(found, WalkError):
                state.report.warnings.append(Problem(str(found.path), found.reason))

    def _walk_s3(
        self, source: Source, state: RunState, extraction: Extraction, lists: SampleLists
    ) -> None:
        def known(url: str) -> Any:
            return state.known.get(source.iri(url))

        for found in walk_s3(self.fetcher, source.location, known):
            if isinstance(found, FoundRoot | Unchanged):
                iri = source.iri(found.path)
                if not state.new_dataset(iri, found.path):
                    continue
                if isinstance(found, Unchanged):
                    extraction.done(found)
                else:
                    extraction.add(found, iri)
            elif isinstance(found, RemoteCsv):
                lists.queue.append(Csv(source, found.path, False, found.listed))
            elif isinstance(found, WalkError):
                if found.path == source.location and not state.report.datasets_found:
                    raise SourceNotFoundError(f"cannot walk {source.location}: {found.reason}")
                state.report.warnings.append(Problem(str(found.path), found.reason))

    # ---------------------------------------------------------------- results
    def _record(self, result: Result, state: RunState) -> None:
        """One job's result, in the harvest's thread."""
        report = state.report
        if isinstance(result, Unchanged):
            report.datasets_unchanged += 1
        elif isinstance(result, DatasetOutcome):
            report.crates += result.has_crate
            if result.errors:
                reason = "; ".join(error.message for error in result.errors)
                report.failed.append(Problem(result.path, reason, result.errors[0].stage))
                state.failed_iris.add(result.graph.iri)
            else:
                report.datasets_harvested += 1
            for message in result.warnings:
                report.warnings.append(Problem(result.path, message))
            if result.repairs:
                report.repaired_datasets += 1
                for kind in {r.kind for r in result.repairs}:
                    report.repairs[kind] += 1
                state.repair_sets.add(result.repairs)
            state.organisms |= result.organisms
        else:
            path, stage, reason = result
            report.failed.append(Problem(path, reason, stage))
        state.done += 1
        if self.progress is not None:
            self.progress(state.done)

    def _rejected(self, rejections: Rejections, state: RunState) -> None:
        """Graphs the store rejected (all or some of their triples): reported as failed."""
        for iri, reason in rejections.items:
            if iri in state.datasets and iri not in state.failed_iris:
                state.report.datasets_harvested -= 1
                state.failed_iris.add(iri)
            state.report.failed.append(Problem(state.datasets.get(iri, iri), reason, "write"))

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

    # ---------------------------------------------------------------- shared graphs
    def _finish(self, state: RunState, started: dt.datetime) -> None:
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


__all__ = ["Harvester"]

"""Dataset jobs: reading one dataset (local, remote, OME-XML file) and where they run.

The functions Dask workers call are module-level and take a small frozen
:class:`JobSettings`; each process keeps one fetcher per set of remote options and one
JSON-LD converter per context registry. :class:`Extraction` runs the jobs of a harvest and
hands each result to a callback; it never sees the harvester.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    Executor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ngff_kg.harvest.dataset import (
    DatasetOutcome,
    describe,
    failed_outcome,
    process_omexml_file,
    process_root,
)
from ngff_kg.normalize.jsonld import ContextRegistry, JsonLdConverter
from ngff_kg.sources.local import MetadataSource
from ngff_kg.sources.remote import Fetcher, RemoteOptions, RemoteSource, Unchanged, aroot, is_remote
from ngff_kg.sources.walk import FoundRoot
from ngff_kg.store.knowledge import GraphData

#: Threads reading the documents of one dataset (bounded: plates list thousands of wells).
READ_THREADS = 8


@dataclass(frozen=True, eq=False)
class JobSettings:
    """What a dataset job needs to know of its harvest (sent to Dask workers once)."""

    #: :class:`ngff_kg.sources.dask.DaskJobs` scatters arguments marked so to every worker.
    broadcast: ClassVar[bool] = True

    run_term: str
    max_nodes: int
    registry: ContextRegistry
    remote: RemoteOptions


class Sink(Protocol):
    """Where dataset graphs go: a batch writer of the store, or N-Quads shards."""

    def add(self, graph: GraphData) -> None: ...

    def close(self) -> None: ...


#: Called in the harvest's thread with each job's result: a dataset's outcome, an unchanged
#: dataset, or ``(path, stage, reason)`` for a dataset that yielded nothing.
Result = DatasetOutcome | Unchanged | tuple[str, str, str]
Record = Callable[[Result], None]

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


def extract_found(settings: JobSettings, found: FoundRoot, iri: str) -> DatasetOutcome:
    """A job: the graph of a root found by a walk (local, or remote from an S3 listing)."""
    source: MetadataSource | None = None
    if is_remote(found.path):
        source = RemoteSource(process_fetcher(settings.remote), found.path, found.names)
    return process_root(
        found,
        iri,
        _converter(settings.registry),
        settings.run_term,
        source=source,
        max_nodes=settings.max_nodes,
    )


def extract_url(
    settings: JobSettings, url: str, iri: str, records: Any
) -> DatasetOutcome | Unchanged:
    """A job: the graph of a dataset named by its URL, or :class:`Unchanged` when the
    documents recorded by an earlier harvest are unchanged (asked with conditional requests).

    :raises FetchError: the root metadata could not be fetched.
    :raises ExtractionError: there is no OME-Zarr root at the URL.
    """
    fetcher = process_fetcher(settings.remote)
    found = fetcher.call(aroot(fetcher, url, records))
    if isinstance(found, Unchanged):
        return found
    source = RemoteSource(fetcher, url)
    return process_root(
        found,
        iri,
        _converter(settings.registry),
        settings.run_term,
        source=source,
        max_nodes=settings.max_nodes,
    )


class Extraction:
    """Runs dataset jobs and hands their graphs to ``sink`` and their results to ``record``.

    Local roots are extracted in this thread (CPU-bound: threads would only contend for the
    interpreter). Remote datasets are jobs on a pool of ``concurrency`` threads whose reads
    go through the fetcher's event loop; at most twice that many jobs are queued, so a list
    of a million URLs is never all in memory. With an ``executor`` (a Dask cluster's) every
    dataset is a job there. Results are recorded in this thread as they complete; whatever a
    job raises becomes that dataset's problem.
    """

    def __init__(
        self,
        settings: JobSettings,
        converter: JsonLdConverter,
        sink: Sink,
        record: Record,
        *,
        executor: Executor | None = None,
    ) -> None:
        self.settings = settings
        self.converter = converter
        self.sink = sink
        self.record = record
        self._readers: ThreadPoolExecutor | None = None
        self._jobs: Executor | None = executor
        self._distributed = executor is not None
        self._own_jobs = False
        self._inflight: dict[Future[Any], str] = {}

    def __enter__(self) -> Extraction:
        return self

    def add(self, found: FoundRoot, iri: str) -> None:
        if self._distributed or is_remote(found.path):
            self.submit(found.path, extract_found, self.settings, found, iri)
            return
        try:
            outcome = process_root(
                found,
                iri,
                self.converter,
                self.settings.run_term,
                max_nodes=self.settings.max_nodes,
                executor=self.readers,
            )
        except Exception as exc:  # one dataset never ends the run
            outcome = failed_outcome(found.path, iri, self.settings.run_term, "read", exc)
        self.done(outcome)

    def add_url(self, url: str, iri: str, records: Any) -> None:
        """A dataset named by its URL (no listing): its metadata is fetched directly."""
        self.submit(url, extract_url, self.settings, url, iri, records)

    def add_omexml(self, path: Path, iri: str) -> None:
        try:
            outcome = process_omexml_file(path, iri, self.settings.run_term)
        except Exception as exc:
            outcome = failed_outcome(str(path), iri, self.settings.run_term, "read", exc)
        self.done(outcome)

    def done(self, outcome: DatasetOutcome | Unchanged) -> None:
        if isinstance(outcome, DatasetOutcome):
            self.sink.add(outcome.graph)
        self.record(outcome)

    def submit(self, path: str, fn: Callable[..., Any], *args: Any) -> None:
        concurrency = self.settings.remote.concurrency
        if self._jobs is None:
            self._jobs = ThreadPoolExecutor(concurrency, thread_name_prefix="ngff-kg-dataset")
            self._own_jobs = True
        limit = 2 * max(concurrency, 8)
        while len(self._inflight) >= limit:
            self._collect(FIRST_COMPLETED)
        try:
            future = self._jobs.submit(fn, *args)
        except Exception as exc:  # e.g. arguments a cluster cannot take
            self.record((path, "read", describe(exc)))
            return
        self._inflight[future] = path

    def _collect(self, when: str = ALL_COMPLETED) -> None:
        finished, _ = wait(list(self._inflight), return_when=when)
        for future in finished:
            path = self._inflight.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # a failure of one dataset never ends the run
                self.record((path, "read", describe(exc)))
                continue
            self.done(outcome)

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
            self.sink.close()
        finally:
            if self._readers is not None:
                self._readers.shutdown(wait=True)
            if self._own_jobs and self._jobs is not None:
                self._jobs.shutdown(wait=True, cancel_futures=True)

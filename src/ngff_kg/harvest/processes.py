"""Local datasets read by worker processes: reading and extracting is CPU-bound Python, so
threads would only take turns; processes use every core of the machine.

:class:`LocalWorkers` sends roots to a :class:`~concurrent.futures.ProcessPoolExecutor` in
chunks (one job per root would cost more than many small datasets take) and hands back the
outcomes in the order the roots were given, so a harvest records the same report whatever
the number of processes. The workers start with the ``forkserver`` method where there is one
(``spawn`` elsewhere): the harvesting process has threads (the store's, the batch writer),
which ``fork`` would copy in an unknown state.

A worker that dies (killed, out of memory, a crash in a native library) takes only its
datasets with it: the roots of the jobs it broke are read again one at a time in a new pool,
and a root that ends a worker on its own is reported as failed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ngff_kg.errors import ExtractionError
from ngff_kg.harvest.dataset import DatasetOutcome, describe, failed_outcome, process_root
from ngff_kg.normalize.jsonld import ContextRegistry, JsonLdConverter
from ngff_kg.sources.walk import FoundRoot

#: Roots a job carries: enough that the cost of a job (pickling, a round trip) is small
#: beside the roots' own, few enough that the first results come back at once.
CHUNK = 16

#: Pairs of a root and the IRI of its dataset.
Job = list[tuple[FoundRoot, str]]

#: Threads reading the documents of one dataset (bounded: plates list thousands of wells).
READ_THREADS = 8

_settings: Any = None  # the harvest's JobSettings, in a worker process
_reader_pool: ThreadPoolExecutor | None = None
_converters: dict[int, tuple[ContextRegistry, JsonLdConverter]] = {}
_converters_lock = threading.Lock()


def process_converter(registry: ContextRegistry) -> JsonLdConverter:
    """The converter of this process for a context registry, shared by all threads (its
    caches are only ever replaced or added to, never changed in place)."""
    with _converters_lock:
        entry = _converters.get(id(registry))
        if entry is None or entry[0] is not registry:
            entry = _converters[id(registry)] = (registry, JsonLdConverter(registry))
        return entry[1]


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _start(settings: Any) -> None:
    """A worker's start: keep the harvest's settings; leave Ctrl-C to the harvest (it stops
    the pool), so that an interrupt does not print a traceback per worker."""
    global _settings
    _settings = settings
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _readers() -> ThreadPoolExecutor:
    """Threads of this worker reading a dataset's many documents (a plate's wells)."""
    global _reader_pool
    if _reader_pool is None:
        _reader_pool = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="ngff-kg-read")
    return _reader_pool


def extract_roots(job: Job) -> list[DatasetOutcome]:
    """A worker's job: the outcome of every root of ``job``, each apart from the others."""
    settings = _settings
    converter = process_converter(settings.registry)
    outcomes = []
    for found, iri in job:
        try:
            outcome = process_root(
                found,
                iri,
                converter,
                settings.run_term,
                max_nodes=settings.max_nodes,
                executor=_readers(),
            )
        except Exception as exc:  # one dataset never ends the job
            outcome = failed_outcome(found.path, iri, settings.run_term, "read", exc)
        outcomes.append(outcome)
    return outcomes


DIED = (
    "the worker process reading this dataset ended abruptly (killed, out of memory, or a "
    "crash in a native library)"
)


class WorkerDied(ExtractionError):
    """A worker process ended while reading a dataset."""


#: Seconds the first worker may take to start and answer.
START_TIMEOUT = 120.0


class WorkersUnavailable(RuntimeError):
    """The worker processes cannot start here (e.g. the main module of a script without an
    ``if __name__ == "__main__":`` guard ends them, or no process may be started)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"worker processes could not start ({reason})")


def ready() -> bool:
    """The first job of a pool: it answers once a worker has started."""
    return True


class _Started:
    """A multiprocessing context that keeps the processes it starts, so that the workers of
    a broken pool can be ended for sure (a worker started while the pool was breaking would
    otherwise be left waiting for work, and the pool's shutdown with it)."""

    def __init__(self) -> None:
        self.context: Any
        if "forkserver" in multiprocessing.get_all_start_methods():
            self.context = multiprocessing.get_context("forkserver")
            # workers forked from a server that imported the extractors start at once
            self.context.set_forkserver_preload([__name__])
        else:
            self.context = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.context, name)

    def Process(self, *args: Any, **kwargs: Any) -> Any:
        process = self.context.Process(*args, **kwargs)
        self.processes.append(process)
        return process

    def end(self) -> None:
        """Kill every worker still running."""
        for process in self.processes:
            if process.pid is not None and process.exitcode is None:
                process.kill()
        self.processes = [p for p in self.processes if p.pid is None]


class LocalWorkers:
    """``processes`` worker processes reading local roots; ``done`` is called in the
    caller's thread with each outcome, in the order the roots were added."""

    def __init__(
        self,
        settings: Any,
        processes: int,
        done: Callable[[DatasetOutcome], None],
        *,
        extract: Callable[[Job], list[DatasetOutcome]] = extract_roots,
        probe: Callable[[], object] = ready,
    ) -> None:
        """:raises WorkersUnavailable: no worker answered ``probe`` (nothing was sent)."""
        self.settings = settings
        self.processes = processes
        self.done = done
        self.extract = extract  # module-level functions (they are sent to the workers)
        self.job: Job = []
        self.inflight: deque[tuple[Future[list[DatasetOutcome]], Job]] = deque()
        self.started = _Started()
        self.pool = self._pool()
        try:
            self.pool.submit(probe).result(timeout=START_TIMEOUT)
        except Exception as exc:
            self.close(cancel=True)
            raise WorkersUnavailable(describe(exc)) from exc

    def _pool(self) -> ProcessPoolExecutor:
        context: Any = self.started  # a multiprocessing context in all but its class
        return ProcessPoolExecutor(
            self.processes, mp_context=context, initializer=_start, initargs=(self.settings,)
        )

    def add(self, found: FoundRoot, iri: str) -> None:
        self.job.append((found, iri))
        if len(self.job) >= CHUNK:
            self._send()

    def _send(self) -> None:
        if not self.job:
            return
        while len(self.inflight) >= 2 * self.processes:
            self._collect_one()
        job, self.job = self.job, []
        self.inflight.append((self._submit(job), job))

    def _submit(self, job: Job) -> Future[list[DatasetOutcome]]:
        try:
            return self.pool.submit(self.extract, job)
        except BrokenProcessPool:
            self._restart()
            return self.pool.submit(self.extract, job)

    def _restart(self) -> None:
        self.started.end()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._pool()

    def _collect_one(self) -> None:
        future, job = self.inflight.popleft()
        try:
            outcomes = future.result()
        except BrokenProcessPool:
            outcomes = self._alone(job)
        except Exception as exc:  # the job itself failed (e.g. a result that cannot be sent)
            outcomes = [self._failed(found, iri, exc) for found, iri in job]
        for outcome in outcomes:
            self.done(outcome)

    def _alone(self, job: Job) -> list[DatasetOutcome]:
        """The roots of a job whose pool broke, each read alone in a new pool, nothing else
        running beside it: the root that ends a worker again is reported, the others are
        kept. The jobs queued behind it that had not finished are sent again afterwards."""
        self._restart()
        queued = list(self.inflight)
        self.inflight.clear()
        outcomes = []
        for found, iri in job:
            try:
                outcomes.extend(self.pool.submit(self.extract, [(found, iri)]).result())
            except BrokenProcessPool:
                self._restart()
                outcomes.append(self._failed(found, iri, WorkerDied(DIED)))
            except Exception as exc:
                outcomes.append(self._failed(found, iri, exc))
        for future, waiting in queued:
            finished = future.done() and not future.cancelled() and future.exception() is None
            self.inflight.append((future if finished else self._submit(waiting), waiting))
        return outcomes

    def _failed(self, found: FoundRoot, iri: str, exc: BaseException) -> DatasetOutcome:
        return failed_outcome(found.path, iri, self.settings.run_term, "read", exc)

    def finish(self) -> None:
        """Wait for every root added and hand over its outcome."""
        self._send()
        while self.inflight:
            self._collect_one()

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            for future, _ in self.inflight:
                future.cancel()
            self.inflight.clear()
            self.job = []
            self.started.end()
        self.pool.shutdown(wait=True, cancel_futures=cancel)


__all__ = [
    "CHUNK",
    "LocalWorkers",
    "WorkerDied",
    "WorkersUnavailable",
    "available_cpus",
    "extract_roots",
    "process_converter",
    "ready",
]

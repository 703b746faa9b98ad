"""Dataset jobs on a Dask cluster (``harvest --executor dask``).

Workers run the extraction (walk results, or dataset URLs whose metadata they fetch
themselves) and send back each dataset's graph as serialized quads; the client writes them
into the store or into N-Quads shards. Job arguments whose class sets ``broadcast = True``
(the harvest's job settings, with its JSON-LD context registry) are scattered to the workers
once instead of being sent with every job. Workers need ngff-kg installed (the same
version as the client).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any

from ngff_kg.errors import require


class DaskJobs(Executor):
    """A :class:`concurrent.futures.Executor` submitting to a ``distributed.Client``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._executor = client.get_executor(pure=False)
        self._scattered: dict[int, tuple[Any, Any]] = {}

    def _arg(self, value: Any) -> Any:
        if getattr(type(value), "broadcast", False) is True:
            entry = self._scattered.get(id(value))
            if entry is None or entry[0] is not value:
                future = self.client.scatter(value, broadcast=True, hash=False)
                entry = self._scattered[id(value)] = (value, future)
            return entry[1]
        return value

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._executor.submit(fn, *(self._arg(a) for a in args), **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait)


@contextmanager
def dask_executor(
    kind: str, scheduler: str | None = None, workers: int | None = None
) -> Iterator[DaskJobs | None]:
    """``None`` for ``kind="local"``; for ``"dask"``, jobs on the cluster at ``scheduler``, or
    on a local cluster of ``workers`` processes (default: one per CPU) started for the run.

    :raises MissingDependencyError: the ``dask`` extra is not installed.
    """
    if kind != "dask":
        yield None
        return
    require("distributed", "dask")
    import distributed

    cluster = None
    if scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.WARNING,
        )
        client = distributed.Client(cluster)
    else:
        client = distributed.Client(scheduler)
    try:
        yield DaskJobs(client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

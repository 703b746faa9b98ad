"""What a harvest is asked to do (:class:`HarvestOptions`) and what it did
(:class:`HarvestReport`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ngff_kg.errors import UsageError
from ngff_kg.reports import Problem
from ngff_kg.sources.hierarchy import MAX_NODES
from ngff_kg.sources.remote import RemoteOptions


class ExecutorKind(StrEnum):
    """Where dataset jobs run: in this process, or on a Dask cluster."""

    LOCAL = "local"
    DASK = "dask"


@dataclass(frozen=True)
class HarvestOptions:
    """The settings of a harvest, given once (CLI → ``Catalog.harvest`` → ``Harvester``).

    :param base_url: URL of each source directory; ``"https://"`` for a tree whose first
        path component is the host. Without it datasets get ``file://`` IRIs.
    :param max_nodes_per_dataset: read at most this many node documents below one root.
    :param force: read every dataset again, changed or not.
    :param prune: remove datasets below the walked sources that are gone.
    :param remote: how remote documents are fetched.
    :param output: write N-Quads shards to this directory instead of the store.
    :param batch_size: graphs written to the store at once (at most; see
        :data:`ngff_kg.store.writer.BATCH_CHARS`).
    :param executor: ``"local"``, or ``"dask"``: dataset jobs run on a Dask cluster (the
        ``dask`` extra), at ``scheduler`` or on a local cluster of ``workers`` processes.
    """

    base_url: str | None = None
    max_nodes_per_dataset: int = MAX_NODES
    force: bool = False
    prune: bool = False
    remote: RemoteOptions = field(default_factory=RemoteOptions)
    output: Path | None = None
    batch_size: int = 100_000
    executor: ExecutorKind = ExecutorKind.LOCAL
    scheduler: str | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "executor", ExecutorKind(self.executor))
        except ValueError:
            choices = ", ".join(repr(k.value) for k in ExecutorKind)
            raise UsageError(f"executor must be one of {choices}, got {self.executor!r}") from None
        if self.executor is not ExecutorKind.DASK and (self.scheduler or self.workers):
            raise UsageError("scheduler and workers need executor dask")
        if self.workers is not None and self.workers < 1:
            raise UsageError(f"workers must be at least 1, got {self.workers}")
        if self.max_nodes_per_dataset < 1:
            raise UsageError(
                f"max_nodes_per_dataset must be at least 1, got {self.max_nodes_per_dataset}"
            )
        if self.batch_size < 1:
            raise UsageError(f"batch_size must be at least 1, got {self.batch_size}")


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

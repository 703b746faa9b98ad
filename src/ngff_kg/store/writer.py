"""The background batch writer: dataset graphs go to the store while the next are read.

A batch the store rejects never takes the other graphs of the batch down: it is split in
halves until the graph(s) at fault are alone; of such a graph, the triples the store accepts
are kept (its lines are parsed one by one: :func:`ngff_kg.rdf.trig_block` writes one triple a
line) with an ``nkg:extractionError`` saying what was dropped, and the rejection is reported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pyoxigraph as ox

from ngff_kg import rdf
from ngff_kg.errors import StoreError
from ngff_kg.store.knowledge import GraphData, KnowledgeStore
from ngff_kg.vocab import NKG

#: Serialized graphs (characters) gathered before a batch is written. Large batches matter
#: at scale: each bulk load adds files to the store's first level, and many small ones make
#: the store spend its time compacting them (1M datasets: 19 min with batches of 1,000 graphs).
BATCH_CHARS = 48 * 1024 * 1024

#: Graphs replaced by one batch of a re-harvest (:class:`BatchWriter`); the store writes them
#: as one SPARQL update (:meth:`KnowledgeStore.write`).
REPLACE_BATCH = 1000

#: Called (in the writer thread) with a graph's IRI and why the store rejected (part of) it.
Rejected = Callable[[str, str], None]


def _stored(store: KnowledgeStore, iri: str) -> bool:
    """Whether the store has the graph ``iri`` (False for a name it cannot hold)."""
    try:
        return store.has_graph(iri)
    except ValueError:
        return False


def valid_iri(value: str) -> bool:
    """Whether the store accepts ``value`` as an IRI (absolute, well-formed)."""
    try:
        ox.NamedNode(value)
    except (ValueError, TypeError):
        return False
    return True


def salvage(graph: GraphData) -> tuple[GraphData | None, int, str]:
    """The part of ``graph`` that the store accepts: (graph of the accepted triples plus an
    ``nkg:extractionError`` naming what was dropped, or ``None`` when even the graph name is
    rejected; triples dropped; the first reason)."""
    if not valid_iri(graph.iri):
        return None, 0, f"the store rejects the graph IRI {graph.iri!r}"
    lines = graph.trig.split("\n")[1:-2]  # "<iri> {", one triple a line, "}", ""
    kept: list[str] = []
    dropped = 0
    reason = ""
    for line in lines:
        try:
            list(ox.parse(line.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES))  # lazy: consume
        except (SyntaxError, ValueError) as exc:  # ValueError: a lone surrogate
            dropped += 1
            if not reason:
                shown = line if len(line) <= 400 else line[:400] + "…"
                reason = f"{_printable(shown)} ({type(exc).__name__}: {exc})"
            continue
        kept.append(line)
    note = f"write: {dropped} triples rejected by the store, first: {reason}"
    error = f"<{graph.iri}> <{NKG}extractionError> {rdf.literal(_printable(note))} .\n"
    text = f"<{graph.iri}> {{\n" + "".join(line + "\n" for line in kept) + error + "}\n"
    return GraphData(graph.iri, text), dropped, reason or "rejected"


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def write_isolated(store: KnowledgeStore, graphs: list[GraphData], rejected: Rejected) -> None:
    """Write ``graphs``; when the store rejects the batch, write its halves apart, down to
    single graphs, which are salvaged (:func:`salvage`) and reported to ``rejected``.

    :raises StoreError: the store cannot be written at all (a disk error, not a bad graph).
    """
    try:
        store.write(graphs)
        return
    except StoreError as exc:
        if isinstance(exc.__cause__, OSError):
            raise
        if len(graphs) > 1:
            middle = len(graphs) // 2
            write_isolated(store, graphs[:middle], rejected)
            write_isolated(store, graphs[middle:], rejected)
            return
        cause = exc.__cause__ or exc
    graph = graphs[0]
    kept, dropped, reason = salvage(graph)
    if kept is not None and not dropped:  # every line parses alone: the graph is not at fault
        kept = graph
    if kept is not None:
        try:
            store.write([kept])
        except StoreError as exc:
            kept, reason = None, str(exc.__cause__ or exc)
    if kept is None:
        store.discard_graph(graph.iri)  # no half-loaded graph is left behind
        rejected(graph.iri, f"the store rejected the dataset's graph: {reason or cause}")
    elif kept is not graph:
        rejected(graph.iri, f"the store rejected {dropped} triples: {reason}")


class BatchWriter:
    """Writes batches of graphs in a background thread, one batch in flight at a time. A
    batch ends at ``batch_size`` graphs or :data:`BATCH_CHARS` characters. Graphs the store
    rejects are reported to ``rejected`` (from the writer thread).

    With ``replacing`` (a re-harvest), graphs the store has already gather apart and go in
    batches of :data:`REPLACE_BATCH`: a replacement is a SPARQL update, which gains nothing
    from a large batch, and written while the walk goes on it no longer waits for its end
    (2,000 changed datasets of 200K: 3-14 s after the walk)."""

    def __init__(
        self, store: KnowledgeStore, batch_size: int, rejected: Rejected, replacing: bool = False
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.rejected = rejected
        self.replacing = replacing
        self.pending: list[GraphData] = []
        self.replacements: list[GraphData] = []
        self.chars = 0
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="ngff-kg-writer")
        self.future: Future[None] | None = None

    def add(self, graph: GraphData) -> None:
        if self.replacing and _stored(self.store, graph.iri):
            self.replacements.append(graph)
            if len(self.replacements) >= min(self.batch_size, REPLACE_BATCH):
                self._submit(replacements=True)
            return
        self.pending.append(graph)
        self.chars += len(graph.trig)
        if len(self.pending) >= self.batch_size or self.chars >= BATCH_CHARS:
            self._submit()

    def _submit(self, replacements: bool = False) -> None:
        if self.future is not None:
            self.future.result()
        if replacements:
            batch, self.replacements = self.replacements, []
        else:
            batch, self.pending, self.chars = self.pending + self.replacements, [], 0
            self.replacements = []
        self.future = (
            self.executor.submit(write_isolated, self.store, batch, self.rejected)
            if batch
            else None
        )

    def close(self) -> None:
        try:
            self._submit()
            if self.future is not None:
                self.future.result()
        finally:
            self.executor.shutdown(wait=True)


class Rejections:
    """Thread-safe list of (graph IRI, reason) rejected by the store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[tuple[str, str]] = []

    def __call__(self, iri: str, reason: str) -> None:
        with self._lock:
            self.items.append((iri, reason))


__all__ = ["BATCH_CHARS", "BatchWriter", "Rejections", "salvage", "valid_iri", "write_isolated"]

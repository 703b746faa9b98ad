"""N-Quads shards: a harvest written to files for a bulk load elsewhere.

``harvest --output DIR`` writes the dataset graphs to ``DIR/datasets-00000.nq``,
``DIR/datasets-00001.nq``, … (at most ``graphs_per_shard`` graphs each), the shared graphs
(repair descriptions, the run's provenance) to ``DIR/shared.nq``, the shipped ontologies and
their closure to ``DIR/ontologies.nq``, and a ``DIR/manifest.json`` listing the files with their
graph and quad counts. Every file is plain N-Quads, loadable by Oxigraph (``oxigraph load``),
QLever or Fuseki (``tdb2.tdbloader``), or back into ngff-kg's own store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO, TypedDict

import pyoxigraph as ox

from ngff_kg import rdf
from ngff_kg.errors import StoreError, UsageError
from ngff_kg.store.knowledge import GraphData, KnowledgeStore

#: Graphs per dataset shard, unless set otherwise.
GRAPHS_PER_SHARD = 10_000


def trig_to_nquads(graph: GraphData) -> str:
    """The N-Quads of a graph block made by :func:`ngff_kg.rdf.trig_block` (one triple a
    line, terms in N-Triples syntax, so each line just gains the graph name)."""
    lines = graph.trig.split("\n")
    term = f" <{graph.iri}> .\n"
    # lines[0] is "<iri> {", the last two are "}" and ""
    return "".join(line[:-2] + term for line in lines[1:-2])


class _Shard(TypedDict):
    """A dataset shard's entry in the manifest."""

    file: str
    graphs: int
    quads: int


class ShardWriter:
    """Writes graphs to N-Quads shard files in ``directory`` (created; it must be empty)."""

    def __init__(self, directory: str | os.PathLike[str], graphs_per_shard: int = GRAPHS_PER_SHARD):
        if graphs_per_shard < 1:
            raise UsageError(f"graphs_per_shard must be at least 1, got {graphs_per_shard}")
        self.directory = Path(directory)
        if self.directory.exists() and any(self.directory.iterdir()):
            raise UsageError(f"output directory {self.directory} is not empty")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.directory}: {exc}") from exc
        self.graphs_per_shard = graphs_per_shard
        self.files: list[_Shard] = []
        self._handle: TextIO | None = None
        self._graphs = 0
        self._quads = 0
        self._shared: list[str] = []

    def _open(self) -> None:
        name = f"datasets-{len(self.files):05d}.nq"
        self.files.append({"file": name, "graphs": 0, "quads": 0})
        self._handle = open(self.directory / name, "w", encoding="utf-8")  # noqa: SIM115

    def add(self, graph: GraphData) -> None:
        if self._handle is None or self.files[-1]["graphs"] >= self.graphs_per_shard:
            self._close_shard()
            self._open()
        text = trig_to_nquads(graph)
        assert self._handle is not None
        self._handle.write(text)
        entry = self.files[-1]
        entry["graphs"] += 1
        entry["quads"] += text.count("\n")

    def _close_shard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def add_shared(self, graph_iri: str, triples: list[rdf.Triple]) -> None:
        """Triples of a shared graph (repairs, runs), written to ``shared.nq`` at the end."""
        self._shared.append(rdf.nquads(triples, f"<{graph_iri}>"))

    def close(self) -> None:
        """End the current shard (the writer protocol of the harvest)."""
        self._close_shard()

    def finish(self) -> None:
        """Write the shared graphs, the ontologies and the manifest."""
        self._close_shard()
        shared = "".join(self._shared)
        (self.directory / "shared.nq").write_text(shared, encoding="utf-8")
        ontologies = KnowledgeStore(None)
        ontologies.ensure_ontologies()
        data = ontologies.oxigraph.dump(format=ox.RdfFormat.N_QUADS)
        assert data is not None  # given no output, dump returns the serialization
        text = data.decode("utf-8")
        (self.directory / "ontologies.nq").write_text(text, encoding="utf-8")
        files: list[Mapping[str, object]] = [
            *self.files,
            {"file": "shared.nq", "quads": shared.count("\n")},
            {"file": "ontologies.nq", "quads": text.count("\n")},
        ]
        manifest = {"format": "application/n-quads", "files": files}
        (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def load_shards(store: KnowledgeStore, directory: str | os.PathLike[str]) -> int:
    """Bulk-load every ``*.nq`` file of a shard directory into ``store``; returns the files
    loaded."""
    files = sorted(Path(directory).glob("*.nq"))
    store.catalogue.begin_writing()
    for path in files:
        store.oxigraph.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    store.rebuild_catalogue()  # the graphs came in whole, not through write()
    return len(files)

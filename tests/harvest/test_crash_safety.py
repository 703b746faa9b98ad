"""Commands killed at any moment (SIGKILL) leave a store and crates the next command can use.

Each test kills a real ``ngff-kg`` process at a few seeded random moments; after each kill
the next command opens the store, a re-run gives the same dataset graphs as a clean run,
every crate is its original or complete, and no temporary file remains.
``NGFF_KG_KILLS=20 python -m pytest tests/harvest/test_crash_safety.py`` kills each command
20 times instead (by hand: it takes minutes).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import CORPUS, EXAMPLES

from ngff_kg.errors import StoreError
from ngff_kg.sources.walk import FoundRoot, walk
from ngff_kg.store.knowledge import KnowledgeStore
from ngff_kg.vocab import NKG, NKG_GRAPH

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

#: Per-run bookkeeping, not metadata: the run that wrote the graph, and the list of files it
#: probed (which missing documents are probed depends on what the run read before).
_BOOKKEEPING = {
    ox.NamedNode("http://www.w3.org/ns/prov#wasGeneratedBy"),
    ox.NamedNode(NKG + "sourceFiles"),
}
CLI = [sys.executable, "-m", "ngff_kg.cli"]
#: Kills per command: a few in CI, more by hand with NGFF_KG_KILLS.
KILLS = int(os.environ.get("NGFF_KG_KILLS", "0"))
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=ENV, timeout=600)


def kill_after(args: list[str], delay: float) -> None:
    process = subprocess.Popen(
        [*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()


def dataset_graphs(store: Path) -> dict[str, set[ox.Quad]]:
    """Every dataset graph of the store (shared graphs left out), blank nodes canonical."""
    ks = KnowledgeStore(store, read_only=True)
    try:
        out: dict[str, set[ox.Quad]] = {}
        for graph in ks.oxigraph.named_graphs():
            if graph.value.startswith(NKG_GRAPH):
                continue
            quads = ks.oxigraph.quads_for_pattern(None, None, None, graph)
            dataset = ox.Dataset(
                ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                for q in quads
                if q.predicate not in _BOOKKEEPING
            )
            dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
            out[graph.value] = set(dataset)
        return out
    finally:
        ks.close()


def check_kills(tmp_path: Path, sources: list[str], delays: list[float]) -> None:
    clean = tmp_path / "clean"
    result = run("harvest", *sources, "--store", str(clean), "-q")
    assert result.returncode in (0, 1), result.stderr
    expected = dataset_graphs(clean)
    assert expected
    for number, delay in enumerate(delays):
        store = tmp_path / f"killed{number}"
        kill_after(["harvest", *sources, "--store", str(store), "-q"], delay)
        if store.exists():
            # the next command opens what the killed one left: never an unusable store
            query = run("query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "-s", str(store))
            assert query.returncode == 0, (delay, query.stderr)
        else:
            assert not any(p.name.startswith(f".{store.name}.") for p in tmp_path.iterdir()) or (
                "no store" in run("query", "ASK {}", "-s", str(store)).stderr
            )
        rerun = run("harvest", *sources, "--store", str(store), "-q")
        assert rerun.returncode in (0, 1), rerun.stderr
        assert dataset_graphs(store) == expected, f"killed after {delay:.2f} s"
        leftovers = [p.name for p in tmp_path.iterdir() if ".creating-" in p.name]
        assert leftovers == [], leftovers


def test_killed_harvest_of_the_examples(tmp_path: Path) -> None:
    rng = random.Random(20240)
    check_kills(tmp_path, [str(EXAMPLES)], sorted(rng.uniform(0.2, 4.0) for _ in range(KILLS or 4)))


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"challenge corpus not found at {CORPUS}")
def test_killed_harvest_of_corpus_roots(tmp_path: Path) -> None:
    found = (f.path for f in walk(CORPUS) if isinstance(f, FoundRoot))
    roots = list(itertools.islice(found, 300))
    rng = random.Random(7)
    check_kills(tmp_path, roots, sorted(rng.uniform(1.0, 8.0) for _ in range(KILLS or 2)))


def test_incomplete_store_is_reported_then_recreated(tmp_path: Path) -> None:
    # what a kill during RocksDB's creation leaves (seen with SIGKILL): a few empty files
    store = tmp_path / "store"
    store.mkdir()
    for name in ("IDENTITY", "LOCK", "LOG"):
        (store / name).write_bytes(b"")
    with pytest.raises(StoreError, match="incomplete"):
        KnowledgeStore(store, read_only=True)
    ks = KnowledgeStore(store)  # writable: opened or created again
    ks.ensure_ontologies()
    ks.close()
    ks = KnowledgeStore(store, read_only=True)
    assert len(ks) > 0
    ks.close()


def test_store_directory_with_other_files_is_never_wiped(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "notes.txt").write_text("mine")
    KnowledgeStore(store).close()  # RocksDB makes its database beside the file
    assert (store / "notes.txt").read_text() == "mine"


def crates(tree: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(tree)): p.read_bytes()
        for p in sorted(tree.rglob("ro-crate-metadata.json"))
    }


def temporary_files(tree: Path) -> list[str]:
    return [str(p) for p in tree.rglob("*.tmp")]


def test_killed_enrich_leaves_crates_whole_and_no_temporary_file(tmp_path: Path) -> None:
    original = tmp_path / "original"
    shutil.copytree(EXAMPLES, original)
    before = crates(original)
    assert before
    complete = tmp_path / "complete"
    shutil.copytree(EXAMPLES, complete)
    assert run("enrich", str(complete)).returncode in (0, 1)
    after = crates(complete)
    rng = random.Random(99)
    for number, delay in enumerate(sorted(rng.uniform(0.3, 3.0) for _ in range(KILLS or 3))):
        tree = tmp_path / f"killed{number}"
        shutil.copytree(EXAMPLES, tree)
        kill_after(["enrich", str(tree)], delay)
        for name, data in crates(tree).items():
            if data != before[name]:  # not the original: then complete, valid JSON
                doc = json.loads(data)
                assert json.loads(after[name]).keys() == doc.keys(), name
        assert run("enrich", str(tree)).returncode in (0, 1)
        assert temporary_files(tree) == []
        again = crates(tree)
        assert again.keys() == after.keys()
        for name, data in again.items():  # equal to a clean run, up to the run's own time
            assert _without_times(json.loads(data)) == _without_times(json.loads(after[name]))


def _without_times(doc: object) -> object:
    if isinstance(doc, dict):
        return {
            k: _without_times(v)
            for k, v in doc.items()
            if k not in ("startTime", "endTime", "datePublished", "dateModified")
        }
    if isinstance(doc, list):
        return [_without_times(v) for v in doc]
    return doc

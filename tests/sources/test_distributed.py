"""Extraction on a Dask cluster (a LocalCluster of two worker processes) and N-Quads shards:
the same graph as a harvest in one process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from servers import FixtureHttpServer
from test_remote import EXAMPLES, FAST, ROOTS, dataset_quads, quoted
from typer.testing import CliRunner

from ngff_kg import Catalog
from ngff_kg.cli import app
from ngff_kg.store.knowledge import GraphData, KnowledgeStore
from ngff_kg.store.shards import load_shards, trig_to_nquads
from ngff_kg.views.records import indexed_records, read_records

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("dask") / "tree"
    shutil.copytree(EXAMPLES, copy)
    return copy


@pytest.fixture(scope="module")
def reference(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    catalog = Catalog(tmp_path_factory.mktemp("ref") / "store")
    assert catalog.harvest([tree], base_url="https://").ok
    graphs = dataset_quads(catalog)
    catalog.close()
    return graphs


def test_a_dask_harvest_equals_a_local_one(
    cluster: object, tree: Path, reference: dict, tmp_path: Path
) -> None:
    from ngff_kg.sources.dask import DaskJobs

    jobs = DaskJobs(cluster)
    catalog = Catalog(tmp_path / "store")
    report = catalog.harvest([tree], base_url="https://", executor=jobs)
    assert report.ok, report.failed
    assert report.datasets_harvested == len(ROOTS)
    assert dataset_quads(catalog) == reference
    assert list(indexed_records(catalog.store.catalogue)) == read_records(catalog)
    # the jobs ran on the workers, not in this process
    assert sum(cluster.run(lambda: 1).values()) == 2  # type: ignore[attr-defined]
    # the context registry went to the workers once, not with every job
    assert len(jobs._scattered) == 1
    catalog.close()


def test_dask_workers_fetch_remote_datasets(cluster: object, tree: Path, tmp_path: Path) -> None:
    from ngff_kg.sources.dask import DaskJobs

    with FixtureHttpServer(tree) as server:
        sources = [server.url + quoted(root) for root in ROOTS]
        catalog = Catalog(tmp_path / "store")
        report = catalog.harvest(sources, executor=DaskJobs(cluster), remote=FAST)
        assert report.ok, report.failed
        assert report.datasets_harvested == len(ROOTS)
        local = Catalog(tmp_path / "local")
        assert local.harvest([tree], base_url=server.url).ok
        assert {k: v for k, v in dataset_quads(local).items() if not k.endswith(".csv")} == (
            dataset_quads(catalog)
        )
        served = server.count(status=200)
        assert served >= 2 * len(ROOTS)
        catalog.close()
        local.close()


def test_shards_load_into_the_same_graph(tree: Path, reference: dict, tmp_path: Path) -> None:
    output = tmp_path / "shards"
    catalog = Catalog(None)
    report = catalog.harvest([tree], base_url="https://", output=output)
    assert report.ok and report.datasets_harvested == len(ROOTS)
    manifest = json.loads((output / "manifest.json").read_text())
    names = [entry["file"] for entry in manifest["files"]]
    assert names == ["datasets-00000.nq", "shared.nq", "ontologies.nq"]
    assert sorted(p.name for p in output.iterdir()) == sorted([*names, "manifest.json"])
    assert catalog.store.dataset_graph_count() == 0  # nothing went into the store
    # every file parses as N-Quads, and the counts in the manifest are the quads in it
    for entry in manifest["files"]:
        quads = list(ox.parse(path=str(output / entry["file"]), format=ox.RdfFormat.N_QUADS))
        assert len(quads) == entry["quads"]
    loaded = KnowledgeStore(tmp_path / "loaded")
    assert load_shards(loaded, output) == 3
    loaded.close()
    with Catalog(tmp_path / "loaded") as again:
        assert dataset_quads(again) == reference
        # the catalogue index followed the load
        assert list(indexed_records(again.store.catalogue)) == read_records(again)
        # the shipped ontologies came with the shards: hierarchy queries work on the load
        assert again.query("datasets-by-organism").values()
    catalog.close()
    # an output directory that is not empty is refused before anything is read
    result = CliRunner().invoke(app, ["harvest", str(tree), "--output", str(output)])
    assert result.exit_code == 2 and "not empty" in " ".join(result.output.split())


def test_trig_blocks_become_the_same_quads() -> None:
    graph = GraphData.from_triples(
        "https://example.org/ds/",
        [
            ("<https://example.org/ds/>", "<http://schema.org/name>", '"a \\"b\\" .\\n c"'),
            ("_:b1", "<http://schema.org/value>", '"1"^^<http://www.w3.org/2001/XMLSchema#int>'),
        ],
    )
    from_trig = set(ox.parse(graph.trig, format=ox.RdfFormat.TRIG))
    from_nquads = set(ox.parse(trig_to_nquads(graph), format=ox.RdfFormat.N_QUADS))
    assert from_trig == from_nquads and len(from_trig) == 2


def test_cli_runs_on_a_local_dask_cluster(tree: Path, reference: dict, tmp_path: Path) -> None:
    store = tmp_path / "store"
    args = ["harvest", str(tree), "--base-url", "https://", "--store", str(store)]
    result = CliRunner().invoke(app, [*args, "--executor", "dask", "--workers", "2", "-q"])
    assert result.exit_code == 0, result.output
    with Catalog(store, read_only=True) as catalog:
        assert dataset_quads(catalog) == reference
    usage = CliRunner().invoke(app, [*args, "--scheduler", "tcp://127.0.0.1:1"])
    assert usage.exit_code == 2 and "--executor dask" in usage.output

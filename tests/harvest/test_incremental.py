"""Incremental harvest: unchanged datasets are not read again; --force, --prune."""

from __future__ import annotations

import builtins
import os
import shutil
import time
from pathlib import Path

import pyoxigraph as ox
from conftest import EXAMPLES, NKG, TREE
from typer.testing import CliRunner

from ngff_kg import Catalog
from ngff_kg.cli import app

BASE = "https://"
MOUSE = "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"
YEAST = "https://s3.example.net/ngff-public/v0.4/yeast-cells.zarr/"
PLATE = "https://data.example.org/Example%20Lab/screens/plate-1.ome.zarr/"


def copy_examples(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(EXAMPLES, tree)
    return tree


def runs_of(catalog: Catalog) -> dict[str, str]:
    rows = catalog.query(
        "SELECT ?d ?run WHERE { GRAPH ?d { ?d <http://www.w3.org/ns/prov#wasGeneratedBy> ?run } }"
    ).values()
    return {r["d"]: r["run"] for r in rows}


def test_unchanged_datasets_are_not_read_again(tmp_path: Path, monkeypatch) -> None:
    tree = copy_examples(tmp_path)
    catalog = Catalog(tmp_path / "store")
    first = catalog.harvest([tree], base_url=BASE)
    assert first.datasets_harvested == 5 and first.datasets_unchanged == 0
    before = runs_of(catalog)
    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        opened.append(os.fspath(file) if isinstance(file, str | os.PathLike) else str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    second = catalog.harvest([tree], base_url=BASE)
    monkeypatch.undo()
    assert second.datasets_found == 5 and second.datasets_unchanged == 5
    assert second.datasets_harvested == 0 and second.ok
    # nothing was opened: the roots, documents and sample lists were checked with stat
    assert opened == []
    assert second.sample_lists == first.sample_lists and second.sample_rows == first.sample_rows
    assert runs_of(catalog) == before  # the graphs were not rewritten
    assert len(catalog.query("find-datasets").rows) == 5


def test_a_changed_document_is_read_again(tmp_path: Path) -> None:
    tree = copy_examples(tmp_path)
    catalog = Catalog(tmp_path / "store")
    catalog.harvest([tree], base_url=BASE)
    crate = tree / "s3.example.net/ngff-public/v0.4/yeast-cells.zarr/ro-crate-metadata.json"
    crate.write_text(crate.read_text().replace("NCBI:txid4932", "NCBI:txid4896"))
    stamp = time.time() + 5
    os.utime(crate, (stamp, stamp))
    report = catalog.harvest([tree], base_url=BASE)
    assert report.datasets_harvested == 1 and report.datasets_unchanged == 4
    assert catalog.query("find-datasets", organism="NCBI:txid4896").column("dataset") == [YEAST]
    # a nested document counts too: a level array of the mouse image
    level = tree / "data.example.org/Example Lab/images/mouse-brain.ome.zarr/1/zarr.json"
    os.utime(level, (stamp + 5, stamp + 5))
    report = catalog.harvest([tree], base_url=BASE)
    assert report.datasets_harvested == 1 and report.datasets_unchanged == 4


def test_a_new_crate_is_noticed(tmp_path: Path) -> None:
    tree = copy_examples(tmp_path)
    catalog = Catalog(tmp_path / "store")
    catalog.harvest([tree], base_url=BASE)
    source = tree / "s3.example.net/ngff-public/v0.4/yeast-cells.zarr/ro-crate-metadata.json"
    target = tree / "s3.example.net/ngff-public/v0.5/em-volume.ome.zarr/ro-crate-metadata.json"
    shutil.copy(source, target)
    report = catalog.harvest([tree], base_url=BASE)
    assert report.datasets_harvested == 1 and report.crates == 1


def test_force_and_prune(tmp_path: Path) -> None:
    tree = copy_examples(tmp_path)
    store = tmp_path / "store"
    runner = CliRunner()
    args = ["harvest", str(tree), "--store", str(store), "--base-url", BASE]
    assert runner.invoke(app, args).exit_code == 0
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0 and "unchanged" not in forced.output
    shutil.rmtree(tree / "s3.example.net/ngff-public/v0.4")
    kept = runner.invoke(app, args)
    assert "unchanged" in kept.output and "pruned" not in kept.output
    pruned = runner.invoke(app, [*args, "--prune"])
    assert pruned.exit_code == 0 and "pruned" in pruned.output
    with Catalog(store, read_only=True) as catalog:
        datasets = catalog.query("find-datasets").column("dataset")
        assert len(datasets) == 4 and YEAST not in datasets
        assert not catalog.store.oxigraph.contains_named_graph(ox.NamedNode(YEAST))
        files = catalog.store.source_files()[MOUSE]
        assert [files[0][0], [files[1][0]]] == ["zarr.json", ["ro-crate-metadata.json"]]
        assert NKG  # the vocabulary documents nkg:sourceFiles (checked in test_package)


def test_sample_lists_are_rewritten_only_when_changed(tmp_path: Path) -> None:
    tree = copy_examples(tmp_path)
    catalog = Catalog(tmp_path / "store")
    catalog.harvest([tree], base_url=BASE)
    sizes = "SELECT ?d ?b WHERE { ?d <http://www.w3.org/ns/dcat#byteSize> ?b }"
    before = {r["d"]: r["b"] for r in catalog.query(sizes).values()}
    catalog.harvest([tree], base_url=BASE)
    assert {r["d"]: r["b"] for r in catalog.query(sizes).values()} == before
    listing = tree / "raw.example.com/samples/example_samples.csv"
    listing.write_text(listing.read_text().replace("282816000.0", "282816001.0"))
    stamp = time.time() + 5
    os.utime(listing, (stamp, stamp))
    catalog.harvest([tree], base_url=BASE)
    assert {r["d"]: r["b"] for r in catalog.query(sizes).values()}[MOUSE] == 282_816_001


def test_datasets_with_errors_are_read_and_reported_again(tmp_path: Path) -> None:
    tree = copy_examples(tmp_path)
    shutil.copytree(TREE / "bad-crate.ome.zarr", tree / "bad-crate.ome.zarr")
    with Catalog(tmp_path / "store") as catalog:
        first = catalog.harvest([tree], base_url=BASE)
        second = catalog.harvest([tree], base_url=BASE)
    failed = [p.path for p in first.failed]
    assert [p.path for p in second.failed] == failed
    assert any(path.endswith("bad-crate.ome.zarr") for path in failed)
    assert second.datasets_unchanged == first.datasets_found - len(failed) > 0


def test_documents_recorded_missing_are_checked_against_the_root_listing(
    tmp_path: Path, monkeypatch
) -> None:
    tree = copy_examples(tmp_path)
    catalog = Catalog(tmp_path / "store")
    catalog.harvest([tree], base_url=BASE)
    plate = tree / "data.example.org/Example Lab/screens/plate-1.ome.zarr"
    records = catalog.store.source_files()[PLATE]
    assert ["OME/METADATA.ome.xml", -1, 0] in records and ["A/2/zarr.json", -1, 0] in records
    stats: list[str] = []
    real_stat = os.stat

    def spy(path, *args, **kwargs):
        stats.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", spy)
    again = catalog.harvest([tree], base_url=BASE)
    monkeypatch.undo()
    assert again.datasets_unchanged == 5 and again.datasets_harvested == 0
    # the root has no OME entry: that missing document needs no stat; A/2 is looked for
    assert str(plate / "A" / "2" / "zarr.json") in stats
    assert str(plate / "OME" / "METADATA.ome.xml") not in stats
    # once the document is there, the dataset is read again
    zebrafish = tree / "data.example.org/Example Lab/collections/zebrafish-spim.zarr"
    (plate / "OME").mkdir()
    shutil.copy(zebrafish / "OME/METADATA.ome.xml", plate / "OME/METADATA.ome.xml")
    report = catalog.harvest([tree], base_url=BASE)
    assert report.datasets_harvested == 1 and report.datasets_unchanged == 4
    assert ["OME/METADATA.ome.xml", -1, 0] not in catalog.store.source_files()[PLATE]


def test_a_zarr_json_beside_a_recorded_zattrs_is_noticed(tmp_path: Path) -> None:
    """A Zarr v2 root that gains a zarr.json is read again (zarr.json is read first)."""
    tree = copy_examples(tmp_path)
    catalog = Catalog(tmp_path / "store")
    catalog.harvest([tree], base_url=BASE)
    yeast = tree / "s3.example.net/ngff-public/v0.4/yeast-cells.zarr"
    assert catalog.store.source_files()[YEAST][0][0] == ".zattrs"
    mouse = tree / "data.example.org/Example Lab/images/mouse-brain.ome.zarr"
    shutil.copy(mouse / "zarr.json", yeast / "zarr.json")
    report = catalog.harvest([tree], base_url=BASE)
    assert report.datasets_harvested == 1 and report.datasets_unchanged == 4
    assert catalog.store.source_files()[YEAST][0][0] == "zarr.json"

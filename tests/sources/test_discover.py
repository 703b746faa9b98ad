"""Discovery of OME-Zarr roots in a local tree."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import TREE

from ngff_kg.sources.walk import FoundCsv, FoundRoot, WalkError, walk
from ngff_kg.urls import UrlMapper, normalize_url

EXPECTED_ROOTS = [
    "Lab A/img one.ome.zarr",
    "bad-crate.ome.zarr",
    "bad-multiscales.ome.zarr",
    "lab-b/img-two.ome.zarr",
    "nested.ome.zarr",
    "plain-group/inner.ome.zarr",
    "zarr-v2/old image.zarr",
]


def test_roots_found_in_sorted_order() -> None:
    found = list(walk(TREE))
    roots = [os.path.relpath(f.path, TREE) for f in found if isinstance(f, FoundRoot)]
    assert roots == EXPECTED_ROOTS


def test_nested_groups_and_arrays_are_not_roots() -> None:
    roots = {f.path for f in walk(TREE) if isinstance(f, FoundRoot)}
    assert not any("/nested.ome.zarr/" in p for p in roots)
    assert not any("loose-array" in p for p in roots)


def test_walk_never_lists_array_contents(monkeypatch) -> None:
    listed: list[str] = []
    real = os.scandir

    def spy(path):
        listed.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", spy)
    list(walk(TREE))
    assert not any("loose-array/c" in p for p in listed)
    assert not any(p.endswith("nested.ome.zarr/0") for p in listed)


def test_zarr_v2_and_crates() -> None:
    roots = {os.path.relpath(f.path, TREE): f for f in walk(TREE) if isinstance(f, FoundRoot)}
    v2 = roots["zarr-v2/old image.zarr"]
    assert v2.group.zarr_format == 2
    assert v2.group.version == "0.4"
    assert roots["Lab A/img one.ome.zarr"].has_crate
    assert not roots["plain-group/inner.ome.zarr"].has_crate


def test_broken_metadata_and_csv_are_reported() -> None:
    found = list(walk(TREE))
    errors = [f for f in found if isinstance(f, WalkError)]
    assert [e.path.parent.name for e in errors] == ["broken-zarr-json"]
    assert [f.path.name for f in found if isinstance(f, FoundCsv)] == ["tree_samples.csv"]


def test_dataset_iris() -> None:
    mapper = UrlMapper(TREE, "https://tree.example.org/")
    assert (
        mapper.url(str(TREE / "Lab A" / "img one.ome.zarr"), directory=True)
        == "https://tree.example.org/Lab%20A/img%20one.ome.zarr/"
    )
    host_first = UrlMapper(TREE, "https://")
    assert host_first.url(str(TREE / "lab-b"), directory=True) == "https://lab-b/"
    local = UrlMapper(TREE).url(str(TREE / "Lab A"), directory=True)
    assert local.startswith("file:///") and local.endswith("/Lab%20A/")


def test_url_mapper_inverse() -> None:
    mapper = UrlMapper(TREE, "https://tree.example.org/")
    path = mapper.path("https://tree.example.org/lists/tree_samples.csv")
    assert path is not None and Path(path).is_file()
    assert mapper.path("https://elsewhere.example.org/x.csv") is None
    assert mapper.path("https://tree.example.org/../../etc/passwd") is None


def test_normalize_url() -> None:
    raw = "HTTPS://Tree.Example.org/zarr-v2/old image.zarr"
    assert (
        normalize_url(raw, directory=True) == "https://tree.example.org/zarr-v2/old%20image.zarr/"
    )
    encoded = "https://tree.example.org/zarr-v2/old%20image.zarr//"
    assert (
        normalize_url(encoded, directory=True)
        == "https://tree.example.org/zarr-v2/old%20image.zarr/"
    )

"""Discovery of OME-Zarr roots in a local tree."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from conftest import TREE
from hypothesis import given, settings
from hypothesis import strategies as st

from ngff_kg.errors import UsageError
from ngff_kg.sources.local import unchanged
from ngff_kg.sources.walk import FoundCsv, FoundRoot, KnownRoot, WalkError, walk
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


_SEGMENTS = st.sampled_from(
    ["a", "B.zarr", "x-1_~", "Lab A", "50%", "q?x", "f#g", "é", ".", "..", ".h", "...", "HOST.Org"]
)
_BASES = st.sampled_from(
    [
        None,
        "https://",
        "https://Example.org/data/",
        "http://h.example.org/x",
        "http://h/x?q=",
        "https://h/#f/",
        "s3://bucket/",
        "HTTPS://",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    base=_BASES,
    paths=st.lists(st.lists(_SEGMENTS, min_size=1, max_size=4), min_size=1, max_size=8),
    relative=st.booleans(),
)
def test_directory_urls_from_their_parents_urls(
    base: str | None, paths: list[list[str]], relative: bool
) -> None:
    """A directory's URL built from its parent's (what a re-harvest maps a million times)
    is the one mapped from its whole path, whatever the names and the base URL; each path
    mapped in walk order (parents first) and again."""
    root = Path("/data/tree") if not relative else Path("tree")
    mapper = UrlMapper(root, base)
    reference = UrlMapper(root, base)
    for segments in paths:
        for depth in range(1, len(segments) + 1):
            path = os.path.join(str(root), *segments[:depth])
            try:
                expected = reference._url(path, directory=True)
            except UsageError:
                with pytest.raises(UsageError):
                    mapper.url(path, directory=True)
                continue
            assert mapper.url(path, directory=True) == expected, path
            assert mapper.url(path, directory=True) == expected, path


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


# ---------------------------------------------------------------------------- walking ahead
def known_in(tree: Path, records: dict[str, list[list[object]]]):
    """A ``known`` for :func:`walk` from records by path relative to ``tree``, with the
    directories it was asked about (from any thread)."""
    asked: list[str] = []

    def known(directory: str) -> Any:
        asked.append(directory)
        return records.get(os.path.relpath(directory, tree))

    return known, asked


def recorded(root: Path, *names: str) -> list[list[object]]:
    """What a harvest records of the documents ``names`` of ``root`` (-1: missing)."""
    out: list[list[object]] = []
    for name in names:
        path = root / name
        if path.exists():
            stat = path.stat()
            out.append([name, stat.st_size, stat.st_mtime_ns])
        else:
            out.append([name, -1, 0])
    return out


_NAMES = st.sampled_from(["a", "b.zarr", "c.csv", "d", "e.ome.zarr", ".hidden"])
_KINDS = st.sampled_from(["dir", "root", "v2-root", "array", "csv", "broken"])
#: what happens to a root after the harvest that recorded it
_CHANGES = st.sampled_from(
    ["none", "crate", "metadata", "gains-zarr-json", "missing-appears", "not-recorded"]
)


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    """A directory: name → subdirectory (a dict) or file kind (a str)."""
    entries: dict[str, Any] = {}
    for name in draw(st.lists(_NAMES, max_size=4, unique=True)):
        kind = draw(_KINDS)
        if kind == "dir" and depth < 3:
            entries[name] = draw(trees(depth + 1))
        else:
            entries[name] = kind if kind != "dir" else "csv"
    return entries


def make(base: Path, spec: dict[str, Any]) -> None:
    import json

    from adversarial import image

    base.mkdir(parents=True, exist_ok=True)
    for name, kind in spec.items():
        path = base / name
        if isinstance(kind, dict):
            make(path, kind)
        elif kind == "root":
            path.mkdir()
            (path / "zarr.json").write_text(json.dumps(image()))
            (path / "ro-crate-metadata.json").write_text("{}")
        elif kind == "v2-root":
            path.mkdir()
            (path / ".zgroup").write_text('{"zarr_format": 2}')
            (path / ".zattrs").write_text(json.dumps({"multiscales": [{"version": "0.4"}]}))
        elif kind == "array":
            path.mkdir()
            (path / "zarr.json").write_text('{"zarr_format": 3, "node_type": "array"}')
        elif kind == "broken":
            path.mkdir()
            (path / "zarr.json").write_text("{")
        else:
            path.write_text("a,b\n")


def still(root: Path, records: list[list[object]]) -> bool:
    """Whether every recorded document keeps its size and time (missing ones missing)."""
    for name, size, mtime in records:
        path = root / str(name)
        if size == -1:
            if path.exists():
                return False
        elif not path.is_file() or (path.stat().st_size, path.stat().st_mtime_ns) != (
            size,
            mtime,
        ):
            return False
    return True


@settings(max_examples=80, deadline=None)
@given(spec=trees(), data=st.data())
def test_known_roots_in_generated_trees(spec: dict[str, Any], data: st.DataObject) -> None:
    """Roots recorded by an earlier harvest, then changed or not: each is a KnownRoot when
    its metadata document (zarr.json, else .zattrs) keeps its record, and ``unchanged`` says
    whether the rest did (checked here without the walk's listing); every other find is what
    a walk without records gives, in the same order."""
    import json
    import tempfile

    from adversarial import image

    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch)
        make(tree, spec)
        records: dict[str, list[list[object]]] = {}
        for found in walk(tree):
            if not isinstance(found, FoundRoot):
                continue
            root = Path(found.path)
            change = data.draw(_CHANGES)
            if change == "not-recorded":
                continue
            wells = [f"{row}/1/zarr.json" for row in "ABCDE"[: data.draw(st.integers(0, 5))]]
            names = [found.metadata_file, "ro-crate-metadata.json", "OME/METADATA.ome.xml"]
            records[os.path.relpath(root, tree)] = recorded(root, *names, *wells)
            if change == "crate":
                (root / "ro-crate-metadata.json").write_text('{"@graph": []}')
            elif change == "metadata":
                (root / found.metadata_file).write_text(json.dumps(image(2)))
            elif change == "gains-zarr-json":
                (root / "zarr.json").write_text(json.dumps(image()))
            elif change == "missing-appears":
                (root / "OME").mkdir()
                (root / "OME" / "METADATA.ome.xml").write_text("<OME/>")
        known, _ = known_in(tree, records)
        expected = []
        for found in walk(tree):
            rel = os.path.relpath(found.path, tree)
            record = records.get(rel)
            if isinstance(found, FoundRoot) and record is not None:
                root = Path(found.path)
                current = "zarr.json" if (root / "zarr.json").exists() else ".zattrs"
                if record[0][0] == current and still(root, record[:1]):
                    expected.append(("known", rel, still(root, record[1:])))
                    continue
            expected.append((type(found).__name__, rel, None))
        got = [
            ("known", os.path.relpath(f.path, tree), unchanged(f.path, f.records[1:], f.names))
            if isinstance(f, KnownRoot)
            else (type(f).__name__, os.path.relpath(f.path, tree), None)
            for f in walk(tree, known)
        ]
        assert got == expected


def test_unchanged_says_whether_the_other_documents_of_a_known_root_changed(tmp_path: Path) -> None:
    import json

    from adversarial import image

    for name in ("a.zarr", "b.zarr"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "zarr.json").write_text(json.dumps(image()))
        (tmp_path / name / "ro-crate-metadata.json").write_text("{}")
    records = {
        n: recorded(tmp_path / n, "zarr.json", "ro-crate-metadata.json")
        for n in ("a.zarr", "b.zarr")
    }
    (tmp_path / "b.zarr" / "ro-crate-metadata.json").write_text('{"changed": 1}')
    known, _ = known_in(tmp_path, records)
    found = list(walk(tmp_path, known))
    assert [
        (Path(f.path).name, unchanged(f.path, f.records[1:], f.names))
        for f in found
        if isinstance(f, KnownRoot)
    ] == [
        ("a.zarr", True),
        ("b.zarr", False),
    ]


def test_a_recorded_zarr_v2_root_that_gained_a_zarr_json_is_read_again(tmp_path: Path) -> None:
    import json

    from adversarial import image

    for name in ("kept.zarr", "gained.zarr"):
        (tmp_path / name).mkdir()
        (tmp_path / name / ".zattrs").write_text(json.dumps({"multiscales": [{"version": "0.4"}]}))
    records = {n: recorded(tmp_path / n, ".zattrs") for n in ("kept.zarr", "gained.zarr")}
    (tmp_path / "gained.zarr" / "zarr.json").write_text(json.dumps(image()))
    known, _ = known_in(tmp_path, records)
    found = {Path(f.path).name: f for f in walk(tmp_path, known)}
    assert isinstance(found["kept.zarr"], KnownRoot)
    assert isinstance(found["gained.zarr"], FoundRoot)
    assert found["gained.zarr"].metadata_file == "zarr.json"

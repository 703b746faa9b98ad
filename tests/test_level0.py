"""Level-0 facts: the full-resolution shape (from the array metadata) and the pixel size."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, NKG
from corpus_reference import roots

from ngff_kg import Catalog
from ngff_kg.errors import ExtractionError
from ngff_kg.extract.ngff import OmeGroup, level0_path, level0_scale, level0_triples

MOUSE = "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"
YEAST = "https://s3.example.net/ngff-public/v0.4/yeast-cells.zarr/"
EM = "https://s3.example.net/ngff-public/v0.5/em-volume.ome.zarr/"


def axes_of(catalog: Catalog, dataset: str) -> list[tuple]:
    rows = catalog.query("dataset-axes", dataset=dataset).values()
    return [(r["name"], r["unit"], r["size"], r["scale"]) for r in rows]


def test_examples_have_level0_shape_and_pixel_size(examples_catalog: Catalog) -> None:
    # the values examples/metadata/README.md documents
    assert axes_of(examples_catalog, MOUSE) == [
        ("t", "second", 1, 1.0),
        ("c", None, 2, 1.0),
        ("z", "micrometer", 64, 0.5),
        ("y", "micrometer", 2048, 0.2),
        ("x", "micrometer", 2048, 0.2),
    ]
    assert axes_of(examples_catalog, YEAST) == [  # Zarr v2: shape from 0/.zarray
        ("c", None, 1, 1.0),
        ("y", "micrometer", 2048, 0.1),
        ("x", "micrometer", 2048, 0.1),
    ]
    assert axes_of(examples_catalog, EM) == [
        ("z", "nanometer", 64, 8.0),
        ("y", "nanometer", 1024, 4.0),
        ("x", "nanometer", 1024, 4.0),
    ]
    shapes = {
        r["dataset"]: r["value"]
        for r in examples_catalog.query("dataset-fields").values()
        if r["field"] == "shape"
    }
    assert shapes == {MOUSE: "1,2,64,2048,2048", YEAST: "1,2048,2048", EM: "64,1024,1024"}


def test_scale_combines_dataset_and_multiscale_transformations() -> None:
    multiscale = {
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 0.5]}]}
        ],
        "coordinateTransformations": [{"type": "scale", "scale": [2, 3]}],
    }
    assert level0_scale(multiscale, 2) == [2.0, 1.5]
    assert level0_scale(multiscale, 3) is None  # wrong length: no guess
    assert level0_scale({"datasets": [{"path": "0"}]}, 2) is None
    by_file = {"datasets": [{"coordinateTransformations": [{"type": "scale", "path": "s.bin"}]}]}
    assert level0_scale(by_file, 2) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [("0", "0"), ("s0/", "s0"), ("a/b", "a/b"), ("../x", None), ("", None), ("a//b", None)],
)
def test_level0_path_stays_inside_the_root(path: str, expected: str | None) -> None:
    group = OmeGroup({"multiscales": [{"datasets": [{"path": path}]}]}, 3, "0.5")
    assert level0_path(group) == expected


def test_level0_triples_reject_what_is_not_an_array() -> None:
    with pytest.raises(ExtractionError, match="not an array"):
        level0_triples("https://a.org/x/", {"node_type": "group"}, 2)
    with pytest.raises(ExtractionError, match="list of integers"):
        level0_triples("https://a.org/x/", {"shape": [1, "2"]}, 2)
    # a shape of another rank than the axes: the shape, but no per-axis sizes
    triples = level0_triples("https://a.org/x/", {"shape": [3, 4, 5]}, 2)
    assert [t[1] for t in triples] == [f"<{NKG}shape>"]


def test_unreadable_array_metadata_is_a_warning(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "s3.example.net", tree / "s3.example.net")
    (tree / "s3.example.net/ngff-public/v0.5/em-volume.ome.zarr/0/zarr.json").write_text("{oops")
    catalog = Catalog(None)
    report = catalog.harvest([tree], base_url="https://")
    assert report.ok and report.datasets_harvested == 2
    assert [w.reason.split(":")[0] for w in report.warnings] == ["0/zarr.json"]
    assert axes_of(catalog, EM)[0] == ("z", "nanometer", None, 8.0)


def test_corpus_shapes_equal_the_raw_array_metadata(corpus_catalog: Catalog, corpus: Path) -> None:
    expected = {}
    for url, info in roots(corpus).items():
        root = corpus / info.path
        ome = json.loads((root / "zarr.json").read_text())["attributes"]["ome"]
        if "multiscales" not in ome:
            continue
        array = root / ome["multiscales"][0]["datasets"][0]["path"] / "zarr.json"
        if array.is_file():
            expected[url] = ",".join(str(n) for n in json.loads(array.read_text())["shape"])
    found = {
        r["dataset"]: r["value"]
        for r in corpus_catalog.query("dataset-fields").values()
        if r["field"] == "shape"
    }
    assert len(expected) > 1000
    assert found == expected

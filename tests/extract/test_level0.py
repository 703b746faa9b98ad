"""Level-0 facts of the catalogue records: the full-resolution shape and the pixel size per axis."""

from __future__ import annotations

import json
from pathlib import Path

from corpus_reference import roots

from ngff_kg import Catalog

EX = "https://data.example.org/Example%20Lab/"
MOUSE = EX + "images/mouse-brain.ome.zarr/"
YEAST = "https://s3.example.net/ngff-public/v0.4/yeast-cells.zarr/"
EM = "https://s3.example.net/ngff-public/v0.5/em-volume.ome.zarr/"


def axes_of(catalog: Catalog, dataset: str) -> list[tuple]:
    from ngff_kg.views.records import read_records

    record = next(r for r in read_records(catalog) if r.url == dataset)
    return [(a.name, a.unit, a.size, a.scale) for a in record.axes]


def test_examples_have_level0_shape_and_pixel_size(examples_catalog: Catalog) -> None:
    # the values examples/metadata/README.md documents
    assert axes_of(examples_catalog, MOUSE) == [
        ("t", "second", 1, 1.0),
        ("c", None, 2, None),  # a channel axis has no physical pixel size
        ("z", "micrometer", 64, 0.5),
        ("y", "micrometer", 2048, 0.2),
        ("x", "micrometer", 2048, 0.2),
    ]
    assert axes_of(examples_catalog, YEAST) == [  # Zarr v2: shape from 0/.zarray
        ("c", None, 1, None),
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
    assert shapes == {
        MOUSE: "1,2,64,2048,2048",
        YEAST: "1,2048,2048",
        EM: "64,1024,1024",
        # the first series of a bioformats2raw collection, the first field of a plate
        EX + "collections/zebrafish-spim.zarr/": "1,2,200,1024,1024",
        EX + "screens/plate-1.ome.zarr/": "1,2,1,1024,1024",
    }


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

"""The whole hierarchy below a root, array facts and OME-XML, on trees zarr-python writes.

Expected values come from the metadata the builders in ``ngff_fixtures`` wrote, not from
the extractor. An audit hook records every file the harvest opens and every directory it
lists, to prove that no chunk is ever opened.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

import ngff_fixtures as fx
import pytest
from conftest import NKG

from ngff_kg import Catalog, UsageError
from ngff_kg.sources.hierarchy import HierarchyReader, read_hierarchy
from ngff_kg.sources.local import METADATA_NAMES
from ngff_kg.sources.walk import root_at

BASE = "https://fx.example.org/"
_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event in ("open", "os.scandir", "os.listdir") and args:
        path = args[0]
        if isinstance(path, str | bytes | os.PathLike):
            _OPENED.append(os.fsdecode(path))


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fx")
    fx.v05_image(root / "v05.ome.zarr")
    fx.v04_image(root / "v04.zarr")
    fx.plate(root / "plate.ome.zarr")
    fx.bioformats2raw(root / "bf.ome.zarr", fx.ome_xml())
    fx.bioformats2raw(root / "bf-invalid.ome.zarr", fx.ome_xml(valid=False), series_list=False)
    (root.parent / "secret.txt").write_text("SECRET-CONTENT", "utf-8")
    fx.bioformats2raw(root / "bf-entity.ome.zarr", fx.ome_xml(secret=root.parent / "secret.txt"))
    return root


@pytest.fixture(scope="module")
def harvested(tree: Path) -> tuple[Catalog, list[str]]:
    global _OPENED
    catalog = Catalog(None)
    catalog.store.ensure_ontologies()  # its files are not part of the harvest being watched
    _OPENED = []
    try:
        catalog.report = catalog.harvest([tree], base_url=BASE)  # type: ignore[attr-defined]
        opened = _OPENED
    finally:
        _OPENED = None
    return catalog, opened


@pytest.fixture(scope="module")
def catalog(harvested: tuple[Catalog, list[str]]) -> Catalog:
    return harvested[0]


def rows(catalog: Catalog, name: str, **params: str) -> list[dict]:
    return catalog.query(name, **params).values()


def summary(catalog: Catalog) -> dict[str, dict]:
    return {r["image"].removeprefix(BASE): r for r in rows(catalog, "image-summary")}


def objects(catalog: Catalog, subject: str, prop: str) -> list:
    result = catalog.query(f"SELECT ?o WHERE {{ <{subject}> <{prop}> ?o }} ORDER BY ?o")
    return result.column("o")


# ------------------------------------------------------------------ no chunk is opened
def test_no_chunk_is_ever_opened(harvested: tuple[Catalog, list[str]], tree: Path) -> None:
    _catalog, opened = harvested
    chunks = [
        p
        for p in tree.rglob("*")
        if p.is_file() and p.name not in METADATA_NAMES and p.name != "ro-crate-metadata.json"
    ]
    assert len(chunks) >= 5, "the fixtures must contain chunk files for this test to mean anything"
    inside = [os.path.relpath(p, tree) for p in opened if p.startswith(str(tree))]
    assert "v05.ome.zarr/0/zarr.json" in inside  # the hook sees the harvest's reads
    files = [p for p in inside if os.path.basename(p) not in ("", ".")]
    touched_chunks = [p for p in files if (tree / p).is_file() and (tree / p) in set(chunks)]
    assert touched_chunks == []
    # no directory inside a root is listed either (only the roots themselves and above), but
    # for a well whose metadata lists fewer fields than the plate's field_count (A/2: 1 of 2)
    roots = {p.name for p in tree.iterdir()}
    listed_inside = [p for p in inside if (tree / p).is_dir() and p not in roots and p != "."]
    assert listed_inside == ["plate.ome.zarr/A/2"]


# ------------------------------------------------------------------ NGFF 0.5 image
def test_v05_image_summary(catalog: Catalog) -> None:
    row = summary(catalog)["v05.ome.zarr/"]
    assert row == {
        "image": BASE + "v05.ome.zarr/",
        "dataset": BASE + "v05.ome.zarr/",
        "axes": "t,c,z,y,x",
        "units": "second,,micrometer,micrometer,micrometer",
        # level scale times the multiscales-wide scale [60, 1, 2, 1, 1]
        "scale": "60.0,1.0,1.0,0.25,0.25",
        "levels": 2,
        "shape": "2,3,16,256,256",
        "dtype": "uint16",
        "channels": 3,
        "channel_labels": "DAPI|GFP|",
    }


def test_v05_levels_translation_and_units(catalog: Catalog) -> None:
    image = BASE + "v05.ome.zarr/"
    level0, level1 = image + "#level-0", image + "#level-1"
    assert objects(catalog, level0, NKG + "translation") == ["0.0,0.0,2.0,2.0,3.0"]
    assert objects(catalog, level1, NKG + "scale") == ["60.0,1.0,1.0,0.5,0.5"]
    assert objects(catalog, level1, NKG + "translation") == []
    result = catalog.query(
        "PREFIX qudt: <http://qudt.org/schema/qudt/> PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>"
        f" SELECT ?name ?value ?unit WHERE {{ <{level0}> nkg:pixelSize ?n . ?n nkg:axis ?a ;"
        " qudt:numericValue ?value . ?a nkg:axisName ?name OPTIONAL { ?n qudt:unit ?unit } }"
        " ORDER BY ?name"
    ).values()
    unit = "http://qudt.org/vocab/unit/"
    assert result == [  # no pixel size for the channel axis
        {"name": "t", "value": 60.0, "unit": unit + "SEC"},
        {"name": "x", "value": 0.25, "unit": unit + "MicroM"},
        {"name": "y", "value": 0.25, "unit": unit + "MicroM"},
        {"name": "z", "value": 1.0, "unit": unit + "MicroM"},
    ]
    assert objects(catalog, image + "#axis-2", "http://qudt.org/schema/qudt/unit") == [
        unit + "MicroM"
    ]


def test_v05_sharded_array(catalog: Catalog) -> None:
    level0 = BASE + "v05.ome.zarr/#level-0"
    facts = {
        p: objects(catalog, level0, NKG + p)
        for p in (
            "shape",
            "chunkShape",
            "shardShape",
            "sharded",
            "codecs",
            "compressor",
            "dataType",
            "fillValue",
            "dimensionNames",
            "pixelCount",
            "uncompressedBytes",
        )
    }
    pixels = 2 * 3 * 16 * 256 * 256
    assert facts == {
        "shape": ["2,3,16,256,256"],
        "chunkShape": ["1,1,8,64,64"],
        "shardShape": ["1,1,16,128,128"],
        "sharded": [True],
        "codecs": ["sharding_indexed(bytes,blosc)"],
        "compressor": ["blosc/zstd"],
        "dataType": ["uint16"],
        "fillValue": ["0"],
        "dimensionNames": ["t,c,z,y,x"],
        "pixelCount": [pixels],
        "uncompressedBytes": [pixels * 2],
    }
    level1 = BASE + "v05.ome.zarr/#level-1"
    assert objects(catalog, level1, NKG + "codecs") == ["bytes,zstd"]
    assert objects(catalog, level1, NKG + "sharded") == [False]


def test_v05_omero_channels(catalog: Catalog) -> None:
    channel = BASE + "v05.ome.zarr/#channel-1"
    assert objects(catalog, channel, "http://schema.org/name") == ["GFP"]
    assert objects(catalog, channel, NKG + "windowStart") == [10.0]
    assert objects(catalog, channel, NKG + "windowEnd") == [1001.0]
    assert objects(catalog, channel, NKG + "active") == [False]


def test_labels(catalog: Catalog) -> None:
    image = BASE + "v05.ome.zarr/"
    label = image + "labels/cells/"
    assert objects(catalog, image, NKG + "labelImage") == [label]
    assert objects(catalog, label, NKG + "labelSource") == [image]
    assert objects(catalog, label, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") == [
        NKG + "LabelImage"
    ]
    assert objects(catalog, label + "#level-0", NKG + "dataType") == ["uint32"]
    assert objects(catalog, label + "#label-color-0", NKG + "rgba") == ["255,0,0,255"]
    pairs = catalog.query(
        "SELECT ?k ?v WHERE { <" + label + "#label-property-0> <http://schema.org/"
        "additionalProperty> ?p . ?p <http://schema.org/name> ?k ; <http://schema.org/value> ?v }"
        " ORDER BY ?k"
    ).values()
    assert pairs == [{"k": "area", "v": "42"}, {"k": "class", "v": "cell"}]
    assert image + "labels/cells/" not in summary(catalog)  # label images are not listed


# ------------------------------------------------------------------ NGFF 0.4, Zarr v2
def test_v04_consolidated(catalog: Catalog, tree: Path) -> None:
    assert not (tree / "v04.zarr" / "0" / ".zarray").exists()  # only in .zmetadata
    row = summary(catalog)["v04.zarr/"]
    assert (row["axes"], row["units"], row["scale"], row["levels"]) == (
        "c,y,x",
        ",nanometer,nanometer",
        "1,7,7",
        2,
    )
    assert (row["shape"], row["dtype"], row["channel_labels"]) == ("1,64,64", "float32", "BF")
    level0 = BASE + "v04.zarr/#level-0"
    assert objects(catalog, level0, NKG + "compressor") == ["blosc/lz4"]
    assert objects(catalog, level0, NKG + "chunkShape") == ["1,32,32"]
    assert objects(catalog, level0, NKG + "arrayZarrFormat") == [2]


# ------------------------------------------------------------------ plate
def test_plate(catalog: Catalog) -> None:
    plate = BASE + "plate.ome.zarr/"
    assert rows(catalog, "plate-summary") == [
        {"plate": plate, "rows": 2, "columns": 3, "wells": 3, "fields": 3}
    ]
    images = summary(catalog)
    fields = sorted(k for k in images if k.startswith("plate.ome.zarr/"))
    assert fields == ["plate.ome.zarr/A/1/0/", "plate.ome.zarr/A/1/1/", "plate.ome.zarr/A/2/0/"]
    assert images["plate.ome.zarr/A/1/1/"]["scale"] == "1.0,1.0,0.325,0.325"
    well = plate + "A/2/"
    assert objects(catalog, plate, NKG + "well") == [plate + "A/1/", well]
    assert objects(catalog, well, NKG + "rowName") == ["A"]
    assert objects(catalog, well, NKG + "columnName") == ["2"]
    assert objects(catalog, well, NKG + "field") == [well + "0/"]
    acquisition = plate + "#acquisition-1"
    assert objects(catalog, well + "0/", NKG + "acquisition") == [acquisition]
    assert objects(catalog, acquisition, "http://www.w3.org/ns/prov#startedAtTime") == [
        "1970-01-01T00:00:00Z"
    ]
    assert objects(catalog, plate, NKG + "nodesMissing") == [1]  # B/3 is listed, not written


# ------------------------------------------------------------------ bioformats2raw + OME-XML
def test_series_found_by_list_and_by_probing(catalog: Catalog) -> None:
    images = summary(catalog)
    for dataset in ("bf.ome.zarr/", "bf-invalid.ome.zarr/"):  # the second has no series list
        assert sorted(k for k in images if k.startswith(dataset)) == [
            dataset + "0/",
            dataset + "1/",
        ]
        assert objects(catalog, BASE + dataset + "1/", NKG + "seriesIndex") == [1]


def test_omexml_image_facts(catalog: Catalog) -> None:
    image = BASE + "bf.ome.zarr/0/"
    assert objects(catalog, image, "http://schema.org/name") == ["first"]
    assert objects(catalog, image, "http://schema.org/dateCreated") == ["2023-01-02T03:04:05"]
    sizes = [objects(catalog, image, NKG + f"size{a}") for a in "XYZCT"]
    assert sizes == [[64], [32], [4], [2], [1]]
    assert objects(catalog, image, NKG + "dimensionOrder") == ["XYZCT"]
    assert objects(catalog, image, NKG + "pixelType") == ["uint16"]
    assert objects(catalog, image, NKG + "significantBits") == [12]
    physical = catalog.query(
        "PREFIX qudt: <http://qudt.org/schema/qudt/> PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>"
        f" SELECT ?a ?v ?s ?u WHERE {{ <{image}> nkg:omePixelSize ?n . ?n nkg:axisName ?a ;"
        " qudt:numericValue ?v ; nkg:unitSymbol ?s ; qudt:unit ?u } ORDER BY ?a"
    ).values()
    unit = "http://qudt.org/vocab/unit/"
    assert physical == [
        {"a": "x", "v": 0.1, "s": "µm", "u": unit + "MicroM"},
        {"a": "y", "v": 100.0, "s": "nm", "u": unit + "NanoM"},
        {"a": "z", "v": 1.0, "s": "µm", "u": unit + "MicroM"},
    ]
    second = BASE + "bf.ome.zarr/1/"
    assert objects(catalog, second, "http://schema.org/name") == ["second"]


def test_objectives_and_instrument(catalog: Catalog) -> None:
    assert rows(catalog, "objectives") == [
        {"magnification": 10.0, "na": 0.3, "immersion": "Air", "count": 3},
        {"magnification": 63.0, "na": 1.4, "immersion": "Oil", "count": 3},
    ]
    dataset = BASE + "bf.ome.zarr/"
    instrument = dataset + "#ome-Instrument:0"
    assert objects(catalog, BASE + "bf.ome.zarr/0/", NKG + "instrument") == [instrument]
    assert objects(catalog, instrument, NKG + "microscopeModel") == ["Scope 1"]
    assert objects(catalog, instrument, NKG + "microscopeType") == ["Inverted"]
    detector = dataset + "#ome-Detector:0:0"
    assert objects(catalog, detector, NKG + "detectorType") == ["CCD"]
    objective = dataset + "#ome-Objective:0:0"
    assert objects(catalog, objective, NKG + "correction") == ["PlanApo"]


def test_channel_wavelengths(catalog: Catalog) -> None:
    found = rows(catalog, "channels-by-wavelength", min="400", max="500")
    assert {r["dataset"] for r in found} == {
        BASE + d for d in ("bf.ome.zarr/", "bf-invalid.ome.zarr/", "bf-entity.ome.zarr/")
    }
    dapi = [r for r in found if r["dataset"] == BASE + "bf.ome.zarr/"]
    assert dapi == [
        {
            "image": BASE + "bf.ome.zarr/0/",
            "dataset": BASE + "bf.ome.zarr/",
            "channel": 0,
            "name": "DAPI",
            "fluor": "DAPI",
            "excitation": 358.0,  # 0.358 µm in the XML
            "emission": 461.0,
        }
    ]
    channel = BASE + "bf.ome.zarr/0/#ome-channel-0"
    assert objects(catalog, channel, NKG + "illuminationType") == ["Epifluorescence"]
    assert objects(catalog, channel, NKG + "contrastMethod") == ["Fluorescence"]
    assert objects(catalog, channel, NKG + "acquisitionMode") == ["WideField"]


def test_vendor_metadata_per_image(catalog: Catalog) -> None:
    found = rows(catalog, "vendor-metadata", key="^camera")
    bf = [r for r in found if r["dataset"] == BASE + "bf.ome.zarr/"]
    assert bf == [  # file-wide pairs belong to every image of the dataset
        {
            "image": BASE + f"bf.ome.zarr/{i}/",
            "dataset": BASE + "bf.ome.zarr/",
            "key": "Camera|Exposure",
            "value": "20 ms",
        }
        for i in (0, 1)
    ]
    assert len(rows(catalog, "vendor-metadata")) == 3 * 2 * 2  # 3 datasets, 2 images, 2 pairs


def test_map_annotation_linked_to_its_image(catalog: Catalog) -> None:
    pairs = catalog.query(
        "PREFIX nkg: <https://w3id.org/ngff-kg/vocab#> PREFIX schema: <http://schema.org/>"
        " SELECT ?image ?k ?v WHERE { ?image nkg:annotation ?a . ?a nkg:annotationNamespace"
        ' "example.org/qc" ; schema:additionalProperty ?p . ?p schema:name ?k ; schema:value ?v .'
        f' FILTER(STRSTARTS(STR(?image), "{BASE}bf.ome.zarr/")) }} ORDER BY ?k'
    ).values()
    image = BASE + "bf.ome.zarr/0/"
    assert pairs == [
        {"image": image, "k": "focus", "v": "ok"},
        {"image": image, "k": "operator", "v": "A. N. Other"},
    ]


def test_invalid_omexml_is_read_leniently_with_a_warning(catalog: Catalog) -> None:
    report = catalog.report  # type: ignore[attr-defined]
    invalid = [w.reason for w in report.warnings if w.path.endswith("bf-invalid.ome.zarr")]
    assert len(invalid) == 1 and "does not validate" in invalid[0] and "leniently" in invalid[0]
    image = BASE + "bf-invalid.ome.zarr/0/"
    assert objects(catalog, image, NKG + "objective") == [
        BASE + "bf-invalid.ome.zarr/#ome-Objective:0:0"
    ]
    assert report.failed == []


def test_external_entity_is_never_resolved(catalog: Catalog) -> None:
    report = catalog.report  # type: ignore[attr-defined]
    notes = [w.reason for w in report.warnings if w.path.endswith("bf-entity.ome.zarr")]
    assert any("entity references not resolved" in n for n in notes)
    dump = catalog.query(
        "SELECT ?s ?p ?o WHERE { GRAPH <" + BASE + "bf-entity.ome.zarr/> { ?s ?p ?o } }"
    ).rows
    assert dump and "SECRET" not in " ".join(str(t) for row in dump for t in row)
    # the rest of the document is still read: the value that held the entity keeps its text
    focus = catalog.query(
        "SELECT ?v WHERE { GRAPH <" + BASE + "bf-entity.ome.zarr/> { ?p <http://schema.org/name>"
        ' "focus" ; <http://schema.org/value> ?v } }'
    ).column("v")
    assert focus == ["ok"]


# ------------------------------------------------------------------ other queries
def test_pixel_size_query_converts_units(catalog: Catalog) -> None:
    found = rows(catalog, "images-by-pixel-size", axis="x", min="5", max="10", unit="nanometer")
    assert [(r["image"], r["size"]) for r in found] == [(BASE + "v04.zarr/", 7.0)]
    in_micrometres = rows(catalog, "images-by-pixel-size", axis="x", max="0.01")
    assert [(r["image"], r["size"], r["unit"]) for r in in_micrometres] == [
        (BASE + "v04.zarr/", 0.007, "micrometer")
    ]
    by_qudt_name = rows(catalog, "images-by-pixel-size", axis="t", unit="MIN")
    assert [(r["image"], r["size"]) for r in by_qudt_name] == [(BASE + "v05.ome.zarr/", 1.0)]


def test_largest_images_and_storage_layout(catalog: Catalog) -> None:
    largest = rows(catalog, "largest-images")
    assert largest[0]["image"] == BASE + "v05.ome.zarr/"
    assert largest[0]["pixels"] == 2 * 3 * 16 * 256 * 256
    assert [r["pixels"] for r in largest] == sorted((r["pixels"] for r in largest), reverse=True)
    layout = {
        (r["sharded"], r["codecs"], r["dtype"]): r["arrays"]
        for r in rows(catalog, "storage-layout")
    }
    assert layout[(True, "sharding_indexed(bytes,blosc)", "uint16")] == 1
    assert layout[(False, "blosc", "float32")] == 2


# ------------------------------------------------------------------ guard and sources
def test_max_nodes_guard_warns(tree: Path) -> None:
    catalog = Catalog(None)
    report = catalog.harvest([tree / "plate.ome.zarr"], base_url=BASE, max_nodes_per_dataset=3)
    assert report.ok
    [warning] = report.warnings
    assert "--max-nodes-per-dataset 3" in warning.reason and "not read" in warning.reason
    with pytest.raises(UsageError):
        Catalog(None).harvest([tree], max_nodes_per_dataset=0)


def test_ome_xml_file_as_a_dataset(tmp_path: Path) -> None:
    path = tmp_path / "scan one.ome.xml"
    path.write_text(fx.ome_xml(), "utf-8")
    catalog = Catalog(None)
    report = catalog.harvest([path], base_url="https://files.example.org/")
    assert (report.datasets_found, report.datasets_harvested, report.failed) == (1, 1, [])
    iri = "https://files.example.org/scan%20one.ome.xml"
    images = {r["image"]: r for r in rows(catalog, "image-summary")}
    assert set(images) == {iri + "#ome-Image:0", iri + "#ome-Image:1"}
    assert {r["dataset"] for r in images.values()} == {iri}
    assert objects(catalog, iri, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") == [
        "http://schema.org/Dataset",
        NKG + "OmeXmlDataset",
    ]
    assert len(rows(catalog, "vendor-metadata")) == 4


def test_broken_omexml_fails_the_dataset_but_keeps_ngff(tmp_path: Path) -> None:
    fx.bioformats2raw(tmp_path / "bad.ome.zarr", "<OME><unclosed></OME>")
    catalog = Catalog(None)
    report = catalog.harvest([tmp_path], base_url=BASE)
    [failure] = report.failed
    assert "OME/METADATA.ome.xml" in failure.reason and "well-formed" in failure.reason
    assert len(rows(catalog, "image-summary")) == 2


PLATE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
  <Plate ID="Plate:0" Name="screen" Rows="2" Columns="3">
    <Well ID="Well:0" Row="0" Column="0">
      <WellSample ID="WellSample:0" Index="0"><ImageRef ID="Image:0"/></WellSample>
      <WellSample ID="WellSample:1" Index="1"><ImageRef ID="Image:1"/></WellSample>
    </Well>
    <Well ID="Well:1" Row="0" Column="1">
      <WellSample ID="WellSample:2" Index="2"><ImageRef ID="Image:2"/></WellSample>
    </Well>
  </Plate>
  {images}
</OME>
"""


def test_plate_omexml_images_are_the_well_fields(tmp_path: Path) -> None:
    """In a bioformats2raw plate, OME Images are found through Well row/column and the order
    of their WellSamples, and attached to the NGFF field groups."""
    root = tmp_path / "screen.ome.zarr"
    written = fx.plate(root)
    doc = json.loads((root / "zarr.json").read_text("utf-8"))
    doc["attributes"]["ome"]["bioformats2raw.layout"] = 3
    (root / "zarr.json").write_text(json.dumps(doc), "utf-8")
    images = "".join(
        f'<Image ID="Image:{i}" Name="field {i}"><Pixels ID="Pixels:{i}" DimensionOrder="XYZCT"'
        ' Type="uint16" SizeX="1" SizeY="1" SizeZ="1" SizeC="1" SizeT="1"><MetadataOnly/>'
        "</Pixels></Image>"
        for i in range(3)
    )
    (root / "OME").mkdir()
    (root / "OME" / "METADATA.ome.xml").write_text(PLATE_XML.format(images=images), "utf-8")
    catalog = Catalog(None)
    report = catalog.harvest([tmp_path], base_url=BASE)
    assert report.ok and report.warnings == []
    names = catalog.query(
        "SELECT ?i ?n WHERE { ?i <http://schema.org/name> ?n ; "
        f"<{NKG}omeImageId> ?id }} ORDER BY ?n"
    ).values()
    plate = BASE + "screen.ome.zarr/"
    assert [(r["i"], r["n"]) for r in names] == [
        (plate + "A/1/0/", "field 0"),
        (plate + "A/1/1/", "field 1"),
        (plate + "A/2/0/", "field 2"),
    ]
    assert written["wells"] == {"A/1": ["0", "1"], "A/2": ["0"]}
    ome_well = plate + "#ome-Well:0"
    assert objects(catalog, ome_well, NKG + "field") == [plate + "A/1/0/", plate + "A/1/1/"]
    assert objects(catalog, plate + "#ome-Plate:0", NKG + "wellCount") == [2]
    assert rows(catalog, "plate-summary")[0]["fields"] == 3


def test_reading_a_hierarchy_leaves_no_reference_cycle(tree: Path) -> None:
    # a reader in a cycle (a task and a handler closing over it) and all it read would wait
    # for the garbage collector instead of going when the dataset is done
    found = [root_at(tree / name) for name in ("plate.ome.zarr", "bf.ome.zarr", "v05.ome.zarr")]
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for root in found:
            assert root is not None
            read_hierarchy(root, BASE + "x/")
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()
    assert HierarchyReader.__name__ not in left
    assert "_Task" not in left

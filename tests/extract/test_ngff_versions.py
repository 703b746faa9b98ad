"""Every NGFF version read as its specification defines it, and no document crashes a harvest.

Fixtures are plain JSON written in ``ngff_spec_fixtures`` in the shape of each version; the
expected values are the ones written there (and, for 0.1/0.2, the t, c, z, y, x axes those
versions define).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import ngff_spec_fixtures as fx
import pytest

from ngff_kg import Catalog

BASE = "https://fx.example.org/"
NKG = "https://w3id.org/ngff-kg/vocab#"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    root = tmp_path_factory.mktemp("versions")
    facts = {
        "v01.zarr/": fx.v01_image(root / "v01.zarr"),
        "v02.zarr/": fx.v01_image(root / "v02.zarr", "0.2"),
        "v03.zarr/": fx.v03_image(root / "v03.zarr"),
        "v04.zarr/": fx.v04_image(root / "v04.zarr"),
        "v05.zarr/": fx.v05_image(root / "v05.zarr"),
        "v06.zarr/": fx.v06_image(root / "v06.zarr"),
        "label.zarr/": fx.v05_label_image(root / "label.zarr"),
    }
    for name, v3 in (("bf3.zarr", True), ("bf2.zarr", False)):
        for series in fx.bioformats2raw_no_xml(root / name, v3=v3):
            facts[f"{name}/{series}"] = fx.v05_image(root / "x") if v3 else fx.v04_image(root / "x")
    fx.v04_image(root / "nan.zarr", scale=[float("nan"), math.inf, 1e999])
    return root, facts


@pytest.fixture(scope="module")
def harvested(tree: tuple[Path, dict[str, dict]]) -> tuple[Catalog, object]:
    catalog = Catalog(None)
    report = catalog.harvest([tree[0]], base_url=BASE)
    return catalog, report


def test_every_version_is_an_image_with_its_axes(tree, harvested) -> None:
    catalog, report = harvested
    assert report.ok
    rows = {r["image"].removeprefix(BASE): r for r in catalog.query("image-summary").values()}
    for path, facts in tree[1].items():
        assert path in rows, path
        assert rows[path]["axes"] == facts["axes"], path
        assert int(rows[path]["levels"]) == facts["levels"], path
    assert rows["v06.zarr/"]["scale"] == "0.5,0.5"


def test_v06_coordinate_systems_kept_as_data(tree, harvested) -> None:
    catalog, _ = harvested
    [value] = catalog.query(
        f"SELECT ?v WHERE {{ <{BASE}v06.zarr/> <{NKG}coordinateSystems> ?v }}"
    ).column("v")
    doc = json.loads((tree[0] / "v06.zarr" / "zarr.json").read_text())
    assert json.loads(value) == doc["attributes"]["ome"]["multiscales"][0]["coordinateSystems"]


def test_old_versions_say_their_axes_are_implied(harvested) -> None:
    _, report = harvested
    reasons = {w.path.rsplit("/", 1)[-1]: w.reason for w in report.warnings}
    assert "0.1 axes are t, c, z, y, x" in reasons["v01.zarr"]
    assert "0.2 axes are t, c, z, y, x" in reasons["v02.zarr"]


def test_non_finite_scale_is_reported_and_dropped(harvested) -> None:
    catalog, report = harvested
    [warning] = [w for w in report.warnings if w.path.endswith("nan.zarr")]
    assert "not a finite number" in warning.reason
    scales = catalog.query(
        f"SELECT ?s WHERE {{ <{BASE}nan.zarr/> <{NKG}level> ?l . ?l <{NKG}scale> ?s }}"
    ).column("s")
    assert scales == []
    # the image is still there, with its level and array facts
    shape = catalog.query(
        f"SELECT ?s WHERE {{ <{BASE}nan.zarr/> <{NKG}level> ?l . ?l <{NKG}shape> ?s }}"
    ).column("s")
    assert shape == ["4,64,64"]


def _root_v3(path: Path, ome: dict) -> None:
    fx.write(
        path / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
    )


@pytest.mark.parametrize(
    "case",
    ["no-axes", "axes", "levels", "consolidated", "shape", "bad-types", "overflow"],
)
def test_odd_and_huge_documents_never_crash(tmp_path: Path, case: str) -> None:
    n = 100_000
    root = tmp_path / "odd.zarr"
    space = {"name": "x", "type": "space"}
    level = {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0]}]}
    ms: dict = {"axes": [space], "datasets": [level]}
    doc_extra: dict = {}
    if case == "no-axes":  # a 0.4 entry without axes, with a 3-value scale
        ms = {
            "datasets": [
                {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 2, 3]}]}
            ],
            "coordinateTransformations": [{"type": "scale", "scale": [1, 2]}],
        }
    elif case == "axes":
        ms["axes"] = [{"name": f"a{i}", "type": "space"} for i in range(n)]
        level["coordinateTransformations"][0]["scale"] = [1.0] * n
    elif case == "levels":
        ms["datasets"] = [dict(level, path=str(i)) for i in range(n)]
    elif case == "consolidated":
        doc_extra = {
            "consolidated_metadata": {
                "kind": "inline",
                "must_understand": False,
                "metadata": {
                    f"g{i}": {"zarr_format": 3, "node_type": "group", "attributes": {}}
                    for i in range(n)
                },
            }
        }
    elif case == "bad-types":
        ms = {"axes": {"x": 1}, "datasets": "0", "coordinateTransformations": 7, "name": [1]}
    elif case == "overflow":
        ms["coordinateTransformations"] = [{"type": "scale", "scale": [1e308]}]
        level["coordinateTransformations"][0]["scale"] = [1e308]
    ome = {
        "version": "0.5",
        "multiscales": [ms],
        "omero": {"channels": [{"window": {"start": 1e999}}]},
    }
    fx.write(
        root / "zarr.json",
        {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}, **doc_extra},
    )
    shape = [2] * (n if case == "shape" else 1)
    fx._v3_array(root / "0", shape)
    catalog = Catalog(None)
    report = catalog.harvest([tmp_path], base_url=BASE)
    # the dataset is ingested whatever its problems
    assert catalog.query(f"SELECT ?d WHERE {{ ?d a <{NKG}OmeZarrDataset> }}").column("d") == [
        f"{BASE}odd.zarr/"
    ]
    reasons = " ".join(w.reason for w in report.warnings) + " ".join(
        e.reason for e in report.failed
    )
    expected = {
        "no-axes": "no axes",
        "axes": "100000 axes",
        "levels": "100000 levels",
        "shape": "100000 dimensions",
        "bad-types": "must be",
        "overflow": "not a finite number",
        "consolidated": "",
    }[case]
    assert expected in reasons


def test_plate_fields_found_in_the_tree(tmp_path: Path) -> None:
    facts = fx.plate_with_unlisted_fields(tmp_path / "plate.zarr")
    catalog = Catalog(None)
    report = catalog.harvest([tmp_path], base_url=BASE)
    plate = f"{BASE}plate.zarr/"
    for well, fields in facts["fields"].items():
        found = catalog.query(
            f"SELECT ?f WHERE {{ <{plate}{well}> <{NKG}field> ?f }} ORDER BY ?f"
        ).column("f")
        assert found == [plate + f for f in fields], well
    images = {r["image"] for r in catalog.query("image-summary").values()}
    assert {plate + f for fs in facts["fields"].values() for f in fs} <= images
    unlisted = catalog.query(
        f"SELECT ?f WHERE {{ ?f <{NKG}unlistedField> true }} ORDER BY ?f"
    ).column("f")
    assert unlisted == [plate + f for f in ("A/1/1/", "A/2/0/", "B/1/0/")]
    reasons = " | ".join(w.reason for w in report.warnings)
    assert "B/1: the well group has no well metadata" in reasons

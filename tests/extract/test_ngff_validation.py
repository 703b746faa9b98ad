"""NGFF validation: every group document is validated for its version, every violation is
recorded in the dataset's graph, listed by ``ngff-violations`` and counted by ``check``,
and the dataset is still ingested as far as it can be read.

Expected violations are checked against the specification's rules (NGFF 0.4 plate: row
names alphanumeric, unique; wells in range; 0.5 multiscales: at least two axes) and against
yaozarrs called directly on the same JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import ngff_spec_fixtures as fx
import pydantic
import pytest
from yaozarrs import v04, v05

from ngff_kg import Catalog
from ngff_kg.extract.validate_ngff import MAX_VIOLATIONS, validate_group

BASE = "https://fx.example.org/"
NKG = "https://w3id.org/ngff-kg/vocab#"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("validation")
    fx.broken_plate(root / "broken.zarr")
    fx.v05_image(root / "valid.zarr")
    fx.v01_image(root / "v01.zarr")
    fx.v04_image(root / "nan.zarr", scale=[float("nan"), 1.0, 1.0])
    # a 0.5 image with one axis (the specification asks for 2 to 5) and a bad unit (SHOULD)
    fx.write(
        root / "one-axis.zarr" / "zarr.json",
        {
            "zarr_format": 3,
            "node_type": "group",
            "attributes": {
                "ome": {
                    "version": "0.5",
                    "multiscales": [
                        {
                            "axes": [{"name": "x", "type": "space", "unit": "pixel"}],
                            "datasets": [
                                {
                                    "path": "0",
                                    "coordinateTransformations": [
                                        {"type": "scale", "scale": [1.0]}
                                    ],
                                }
                            ],
                        }
                    ],
                }
            },
        },
    )
    fx._v3_array(root / "one-axis.zarr" / "0", [8])
    return root


@pytest.fixture(scope="module")
def catalog(tree: Path) -> Catalog:
    catalog = Catalog(None)
    catalog.harvest([tree], base_url=BASE)
    return catalog


def violations(catalog: Catalog, dataset: str) -> list[dict]:
    return catalog.query("ngff-violations", dataset=BASE + dataset).values()


def test_broken_plate_reports_each_error_and_keeps_its_valid_well(tree, catalog) -> None:
    found = {(v["document"], v["path"], v["rule"]) for v in violations(catalog, "broken.zarr/")}
    # each structural error of the fixture, at its JSON path
    assert {
        (".zattrs", "$.plate.rows[2].name", "string_pattern_mismatch"),  # "b-1"
        (".zattrs", "$.plate.columns[1].name", "missing"),
        (".zattrs", "$.plate.wells[3].path", "string_type"),
        (".zattrs", "$.plate.wells[4]", "model_type"),
        (".zattrs", "$.plate.acquisitions[0].id", "int_parsing"),
        (".zattrs", "$.plate.field_count", "greater_than"),
        (".zattrs", "$.plate.rows", "listItemsNotUnique"),  # A twice
        (".zattrs", "$.plate.wells", "listItemsNotUnique"),  # A/1 twice
    } <= found
    # yaozarrs on the same document finds no field error that is not recorded
    doc = json.loads((tree / "broken.zarr" / ".zattrs").read_text())
    with pytest.raises(pydantic.ValidationError) as raised:
        pydantic.TypeAdapter(v04.OMEZarrGroupJSON).validate_python(doc)
    assert len(raised.value.errors()) <= len(found)
    # the valid well and its field are ingested
    fields = catalog.query(
        f"SELECT ?f WHERE {{ <{BASE}broken.zarr/A/1/> <{NKG}field> ?f }}"
    ).column("f")
    assert fields == [f"{BASE}broken.zarr/A/1/0/"]
    summary = {r["image"] for r in catalog.query("image-summary").values()}
    assert f"{BASE}broken.zarr/A/1/0/" in summary


def test_valid_image_has_no_violation_and_names_its_validator(catalog) -> None:
    assert violations(catalog, "valid.zarr/") == []
    [count] = catalog.query(
        f"SELECT ?n WHERE {{ <{BASE}valid.zarr/> <{NKG}violationCount> ?n }}"
    ).column("n")
    assert count == 0
    [validator] = catalog.query(
        f"SELECT ?v WHERE {{ <{BASE}valid.zarr/> <{NKG}validatedWith> ?v }}"
    ).column("v")
    assert validator.startswith("yaozarrs ") and validator.endswith("(NGFF 0.5)")


def test_must_and_should_rules_of_05(catalog) -> None:
    rows = violations(catalog, "one-axis.zarr/")
    by_rule = {(r["rule"], r["severity"], r["path"]) for r in rows}
    assert ("too_short", "error", "$.multiscales[0].axes") in by_rule
    assert any(r["severity"] == "warning" and "pixel" in r["message"] for r in rows)
    # the image is ingested all the same
    summary = {r["image"]: r for r in catalog.query("image-summary").values()}
    assert summary[f"{BASE}one-axis.zarr/"]["axes"] == "x"


def test_non_finite_number_is_a_violation(catalog) -> None:
    rows = violations(catalog, "nan.zarr/")
    paths = {r["path"] for r in rows if r["rule"] == "non-finite"}
    assert paths == {"$.multiscales[0].datasets[0].coordinateTransformations[0].scale[0]"}


def test_versions_without_a_model_are_counted_not_validated(catalog) -> None:
    assert violations(catalog, "v01.zarr/") == []
    [count] = catalog.query(
        f"SELECT ?n WHERE {{ <{BASE}v01.zarr/> <{NKG}documentsNotValidated> ?n }}"
    ).column("n")
    assert count == 1


def test_check_counts_the_violations(catalog) -> None:
    report = catalog.check()
    found = [f for f in report.findings if f.check == "ngff-violation"]
    total = len(catalog.query("ngff-violations").values())
    assert len(found) == total > 0
    assert report.counts()["ngff-violation"] == len({"broken.zarr/", "one-axis.zarr/", "nan.zarr/"})


def test_violations_are_bounded_per_document() -> None:
    wells = [{"path": 7} for _ in range(10_000)]  # every well breaks the model
    plate = {"rows": [{"name": "A"}], "columns": [{"name": "1"}], "wells": wells}
    doc = {"version": "0.5", "plate": plate}
    validation = validate_group(doc, "0.5", "zarr.json")
    assert len(validation.violations) == MAX_VIOLATIONS
    with pytest.raises(pydantic.ValidationError) as raised:
        pydantic.TypeAdapter(v05.OMEMetadata).validate_python(doc)
    assert len(validation.violations) + validation.more >= MAX_VIOLATIONS
    assert raised.value.error_count() > MAX_VIOLATIONS


def test_oversized_multiscales_is_reported_not_modelled() -> None:
    level = {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}
    axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    datasets = [dict(level, path=str(i)) for i in range(100_000)]
    doc = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": datasets}]}
    [violation] = validate_group(doc, "0.5", "zarr.json").violations
    assert (violation.rule, violation.path) == ("too-large", "$.multiscales[0].datasets")
    assert "100000 datasets" in violation.message


def test_non_finite_number_below_a_plain_root_is_a_violation(tmp_path: Path) -> None:
    # the root is plain JSON; the series image it leads to holds a NaN
    root = tmp_path / "layout.zarr"
    ome = {"version": "0.5", "bioformats2raw.layout": 3}
    fx.write(
        root / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
    )
    fx.v05_image(root / "0")
    series = root / "0" / "zarr.json"
    doc = json.loads(series.read_text())
    doc["attributes"]["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"][0][
        "scale"
    ][0] = float("nan")
    series.write_text(json.dumps(doc))  # NaN, as Python's json writes it
    catalog = Catalog(None)
    catalog.harvest([tmp_path], base_url=BASE)
    rows = violations(catalog, "layout.zarr/")
    assert {(r["document"], r["path"]) for r in rows if r["rule"] == "non-finite"} == {
        ("0/zarr.json", "$.multiscales[0].datasets[0].coordinateTransformations[0].scale[0]")
    }

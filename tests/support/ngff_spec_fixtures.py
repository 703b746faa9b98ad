"""Small OME-Zarr metadata trees written as plain JSON in the shape each NGFF version defines.

No zarr library is involved: every document is written as the specification shows it, so
tests can compare the graph with these values. Arrays get metadata only (no chunks).
Builders return the facts a test checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPACE_UM = {"type": "space", "unit": "micrometer"}


def write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), "utf-8")


def _v2_array(path: Path, shape: list[int]) -> None:
    write(
        path / ".zarray",
        {
            "zarr_format": 2,
            "shape": shape,
            "chunks": shape,
            "dtype": "<u2",
            "compressor": None,
            "fill_value": 0,
            "order": "C",
            "filters": None,
        },
    )


def _v3_array(path: Path, shape: list[int], names: list[str] | None = None) -> None:
    doc: dict[str, Any] = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": shape,
        "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": shape}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": 0,
        "codecs": [{"name": "bytes"}],
    }
    if names is not None:
        doc["dimension_names"] = names
    write(path / "zarr.json", doc)


def _v3_group(path: Path, ome: dict[str, Any]) -> None:
    write(path / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}})


def v01_image(path: Path, version: str = "0.1") -> dict[str, Any]:
    """NGFF 0.1/0.2: no axes (5D t, c, z, y, x implied), two levels."""
    write(
        path / ".zattrs",
        {"multiscales": [{"version": version, "datasets": [{"path": "0"}, {"path": "1"}]}]},
    )
    write(path / ".zgroup", {"zarr_format": 2})
    _v2_array(path / "0", [1, 2, 4, 64, 64])
    _v2_array(path / "1", [1, 2, 4, 32, 32])
    return {"axes": "t,c,z,y,x", "levels": 2}


def v03_image(path: Path) -> dict[str, Any]:
    """NGFF 0.3: axes as a list of names."""
    write(
        path / ".zattrs",
        {"multiscales": [{"version": "0.3", "axes": ["z", "y", "x"], "datasets": [{"path": "0"}]}]},
    )
    write(path / ".zgroup", {"zarr_format": 2})
    _v2_array(path / "0", [4, 64, 64])
    return {"axes": "z,y,x", "levels": 1}


def v04_image(path: Path, *, scale: list[Any] | None = None) -> dict[str, Any]:
    """NGFF 0.4: axes objects, a scale per level."""
    scale = scale if scale is not None else [0.5, 0.25, 0.25]
    write(
        path / ".zattrs",
        {
            "multiscales": [
                {
                    "version": "0.4",
                    "axes": [{"name": n, **SPACE_UM} for n in "zyx"],
                    "datasets": [
                        {
                            "path": "0",
                            "coordinateTransformations": [{"type": "scale", "scale": scale}],
                        }
                    ],
                }
            ]
        },
    )
    write(path / ".zgroup", {"zarr_format": 2})
    _v2_array(path / "0", [4, 64, 64])
    return {"axes": "z,y,x", "levels": 1}


def _multiscales_05(levels: int = 2) -> dict[str, Any]:
    return {
        "axes": [
            {"name": "c", "type": "channel"},
            {"name": "y", **SPACE_UM},
            {"name": "x", **SPACE_UM},
        ],
        "datasets": [
            {
                "path": str(i),
                "coordinateTransformations": [{"type": "scale", "scale": [1.0, 2.0**i, 2.0**i]}],
            }
            for i in range(levels)
        ],
    }


def v05_image(path: Path, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    _v3_group(path, {"version": "0.5", "multiscales": [_multiscales_05()], **(extra or {})})
    _v3_array(path / "0", [2, 64, 64], ["c", "y", "x"])
    _v3_array(path / "1", [2, 32, 32], ["c", "y", "x"])
    return {"axes": "c,y,x", "levels": 2}


def v05_label_image(path: Path) -> dict[str, Any]:
    """A root that is a label image (``image-label`` next to ``multiscales``)."""
    v05_image(
        path,
        extra={"image-label": {"colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}]}},
    )
    return {"axes": "c,y,x", "levels": 2}


def v06_image(path: Path) -> dict[str, Any]:
    """NGFF 0.6-dev: a coordinate system and level transformations with input/output."""
    axes = [{"name": "y", **SPACE_UM}, {"name": "x", **SPACE_UM}]
    _v3_group(
        path,
        {
            "version": "0.6.dev2",
            "multiscales": [
                {
                    "coordinateSystems": [{"name": "physical", "axes": axes}],
                    "datasets": [
                        {
                            "path": str(i),
                            "coordinateTransformations": [
                                {
                                    "type": "scale",
                                    "scale": [0.5 * 2**i, 0.5 * 2**i],
                                    "input": str(i),
                                    "output": "physical",
                                }
                            ],
                        }
                        for i in range(2)
                    ],
                }
            ],
        },
    )
    _v3_array(path / "0", [64, 64], ["y", "x"])
    _v3_array(path / "1", [32, 32], ["y", "x"])
    return {"axes": "y,x", "levels": 2, "scale": "0.5,0.5"}


def bioformats2raw_no_xml(path: Path, *, v3: bool) -> list[str]:
    """A bioformats2raw layout with series 0/ and 1/ and no OME/METADATA.ome.xml."""
    if v3:
        _v3_group(path, {"version": "0.5", "bioformats2raw.layout": 3})
        _v3_group(path / "OME", {"version": "0.5", "series": ["0", "1"]})
        for index in ("0", "1"):
            v05_image(path / index)
    else:
        write(path / ".zattrs", {"bioformats2raw.layout": 3})
        write(path / ".zgroup", {"zarr_format": 2})
        for index in ("0", "1"):
            v04_image(path / index)
    return ["0/", "1/"]


def _v3_field(path: Path) -> None:
    v05_image(path)


def plate_with_unlisted_fields(path: Path) -> dict[str, Any]:
    """A 0.5 plate: well A/1 lists field 0 only but holds 0/ and 1/; well B/1 has no well
    metadata (its group has no ``well``) but holds field 0/; well A/2 has no group document
    at all but holds field 0/."""
    _v3_group(
        path,
        {
            "version": "0.5",
            "plate": {
                "rows": [{"name": "A"}, {"name": "B"}],
                "columns": [{"name": "1"}, {"name": "2"}],
                "wells": [
                    {"path": "A/1", "rowIndex": 0, "columnIndex": 0},
                    {"path": "A/2", "rowIndex": 0, "columnIndex": 1},
                    {"path": "B/1", "rowIndex": 1, "columnIndex": 0},
                ],
                "field_count": 2,
            },
        },
    )
    _v3_group(path / "A", {})
    _v3_group(path / "B", {})
    _v3_group(path / "A" / "1", {"version": "0.5", "well": {"images": [{"path": "0"}]}})
    _v3_group(path / "B" / "1", {"version": "0.5"})
    for field in ("A/1/0", "A/1/1", "A/2/0", "B/1/0"):
        _v3_field(path / field)
    return {"fields": {"A/1/": ["A/1/0/", "A/1/1/"], "A/2/": ["A/2/0/"], "B/1/": ["B/1/0/"]}}


def broken_plate(path: Path) -> dict[str, Any]:
    """A 0.4 plate with structural errors and one well that is valid and readable."""
    write(path / ".zgroup", {"zarr_format": 2})
    write(
        path / ".zattrs",
        {
            "plate": {
                "version": "0.4",
                "rows": [{"name": "A"}, {"name": "A"}, {"name": "b-1"}],  # duplicate, bad name
                "columns": [{"name": "1"}, {}],  # a column without name
                "wells": [
                    {"path": "A/1", "rowIndex": 0, "columnIndex": 0},
                    {"path": "A/1", "rowIndex": 0, "columnIndex": 0},  # duplicate
                    {"path": "Z/9", "rowIndex": 7, "columnIndex": 9},  # out of range
                    {"path": 5},  # not a path
                    "not a well",
                ],
                "acquisitions": [{"id": "one"}],  # id not an integer
                "field_count": -1,
            }
        },
    )
    write(path / "A" / ".zgroup", {"zarr_format": 2})
    write(path / "A" / "1" / ".zgroup", {"zarr_format": 2})
    write(path / "A" / "1" / ".zattrs", {"well": {"version": "0.4", "images": [{"path": "0"}]}})
    v04_image(path / "A" / "1" / "0")
    return {"valid_wells": ["A/1/"], "fields": ["A/1/0/"]}

"""The hierarchy reader on an in-memory metadata source: the source contract, concurrent
reads of a plate's wells, NGFF 0.4 on Zarr v2 modelled on the specification's examples, the
node guard, and metadata of unexpected shape."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ngff_kg.errors import ExtractionError
from ngff_kg.extract.ngff import ome_group_v2, ome_group_v3
from ngff_kg.sources.hierarchy import HierarchyReader
from ngff_kg.sources.local import LocalSource, check_path

DS = "https://example.org/plate.zarr/"
NKG = "https://w3id.org/ngff-kg/vocab#"


class DictSource:
    """A metadata source over a dict of documents; records which thread read what."""

    def __init__(self, documents: dict[str, object]) -> None:
        self.documents = {k: json.dumps(v).encode() for k, v in documents.items()}
        self.threads: set[str] = set()
        self.asked: list[str] = []

    def might_have(self, path: str) -> bool:
        return True

    def get(self, path: str) -> bytes | None:
        check_path(path)
        self.asked.append(path)
        self.threads.add(threading.current_thread().name)
        return self.documents.get(path)


def v2_plate(rows: int, columns: int, fields: int) -> tuple[dict, dict[str, object]]:
    """An NGFF 0.4 plate on Zarr v2 shaped like the specification's plate and well examples."""
    row_names = [chr(ord("A") + r) for r in range(rows)]
    plate = {
        "acquisitions": [{"id": 1, "maximumfieldcount": fields, "name": "Meas_01"}],
        "columns": [{"name": str(c + 1)} for c in range(columns)],
        "field_count": fields,
        "name": "test",
        "rows": [{"name": r} for r in row_names],
        "version": "0.4",
        "wells": [
            {"path": f"{r}/{c + 1}", "rowIndex": ri, "columnIndex": c}
            for ri, r in enumerate(row_names)
            for c in range(columns)
        ],
    }
    docs: dict[str, object] = {".zattrs": {"plate": plate}}
    for well in plate["wells"]:
        path = well["path"]
        docs[f"{path}/.zattrs"] = {
            "well": {
                "images": [{"acquisition": 1, "path": str(f)} for f in range(fields)],
                "version": "0.4",
            }
        }
        for f in range(fields):
            docs[f"{path}/{f}/.zattrs"] = {
                "multiscales": [
                    {
                        "version": "0.4",
                        "axes": [
                            {"name": "c", "type": "channel"},
                            {"name": "y", "type": "space", "unit": "micrometer"},
                            {"name": "x", "type": "space", "unit": "micrometer"},
                        ],
                        "datasets": [
                            {
                                "path": "0",
                                "coordinateTransformations": [
                                    {"type": "scale", "scale": [1, 0.5, 0.5]},
                                    {"type": "translation", "translation": [0, 10, 20]},
                                ],
                            }
                        ],
                    }
                ]
            }
            docs[f"{path}/{f}/0/.zarray"] = {
                "shape": [2, 100, 100],
                "chunks": [1, 100, 100],
                "dtype": "|u1",
                "compressor": None,
                "fill_value": 0,
                "zarr_format": 2,
            }
    return plate, docs


def subjects(triples, prop: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for s, p, o in triples:
        if p == f"<{NKG}{prop}>":
            found.setdefault(s, []).append(o)
    return found


def test_plate_wells_are_read_concurrently() -> None:
    plate, docs = v2_plate(rows=4, columns=6, fields=2)  # 24 wells, 48 fields
    source = DictSource(docs)
    group = ome_group_v2({"plate": plate})
    with ThreadPoolExecutor(4, thread_name_prefix="test-read") as pool:
        found = HierarchyReader(source, DS, group, executor=pool).read()
    assert found.errors == [] and found.warnings == []
    assert any(name.startswith("test-read") for name in source.threads)
    images = {o for o in subjects(found.triples, "image").get(f"<{DS}>", [])}
    assert len(images) == 48 and f"<{DS}D/6/1/>" in images
    level = f"<{DS}B/3/1/#level-0>"
    assert subjects(found.triples, "translation")[level] == ['"0,10,20"']
    assert subjects(found.triples, "scale")[level] == ['"1,0.5,0.5"']
    assert subjects(found.triples, "dataType")[level] == ['"uint8"']
    assert found.nodes_read == 24 + 48 + 48  # wells, fields, their arrays
    assert found.nodes_missing == 0  # the optional labels groups are not counted
    # every document asked for is a metadata document
    assert all(p.rsplit("/", 1)[-1] in (".zattrs", ".zarray", ".zmetadata") for p in source.asked)


def test_node_guard_counts_what_was_left() -> None:
    plate, docs = v2_plate(rows=2, columns=2, fields=3)
    found = HierarchyReader(
        DictSource(docs), DS, ome_group_v2({"plate": plate}), max_nodes=5
    ).read()
    [warning] = found.warnings
    # 4 wells; then 12 fields of which 1 fits; then that field's array and labels group
    assert "--max-nodes-per-dataset 5" in warning and "13 more nodes" in warning
    assert found.nodes_read == 5


def test_unexpected_shapes_are_errors_not_crashes() -> None:
    docs = {
        "zarr.json": {},
        "0/zarr.json": {"node_type": "array", "shape": "big", "data_type": "uint8"},
        "labels/zarr.json": {
            "node_type": "group",
            "attributes": {"ome": {"labels": [3, "x"]}},
        },
        "labels/x/zarr.json": {
            "node_type": "group",
            "attributes": {"ome": {"multiscales": [{"axes": "xy", "datasets": "0"}]}},
        },
    }
    attrs = {
        "version": "0.5",
        "multiscales": [{"axes": [{"name": "x", "type": "space"}], "datasets": [{"path": "0"}]}],
    }
    group = ome_group_v3({"node_type": "group", "attributes": {"ome": attrs}})
    found = HierarchyReader(DictSource(docs), "https://example.org/i/", group).read()
    assert any("0/zarr.json" in e and "shape" in e for e in found.errors)
    assert any("labels/x/zarr.json" in e for e in found.errors)
    assert any("labels entry 3" in w for w in found.warnings)


def test_sources_refuse_anything_but_metadata(tmp_path) -> None:
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "zarr.json").write_text("{}")
    (tmp_path / "0" / "c").write_text("chunk")
    source = LocalSource(tmp_path, names={"0"})
    assert source.get("0/zarr.json") == b"{}"
    assert source.get("1/zarr.json") is None and not source.might_have("1/zarr.json")
    for bad in ("0/c", "../x/zarr.json", "/etc/zarr.json"):
        with pytest.raises(ExtractionError):
            source.get(bad)


def test_scale_in_a_file_is_a_warning_and_translation_without_scale() -> None:
    from ngff_kg.extract.ngff import ngff_triples

    attrs = {
        "version": "0.5",
        "multiscales": [
            {
                "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                "datasets": [
                    {"path": "0", "coordinateTransformations": [{"type": "scale", "path": "s"}]},
                    {
                        "path": "1",
                        "coordinateTransformations": [
                            {"type": "translation", "translation": [0.5, 1]}
                        ],
                    },
                ],
            }
        ],
    }
    group = ome_group_v3({"node_type": "group", "attributes": {"ome": attrs}})
    notes: list[str] = []
    _kind, triples, errors = ngff_triples("https://example.org/i/", group, notes)
    assert errors == []
    assert len(notes) == 1 and "stored in a file ('s') is not read" in notes[0]
    scales = subjects(triples, "scale")
    assert "<https://example.org/i/#level-0>" not in scales
    assert scales["<https://example.org/i/#level-1>"] == ['"1,1"']
    assert subjects(triples, "translation")["<https://example.org/i/#level-1>"] == ['"0.5,1"']
    assert subjects(triples, "pixelSize") == {}  # level 0 has no known size

"""Validation results kept for recent documents: a document equal to one validated before
gets the same violations, under its own name, and the memory they use is bounded."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import ngff_spec_fixtures as fx
import pytest

from ngff_kg.extract import validate_ngff
from ngff_kg.extract.validate_ngff import Validation, _Recent, validate_group


def _uncached(attrs: dict, version: str, document: str, **kwargs: bool) -> Validation:
    validate_ngff._RECENT.clear()
    try:
        return validate_group(attrs, version, document, **kwargs)
    finally:
        validate_ngff._RECENT.clear()


def _broken_plate(tmp_path: Path) -> dict:
    fx.broken_plate(tmp_path / "broken.zarr")
    return json.loads((tmp_path / "broken.zarr" / ".zattrs").read_text())


def _documents(tmp_path: Path) -> list[tuple[dict, str]]:
    broken = _broken_plate(tmp_path)
    one_axis = {
        "version": "0.5",
        "multiscales": [
            {
                "axes": [{"name": "x", "type": "space", "unit": "pixel"}],  # MUST and SHOULD
                "datasets": [
                    {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1]}]}
                ],
            }
        ],
    }
    fx.v05_image(tmp_path / "valid.zarr")
    valid = json.loads((tmp_path / "valid.zarr" / "zarr.json").read_text())["attributes"]["ome"]
    layout = {"bioformats2raw.layout": 3}
    return [(broken, "0.4"), (one_axis, "0.5"), (valid, "0.5"), (layout, "0.4")]


def test_a_document_validated_again_gets_the_same_violations_under_its_own_name(
    tmp_path: Path,
) -> None:
    for attrs, version in _documents(tmp_path):
        expected = _uncached(attrs, version, "A/1/.zattrs", non_finite=False)
        first = validate_group(attrs, version, "A/1/.zattrs", non_finite=False)
        again = validate_group(copy.deepcopy(attrs), version, "B/2/.zattrs", non_finite=False)
        assert first == expected
        assert again.validator == expected.validator
        assert again.more == expected.more
        assert {v.document for v in again.violations} <= {"B/2/.zattrs"}
        assert [(v.path, v.rule, v.message, v.severity) for v in again.violations] == [
            (v.path, v.rule, v.message, v.severity) for v in expected.violations
        ]
        # the search for NaN finds none: the same result as without it
        assert validate_group(attrs, version, "A/1/.zattrs") == expected


def test_the_broken_plate_is_answered_from_the_recent_documents(tmp_path: Path) -> None:
    attrs = _broken_plate(tmp_path)
    validate_ngff._RECENT.clear()
    first = validate_group(attrs, "0.4", ".zattrs")
    assert len(validate_ngff._RECENT) == 1
    calls = []
    original = validate_ngff._model_violations

    def counted(*args: object) -> int:
        calls.append(args)
        return original(*args)  # type: ignore[arg-type]

    validate_ngff._model_violations = counted  # type: ignore[assignment]
    try:
        again = validate_group(attrs, "0.4", "other/.zattrs")
    finally:
        validate_ngff._model_violations = original
    assert calls == []
    assert len(again.violations) == len(first.violations) > 0


def test_the_key_tells_documents_apart() -> None:
    recent = _Recent(entries=8, max_key=1 << 16, max_bytes=1 << 20)
    # key order, int or float, model version: each is another document
    assert recent.key("0.4", {"a": 1, "b": 2}) != recent.key("0.4", {"b": 2, "a": 1})
    assert recent.key("0.4", {"a": 1}) != recent.key("0.4", {"a": 1.0})
    assert recent.key("0.4", {"a": True}) != recent.key("0.4", {"a": 1})
    assert recent.key("0.4", {"a": 1}) != recent.key("0.5", {"a": 1})
    # what orjson cannot write is not kept (an integer beyond 64 bits)
    assert recent.key("0.4", {"a": 2**70}) is None


def test_documents_with_nan_are_never_answered_from_another_document() -> None:
    scale = {"type": "scale", "scale": [None, 1.0]}
    level = {"path": "0", "coordinateTransformations": [scale]}
    axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    with_null = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": [level]}]}
    with_nan = copy.deepcopy(with_null)
    with_nan["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"][0] = float(
        "nan"
    )
    validate_ngff._RECENT.clear()
    validate_group(with_null, "0.5", "zarr.json")
    nan = validate_group(with_nan, "0.5", "zarr.json")
    assert nan == _uncached(with_nan, "0.5", "zarr.json")
    assert any(v.rule == "non-finite" for v in nan.violations)


def test_recent_documents_are_bounded() -> None:
    recent = _Recent(entries=2, max_key=100, max_bytes=150)
    keys = [recent.key("0.5", {"n": i}) for i in range(3)]
    assert all(k is not None for k in keys)
    a, b, c = keys
    assert a is not None and b is not None and c is not None
    recent.put(a, ((), 0))
    recent.put(b, ((), 1))
    assert recent.get(a) == ((), 0)  # a is now the most recently used
    recent.put(c, ((), 2))
    assert len(recent) == 2
    assert recent.get(b) is None  # the least recently used went
    assert recent.get(a) == ((), 0) and recent.get(c) == ((), 2)
    # a document longer than max_key is not kept
    assert recent.key("0.5", {"s": "x" * 200}) is None
    # nor more key bytes than max_bytes
    big = _Recent(entries=100, max_key=100, max_bytes=150)
    for i in range(10):
        key = big.key("0.5", {"s": f"{i}" + "x" * 60})
        assert key is not None
        big.put(key, ((), 0))
        assert big.size <= 150
    assert len(big) == 2


def test_the_module_cache_skips_large_documents() -> None:
    validate_ngff._RECENT.clear()
    wells = [{"path": f"A/{i}", "rowIndex": 0, "columnIndex": i} for i in range(5_000)]
    plate = {"rows": [{"name": "A"}], "columns": [{"name": str(i)} for i in range(5_000)]}
    validate_group({"version": "0.5", "plate": {**plate, "wells": wells}}, "0.5", "zarr.json")
    assert len(validate_ngff._RECENT) == 0


@pytest.mark.parametrize("threads", [4])
def test_threads_validating_together_get_their_own_results(tmp_path: Path, threads: int) -> None:
    documents = _documents(tmp_path)
    expected = [_uncached(a, v, f"{i}/zarr.json") for i, (a, v) in enumerate(documents)]
    results: list[list[Validation]] = [[] for _ in range(threads)]

    def work(slot: int) -> None:
        for _ in range(5):
            for i, (attrs, version) in enumerate(documents):
                results[slot].append(validate_group(attrs, version, f"{i}/zarr.json"))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for found in results:
        assert found == expected * 5

"""Bounded reads: only regular files, at most the configured size; clean errors for the rest."""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest

from ngff_kg import jsonio, rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.extract.samples import parse_sample_list, read_sample_list, sample_list_triples
from ngff_kg.limits import Limits, read_regular_file
from ngff_kg.sources.local import LocalSource
from ngff_kg.sources.walk import WalkError, walk

ZARR_JSON = json.dumps(
    {
        "zarr_format": 3,
        "node_type": "group",
        "attributes": {"ome": {"version": "0.5", "multiscales": [{"datasets": []}]}},
    }
).encode()


def run_with_timeout(func, *args, seconds: float = 10.0):  # type: ignore[no-untyped-def]
    """Call ``func`` in a thread; fail (instead of hanging the suite) when it blocks."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = func(*args)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{func.__name__} blocked for {seconds} s"
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result.get("value")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_is_reported_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "zarr.json")
    with pytest.raises(ExtractionError, match="FIFO"):
        run_with_timeout(read_regular_file, tmp_path / "zarr.json")
    with pytest.raises(ExtractionError, match="FIFO"):
        run_with_timeout(LocalSource(tmp_path).get, "zarr.json")
    found = run_with_timeout(lambda: list(walk(tmp_path)))
    assert [type(f) for f in found] == [WalkError]
    assert "FIFO" in found[0].reason


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_link_to_an_endless_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ro-crate-metadata.json").symlink_to("/dev/zero")
    with pytest.raises(ExtractionError, match="character device"):
        run_with_timeout(LocalSource(tmp_path).get, "ro-crate-metadata.json")


def test_symlink_loop_and_directory(tmp_path: Path) -> None:
    (tmp_path / "zarr.json").symlink_to(tmp_path / "zarr.json")
    with pytest.raises(ExtractionError, match="loop"):
        read_regular_file(tmp_path / "zarr.json")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".zattrs").mkdir()
    with pytest.raises(ExtractionError, match="directory"):
        LocalSource(tmp_path / "sub").get(".zattrs")
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "missing.json")
    # a walk through loops and odd entries ends, and reports what it cannot read
    (tmp_path / "loop").symlink_to(tmp_path)
    found = run_with_timeout(lambda: list(walk(tmp_path)))
    assert {type(f) for f in found} == {WalkError}


def test_size_limit_reads_at_most_limit_plus_one(tmp_path: Path) -> None:
    path = tmp_path / "zarr.json"
    path.write_bytes(ZARR_JSON)
    assert read_regular_file(path, Limits(max_document_bytes=len(ZARR_JSON))) == ZARR_JSON
    with pytest.raises(ExtractionError, match="limit"):
        read_regular_file(path, Limits(max_document_bytes=len(ZARR_JSON) - 1))
    source = LocalSource(tmp_path, limits=Limits(max_document_bytes=10))
    with pytest.raises(ExtractionError, match="limit"):
        source.get("zarr.json")
    assert LocalSource(tmp_path).get("zarr.json") == ZARR_JSON


def test_too_deep_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested deeper"):
        jsonio.loads(b"[" * 5000 + b"]" * 5000)


@pytest.mark.parametrize("text", [b"[NaN]", b"[Infinity]", b"[-Infinity]", b"[1e999]", b"[-1e999]"])
def test_non_finite_numbers_are_read_as_the_standard_library_reads_them(text: bytes) -> None:
    # not JSON (RFC 8259), but written by metadata writers: read, so that the extractors can
    # report and drop them and keep the rest of the document (the reference: json.loads)
    [value] = jsonio.loads(text)
    [reference] = json.loads(text)
    assert not math.isfinite(value) and (value == reference or value != value)


def test_json_still_reads_what_is_json() -> None:
    big = b'{"a": 18446744073709551617, "b": "\\ud800", "c": 1.5e300}'
    assert jsonio.loads(big)["c"] == json.loads(big)["c"]
    assert jsonio.loads(b"[" * 500 + b"]" * 500) == json.loads("[" * 500 + "]" * 500)


def test_hostile_csv_rows_are_skipped_and_reported(tmp_path: Path) -> None:
    text = (
        "url,written,origin\n"
        "http://[::1,5,x\n"
        "http://%zz/a,1e999,://y\n"
        '"' + "a" * 1_000_000 + '",1\n'
        "https://ok.example.org/x.zarr,12,http://o rg/\n"
        "rel path,1,\n"
    )
    parsed = parse_sample_list(text)
    urls = [r.url for r in parsed.rows]
    assert "https://ok.example.org/x.zarr/" in urls
    assert all(rdf.iri_is_valid(u) for u in urls)
    assert any("field" in w for w in parsed.warnings)
    # rows whose URL is no IRI name no dataset: errors of the list, left out
    for bad in ("[::1", "%zz", "rel path"):
        assert any(bad in e for e in parsed.errors), (bad, parsed.errors)
    # every triple of the list parses in Oxigraph
    triples = sample_list_triples("http://example.org/list.csv", parsed)
    quads = rdf.nquads(triples, "<http://example.org/g>")
    assert len(list(ox.parse(quads.encode(), format=ox.RdfFormat.N_QUADS))) == len(triples)
    # a lower field limit is honoured; the row count limit stops the list
    few = parse_sample_list(
        "url\n" + "".join(f"https://e.org/{i}.zarr\n" for i in range(10)),
        Limits(max_csv_rows=3, max_csv_field_chars=100),
    )
    assert len(few.rows) == 3 and "more than 3 rows" in few.warnings[-1]
    path = tmp_path / "list.csv"
    path.write_bytes(b"url\n\xff\n")
    with pytest.raises(ExtractionError, match="UTF-8"):
        read_sample_list(path)


def _stat_saying(size: int, real: os.stat_result) -> os.stat_result:
    fields = list(real[:10])
    fields[6] = size  # st_size
    return os.stat_result(fields)


@pytest.mark.parametrize("said", [0, 1, len(ZARR_JSON) // 2])
def test_a_file_that_grew_since_its_fstat_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, said: int
) -> None:
    path = tmp_path / "zarr.json"
    path.write_bytes(ZARR_JSON * 5000)  # several chunks beyond what fstat says
    fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: _stat_saying(said, fstat(fd)))
    assert read_regular_file(path) == ZARR_JSON * 5000
    # the bound holds for what is read, whatever fstat said
    limit = len(ZARR_JSON) * 5000 - 1
    with pytest.raises(ExtractionError, match="grew beyond the limit"):
        read_regular_file(path, Limits(max_document_bytes=limit))


def test_reads_are_bounded_by_the_limit_plus_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "zarr.json"
    path.write_bytes(ZARR_JSON * 100)
    fstat, read = os.fstat, os.read
    asked: list[int] = []
    got: list[int] = []

    def counted(fd: int, n: int) -> bytes:
        asked.append(n)
        data = read(fd, n)
        got.append(len(data))
        return data

    monkeypatch.setattr(os, "fstat", lambda fd: _stat_saying(10, fstat(fd)))
    monkeypatch.setattr(os, "read", counted)
    limit = len(ZARR_JSON) * 50
    with pytest.raises(ExtractionError, match="grew beyond the limit"):
        read_regular_file(path, Limits(max_document_bytes=limit))
    assert asked[0] == 11  # st_size + 1 first
    assert sum(got) == limit + 1  # never more than the limit and one byte
    # an unchanged file: its size and one byte more, in one read (fewer bytes came: its end)
    asked.clear()
    monkeypatch.setattr(os, "fstat", fstat)
    assert read_regular_file(path) == ZARR_JSON * 100
    assert asked == [len(ZARR_JSON) * 100 + 1]
    # an empty file: one read
    asked.clear()
    (tmp_path / "empty.json").write_bytes(b"")
    assert read_regular_file(tmp_path / "empty.json") == b""
    assert asked == [1]


@pytest.mark.parametrize("most", [1, 7, len(ZARR_JSON) - 1])
def test_a_file_system_giving_fewer_bytes_before_the_end_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, most: int
) -> None:
    """Network and FUSE file systems may answer a read with fewer bytes than asked before
    the end of the file: the document is read on to its end, not cut short."""
    path = tmp_path / "zarr.json"
    path.write_bytes(ZARR_JSON * 3)
    read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: read(fd, min(n, most)))
    assert read_regular_file(path) == ZARR_JSON * 3
    (tmp_path / "empty.json").write_bytes(b"")
    assert read_regular_file(tmp_path / "empty.json") == b""

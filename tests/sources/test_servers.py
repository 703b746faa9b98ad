"""The loopback test servers of ``servers.py``, read with obstore as the harvester reads them."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import socket
import time
from datetime import timedelta
from pathlib import Path

import obstore
import pytest
from obstore.exceptions import GenericError, NotModifiedError
from obstore.store import HTTPStore
from servers import (
    FixtureHttpServer,
    FixtureS3Server,
    Request,
    http_server,
    http_server_factory,
    s3_server,
)

# The fixtures imported are used as test arguments; listing them here tells linters so.
__all__ = ["http_server", "http_server_factory", "s3_server"]

GROUP = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5"}}}
ARRAY = {"zarr_format": 3, "node_type": "array", "shape": [2, 3], "data_type": "uint8"}
CRATE = {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": []}

FILES = {
    "ro-crate-metadata.json": CRATE,
    "a.zarr/zarr.json": GROUP,
    "a.zarr/0/zarr.json": ARRAY,
    "b c.zarr/zarr.json": GROUP,  # a space: percent-encoded in URLs
}

RETRIES = {
    "max_retries": 3,
    "backoff": {
        "init_backoff": timedelta(milliseconds=10),
        "max_backoff": timedelta(milliseconds=100),
        "base": 2,
    },
    "retry_timeout": timedelta(seconds=10),
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small OME-Zarr metadata tree in ``tmp_path / "root"``, and a file beside it."""
    root = tmp_path / "root"
    for name, document in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document))
    (tmp_path / "secret.txt").write_text("outside the root")
    return root


@pytest.fixture
def server(tree: Path, http_server_factory) -> FixtureHttpServer:
    return http_server_factory(tree)


def etag_of(path: Path) -> str:
    return f'"{hashlib.md5(path.read_bytes()).hexdigest()}"'


def retrying_store(server: FixtureHttpServer, timeout: str = "1s") -> HTTPStore:
    return HTTPStore.from_url(
        server.url,
        client_options={"allow_http": True, "timeout": timeout},
        retry_config=RETRIES,
    )


def raw_get(server: FixtureHttpServer, target: str, **headers: str) -> tuple[int, dict, bytes]:
    """A request sent as written (obstore normalises ``..`` and percent-escapes away)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# HTTP: files and validators


def test_files_are_served_with_validators(tree: Path, server: FixtureHttpServer) -> None:
    store = server.store()
    for name in FILES:
        result = obstore.get(store, name)
        path = tree / name
        assert bytes(result.bytes()) == path.read_bytes()
        assert result.meta["e_tag"] == etag_of(path)
        assert result.meta["size"] == path.stat().st_size
        mtime = dt.datetime.fromtimestamp(int(path.stat().st_mtime), dt.UTC)
        assert result.meta["last_modified"] == mtime
    head = obstore.head(store, "a.zarr/zarr.json")
    assert head["e_tag"] == etag_of(tree / "a.zarr/zarr.json")
    assert server.requests[-1] == Request("HEAD", "a.zarr/zarr.json", 200)
    # the path is recorded percent-decoded and without its leading slash
    assert server.count(path="b c.zarr/zarr.json", status=200) == 1
    assert server.url == f"http://127.0.0.1:{server.port}/"


def test_headers_on_the_wire(tree: Path, server: FixtureHttpServer) -> None:
    status, headers, body = raw_get(server, "/a.zarr/zarr.json")
    assert status == 200
    assert headers["ETag"] == etag_of(tree / "a.zarr/zarr.json")
    assert headers["Content-Length"] == str(len(body))
    assert headers["Content-Type"] == "application/json"
    mtime = int((tree / "a.zarr/zarr.json").stat().st_mtime)
    assert headers["Last-Modified"] == time.strftime(
        "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(mtime)
    )


def test_missing_files_and_directories_are_404(server: FixtureHttpServer) -> None:
    store = server.store()
    for name in ("missing.json", "a.zarr", "a.zarr/", "a.zarr/0", ""):
        # obstore raises the builtin FileNotFoundError for a 404, not its NotFoundError
        with pytest.raises(FileNotFoundError):
            obstore.get(store, name)
    assert server.count(status=404) == 5
    assert server.count() == 5
    # no listing: object_store's HTTP client lists with WebDAV PROPFIND, answered 405
    with pytest.raises(GenericError, match="405"):
        obstore.list_with_delimiter(store, "a.zarr/")
    assert server.requests[-1].method == "PROPFIND"
    assert server.requests[-1].status == 405


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/a.zarr/../../secret.txt",
        "/a.zarr/%2E%2E/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/a.zarr/0/../../../secret.txt",
    ],
)
def test_paths_leaving_the_root_are_404(server: FixtureHttpServer, target: str) -> None:
    status, _, body = raw_get(server, target)
    assert (status, body) == (404, b"")


def test_dot_segments_inside_the_root_are_resolved(tree: Path, server: FixtureHttpServer) -> None:
    status, _, body = raw_get(server, "/a.zarr/0/../../ro-crate-metadata.json")
    assert status == 200
    assert body == (tree / "ro-crate-metadata.json").read_bytes()


def test_if_none_match_gives_304(tree: Path, server: FixtureHttpServer) -> None:
    store = server.store()
    etag = obstore.get(store, "a.zarr/zarr.json").meta["e_tag"]
    with pytest.raises(NotModifiedError):
        obstore.get(store, "a.zarr/zarr.json", options={"if_none_match": etag})
    assert server.requests[-1] == Request("GET", "a.zarr/zarr.json", 304, conditional=True)
    assert raw_get(server, "/a.zarr/zarr.json", **{"If-None-Match": "*"})[0] == 304
    assert raw_get(server, "/a.zarr/zarr.json", **{"If-None-Match": f'"x", W/{etag}'})[0] == 304
    # the file changed on disk: a new ETag, served again
    (tree / "a.zarr/zarr.json").write_text(json.dumps({**GROUP, "attributes": {}}))
    result = obstore.get(store, "a.zarr/zarr.json", options={"if_none_match": etag})
    assert result.meta["e_tag"] != etag
    assert json.loads(bytes(result.bytes())) == {**GROUP, "attributes": {}}
    assert server.requests[-1] == Request("GET", "a.zarr/zarr.json", 200, conditional=True)


def test_if_modified_since_gives_304(tree: Path, server: FixtureHttpServer) -> None:
    store = server.store()
    modified = obstore.head(store, "a.zarr/zarr.json")["last_modified"]
    with pytest.raises(NotModifiedError):
        obstore.get(store, "a.zarr/zarr.json", options={"if_modified_since": modified})
    earlier = modified - timedelta(seconds=1)
    result = obstore.get(store, "a.zarr/zarr.json", options={"if_modified_since": earlier})
    assert result.meta["last_modified"] == modified
    later = modified.timestamp() + 10
    os.utime(tree / "a.zarr/zarr.json", (later, later))
    result = obstore.get(store, "a.zarr/zarr.json", options={"if_modified_since": modified})
    assert result.meta["last_modified"].timestamp() == later
    assert [r.status for r in server.requests] == [200, 304, 200, 200]
    assert [r.conditional for r in server.requests] == [False, True, True, True]


def test_if_match_gives_412(server: FixtureHttpServer) -> None:
    store = server.store()
    etag = obstore.head(store, "a.zarr/zarr.json")["e_tag"]
    assert obstore.get(store, "a.zarr/zarr.json", options={"if_match": etag}).meta["e_tag"] == etag
    assert raw_get(server, "/a.zarr/zarr.json", **{"If-Match": '"other"'})[0] == 412


def test_byte_ranges(tree: Path, server: FixtureHttpServer) -> None:
    content = (tree / "a.zarr/zarr.json").read_bytes()
    store = server.store()
    assert bytes(obstore.get_range(store, "a.zarr/zarr.json", start=2, end=9)) == content[2:9]
    assert server.requests[-1].status == 206
    status, headers, body = raw_get(server, "/a.zarr/zarr.json", Range="bytes=-4")
    assert (status, body) == (206, content[-4:])
    assert headers["Content-Range"] == f"bytes {len(content) - 4}-{len(content) - 1}/{len(content)}"
    assert raw_get(server, "/a.zarr/zarr.json", Range=f"bytes={len(content)}-")[0] == 416
    assert raw_get(server, "/a.zarr/zarr.json", Range="bytes=0-1,4-5")[0] == 200


def test_connections_are_kept_alive(server: FixtureHttpServer) -> None:
    store = server.store()
    for _ in range(20):
        obstore.get(store, "a.zarr/zarr.json").bytes()
    assert server.count(status=200) == 20
    # mostly one connection; reqwest may open another before the first is back in its pool
    assert server.connection_count <= 3


def test_pipelined_requests_are_answered_in_order(tree: Path, server: FixtureHttpServer) -> None:
    requests = (
        b"GET /a.zarr/zarr.json HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /a.zarr/zarr.json HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        b"HEAD /ro-crate-metadata.json HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /ro-crate-metadata.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(requests)
        received = b""
        while chunk := sock.recv(65536):  # the server closes after the last
            received += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", received)
    assert statuses == [b"200", b"405", b"200", b"200"]
    assert received.endswith((tree / "ro-crate-metadata.json").read_bytes())
    assert [(r.method, r.status) for r in server.requests] == [
        ("GET", 200),
        ("POST", 405),
        ("HEAD", 200),
        ("GET", 200),
    ]


def test_request_log(server: FixtureHttpServer) -> None:
    store = server.store()
    obstore.get(store, "a.zarr/zarr.json")
    obstore.head(store, "a.zarr/zarr.json")
    with pytest.raises(FileNotFoundError):
        obstore.get(store, "nothing.json")
    assert server.requests == [
        Request("GET", "a.zarr/zarr.json", 200),
        Request("HEAD", "a.zarr/zarr.json", 200),
        Request("GET", "nothing.json", 404),
    ]
    assert server.count() == 3
    assert server.count(method="GET") == 2
    assert server.count(status=200) == 2
    assert server.count(status=404, method="GET") == 1
    server.requests.clear()  # a copy: the log is untouched
    assert server.count() == 3
    server.reset()
    assert server.requests == []


# HTTP: latency


def test_latency_is_added_and_changeable(server: FixtureHttpServer) -> None:
    store = server.store()
    obstore.get(store, "a.zarr/zarr.json")  # connect first
    server.latency = 0.2
    start = time.perf_counter()
    obstore.get(store, "a.zarr/zarr.json").bytes()
    assert time.perf_counter() - start >= 0.2
    server.latency = 0.0
    start = time.perf_counter()
    obstore.get(store, "a.zarr/zarr.json").bytes()
    assert time.perf_counter() - start < 0.1


def test_concurrent_requests_overlap(tree: Path, http_server_factory) -> None:
    server = http_server_factory(tree, latency=0.2)
    store = server.store()
    names = list(FILES) * 5

    async def fetch_all() -> list[bytes]:
        results = await asyncio.gather(*(obstore.get_async(store, n) for n in names))
        return [bytes(await r.bytes_async()) for r in results]

    start = time.perf_counter()
    bodies = asyncio.run(fetch_all())
    elapsed = time.perf_counter() - start
    assert len(names) == 20
    assert bodies == [(tree / n).read_bytes() for n in names]
    assert 0.2 <= elapsed < 1.0  # one after another: 20 × 0.2 s = 4 s
    assert server.count(status=200) == 20


# HTTP: failures


def test_503_and_429_are_retried(tree: Path, server: FixtureHttpServer) -> None:
    server.fail("a.zarr/zarr.json", 503, 429)
    result = obstore.get(retrying_store(server), "a.zarr/zarr.json")
    assert bytes(result.bytes()) == (tree / "a.zarr/zarr.json").read_bytes()
    assert [r.status for r in server.requests] == [503, 429, 200]
    assert server.count(path="a.zarr/zarr.json") == 3


def test_an_injected_200_has_an_empty_body(server: FixtureHttpServer) -> None:
    server.fail("a.zarr/zarr.json", 200)
    assert bytes(obstore.get(server.store(), "a.zarr/zarr.json").bytes()) == b""


def test_malformed_requests_get_400_and_a_closed_connection(server: FixtureHttpServer) -> None:
    for request in (
        b"GARBAGE\r\n\r\n",
        b"GET /a.zarr/zarr.json HTTP/1.1\r\nContent-Length: -3\r\n\r\n",
        b"GET /a.zarr/zarr.json HTTP/1.1\r\nno colon\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(request)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert b"Connection: close" in received
    assert [r.status for r in server.requests] == [400] * 3


def test_429_says_retry_after(server: FixtureHttpServer) -> None:
    server.fail("ro-crate-metadata.json", 429)
    status, headers, body = raw_get(server, "/ro-crate-metadata.json")
    assert (status, headers["Retry-After"], body) == (429, "0", b"")
    assert raw_get(server, "/ro-crate-metadata.json")[0] == 200  # consumed


def test_permanent_500_fails_naming_the_status(server: FixtureHttpServer) -> None:
    server.fail_always("a.zarr/zarr.json", 500)
    store = retrying_store(server)
    with pytest.raises(GenericError, match="500 Internal Server Error"):
        obstore.get(store, "a.zarr/zarr.json")
    assert [r.status for r in server.requests] == [500] * 4  # the request and 3 retries
    assert obstore.get(store, "a.zarr/0/zarr.json").meta["size"] > 0  # other paths unaffected
    server.clear_failures()
    assert obstore.get(store, "a.zarr/zarr.json").meta["size"] > 0


def test_404_is_not_retried(server: FixtureHttpServer) -> None:
    with pytest.raises(FileNotFoundError):
        obstore.get(retrying_store(server), "missing.json")
    assert server.count() == 1


def test_hang_times_out_and_is_retried(tree: Path, server: FixtureHttpServer) -> None:
    server.fail("a.zarr/zarr.json", "hang")
    start = time.perf_counter()
    result = obstore.get(retrying_store(server, timeout="500ms"), "a.zarr/zarr.json")
    elapsed = time.perf_counter() - start
    assert bytes(result.bytes()) == (tree / "a.zarr/zarr.json").read_bytes()
    assert 0.5 <= elapsed < server.hang_seconds
    # the hung request was never answered: the client gave up on it
    assert [r.status for r in server.requests] == [0, 200]


def test_hang_without_retries_raises_a_timeout(server: FixtureHttpServer) -> None:
    server.fail("a.zarr/zarr.json", "hang")
    store = HTTPStore.from_url(
        server.url,
        client_options={"allow_http": True, "timeout": "200ms"},
        retry_config={"max_retries": 0},
    )
    with pytest.raises(GenericError, match="Timeout"):
        obstore.get(store, "a.zarr/zarr.json")


def test_hang_answers_normally_after_hang_seconds(tree: Path, http_server_factory) -> None:
    server = http_server_factory(tree, hang_seconds=0.3)
    server.fail("a.zarr/zarr.json", "hang")
    start = time.perf_counter()
    status, _, body = raw_get(server, "/a.zarr/zarr.json")
    assert time.perf_counter() - start >= 0.3
    assert (status, body) == (200, (tree / "a.zarr/zarr.json").read_bytes())


def test_reset_is_retried(tree: Path, server: FixtureHttpServer) -> None:
    server.fail("a.zarr/zarr.json", "reset")
    result = obstore.get(retrying_store(server), "a.zarr/zarr.json")
    assert bytes(result.bytes()) == (tree / "a.zarr/zarr.json").read_bytes()
    assert [r.status for r in server.requests] == [0, 200]
    assert server.connection_count >= 2  # the reset connection, then a new one
    server.fail("a.zarr/zarr.json", "reset")
    with pytest.raises(http.client.RemoteDisconnected):
        raw_get(server, "/a.zarr/zarr.json")


def test_failures_are_consumed_in_order_per_path(server: FixtureHttpServer) -> None:
    server.fail("/a.zarr/zarr.json", 500, 404)  # a leading slash is ignored
    server.fail("a.zarr/zarr.json", 503)
    assert raw_get(server, "/a.zarr/0/zarr.json")[0] == 200
    assert [raw_get(server, "/a.zarr/zarr.json")[0] for _ in range(4)] == [500, 404, 503, 200]
    server.fail("a.zarr/zarr.json", 502)
    server.fail_always("a.zarr/zarr.json", 500)
    assert [raw_get(server, "/a.zarr/zarr.json")[0] for _ in range(3)] == [502, 500, 500]
    server.clear_failures()
    assert raw_get(server, "/a.zarr/zarr.json")[0] == 200


@pytest.mark.parametrize("response", ["boom", 100, 600, True, None])
def test_fail_rejects_unknown_responses(server: FixtureHttpServer, response: object) -> None:
    with pytest.raises(ValueError):
        server.fail("a.zarr/zarr.json", 503, response)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        server.fail_always("a.zarr/zarr.json", response)  # type: ignore[arg-type]
    assert raw_get(server, "/a.zarr/zarr.json")[0] == 200  # nothing was queued


def test_fail_always_takes_a_status_only(server: FixtureHttpServer) -> None:
    with pytest.raises(TypeError):
        server.fail_always("a.zarr/zarr.json", "hang")  # type: ignore[arg-type]


# HTTP: life cycle and fixtures


def test_start_and_stop(tree: Path) -> None:
    server = FixtureHttpServer(tree)
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018
    assert server.start() is server
    port = server.port
    store = server.store()
    assert obstore.get(store, "a.zarr/zarr.json").meta["size"] > 0  # a kept-alive connection
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018
    server.stop()  # twice: nothing to do


def test_http_server_fixture_serves_files_written_later(http_server: FixtureHttpServer) -> None:
    store = http_server.store()
    with pytest.raises(FileNotFoundError):
        obstore.get(store, "x.zarr/zarr.json")
    (http_server.root / "x.zarr").mkdir()
    (http_server.root / "x.zarr/zarr.json").write_text(json.dumps(GROUP))
    assert json.loads(bytes(obstore.get(store, "x.zarr/zarr.json").bytes())) == GROUP
    assert [r.status for r in http_server.requests] == [404, 200]


# S3


BUCKET = "ngff-fixtures"


def test_s3_upload_list_and_get(tree: Path, s3_server: FixtureS3Server) -> None:
    keys = s3_server.upload(tree, BUCKET, prefix="v1/")
    assert keys == sorted("v1/" + name for name in FILES)
    assert s3_server.requests == []  # the uploads are not recorded
    store = s3_server.store(BUCKET)
    top = obstore.list_with_delimiter(store, "v1/")
    assert sorted(top["common_prefixes"]) == ["v1/a.zarr", "v1/b c.zarr"]
    assert [o["path"] for o in top["objects"]] == ["v1/ro-crate-metadata.json"]
    inner = obstore.list_with_delimiter(store, "v1/a.zarr/")
    assert inner["common_prefixes"] == ["v1/a.zarr/0"]
    assert [o["path"] for o in inner["objects"]] == ["v1/a.zarr/zarr.json"]
    assert inner["objects"][0]["e_tag"] == etag_of(tree / "a.zarr/zarr.json")
    for name in FILES:
        result = obstore.get(store, "v1/" + name)
        assert bytes(result.bytes()) == (tree / name).read_bytes()
        assert result.meta["e_tag"] == etag_of(tree / name)
    listing = s3_server.requests[0]
    assert (listing.method, listing.path, listing.status) == ("GET", BUCKET, 200)
    assert "delimiter=%2F" in listing.query and "prefix=v1%2F" in listing.query
    assert s3_server.count(method="GET", status=200) == 2 + len(FILES)
    assert s3_server.count(path=f"{BUCKET}/v1/b c.zarr/zarr.json") == 1


def test_s3_conditional_get_and_missing_keys(tree: Path, s3_server: FixtureS3Server) -> None:
    s3_server.upload(tree, BUCKET)
    store = s3_server.store(BUCKET)
    etag = obstore.head(store, "a.zarr/zarr.json")["e_tag"]
    with pytest.raises(NotModifiedError):
        obstore.get(store, "a.zarr/zarr.json", options={"if_none_match": etag})
    with pytest.raises(FileNotFoundError):
        obstore.get(store, "missing.json")
    assert s3_server.requests == [
        Request("HEAD", f"{BUCKET}/a.zarr/zarr.json", 200),
        Request("GET", f"{BUCKET}/a.zarr/zarr.json", 304, conditional=True),
        Request("GET", f"{BUCKET}/missing.json", 404),
    ]
    s3_server.reset()
    assert s3_server.count() == 0


def test_s3_upload_into_an_existing_bucket(tree: Path, s3_server: FixtureS3Server) -> None:
    s3_server.upload(tree / "a.zarr", BUCKET, prefix="first/")
    s3_server.upload(tree / "a.zarr", BUCKET, prefix="second/")
    store = s3_server.store(BUCKET)
    assert obstore.list_with_delimiter(store)["common_prefixes"] == ["first", "second"]


def test_s3_stop_deletes_its_buckets_only(tree: Path) -> None:
    with FixtureS3Server() as first:
        first.client().create_bucket(Bucket="kept")
        first.upload(tree, BUCKET)
        buckets = {b["Name"] for b in first.client().list_buckets()["Buckets"]}
        assert {"kept", BUCKET} <= buckets
    with FixtureS3Server() as second:  # moto's state is process-wide
        buckets = {b["Name"] for b in second.client().list_buckets()["Buckets"]}
        assert "kept" in buckets
        assert BUCKET not in buckets
        second.delete_bucket("kept")
        assert second.client().list_buckets()["Buckets"] == []
    with pytest.raises(RuntimeError):
        second.endpoint_url  # noqa: B018

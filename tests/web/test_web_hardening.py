"""The server's defences, over HTTP against ``ngff-kg serve``: security headers and CORS,
request-size limits, ``Accept`` parsing (RFC 9110), links only for http(s) values, short
queries answered beside runaway ones, and a newer harvest noticed while serving."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import EXAMPLES
from test_endpoint import COUNT, JSON, SLOW, http, sparql_get

from ngff_kg import Catalog
from ngff_kg.web.guard import MAX_BODY_BYTES, MAX_QUERY_STRING_BYTES
from ngff_kg.web.sparql import SOLUTION_FORMATS, negotiate, parse_accept

LAB = EXAMPLES / "data.example.org" / "Example Lab"
DATASETS = """PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>
SELECT ?dataset WHERE { ?dataset a nkg:OmeZarrDataset }"""
PAGES = ["", "dataset", "editor", "static/common.js", "api/status", "no-such-page"]


# ---------------------------------------------------------------------- headers and CORS


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(live_server: str, path: str) -> None:
    status, headers, _ = http(live_server + path)
    assert status in (200, 404)
    policy = {
        d.split()[0]: d.split()[1:] for d in headers["content-security-policy"].split(";") if d
    }
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval
    assert policy["frame-ancestors"] == ["'none'"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "access-control-allow-origin" not in headers  # CORS only on /sparql


def test_sparql_answers_cross_origin_requests(live_server: str) -> None:
    origin = {"Origin": "https://elsewhere.example"}
    status, headers, body = sparql_get(live_server, COUNT)
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    assert headers["x-content-type-options"] == "nosniff"
    form = urllib.parse.urlencode({"query": COUNT}).encode()
    kind = "application/x-www-form-urlencoded"
    status, headers, _ = http(
        live_server + "sparql", form, {**origin, "Content-Type": kind, "Accept": JSON}
    )
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    preflight = {
        **origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    status, headers, body = http(live_server + "sparql", headers=preflight, method="OPTIONS")
    assert status == 204 and body == b""
    assert headers["access-control-allow-origin"] == "*"
    methods = {m.strip() for m in headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST"} <= methods
    assert "content-type" in headers["access-control-allow-headers"].lower()
    # the pages and the API do not answer preflights
    assert http(live_server + "api/search", headers=preflight, method="OPTIONS")[0] == 405


def test_html_pages_have_no_inline_script_or_style() -> None:
    from ngff_kg.web.app import STATIC

    for page in STATIC.glob("*.html"):
        html = page.read_text("utf-8")
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert " on" not in html.replace("<option", "")  # no onclick= ... handlers


# ---------------------------------------------------------------------- request size


def raw_request(base: str, head: str, body_chunks: list[bytes]) -> tuple[int, bytes]:
    """Send a request over a plain socket, body chunk by chunk until the server answers
    or closes; the status and body of the answer."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
        sock.sendall(head.encode("latin-1"))
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed: stop sending
                break
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data
    head_bytes, _, rest = answer.partition(b"\r\n\r\n")
    return int(head_bytes.split()[1]), rest


def test_a_declared_body_over_the_limit_is_refused_unread(live_server: str) -> None:
    size = 50 * 1024 * 1024
    head = (
        "POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    # only 1 MiB of the announced 50 MiB is ever sent: the answer cannot wait for the rest
    status, body = raw_request(live_server, head, [b"#" * 65536] * 16)
    assert status == 413 and str(MAX_BODY_BYTES).encode() in body


def test_a_streamed_body_is_cut_at_the_limit(live_server: str) -> None:
    head = (
        "POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"#" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    # 50 MiB offered, without a length: the server must answer before it has all of it
    status, body = raw_request(live_server, head, [frame] * 800)
    assert status == 413 and b"request body is larger" in body


def test_a_body_within_the_limit_is_answered(live_server: str) -> None:
    padded = COUNT + "\n#" + "x" * (MAX_BODY_BYTES - len(COUNT) - 100)
    status, _, body = http(
        live_server + "sparql",
        padded.encode(),
        {"Content-Type": "application/sparql-query", "Accept": JSON},
    )
    assert status == 200 and json.loads(body)["results"]["bindings"]


def test_a_query_string_over_the_limit_is_refused(live_server: str) -> None:
    status, _, body = sparql_get(live_server, COUNT + " #" + "x" * MAX_QUERY_STRING_BYTES)
    assert status == 414 and b"POST the query" in body
    status, _, _ = sparql_get(live_server, COUNT + " #" + "x" * (MAX_QUERY_STRING_BYTES // 2))
    assert status == 200


# ---------------------------------------------------------------------- Accept


def test_accept_with_an_invalid_weight_counts_the_range_at_weight_1() -> None:
    # RFC 9110 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    assert parse_accept("*/*;q=abc") == [("*/*", 1.0)]
    assert parse_accept("text/csv;q=1.5, text/tsv;q=0.1234") == [
        ("text/csv", 1.0),
        ("text/tsv", 1.0),
    ]
    assert parse_accept("text/csv;q=0.125;level=1") == [("text/csv", 0.125)]  # extension
    assert parse_accept("nonsense, text/, */csv, text/csv;profile=x") == []


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,*/*;q=abc", "json"),
        ("text/html;q=0.9,*/*;q=0.8", "json"),
        ("text/csv, */*", "csv"),  # the named type beats the wildcard at equal weight
        ("*/*;q=0.5, text/*;q=0.9", "csv"),
        ("text/*, text/tab-separated-values;q=0", "csv"),
        ("application/sparql-results+json;q=0, application/sparql-results+xml;q=0.1", "xml"),
        ("text/csv;charset=utf-8", "csv"),
        ("*/*;q=0", None),
        ("text/*;q=0, image/png", None),
        ("application/sparql-results+json;q=0", None),
    ],
)
def test_negotiation_follows_rfc_9110(accept: str, expected: str | None) -> None:
    found = negotiate(accept, SOLUTION_FORMATS)
    assert (found.name if found else None) == expected


def test_endpoint_answers_a_browser_accept_with_a_bad_weight(live_server: str) -> None:
    status, headers, body = sparql_get(live_server, COUNT, "text/plain,*/*;q=abc")
    assert status == 200 and headers["content-type"].startswith(JSON)
    assert json.loads(body)["results"]["bindings"]
    assert sparql_get(live_server, COUNT, "*/*;q=0")[0] == 406


# ---------------------------------------------------------------------- servers of our own


@contextlib.contextmanager
def serving(store: Path, log: Path, *options: str) -> Iterator[str]:
    """``ngff-kg serve`` for ``store`` on a free loopback port, as in ``conftest.live_server``."""
    for module in ("starlette", "uvicorn"):
        pytest.importorskip(module, reason=f"{module} (the serve extra) is not installed")
    command = [sys.executable, "-m", "ngff_kg.cli", "serve", "--store", str(store), "--port", "0"]
    command += list(options)
    if shutil.which("timeout"):
        command = ["timeout", "-k", "10", "600", *command]
    with log.open("w") as errors:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, text=True, start_new_session=True
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout],  # type: ignore[union-attr]
        daemon=True,
    ).start()
    url = None
    deadline = time.monotonic() + 180
    try:
        while url is None and time.monotonic() < deadline and process.poll() is None:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            match = re.search(r"catalogue: (http://127\.0\.0\.1:\d+/)", line)
            url = match.group(1) if match else None
        if url is None:
            process.kill()
            pytest.fail(f"ngff-kg serve did not start: {log.read_text()}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(20)
        process.stdout.close()  # type: ignore[union-attr]


def from_address(base: str, source: str, path: str, accept: str = JSON) -> tuple[int, bytes]:
    """GET ``path`` from a connection whose source address is ``source`` (another client)."""
    address = urlsplit(base)
    connection = HTTPConnection(
        address.hostname, address.port, timeout=120, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_one_client_with_runaway_queries_cannot_starve_another(
    examples_store: Path, tmp_path: Path
) -> None:
    try:  # a second loopback address for the second client (all of 127/8 is loopback)
        socket.create_server(("127.0.0.2", 0)).close()
    except OSError as exc:
        pytest.skip(f"127.0.0.2 is not usable here: {exc}")
    options = ("--timeout", "10", "--workers", "2")
    with serving(examples_store, tmp_path / "log.txt", *options) as base:
        slow_path = "/sparql?" + urllib.parse.urlencode({"query": SLOW})
        ask_path = "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"})
        finished: list[tuple[float, int]] = []

        def slow() -> None:
            status, _ = from_address(base, "127.0.0.1", slow_path)
            finished.append((time.monotonic(), status))

        threads = [threading.Thread(target=slow) for _ in range(9)]  # one more than allowed
        for thread in threads:
            thread.start()
        time.sleep(2)  # the slow queries hold a worker or wait for one
        status, body = from_address(base, "127.0.0.2", ask_path)
        answered = time.monotonic()
        assert status == 200 and json.loads(body)["boolean"] is True
        for thread in threads:
            thread.join(120)
        statuses = sorted(s for _, s in finished)
        # 8 may run or wait (4 per worker); the 9th is told to come back later
        assert statuses.count(429) == 1, statuses
        ran = [t for t, s in finished if s != 429]
        assert answered < min(ran), "the ASK waited for the slow queries"
        assert set(statuses) <= {429, 503}  # none of the runaway queries finished
        status, _ = from_address(base, "127.0.0.1", ask_path)  # the first client goes on
        assert status == 200


def test_a_harvest_while_serving_is_served_once_it_is_done(tmp_path: Path) -> None:
    store = tmp_path / "store"
    harvest(store, LAB / "images")
    with Catalog(store, read_only=True) as catalog:
        before = set(catalog.query(DATASETS).column("dataset"))
    with serving(store, tmp_path / "log.txt") as base:
        status, headers, body = http(base + "api/status")
        assert status == 200
        assert json.loads(body)["datasets"] == len(before) > 0
        assert headers["ngff-kg-snapshot"].startswith("0;")
        harvest(store, LAB / "screens")  # the server holds no lock: a harvest can write
        with Catalog(store, read_only=True) as catalog:
            after = set(catalog.query(DATASETS).column("dataset"))
        assert after > before
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, headers, body = sparql_get(base, DATASETS)
            served = {b["dataset"]["value"] for b in json.loads(body)["results"]["bindings"]}
            if served == after:
                break
            time.sleep(0.5)
        assert served == after, "the server still answers from the older snapshot"
        assert not headers["ngff-kg-snapshot"].startswith("0;")
        # the catalogue (read at start-up) was re-read as well
        total = json.loads(http(base + "api/search?limit=1")[2])["total"]
        assert total == len(after)
        assert json.loads(http(base + "api/status")[2])["snapshot"]["generation"] >= 1


def harvest(store: Path, *sources: Path) -> None:
    """``ngff-kg harvest`` in a process of its own, as a user runs it beside the server."""
    command = [sys.executable, "-m", "ngff_kg.cli", "harvest", *map(str, sources)]
    command += ["--store", str(store), "--base-url", "https://"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_store_that_does_not_change_is_not_reopened(tmp_path: Path) -> None:
    from ngff_kg.web.app import store_fingerprint

    store = tmp_path / "store"
    harvest(store, LAB / "images")  # the writer has exited: nothing compacts in the background
    first = store_fingerprint(store)
    with Catalog(store, read_only=True) as catalog:
        assert catalog.query(DATASETS).rows  # reading leaves the files as they were
        assert catalog.store.catalogue.path is not None  # the index file, read
        assert catalog.store.catalogue.count() == len(catalog.query(DATASETS).rows)
    time.sleep(1)
    now = store_fingerprint(store)
    assert first and now == first, set(first) ^ set(now)
    harvest(store, LAB / "screens")
    assert store_fingerprint(store) != first


def test_docstring_examples_of_the_app() -> None:
    import doctest

    import ngff_kg.web.app

    failures, tried = doctest.testmod(ngff_kg.web.app)
    assert tried > 0 and failures == 0

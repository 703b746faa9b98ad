"""The server's defences, over HTTP against ``ngff-kg serve``: security headers and CORS,
request-size limits, ``Accept`` parsing (RFC 9110), links only for http(s) values, short
queries answered beside runaway ones, and a newer harvest noticed while serving."""

from __future__ import annotations

import json
import socket
import urllib.parse
from urllib.parse import urlsplit

import pytest
from test_endpoint import COUNT, JSON, http, sparql_get

from ngff_kg.web.guard import MAX_BODY_BYTES, MAX_QUERY_STRING_BYTES
from ngff_kg.web.sparql import SOLUTION_FORMATS, negotiate, parse_accept

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

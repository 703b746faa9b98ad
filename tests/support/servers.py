"""Loopback servers that serve a fixture tree of OME-Zarr metadata, for the harvester's tests.

Two servers, both started by the tests themselves on 127.0.0.1 with an ephemeral port:

* :class:`FixtureHttpServer`: plain HTTP/1.1 (GET and HEAD of the files below a root
  directory, no listing), with ETag / Last-Modified validators, conditional requests, byte
  ranges, added latency, failure injection and a log of every request.
* :class:`FixtureS3Server`: moto's S3 implementation behind a werkzeug server; files are
  uploaded into a bucket with :meth:`FixtureS3Server.upload` and read anonymously. Requests
  are logged too, except the server's own setup requests (bucket creation, uploads).

Both are context managers and also have explicit ``start()`` / ``stop()``. Tests import
them, or the pytest fixtures at the end of this module, by module name::

    from servers import FixtureHttpServer, http_server, http_server_factory, s3_server

(pytest puts ``tests/support/`` on ``sys.path``, as for ``ngff_fixtures``; importing a fixture into
a test module makes it available there; name the fixtures in the module's ``__all__`` so
that ruff sees them used, as ``test_servers.py`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import hashlib
import mimetypes
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

LOOPBACK = "127.0.0.1"

#: What :meth:`FixtureHttpServer.fail` accepts: an HTTP status, ``"hang"`` or ``"reset"``.
Failure = int | str


@dataclass
class Request:
    """One request as a server received it.

    * ``method``: ``"GET"``, ``"HEAD"``, ...
    * ``path``: the percent-decoded URL path without its leading slash and without the query
      string, not normalised (``"a.zarr/zarr.json"``); for S3 it starts with the bucket
      (``"ngff-fixtures/a.zarr/zarr.json"``, ``"ngff-fixtures"`` for a listing).
    * ``status``: the status sent. It is set before the response is written, so a client that
      has its answer sees it; it stays 0 for a request never answered (an injected
      ``"reset"``, a client that hung up during an injected ``"hang"``, a server stopped).
    * ``conditional``: the request carried If-None-Match, If-Modified-Since, If-Match or
      If-Unmodified-Since.
    * ``query``: the raw query string (S3 listing parameters), usually empty for HTTP.
    """

    method: str
    path: str
    status: int = 0
    conditional: bool = False
    query: str = ""


class _RequestLog:
    """The request records of a server, appended by its thread and read by the tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[Request] = []

    def _record(self, request: Request) -> Request:
        with self._lock:
            self._records.append(request)
        return request

    @property
    def requests(self) -> list[Request]:
        """A copy of the records, in arrival order."""
        with self._lock:
            return list(self._records)

    def reset(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._records.clear()

    def count(
        self, status: int | None = None, method: str | None = None, path: str | None = None
    ) -> int:
        """The number of requests recorded, of the given status, method and path if given."""
        return sum(
            1
            for r in self.requests
            if (status is None or r.status == status)
            and (method is None or r.method == method)
            and (path is None or r.path == path)
        )


_CONDITIONAL = (b"if-none-match", b"if-modified-since", b"if-match", b"if-unmodified-since")


@functools.lru_cache(maxsize=4096)
def _http_date(seconds: int) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


@functools.lru_cache(maxsize=256)
def _content_type(suffix: str) -> str:
    return mimetypes.guess_type("f" + suffix)[0] or "application/octet-stream"


def _parse_http_date(value: str) -> int | None:
    try:
        return int(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison of an If-None-Match / If-Match list with an ETag (``*`` matches)."""
    bare = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == bare:
            return True
    return False


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """The inclusive (first, last) of a single ``bytes=`` range; None to ignore the header
    (malformed or several ranges), False when it cannot be satisfied."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_s, dash, last_s = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if not first_s:  # suffix: the last N bytes
            n = int(last_s)
            if n <= 0:
                return False
            return (max(0, size - n), size - 1) if size else False
        first = int(first_s)
        last = int(last_s) if last_s else size - 1
    except ValueError:
        return None
    if first >= size:
        return False
    if last < first:
        return None
    return first, min(last, size - 1)


def _below_root(path: str) -> str | None:
    """The relative file path named by a decoded URL path, None if it leaves the root."""
    if "\x00" in path:
        return None
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(segment)
    return "/".join(parts) if parts else None


class _Parsed:
    """A request read from a connection, waiting for its answer."""

    __slots__ = ("close", "failure", "headers", "method", "record")

    def __init__(
        self,
        method: str,
        headers: dict[bytes, bytes],
        record: Request,
        failure: Failure | None,
        close: bool,
    ) -> None:
        self.method = method
        self.headers = headers
        self.record = record
        self.failure = failure
        self.close = close


class _Connection(asyncio.Protocol):
    """One client connection: requests are parsed as they arrive and answered in order, each
    after the server's latency (a timer on the event loop, so connections do not wait for one
    another)."""

    def __init__(self, server: FixtureHttpServer) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: deque[_Parsed] = deque()
        self.body_left = 0  # request body bytes still to discard
        self.timer: asyncio.TimerHandle | None = None
        self.closed = False
        self.broken = False  # a request could not be parsed: read nothing more

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server._connections.add(self)
        self.server.connection_count += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server._connections.discard(self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.pending.clear()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.closed or self.broken:
            return
        self.buffer += data
        while self.buffer:
            if self.body_left:
                n = min(self.body_left, len(self.buffer))
                del self.buffer[:n]
                self.body_left -= n
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    self._bad_request(431)
                break
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            if not self._parse(head):
                break
        if self.timer is None:
            self._answer_ready()

    def _bad_request(self, status: int) -> None:
        """Answer a request that cannot be parsed after the pending ones, then close."""
        self.buffer.clear()
        record = self.server._record(Request("?", "", 0))
        self.pending.append(_Parsed("?", {}, record, status, close=True))
        self.broken = True

    def _parse(self, head: bytes) -> bool:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            self._bad_request(400)
            return False
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                self._bad_request(400)
                return False
            headers[name.strip().lower()] = value.strip()
        if b"transfer-encoding" in headers:  # request bodies are not expected: no chunking
            self._bad_request(501)
            return False
        try:
            body_length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            body_length = -1
        if body_length < 0:
            self._bad_request(400)
            return False
        self.body_left = body_length
        method = parts[0].decode("latin-1")
        target = parts[1].decode("latin-1")
        if "://" in target:  # absolute form
            split = urlsplit(target)
            target, query = split.path, split.query
        else:
            target, _, query = target.partition("?")
        path = unquote(target)
        path = path[1:] if path.startswith("/") else path
        connection = headers.get(b"connection", b"").lower()
        http10 = parts[2] == b"HTTP/1.0"
        close = connection != b"keep-alive" if http10 else connection == b"close"
        conditional = any(h in headers for h in _CONDITIONAL)
        record = self.server._record(Request(method, path, 0, conditional, query))
        failure = self.server._take_failure(path)
        self.pending.append(_Parsed(method, headers, record, failure, close))
        return True

    def _answer_ready(self) -> None:
        """Answer the pending requests in order, waiting out the latency of each."""
        while self.pending and not self.closed:
            request = self.pending[0]
            delay = self.server.latency
            if request.failure == "hang":
                delay += self.server.hang_seconds
            if delay > 0:
                self.timer = self.loop.call_later(delay, self._answer_delayed)
                return
            self._answer(self.pending.popleft())

    def _answer_delayed(self) -> None:
        self.timer = None
        if self.pending and not self.closed:
            self._answer(self.pending.popleft())
        self._answer_ready()

    def _answer(self, request: _Parsed) -> None:
        transport = self.transport
        assert transport is not None
        failure = request.failure
        if failure == "reset":
            self.closed = True
            transport.abort()
            return
        if isinstance(failure, int):
            status = failure
            headers = [("Retry-After", "0")] if status == 429 else []
            body = b""
        else:
            status, headers, body = self.server._serve(request)
        request.record.status = status
        lines = [f"HTTP/1.1 {status} {_reason(status)}", f"Date: {_now()}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if status not in (204, 304):
            lines.append(f"Content-Length: {len(body)}")
        if request.close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        transport.write(head if request.method == "HEAD" or status == 304 else head + body)
        if request.close:
            self.closed = True
            transport.close()


_REASONS = {s.value: s.phrase for s in HTTPStatus}


def _reason(status: int) -> str:
    return _REASONS.get(status, "Unknown")


_date_cache: tuple[int, str] = (0, "")


def _now() -> str:
    """The Date header value, formatted once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, _http_date(now))
    return _date_cache[1]


class FixtureHttpServer(_RequestLog):
    """An HTTP/1.1 server of the files below ``root``, on 127.0.0.1 and an ephemeral port.

    ::

        with FixtureHttpServer(root, latency=0.05) as server:
            store = HTTPStore.from_url(server.url, client_options={"allow_http": True})
            ...
            assert server.count(status=304) == 3

    * GET and HEAD of regular files (the URL path percent-decoded); a missing file, a
      directory (there is no listing, as on object-store HTTP endpoints), a path that leaves
      the root: 404 with an empty body; other methods: 405.
    * Every file response has a strong ETag (the quoted MD5 of the content), Last-Modified
      (the file's mtime) and Content-Length. If-None-Match and If-Modified-Since give 304,
      If-Match and If-Unmodified-Since 412; ``Range: bytes=a-b`` (one range) gives 206.
      Files are read at each request: a file changed on disk is served changed.
    * ``latency`` seconds (changeable while running) are added before every response,
      injected failures included, on the event loop's timer (as ``asyncio.sleep`` does), so
      concurrent requests overlap. Connections are kept alive (``connection_count`` says how
      many were opened) and pipelined requests answered in order.
    * :meth:`fail` / :meth:`fail_always` inject failures; ``requests``, :meth:`count`,
      :meth:`reset` give the log of requests (:class:`Request`, path without leading slash).

    The server runs an asyncio event loop in a daemon thread.
    """

    def __init__(self, root: Path | str, latency: float = 0.0, hang_seconds: float = 5.0):
        super().__init__()
        self.root = Path(root)
        #: Seconds added before every response.
        self.latency = latency
        #: Seconds an injected ``"hang"`` waits before answering normally.
        self.hang_seconds = hang_seconds
        self.port: int | None = None
        #: Connections accepted so far (clients that keep connections alive open few).
        self.connection_count = 0
        self._failures: dict[str, deque[Failure]] = {}
        self._always: dict[str, int] = {}
        self._failure_lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``"""
        if self.port is None:
            raise RuntimeError("the server is not started")
        return f"http://{LOOPBACK}:{self.port}/"

    def store(self, **client_options: Any) -> Any:
        """An obstore HTTPStore of the server (``allow_http`` set, options added)."""
        from obstore.store import HTTPStore

        return HTTPStore.from_url(self.url, client_options={"allow_http": True, **client_options})

    # failure injection

    def fail(self, path: str, *responses: Failure) -> None:
        """Queue responses for the next requests of ``path`` (as in :attr:`Request.path`,
        e.g. ``"a.zarr/zarr.json"``), one per request, in order: an HTTP status from 200 to
        599 (sent with an empty body; 429 with ``Retry-After: 0``), ``"hang"`` (wait
        :attr:`hang_seconds`, then answer normally) or ``"reset"`` (close the connection
        without an answer)."""
        for response in responses:
            _check_failure(response)
        with self._failure_lock:
            self._failures.setdefault(path.lstrip("/"), deque()).extend(responses)

    def fail_always(self, path: str, status: int) -> None:
        """Answer every request of ``path`` with ``status`` until :meth:`clear_failures`
        (after the responses queued by :meth:`fail`)."""
        _check_failure(status)
        if not isinstance(status, int):
            raise TypeError("fail_always takes an HTTP status")
        with self._failure_lock:
            self._always[path.lstrip("/")] = status

    def clear_failures(self) -> None:
        """Drop the queued and the permanent failures."""
        with self._failure_lock:
            self._failures.clear()
            self._always.clear()

    def _take_failure(self, path: str) -> Failure | None:
        with self._failure_lock:
            queue = self._failures.get(path)
            if queue:
                failure = queue.popleft()
                if not queue:
                    del self._failures[path]
                return failure
            return self._always.get(path)

    # serving

    def _serve(self, request: _Parsed) -> tuple[int, list[tuple[str, str]], bytes]:
        if request.method not in ("GET", "HEAD"):
            return 405, [("Allow", "GET, HEAD")], b""
        relative = _below_root(request.record.path)
        if relative is None:
            return 404, [], b""
        try:
            with open(os.path.join(self.root, relative), "rb") as f:
                info = os.fstat(f.fileno())
                if not stat.S_ISREG(info.st_mode):
                    return 404, [], b""
                data = f.read()
        except OSError:  # missing, a directory, unreadable, a name too long
            return 404, [], b""
        etag = f'"{hashlib.md5(data).hexdigest()}"'
        mtime = int(info.st_mtime)
        validators = [("ETag", etag), ("Last-Modified", _http_date(mtime))]
        headers = request.headers

        def header(name: bytes) -> str | None:
            value = headers.get(name)
            return None if value is None else value.decode("latin-1")

        if (if_match := header(b"if-match")) is not None:
            if not _etag_matches(if_match, etag):
                return 412, validators, b""
        elif (if_unmodified := header(b"if-unmodified-since")) is not None:
            since = _parse_http_date(if_unmodified)
            if since is not None and mtime > since:
                return 412, validators, b""
        if (if_none_match := header(b"if-none-match")) is not None:
            if _etag_matches(if_none_match, etag):
                return 304, validators, b""
        elif (if_modified := header(b"if-modified-since")) is not None:
            since = _parse_http_date(if_modified)
            if since is not None and mtime <= since:
                return 304, validators, b""

        validators.append(("Content-Type", _content_type(os.path.splitext(relative)[1])))
        validators.append(("Accept-Ranges", "bytes"))
        range_header = header(b"range")
        if_range = header(b"if-range")
        if range_header is not None and (
            if_range is None or if_range == etag or _parse_http_date(if_range) == mtime
        ):
            span = _byte_range(range_header, len(data))
            if span is False:
                return 416, [("Content-Range", f"bytes */{len(data)}")], b""
            if span is not None:
                first, last = span
                validators.append(("Content-Range", f"bytes {first}-{last}/{len(data)}"))
                return 206, validators, data[first : last + 1]
        return 200, validators, data

    # life cycle

    def start(self) -> FixtureHttpServer:
        if self._thread is not None:
            raise RuntimeError("the server is already started")
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(lambda: _Connection(self), LOOPBACK, 0, backlog=1024)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as error:
                errors.append(error)
                loop.close()
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fixture-http-server", daemon=True)
        self._thread.start()
        ready.wait()
        if errors:
            self._thread = None
            raise errors[0]
        return self

    def stop(self) -> None:
        """Close the listening socket and every connection, and end the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return

        def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for connection in list(self._connections):
                connection.abort()
            loop.call_later(0.01, loop.stop)  # let the aborted transports close first

        loop.call_soon_threadsafe(shutdown)
        thread.join(10)
        self._thread = self._loop = self._server = None
        self.port = None

    def __enter__(self) -> FixtureHttpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _check_failure(response: Failure) -> None:
    if isinstance(response, bool) or not (
        (isinstance(response, int) and 200 <= response <= 599) or response in ("hang", "reset")
    ):
        raise ValueError(f"not an HTTP status, 'hang' or 'reset': {response!r}")


# S3


class _QuietHandler:
    """Mixed into werkzeug's request handler: no line on stderr per request."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass

    def log(self, *args: object, **kwargs: object) -> None:
        pass


@functools.cache
def _boto3_session() -> Any:
    """One boto3 session for all the servers: it loads the S3 service model once."""
    import boto3

    return boto3.session.Session()


class FixtureS3Server(_RequestLog):
    """moto's S3 on 127.0.0.1 and an ephemeral port, with a log of the requests.

    ::

        with FixtureS3Server() as s3:
            s3.upload(tree, "ngff-fixtures", prefix="v1/")
            store = s3.store("ngff-fixtures")  # anonymous
            obstore.list_with_delimiter(store, "v1/")

    moto's S3 application (``create_backend_app("s3")``) runs under werkzeug's threaded WSGI
    server in a daemon thread, behind a small middleware that records every request
    (:class:`Request`; path ``bucket/key``, query string apart) except those the server makes
    itself (:meth:`upload`, bucket deletion), which carry an ``x-fixture-setup`` header.

    moto keeps its S3 state process-wide (the backends of its default account), shared with
    ``moto.mock_aws`` in the same process: a ``mock_aws`` started while this server runs
    resets that state and so empties its buckets. Starting the server does not touch moto's
    state; :meth:`stop` deletes the buckets that :meth:`upload` created, and no other.
    """

    region = "us-east-1"
    access_key = "fixture"
    secret_key = "fixture"  # moto accepts any credentials

    def __init__(self) -> None:
        super().__init__()
        self.port: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._created: set[str] = set()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash, as S3 clients expect)."""
        if self.port is None:
            raise RuntimeError("the server is not started")
        return f"http://{LOOPBACK}:{self.port}"

    def store(self, bucket: str, **options: Any) -> Any:
        """An anonymous obstore S3Store of ``bucket`` on this server (more options added)."""
        from obstore.store import S3Store

        client_options = {"allow_http": True, **options.pop("client_options", {})}
        return S3Store(
            bucket,
            endpoint=self.endpoint_url,
            region=self.region,
            skip_signature=True,
            client_options=client_options,
            **options,
        )

    def client(self) -> Any:
        """A boto3 S3 client of the server for setup: its requests are not recorded."""
        if self._client is None:
            from botocore.config import Config

            client = _boto3_session().client(
                "s3",
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=Config(
                    s3={"addressing_style": "path"},
                    retries={"max_attempts": 1},
                    max_pool_connections=16,
                ),
            )

            def mark(request: Any, **kwargs: Any) -> None:
                request.headers["x-fixture-setup"] = "1"

            client.meta.events.register("before-sign.s3", mark)
            self._client = client
        return self._client

    def upload(self, root: Path | str, bucket: str, prefix: str = "") -> list[str]:
        """Create ``bucket`` if needed and put every file below ``root`` in it, readable
        anonymously (``public-read``), as key ``prefix`` + relative POSIX path. Returns the
        keys, sorted."""
        root = Path(root)
        client = self.client()
        try:
            client.head_bucket(Bucket=bucket)
        except client.exceptions.ClientError:
            client.create_bucket(Bucket=bucket)
            self._created.add(bucket)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        keys = [prefix + p.relative_to(root).as_posix() for p in files]

        def put(item: tuple[Path, str]) -> None:
            path, key = item
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ACL="public-read")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, zip(files, keys, strict=True)))
        return keys

    def delete_bucket(self, bucket: str) -> None:
        """Delete ``bucket`` and everything in it."""
        client = self.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                client.delete_objects(Bucket=bucket, Delete={"Objects": objects})
        client.delete_bucket(Bucket=bucket)
        self._created.discard(bucket)

    def _wsgi(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def recorded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("HTTP_X_FIXTURE_SETUP"):
                return app(environ, start_response)
            path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
            conditional = any(
                f"HTTP_{h.decode().upper().replace('-', '_')}" in environ for h in _CONDITIONAL
            )
            record = self._record(
                Request(
                    environ["REQUEST_METHOD"],
                    path.removeprefix("/"),
                    0,
                    conditional,
                    environ.get("QUERY_STRING", ""),
                )
            )

            def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
                record.status = int(status.split(" ", 1)[0])
                return start_response(status, headers, *exc_info)

            return app(environ, start)

        return recorded

    def start(self) -> FixtureS3Server:
        if self._thread is not None:
            raise RuntimeError("the server is already started")
        from moto.server import create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        handler = type("QuietHandler", (_QuietHandler, WSGIRequestHandler), {})
        app = self._wsgi(create_backend_app("s3"))
        self._server = make_server(LOOPBACK, 0, app, threaded=True, request_handler=handler)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fixture-s3-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Delete the buckets :meth:`upload` created, then stop the server."""
        if self._thread is None:
            return
        try:
            for bucket in sorted(self._created):
                with contextlib.suppress(Exception):  # already gone, e.g. after a mock_aws reset
                    self.delete_bucket(bucket)
        finally:
            self._created.clear()
            if self._client is not None:
                self._client.close()
                self._client = None
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._thread = self._server = None
            self.port = None

    def __enter__(self) -> FixtureS3Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# pytest fixtures


@pytest.fixture
def http_server_factory() -> Iterator[Callable[..., FixtureHttpServer]]:
    """``make(root, latency=0.0, hang_seconds=5.0)``: a started :class:`FixtureHttpServer`
    of ``root``, stopped at the end of the test."""
    servers: list[FixtureHttpServer] = []

    def make(root: Path | str, latency: float = 0.0, hang_seconds: float = 5.0):
        server = FixtureHttpServer(root, latency, hang_seconds).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[FixtureHttpServer]:
    """A started :class:`FixtureHttpServer` of an empty directory, ``http_server.root``
    (``tmp_path / "http"``): write the files to serve there, before or after the start."""
    root = tmp_path / "http"
    root.mkdir()
    with FixtureHttpServer(root) as server:
        yield server


@pytest.fixture
def s3_server() -> Iterator[FixtureS3Server]:
    """A started :class:`FixtureS3Server`, its buckets deleted at the end of the test."""
    with FixtureS3Server() as server:
        yield server

"""Run the web application with Uvicorn on a socket bound before the address is announced."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ngff_kg.errors import UsageError, require
from ngff_kg.web.guard import MAX_BODY_BYTES, MAX_QUERY_STRING_BYTES

#: Environment variables that override the request-size limits (bytes).
MAX_BODY_ENV = "NGFF_KG_MAX_BODY_BYTES"
MAX_QUERY_STRING_ENV = "NGFF_KG_MAX_QUERY_STRING_BYTES"


def size_limit(name: str, default: int) -> int:
    """A byte limit from the environment variable ``name``, else ``default``.

    :raises UsageError: the variable is set but is not a positive integer.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{name} must be a positive number of bytes, not {text!r}")
    return value


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.1``, ``::1``, ``localhost``).

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
    (True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free port).

    :raises UsageError: the address cannot be used.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise UsageError(f"cannot use host {host!r}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def serve(
    store: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 7878,
    timeout: float = 30.0,
    limit: int = 10_000,
    workers: int = 2,
    max_body: int | None = None,
    max_query_string: int | None = None,
    watch: float = 2.0,
    announce: Callable[[str, Any], None] | None = None,
) -> None:
    """Serve ``store`` until interrupted: SPARQL at ``/sparql``, the catalogue at ``/``.

    :param max_body: the most bytes a request body may have (default: the environment variable
        ``NGFF_KG_MAX_BODY_BYTES``, else 1 MiB).
    :param max_query_string: the most bytes a query string may have (default:
        ``NGFF_KG_MAX_QUERY_STRING_BYTES``, else 64 KiB).
    :param watch: seconds between two looks for a newer harvest of the store (0: never).
    :param announce: called with the base URL and the app's state once the server accepts
        connections (the catalogue index is built by then).
    :raises MissingDependencyError: Starlette or Uvicorn is not installed.
    :raises UsageError: the address cannot be used.
    :raises StoreError: the store cannot be opened.
    """
    uvicorn: Any = require("uvicorn", "serve")
    require("starlette", "serve")
    from ngff_kg.web.app import create_app

    if max_body is None:
        max_body = size_limit(MAX_BODY_ENV, MAX_BODY_BYTES)
    if max_query_string is None:
        max_query_string = size_limit(MAX_QUERY_STRING_ENV, MAX_QUERY_STRING_BYTES)
    sock = bind(host, port)
    try:
        app = create_app(
            store,
            timeout=timeout,
            limit=limit,
            workers=workers,
            max_body=max_body,
            max_query_string=max_query_string,
            watch=watch,
        )
        bound = sock.getsockname()
        shown = f"[{bound[0]}]" if sock.family == socket.AF_INET6 else bound[0]
        if announce is not None:
            announce(f"http://{shown}:{bound[1]}/", app.state.catalogue)
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            access_log=False,
            # the request line must fit the query-string limit, which the app then enforces
            h11_max_incomplete_event_size=max_query_string + 16 * 1024,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()

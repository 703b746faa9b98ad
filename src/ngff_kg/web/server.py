"""Run the web application with Uvicorn on a socket bound before the address is announced."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ngff_kg.errors import UsageError, require


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
    announce: Callable[[str, Any], None] | None = None,
) -> None:
    """Serve ``store`` until interrupted: SPARQL at ``/sparql``, the catalogue at ``/``.

    :param announce: called with the base URL and the app's state once the server accepts
        connections (the catalogue index is built by then).
    :raises MissingDependencyError: Starlette or Uvicorn is not installed.
    :raises UsageError: the address cannot be used.
    :raises StoreError: the store cannot be opened.
    """
    uvicorn: Any = require("uvicorn", "serve")
    require("starlette", "serve")
    from ngff_kg.web.app import create_app

    sock = bind(host, port)
    try:
        app = create_app(store, timeout=timeout, limit=limit, workers=workers)
        bound = sock.getsockname()
        shown = f"[{bound[0]}]" if sock.family == socket.AF_INET6 else bound[0]
        if announce is not None:
            announce(f"http://{shown}:{bound[1]}/", app.state.catalogue)
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()

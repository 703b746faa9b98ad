"""What every response of the server carries, and what no request may exceed.

:class:`Guard` is plain ASGI middleware around the whole application:

- security headers on every response: a Content-Security-Policy that allows only this server's
  own scripts, styles and connections (the pages have no inline script or style), no framing,
  no MIME sniffing, no referrer sent along with links out;
- CORS on ``/sparql`` only (any origin may read query results, as from public SPARQL
  endpoints; a preflight ``OPTIONS`` is answered there); the pages and ``/api/`` get none;
- a size limit on the query string (414) and on the body (413), checked before anything is
  parsed: a declared ``Content-Length`` over the limit is refused unread, and a body without
  one is counted while it streams in, so it is never read whole.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The most bytes a request body may have (a SPARQL query, or a form holding one).
MAX_BODY_BYTES = 1024 * 1024
#: The most bytes a query string may have (a query sent by GET, with its parameters).
MAX_QUERY_STRING_BYTES = 64 * 1024

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
#: The path that answers cross-origin requests.
CORS_PATH = "/sparql"
CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "NGFF-KG-Truncated, NGFF-KG-Snapshot",
}
PREFLIGHT_HEADERS = {
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Accept, Content-Type",
    "access-control-max-age": "86400",
}


class _TooLarge(Exception):
    pass


class Guard:
    """Security headers, CORS on ``/sparql`` and request-size limits around ``app``.

    :param max_body: the most bytes a request body may have (413 beyond).
    :param max_query_string: the most bytes a query string may have (414 beyond).
    :param dynamic: more headers for every response, asked for each request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int = MAX_BODY_BYTES,
        max_query_string: int = MAX_QUERY_STRING_BYTES,
        dynamic: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        if max_body < 1 or max_query_string < 1:
            raise ValueError("request-size limits must be at least 1 byte")
        self.app = app
        self.max_body = max_body
        self.max_query_string = max_query_string
        self.dynamic = dynamic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cors = scope["path"] == CORS_PATH
        extra = {**SECURITY_HEADERS, **(CORS_HEADERS if cors else {})}
        if self.dynamic is not None:
            extra.update({k.lower(): v for k, v in self.dynamic().items()})
        if cors and scope["method"] == "OPTIONS":
            await _plain(send, 204, b"", {**extra, **PREFLIGHT_HEADERS})
            return
        if len(scope.get("query_string", b"")) > self.max_query_string:
            message = (
                f"the query string is longer than this server's limit of "
                f"{self.max_query_string} bytes: POST the query instead"
            )
            await _plain(send, 414, message.encode(), extra)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await _plain(send, 413, self._too_large(), extra)
            return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for key, value in extra.items():
                    if key.encode() not in present:
                        headers.append((key.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, counted, with_headers)
        except _TooLarge:
            if started:
                raise
            await _plain(send, 413, self._too_large(), extra)

    def _too_large(self) -> bytes:
        limit = self.max_body
        return f"the request body is larger than this server's limit of {limit} bytes".encode()


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _plain(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    if body:
        body += b"\n"
    fields = [(k.encode(), v.encode()) for k, v in headers.items()]
    fields.append((b"content-type", b"text/plain; charset=utf-8"))
    fields.append((b"content-length", str(len(body)).encode()))
    if status >= 400:
        fields.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": body})

"""The ASGI application: SPARQL protocol, catalogue JSON, and the bundled pages.

Routes:

- ``GET|POST /sparql``: SPARQL 1.1 Protocol queries (see :mod:`ngff_kg.web.sparql`); updates 403;
  ``OPTIONS /sparql``: the CORS preflight.
- ``GET /api/search``: faceted search (``organism``, ``modality``, ``license``, ``host``,
  ``kind`` repeated as needed, ``q`` free text, ``sort`` (``name``, ``size``... ``-size``
  descending; an unknown key is a 400 listing the keys), ``offset``, ``limit``).
- ``GET /api/export?format=csv|parquet|json|sparql``: every dataset matching the same filters,
  text and sort, as the catalogue table of ``ngff-kg export`` (CSV, Parquet, JSON rows), or
  the SPARQL query that selects them.
- ``GET /api/dataset?iri=``: every triple and repair of one dataset.
- ``GET /api/queries``: the named queries with their text and parameters.
- ``GET /thumbnail?iri=``: the dataset's PNG thumbnail (``ngff-kg thumbnails``), 404 if none.
- ``GET /``, ``/dataset``, ``/editor``: the pages; ``/static/``: their scripts and styles.

The store is opened read-only, which gives a snapshot: the catalogue index (one record per
dataset, and the ontology hierarchies) is read from it at start-up. When a harvest writes to
the store while it is served, the server notices (its files change; it looks every few
seconds) and, once the change has settled, reopens the store, re-reads the index and has its
query workers reopen it; the ``NGFF-KG-Snapshot`` header and ``/api/status`` say which
snapshot answered. Every response passes :class:`ngff_kg.web.guard.Guard` (security headers,
CORS on ``/sparql``, request-size limits).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ngff_kg._version import __version__
from ngff_kg.catalog import Catalog
from ngff_kg.errors import MissingDependencyError, UsageError
from ngff_kg.normalize.terms import curie
from ngff_kg.queries import library
from ngff_kg.store.catalogue import being_written
from ngff_kg.views.export import catalogue_row, write_csv, write_parquet
from ngff_kg.views.facets import (
    FACET_TITLES,
    FACETS,
    HIERARCHICAL,
    SORTS,
    CatalogueFacets,
    SearchResult,
    group_counts,
    license_label,
    term_names,
    used_terms,
)
from ngff_kg.views.records import (
    METADATA_SOURCE,
    DatasetRecord,
    Hierarchy,
    shown_source,
    term_hierarchies,
)
from ngff_kg.views.thumbnails import DIRECTORY as THUMBNAILS
from ngff_kg.views.thumbnails import recorded_thumbnails
from ngff_kg.web.guard import MAX_BODY_BYTES, MAX_QUERY_STRING_BYTES, Guard
from ngff_kg.web.sparql import QueryPool, QueryRequest, parse_request
from ngff_kg.web.sparql import Response as ProtocolResponse

STATIC = Path(__file__).parent / "static"
VALIDATOR = "https://ome.github.io/ome-ngff-validator/?source="
VIZARR = "https://hms-dbmi.github.io/vizarr/?source="
#: Seconds between two looks at the store's files for a newer harvest.
WATCH_SECONDS = 2.0
#: Response header naming the snapshot of the store that answered: its generation (0 for the
#: store as opened at start-up, 1 after the first reload...) and when it was opened.
SNAPSHOT_HEADER = "NGFF-KG-Snapshot"


def store_fingerprint(store: Path) -> tuple[Any, ...]:
    """Name, size and modification time of the store's files (its info logs left out): what
    changes when anything writes to the store, and never when it is only read.

    >>> store_fingerprint(Path("/nonexistent/store"))
    ()
    """
    try:
        entries = list(os.scandir(store))
    except OSError:
        return ()
    out = []
    for entry in entries:
        if entry.name.startswith("LOG") or entry.name.endswith(("-shm", "-wal")):
            continue  # info logs; the catalogue index's journal, which readers create too
        try:
            info = entry.stat()
        except OSError:  # removed meanwhile (a compaction): the next look sees the change
            continue
        out.append((entry.name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(out))


def links(url: str) -> list[dict[str, str]]:
    """Where to look at a dataset: the OME-NGFF validator and a viewer (http(s) URLs only).

    >>> [link["label"] for link in links("https://a.org/x.zarr/")]
    ['OME-NGFF validator', 'vizarr']
    """
    if not url.startswith(("https://", "http://")):
        return []
    source = quote(url, safe=":/%")
    return [
        {"label": "OME-NGFF validator", "href": VALIDATOR + source},
        {"label": "vizarr", "href": VIZARR + source},
    ]


def thumbnail_url(iri: str) -> str:
    """The route of a dataset's thumbnail on this server.

    >>> thumbnail_url("file:///d/a b.zarr/")
    '/thumbnail?iri=file%3A%2F%2F%2Fd%2Fa%20b.zarr%2F'
    """
    return "/thumbnail?iri=" + quote(iri, safe="")


def record_json(
    record: DatasetRecord, hierarchies: dict[str, Hierarchy], thumbnail: bool = False
) -> dict[str, Any]:
    def terms(iris: tuple[str, ...], facet: str) -> list[dict[str, str]]:
        return [{"iri": t, "label": hierarchies[facet].label(t) or curie(t)} for t in iris]

    return {
        "url": record.url,
        "name": record.name,
        "description": record.description,
        "kind": record.kind,
        "version": record.version,
        "host": record.host,
        "organisms": terms(record.organisms, "organism"),
        "modalities": terms(record.modalities, "modality"),
        "licenses": [{"iri": x, "label": license_label(x)} for x in record.licenses],
        "axes": [
            {"name": a.name, "type": a.type, "unit": a.unit, "size": a.size, "scale": a.scale}
            for a in record.axes
        ],
        "axis_names": record.axis_names,
        "shape": list(record.shape) if record.shape else None,
        "bytes": record.bytes,
        "origin": record.origin,
        "links": links(record.url),
        "thumbnail": thumbnail_url(record.url) if thumbnail else None,
    }


def _term_json(term: Any) -> dict[str, Any]:
    kind = type(term).__name__
    if kind == "NamedNode":
        return {"type": "uri", "value": term.value}
    if kind == "BlankNode":
        return {"type": "bnode", "value": term.value}
    if kind == "Literal":
        out = {"type": "literal", "value": term.value, "datatype": term.datatype.value}
        if term.language:
            out["lang"] = term.language
        return out
    if kind == "DefaultGraph":
        return {"type": "default", "value": ""}
    return {"type": "other", "value": str(term)}


def _read_snapshot(store: Path) -> tuple[Any, ...]:
    """The store opened read-only (a snapshot of it) with its datasets indexed: catalog,
    hierarchies, facet search over the store's catalogue index, when it was opened,
    thumbnails (dataset IRI → PNG path relative to the store)."""
    catalog = Catalog(store, read_only=True)
    catalogue = catalog.store.catalogue
    groups = group_counts(catalogue)
    hierarchies = term_hierarchies(catalog.store, used_terms(groups))
    index = CatalogueFacets(catalogue, hierarchies, term_names(catalog.ontology), groups)
    opened = datetime.now(UTC).isoformat(timespec="seconds")
    thumbnails = recorded_thumbnails(catalog)
    return catalog, hierarchies, index, opened, thumbnails


class CatalogueApp:
    """The state behind the routes: the read-only catalog, its index, the query workers."""

    def __init__(self, store: Path, *, timeout: float, limit: int, workers: int) -> None:
        started = time.perf_counter()
        self.store = store
        self.fingerprint = store_fingerprint(store)
        self.generation = 0
        self._open_snapshot()
        self.pool = QueryPool(str(store), workers=workers, timeout=timeout, limit=limit)
        #: queries one client may have running or waiting for a worker at once
        self.per_client = 4 * workers
        self._in_flight: dict[str, int] = {}
        self._query_threads: Any = None  # made in the event loop, on first use
        try:
            self.pool.check()
        except OSError:
            self.close()
            raise
        self.seconds = time.perf_counter() - started

    def _open_snapshot(self) -> None:
        self._use(_read_snapshot(self.store))

    def _use(self, snapshot: tuple[Any, ...]) -> None:
        """Serve ``snapshot`` (swapped in at once: in the event loop, so no request sees a mix)."""
        (
            self.catalog,
            self.hierarchies,
            self.index,
            self.opened,
            self.thumbnails,
        ) = snapshot

    def close(self) -> None:
        self.pool.close()
        self.catalog.close()

    async def watch(self, interval: float) -> None:
        """Reopen the store when its files have changed (a harvest wrote to it) and stayed
        unchanged for ``interval`` seconds (the harvest is done, or paused between batches).
        Until then, requests are answered from the snapshot being served."""
        seen = self.fingerprint
        while True:
            await anyio.sleep(interval)
            now = await anyio.to_thread.run_sync(store_fingerprint, self.store)
            if now != self.fingerprint and now == seen:
                await self.reload(now)
            seen = now

    async def reload(self, fingerprint: tuple[Any, ...]) -> None:
        """Serve a fresh snapshot of the store (the old one is kept when it cannot be read)."""
        self.fingerprint = fingerprint  # not again until the store changes again
        if await anyio.to_thread.run_sync(being_written, self.store):
            # a harvest paused between batches: its end changes the files again
            print(
                "ngff-kg serve: a harvest is writing the store; serving the older snapshot",
                file=sys.stderr,
            )
            return
        try:
            snapshot = await anyio.to_thread.run_sync(_read_snapshot, self.store)
        except Exception as exc:  # a store caught mid-write, unreadable: serve on what we have
            print(f"ngff-kg serve: keeping the older snapshot: {exc}", file=sys.stderr)
            return
        self._use(snapshot)  # requests reading the older one keep it until they finish
        self.generation += 1
        self.pool.reopen()

    def snapshot_headers(self) -> dict[str, str]:
        """What every response says about the snapshot it was answered from."""
        return {SNAPSHOT_HEADER: f"{self.generation}; opened={self.opened}"}

    # ------------------------------------------------------------------ API
    def _selection(self, request: Request) -> tuple[dict[str, list[str]], str, str]:
        params = request.query_params
        selected = {f: params.getlist(f) for f in FACETS if params.getlist(f)}
        return selected, params.get("q", ""), params.get("sort", "")

    async def search(self, request: Request) -> Response:
        params = request.query_params
        selected, text, sort = self._selection(request)
        try:
            offset = int(params.get("offset", "0"))
            limit = int(params.get("limit", "50"))
            result = self.index.search(selected, text, offset, limit, sort)
        except ValueError as exc:  # UsageError is a ValueError too
            return JSONResponse({"error": str(exc), "sorts": list(SORTS)}, status_code=400)
        return JSONResponse(
            {
                "total": result.total,
                "offset": offset,
                "limit": limit,
                "results": [
                    record_json(r, self.hierarchies, r.url in self.thumbnails)
                    for r in result.records
                ],
                "facets": [
                    {
                        "name": facet,
                        "title": FACET_TITLES[facet],
                        "hierarchical": facet in HIERARCHICAL,
                        "values": [v.to_json() for v in result.facets[facet]],
                    }
                    for facet in FACETS
                ],
            }
        )

    async def export(self, request: Request) -> Response:
        """Every dataset the filters select, as catalogue rows or as the SPARQL selecting them."""
        selected, text, sort = self._selection(request)
        fmt = request.query_params.get("format", "csv")
        if fmt not in EXPORT_FORMATS:
            return JSONResponse(
                {"error": f"unknown format {fmt!r}; formats: {', '.join(EXPORT_FORMATS)}"},
                status_code=400,
            )
        index, hierarchies = self.index, self.hierarchies  # one snapshot throughout
        try:
            if fmt == "sparql":
                body = index.sparql(selected, text).encode()
            else:
                found = index.search(selected, text, 0, 1, sort)
                result = SearchResult(0, [], {})
                if found.total:
                    result = index.search(selected, text, 0, found.total, sort, bounded=False)
                rows = [catalogue_row(r, hierarchies) for r in result.records]
                body = await run_in_threadpool(_table, rows, fmt)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except MissingDependencyError as exc:  # Parquet without pyarrow
            return JSONResponse({"error": str(exc)}, status_code=501)
        media, suffix = EXPORT_FORMATS[fmt]
        return Response(
            body,
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="ngff-kg-datasets.{suffix}"',
                "Cache-Control": "no-store",
            },
        )

    async def dataset(self, request: Request) -> Response:
        iri = request.query_params.get("iri", "")
        try:
            detail = await run_in_threadpool(self.catalog.store.dataset_detail, iri)
        except UsageError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        index = self.index
        record = await run_in_threadpool(index.record, iri) if detail is not None else None
        if record is None:
            return JSONResponse({"error": f"no dataset {iri!r} in this store"}, status_code=404)
        graphs: dict[str, list[list[dict[str, Any]]]] = {}
        for s in detail.statements:
            graph = _term_json(s.graph)["value"]
            shown = _term_json(s.object)
            if s.predicate.value == METADATA_SOURCE and s.subject.value == iri:
                # not the harvesting machine's file:// path: the file in the dataset
                shown = {"type": "literal", "value": shown_source(iri, s.object.value)}
            graphs.setdefault(graph, []).append(
                [_term_json(s.subject), _term_json(s.predicate), shown]
            )
        return JSONResponse(
            {
                "iri": iri,
                "record": record_json(record, self.hierarchies, iri in self.thumbnails),
                "graphs": [{"graph": g, "triples": t} for g, t in graphs.items()],
                "repairs": [
                    {"kind": r.kind, "original": r.original, "repaired": r.repaired}
                    for r in detail.repairs
                ],
            }
        )

    async def thumbnail(self, request: Request) -> Response:
        iri = request.query_params.get("iri", "")
        name = self.thumbnails.get(iri)
        if name is not None and await run_in_threadpool(self.index.record, iri) is None:
            name = None  # a thumbnail recorded for what is no longer a dataset
        folder = (self.store / THUMBNAILS).resolve()
        path = (self.store / name).resolve() if name else None
        if path is None or path.parent != folder or not path.is_file():
            return JSONResponse({"error": f"no thumbnail of {iri!r}"}, status_code=404)
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-cache"})

    async def queries(self, request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "name": q.name,
                    "title": q.title,
                    "description": q.description,
                    "params": [
                        {
                            "name": p.name,
                            "type": p.type,
                            "required": p.required,
                            "description": p.description,
                        }
                        for p in q.params
                    ],
                    "columns": list(q.columns),
                    "text": q.text,
                }
                for q in library().values()
            ]
        )

    async def status(self, request: Request) -> Response:
        return JSONResponse(
            {
                "version": __version__,
                "datasets": self.index.total,
                "timeout": self.pool.timeout,
                "limit": self.pool.limit,
                "snapshot": {"generation": self.generation, "opened": self.opened},
            }
        )

    # ------------------------------------------------------------------ SPARQL protocol
    async def _run_query(self, query: QueryRequest, client: str) -> ProtocolResponse:
        """Run a query in a thread of its own pool (a query waiting for a worker holds no thread
        the pages need); a client with too many queries running or waiting gets 429."""
        if self._in_flight.get(client, 0) >= self.per_client:
            response = ProtocolResponse.error(
                429,
                f"too many queries from {client or 'this client'}: at most {self.per_client} "
                "may run or wait at once",
            )
            response.headers["Retry-After"] = str(max(1, round(self.pool.timeout)))
            return response
        if self._query_threads is None:
            self._query_threads = anyio.CapacityLimiter(256)
        self._in_flight[client] = self._in_flight.get(client, 0) + 1
        try:
            return await anyio.to_thread.run_sync(
                self.pool.run, query, client, limiter=self._query_threads
            )
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]

    async def sparql(self, request: Request) -> Response:
        accept = request.headers.get("accept", "")
        params: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
        if request.method == "POST":
            media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
            body = (await request.body()).decode("utf-8", errors="replace")
            if media == "application/sparql-update":
                return _protocol(ProtocolResponse.error(403, _READ_ONLY))
            if media == "application/x-www-form-urlencoded":
                for key, values in parse_qs(body, keep_blank_values=True).items():
                    params.setdefault(key, []).extend(values)
            elif media == "application/sparql-query":
                params["query"] = [*params.get("query", []), body]
            else:
                return _protocol(
                    ProtocolResponse.error(
                        415,
                        "POST a query as application/sparql-query or as the 'query' field of "
                        "application/x-www-form-urlencoded",
                    )
                )
        elif not params and "text/html" in accept:
            return RedirectResponse("/editor", status_code=303)
        parsed = parse_request(params, accept)
        if isinstance(parsed, QueryRequest):
            parsed = await self._run_query(parsed, request.client.host if request.client else "")
        return _protocol(parsed)


#: ``/api/export`` formats: media type and file suffix.
EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "sparql": ("application/sparql-query; charset=utf-8", "rq"),
}


def _table(rows: list[dict[str, Any]], fmt: str) -> bytes:
    """Catalogue rows as CSV, JSON or Parquet bytes (Parquet needs pyarrow)."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False).encode()
    if fmt == "csv":
        text = io.StringIO()
        write_csv(rows, text)
        return text.getvalue().encode()
    output = io.BytesIO()
    write_parquet(rows, output)
    return output.getvalue()


_READ_ONLY = "this endpoint is read-only: SPARQL updates are refused"


def _protocol(response: ProtocolResponse) -> Response:
    headers = {"Vary": "Accept", "Cache-Control": "no-store", **response.headers}
    return Response(
        response.body, status_code=response.status, headers=headers, media_type=response.media_type
    )


def _page(name: str) -> Any:
    async def page(request: Request) -> Response:
        return FileResponse(STATIC / name, media_type="text/html; charset=utf-8")

    return page


def create_app(
    store: str | Path,
    *,
    timeout: float = 30.0,
    limit: int = 10_000,
    workers: int = 2,
    max_body: int = MAX_BODY_BYTES,
    max_query_string: int = MAX_QUERY_STRING_BYTES,
    watch: float = WATCH_SECONDS,
) -> Starlette:
    """The ASGI application serving ``store`` (read-only), behind :class:`Guard` (security
    headers, CORS on ``/sparql``, request-size limits ``max_body`` and ``max_query_string``).
    Every ``watch`` seconds (0: never) the server looks whether the store has changed on disk
    and, once the change has settled, serves a fresh snapshot of it.

    :raises StoreError: the store cannot be opened.
    """
    state = CatalogueApp(Path(store), timeout=timeout, limit=limit, workers=workers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher = asyncio.create_task(state.watch(watch)) if watch > 0 else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            state.close()

    app = Starlette(
        routes=[
            Route("/", _page("index.html")),
            Route("/dataset", _page("dataset.html")),
            Route("/editor", _page("editor.html")),
            Route("/sparql", state.sparql, methods=["GET", "POST"]),
            Route("/api/search", state.search),
            Route("/api/export", state.export),
            Route("/api/dataset", state.dataset),
            Route("/api/queries", state.queries),
            Route("/thumbnail", state.thumbnail),
            Route("/api/status", state.status),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(
                Guard,
                max_body=max_body,
                max_query_string=max_query_string,
                dynamic=state.snapshot_headers,
            ),
        ],
    )
    app.state.catalogue = state
    return app

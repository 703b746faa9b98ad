"""Remote sources: HTTP(S) URLs and S3 prefixes, read with obstore on an asyncio event loop.

A :class:`Fetcher` owns an event loop in a background thread and one obstore store per host or
bucket, so connections are pooled. At most ``max_requests`` (four per dataset read at once)
requests are in flight.
obstore applies the per-request timeout and retries timeouts, 429 and 5xx answers with
exponential backoff; a request that keeps failing raises :class:`FetchError`, whose message
names the URL and the server's last answer. A 404 is an answer, not an error: the document
does not exist.

Conditional requests (``If-None-Match`` with the ETag recorded by an earlier harvest, or
``If-Modified-Since`` where the server gave no ETag) let a re-harvest confirm that a dataset is
unchanged without reading its documents again.

S3 prefixes are walked by listing one level at a time (``delimiter=/``), so a listing never
enumerates the chunks of an image: the walk stops at a root (a group with NGFF attributes)
and at arrays, as the local walk does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import posixpath
import queue
import threading
from collections.abc import Collection, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

from ngff_kg.errors import ExtractionError, FetchError, UsageError
from ngff_kg.extract.ngff import OmeGroup
from ngff_kg.sources.local import check_path
from ngff_kg.sources.walk import CRATE, ZARR_JSON, ZATTRS, FoundRoot, WalkError, classify_document
from ngff_kg.urls import PATH_SAFE

if TYPE_CHECKING:  # obstore's option and metadata types exist only in its stubs
    from obstore import GetOptions, ObjectMeta
    from obstore.store import ClientConfig, RetryConfig

T = TypeVar("T")

#: URL schemes read remotely.
REMOTE_SCHEMES = ("http://", "https://", "s3://")
#: Environment variables that mean S3 credentials are given (otherwise requests are unsigned).
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def is_remote(source: object) -> bool:
    """Whether a harvest source names a remote location (``https://``, ``http://``, ``s3://``)."""
    return isinstance(source, str) and source.lower().startswith(REMOTE_SCHEMES)


@dataclass(frozen=True)
class RemoteOptions:
    """How remote documents are fetched."""

    concurrency: int = 64  # datasets read at once (requests in flight: see max_requests)
    timeout: float = 30.0  # seconds for one request
    retries: int = 4  # retries of a request after a timeout, 429 or 5xx
    endpoint_url: str | None = None  # S3-compatible endpoint (default: AWS)
    #: S3 access without signing; None: anonymous unless credentials are in the environment
    anonymous: bool | None = None
    backoff: float = 0.2  # seconds before the first retry (doubled each time, at most 10 s)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise UsageError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.timeout <= 0:
            raise UsageError(f"timeout must be positive, got {self.timeout}")
        if self.retries < 0:
            raise UsageError(f"retries must be at least 0, got {self.retries}")

    @property
    def max_requests(self) -> int:
        """Requests in flight at most: four per dataset being read, so that the wells of a
        plate are fetched together without one dataset taking every connection."""
        return 4 * self.concurrency

    @property
    def unsigned(self) -> bool:
        if self.anonymous is not None:
            return self.anonymous
        return not any(os.environ.get(name) for name in CREDENTIAL_VARIABLES)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document as fetched: ``data`` is None when it is missing or not modified."""

    status: str  # "ok", "missing" or "not-modified"
    data: bytes | None = None
    size: int = -1
    validator: str = ""  # the ETag, or "lm:" + Last-Modified (ISO 8601), or "" when neither

    @property
    def record(self) -> tuple[int, str]:
        return (self.size, self.validator) if self.status == "ok" else (-1, "")


@dataclass(frozen=True, slots=True)
class Listing:
    """One level below a prefix: sub-directory names and files (name → (size, validator))."""

    directories: list[str]
    files: dict[str, tuple[int, str]]


def _validator(meta: ObjectMeta) -> str:
    etag = meta.get("e_tag")
    if etag:
        return str(etag)
    modified = meta.get("last_modified")
    if isinstance(modified, dt.datetime):
        return "lm:" + modified.isoformat()
    return ""


def _size(value: object) -> int:
    """A recorded size (a JSON number) as ``int``, raising as ``int()`` does on other values."""
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError(f"a recorded size must be a number, got {type(value).__name__}")


def _condition(validator: str) -> GetOptions:
    if validator.startswith("lm:"):
        return {"if_modified_since": dt.datetime.fromisoformat(validator[3:])}
    return {"if_none_match": validator}


def _message(exc: BaseException) -> str:
    """The first line of an obstore error (its debug dump follows)."""
    text = str(exc).strip() or type(exc).__name__
    text = text.split("\n\nDebug source:", 1)[0].strip()
    return " ".join(text.split())


def split_url(url: str) -> tuple[str, str]:
    """(store key, object path): ``https://host/a%20b/x`` → (``https://host``, ``a b/x``)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "s3") or not parts.netloc:
        raise UsageError(f"not a remote URL: {url!r} (use https://, http:// or s3://)")
    host = parts.netloc if scheme == "s3" else parts.netloc.lower()
    return f"{scheme}://{host}", unquote(parts.path).lstrip("/")


def join_url(base: str, path: str) -> str:
    """``base`` (ending in ``/``) + a relative document path, percent-encoded."""
    return base + quote(path, safe=PATH_SAFE)


class Fetcher:
    """Fetches remote documents on an event loop of its own; usable from any thread.

    The ``a…`` methods are coroutines for the loop; :meth:`call` runs one from another thread
    and waits for it.
    """

    def __init__(self, options: RemoteOptions | None = None) -> None:
        self.options = options or RemoteOptions()
        self._stores: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._semaphore: asyncio.Semaphore | None = None
        #: requests made, by outcome ("ok", "missing", "not-modified", "failed", "list")
        self.requests: dict[str, int] = {}

    # ------------------------------------------------------------------ loop
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="ngff-kg-fetch", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the fetcher's loop and wait for its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        """Cancel what is still running on the loop, then stop it."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:

            async def cancel_all() -> None:
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

            with contextlib.suppress(TimeoutError, RuntimeError):  # it is stopped anyway
                asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            loop.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self, outcome: str) -> None:
        self.requests[outcome] = self.requests.get(outcome, 0) + 1

    @property
    def semaphore(self) -> asyncio.Semaphore:
        if self._semaphore is None:  # created on the loop's thread, on first use
            self._semaphore = asyncio.Semaphore(self.options.max_requests)
        return self._semaphore

    # ------------------------------------------------------------------ stores
    def store(self, key: str) -> Any:
        """The obstore store of a host (``https://host``) or bucket (``s3://bucket``)."""
        store = self._stores.get(key)
        if store is None:
            store = self._stores[key] = self._make_store(key)
        return store

    def _make_store(self, key: str) -> Any:
        from obstore.store import HTTPStore, S3Store

        options = self.options
        client: ClientConfig = {
            "timeout": f"{max(1, round(options.timeout * 1000))}ms",
            "connect_timeout": f"{max(1, round(min(options.timeout, 10) * 1000))}ms",
            "allow_http": True,
            "user_agent": "ngff-kg",
        }
        retry: RetryConfig = {
            "max_retries": options.retries,
            "backoff": {
                "init_backoff": dt.timedelta(seconds=options.backoff),
                "max_backoff": dt.timedelta(seconds=10),
                "base": 2.0,
            },
            "retry_timeout": dt.timedelta(seconds=options.timeout * (options.retries + 1) + 30),
        }
        scheme, _, host = key.partition("://")
        if scheme == "s3":
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            kwargs: dict[str, Any] = {"region": region or "us-east-1"}
            if options.endpoint_url:
                kwargs["endpoint"] = options.endpoint_url
            if options.unsigned:
                kwargs["skip_signature"] = True
            return S3Store(host, client_options=client, retry_config=retry, **kwargs)
        return HTTPStore.from_url(key, client_options=client, retry_config=retry)

    # ------------------------------------------------------------------ requests
    async def aget(self, url: str, validator: str = "") -> Fetched:
        """The document at ``url``; with a validator, ``not-modified`` when it still matches.

        :raises FetchError: the request kept failing.
        """
        import obstore
        from obstore.exceptions import NotModifiedError

        key, path = split_url(url)
        store = self.store(key)
        options = _condition(validator) if validator else None
        async with self.semaphore:
            try:
                result = await obstore.get_async(store, path, options=options)
                data = bytes(await result.bytes_async())
            except FileNotFoundError:
                self._count("missing")
                return Fetched("missing")
            except NotModifiedError:
                self._count("not-modified")
                return Fetched("not-modified", None, -1, validator)
            except Exception as exc:  # obstore raises its own error types and OSError
                self._count("failed")
                raise FetchError(f"cannot fetch {url}: {_message(exc)}") from exc
        self._count("ok")
        return Fetched("ok", data, len(data), _validator(result.meta))

    async def aexists(self, url: str) -> bool:
        """Whether a document exists (a HEAD request)."""
        import obstore

        key, path = split_url(url)
        async with self.semaphore:
            try:
                await obstore.head_async(self.store(key), path)
            except FileNotFoundError:
                self._count("missing")
                return False
            except Exception as exc:
                self._count("failed")
                raise FetchError(f"cannot fetch {url}: {_message(exc)}") from exc
        self._count("ok")
        return True

    async def alist(self, url: str) -> Listing:
        """One level below the prefix ``url`` (S3 only: plain HTTP has no listing)."""
        import obstore

        key, path = split_url(url)
        if not key.startswith("s3://"):
            raise UsageError(f"{url} cannot be listed: only s3:// prefixes are walked")
        prefix = path.rstrip("/") + "/" if path.strip("/") else ""
        async with self.semaphore:
            try:
                result = await obstore.list_with_delimiter_async(self.store(key), prefix or None)
            except Exception as exc:
                self._count("failed")
                raise FetchError(f"cannot list {url}: {_message(exc)}") from exc
        self._count("list")
        directories = sorted(posixpath.basename(p.rstrip("/")) for p in result["common_prefixes"])
        files = {
            posixpath.basename(meta["path"]): (int(meta["size"]), _validator(meta))
            for meta in result["objects"]
        }
        return Listing(directories, files)

    async def aunchanged(
        self,
        base: str,
        records: Sequence[Sequence[object]],
        listing: dict[str, tuple[int, str]] | None = None,
    ) -> bool:
        """Whether every recorded document below ``base`` is unchanged, asked with conditional
        requests (no document is read again when nothing changed). ``listing`` holds the files
        at the top level of ``base`` when a listing has them already."""

        async def one(path: str, size: int, validator: object) -> bool:
            if listing is not None and "/" not in path:
                if size == -1:
                    return path not in listing
                return listing.get(path, (-1, ""))[1] == validator and bool(validator)
            url = join_url(base, path)
            if size == -1:
                return not await self.aexists(url)
            if not isinstance(validator, str) or not validator:
                return False  # the server gave no validator: only reading it again tells
            return (await self.aget(url, validator)).status == "not-modified"

        if not records:
            return False
        checks = [one(str(r[0]), _size(r[1]), r[2]) for r in records]
        try:
            return all(await asyncio.gather(*checks))
        except ExtractionError:
            return False  # cannot tell: read the dataset again (and report what fails then)


class RemoteSource:
    """The documents of one remote root (a :class:`~ngff_kg.sources.local.MetadataSource`).

    ``names`` (the root's top-level entries, from an S3 listing) answers documents below a
    missing entry without a request. Every request is recorded in :attr:`accessed` as
    ``(path, size, validator)``, size -1 when the document is missing; :attr:`failed` tells
    whether a request failed, so the dataset is read again next time.
    """

    def __init__(self, fetcher: Fetcher, base: str, names: Collection[str] | None = None) -> None:
        self.fetcher = fetcher
        self.base = base if base.endswith("/") else base + "/"
        self._names = frozenset(names) if names is not None else None
        self.accessed: list[tuple[str, int, int | str]] = []
        self.failed = False
        self._pending: dict[str, Any] = {}  # path → future of its prefetch batch
        self._ready: dict[str, bytes | FetchError | None] = {}  # prefetched, not yet asked for

    def url(self, path: str) -> str:
        return join_url(self.base, path)

    def might_have(self, path: str) -> bool:
        return self._names is None or path.split("/", 1)[0] in self._names

    def _record(self, path: str, fetched: Fetched) -> bytes | None:
        size, validator = fetched.record
        self.accessed.append((path, size, validator if size != -1 else 0))
        return fetched.data

    async def _aget(self, path: str) -> bytes | FetchError | None:
        try:
            fetched = await self.fetcher.aget(self.url(path))
        except FetchError as exc:
            self.failed = True
            return exc
        return self._record(path, fetched)

    def prefetch(self, *paths: str) -> None:
        """Start fetching documents now, together; :meth:`get` of any of them waits for the
        whole batch once (one hand-over between threads instead of one per document)."""
        wanted = []
        for path in map(check_path, paths):
            if self.might_have(path) and path not in self._ready and path not in self._pending:
                wanted.append(path)
        if not wanted:
            return

        async def batch() -> dict[str, bytes | FetchError | None]:
            results = await asyncio.gather(*(self._aget(path) for path in wanted))
            return dict(zip(wanted, results, strict=True))

        future = asyncio.run_coroutine_threadsafe(batch(), self.fetcher.loop)
        for path in wanted:
            self._pending[path] = future

    def _prefetched(self, path: str) -> tuple[bool, bytes | FetchError | None]:
        """(True, result) for a prefetched document, waiting for its batch if need be."""
        future = self._pending.get(path)
        if future is not None:
            results = future.result()
            for name in results:
                self._pending.pop(name, None)
            self._ready.update(results)
        if path in self._ready:
            return True, self._ready.pop(path)
        return False, None

    def get(self, path: str) -> bytes | None:
        path = check_path(path)
        if not self.might_have(path):
            self.accessed.append((path, -1, 0))
            return None
        hit, result = self._prefetched(path)
        if not hit:
            result = self.fetcher.call(self._aget(path))
        if isinstance(result, FetchError):
            raise result
        return result

    def get_many(self, paths: Sequence[str]) -> list[bytes | ExtractionError | None]:
        """Several documents at once, fetched concurrently; failures are returned in place."""
        checked: list[str | ExtractionError] = []
        for path in paths:
            try:
                checked.append(check_path(path))
            except ExtractionError as exc:
                checked.append(exc)
            else:
                if path in self._pending:
                    self._prefetched(path)  # the batch is in: its results move to _ready

        async def run() -> list[bytes | ExtractionError | None]:
            async def one(item: str | ExtractionError) -> bytes | ExtractionError | None:
                if isinstance(item, ExtractionError):
                    return item
                if not self.might_have(item):
                    self.accessed.append((item, -1, 0))
                    return None
                if item in self._ready:
                    return self._ready.pop(item)
                return await self._aget(item)

            return list(await asyncio.gather(*(one(item) for item in checked)))

        return self.fetcher.call(run())


# ---------------------------------------------------------------------- walks in this thread
def iter_in_thread(fetcher: Fetcher, agen_factory: Any) -> Iterator[Any]:
    """Items of an async generator running on the fetcher's loop, yielded in this thread.

    At most 1,024 items wait in between; when this thread stops early (an error, or it
    stops iterating) the generator is stopped too.
    """
    items: queue.Queue[Any] = queue.Queue(maxsize=1024)
    stopped = threading.Event()
    done = object()

    def put(item: Any) -> None:
        while not stopped.is_set():
            try:
                items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    async def pump() -> None:
        try:
            async for item in agen_factory():
                if stopped.is_set():
                    return
                await asyncio.to_thread(put, item)
        except Exception as exc:  # handed to the consuming thread
            await asyncio.to_thread(put, exc)
        finally:
            if not stopped.is_set():  # (when the consumer stopped, nobody waits for the end)
                await asyncio.to_thread(put, done)

    future = asyncio.run_coroutine_threadsafe(pump(), fetcher.loop)
    try:
        while True:
            item = items.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
        future.cancel()


# ---------------------------------------------------------------------- discovery
@dataclass(frozen=True, slots=True)
class Unchanged:
    """A root in the store whose recorded documents are all unchanged (not read again)."""

    path: str


@dataclass(frozen=True, slots=True)
class RemoteCsv:
    """A CSV file met while walking an S3 prefix, with its (size, validator) as listed."""

    path: str
    listed: tuple[int, str] | None = None


async def aroot(fetcher: Fetcher, url: str, records: Any = None) -> FoundRoot | Unchanged:
    """The root at a dataset URL, found by fetching its metadata directly (no listing):
    ``zarr.json``, else a Zarr v2 ``.zattrs``. With the records of an earlier harvest, an
    unchanged root is answered with conditional requests only.

    :raises FetchError: the metadata could not be fetched.
    :raises ExtractionError: there is no OME-Zarr root at the URL.
    """
    if records and await fetcher.aunchanged(url, records):
        # unless a Zarr v2 root, recorded by its .zattrs, has a zarr.json now (read instead)
        gained = str(records[0][0]) == ZATTRS and await fetcher.aexists(join_url(url, ZARR_JSON))
        if not gained:
            return Unchanged(url)
    for name in (ZARR_JSON, ZATTRS):
        fetched = await fetcher.aget(join_url(url, name))
        if fetched.data is None:
            continue
        found = _classified(url, name, fetched, names=None, has_crate=True)
        if isinstance(found, FoundRoot):
            return found
        if found == "skip":
            raise ExtractionError(f"{url}{name} is a Zarr array, not an OME-Zarr root")
        raise ExtractionError(f"{url}{name} has no OME-Zarr (NGFF) metadata")
    raise ExtractionError(f"no {ZARR_JSON} or {ZATTRS} at {url}: not an OME-Zarr root")


def _classified(
    url: str, name: str, fetched: Fetched, names: frozenset[str] | None, has_crate: bool
) -> FoundRoot | str | None:
    assert fetched.data is not None
    try:
        kind, finite = classify_document(name, fetched.data)
    except ValueError as exc:
        raise ExtractionError(f"{url}{name}: invalid JSON: {exc}") from exc
    if isinstance(kind, OmeGroup):
        record = (name, fetched.size, fetched.validator)
        return FoundRoot(url, kind, name, fetched.data, has_crate, names, record, finite)
    return kind


async def awalk_s3(
    fetcher: Fetcher, url: str, known: Any = None, batch: int = 256
) -> Any:  # AsyncIterator[FoundRoot | Unchanged | RemoteCsv | WalkError]
    """Roots, CSV files and problems below an S3 prefix, level by level in sorted order.

    ``known(url)`` gives the recorded documents of a root already in the store, or None.
    Directories of one level are listed concurrently (``batch`` at a time).
    """
    level = [url if url.endswith("/") else url + "/"]
    while level:
        following: list[str] = []
        for start in range(0, len(level), batch):
            chunk = level[start : start + batch]
            results = await asyncio.gather(*(_visit(fetcher, d, known) for d in chunk))
            for items, subdirectories in results:
                for item in items:
                    yield item
                following.extend(subdirectories)
        level = following


async def _visit(fetcher: Fetcher, directory: str, known: Any) -> tuple[list[Any], list[str]]:
    try:
        listing = await fetcher.alist(directory)
    except FetchError as exc:
        return [WalkError(directory, str(exc))], []
    files = listing.files
    names = frozenset(files) | frozenset(listing.directories)
    for name in (ZARR_JSON, ZATTRS):
        if name not in files:
            continue
        records = known(directory) if known is not None else None
        if (
            records
            and any(r[0] == name and r[2] == files[name][1] and files[name][1] for r in records)
            and await fetcher.aunchanged(directory, records, files)
        ):
            return [Unchanged(directory)], []
        try:
            fetched = await fetcher.aget(join_url(directory, name))
        except FetchError as exc:
            return [WalkError(directory, str(exc))], []
        if fetched.data is None:
            break
        try:
            found = _classified(directory, name, fetched, names, CRATE in files)
        except ExtractionError as exc:
            return [WalkError(directory, str(exc))], []
        if isinstance(found, FoundRoot):
            return [found], []
        if found == "skip":
            return [], []
        break
    if ".zarray" in files:
        return [], []
    items: list[Any] = [
        RemoteCsv(join_url(directory, name), files[name])
        for name in sorted(files)
        if name.lower().endswith(".csv")
    ]
    subdirectories = [
        join_url(directory, name) + "/" for name in listing.directories if not name.startswith(".")
    ]
    return items, subdirectories


def walk_s3(fetcher: Fetcher, url: str, known: Any = None) -> Iterator[Any]:
    """:func:`awalk_s3` consumed from this thread."""
    return iter_in_thread(fetcher, lambda: awalk_s3(fetcher, url, known))

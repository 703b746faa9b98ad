"""The SPARQL 1.1 Protocol, read-only: query workers with a deadline, results with a row limit.

pyoxigraph cannot interrupt a running query. Each query therefore runs in a worker process
that has its own read-only handle on the store; when the deadline passes, the server kills the
worker and starts a fresh one, so no query can hold the server or a core for longer than the
time limit. Results are written here, not by pyoxigraph, so that they stop at the row limit.

Queries see the union of all graphs as the default graph, as ``ngff-kg query`` does, unless the
request names ``default-graph-uri``\\ s. Named queries run unchanged: a ``param.NAME`` request
parameter, typed by the query's header, is written for the variable ``?param_NAME`` (or
substituted for the selected variable ``?NAME`` when declared so, see :mod:`ngff_kg.queries`);
a parameter not given leaves its variable unbound, and the query means its defaults.
``SERVICE`` (federated queries) is refused: the server makes no requests.

This module needs no web framework: :class:`QueryPool` is called from the web app.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import signal
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ngff_kg.errors import NgffKgError
from ngff_kg.queries import PARAM_NS, bindings_for, parse_query
from ngff_kg.views.export import PREFIXES
from ngff_kg.vocab import XSD_STRING

RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class ResultFormat:
    name: str
    media_type: str  # what the response says
    accepts: tuple[str, ...]  # media types a client may ask for
    aliases: tuple[str, ...] = ()  # other values of the ``format`` request parameter

    def named(self, value: str) -> bool:
        value = value.strip().lower()
        return value == self.name or value in self.aliases or value in self.accepts


SOLUTION_FORMATS = (
    ResultFormat(
        "json",
        "application/sparql-results+json",
        ("application/sparql-results+json", "application/json"),
    ),
    ResultFormat(
        "xml",
        "application/sparql-results+xml",
        ("application/sparql-results+xml", "application/xml", "text/xml"),
    ),
    ResultFormat("csv", "text/csv; charset=utf-8", ("text/csv",)),
    ResultFormat("tsv", "text/tab-separated-values; charset=utf-8", ("text/tab-separated-values",)),
)
GRAPH_FORMATS = (
    ResultFormat(
        "turtle", "text/turtle; charset=utf-8", ("text/turtle", "application/x-turtle"), ("ttl",)
    ),
    ResultFormat(
        "ntriples",
        "application/n-triples",
        ("application/n-triples", "text/plain"),
        ("nt", "n-triples"),
    ),
    ResultFormat(
        "rdfxml",
        "application/rdf+xml",
        ("application/rdf+xml", "application/xml", "text/xml"),
        ("xml", "rdf", "rdf+xml"),
    ),
    ResultFormat(
        "jsonld",
        "application/ld+json",
        ("application/ld+json", "application/json"),
        ("json", "json-ld"),
    ),
)
_RDF = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}
_BOOLEAN = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
#: Response header set when a result was cut at the row limit (its value: the limit).
TRUNCATED_HEADER = "NGFF-KG-Truncated"


@dataclass
class QueryRequest:
    """A query as the protocol gives it: text, parameters, dataset, wanted formats."""

    query: str
    params: dict[str, str] = field(default_factory=dict)
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    accept: str = ""
    format: str | None = None  # a format name (json, csv, turtle...) overriding Accept


@dataclass
class Response:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        return cls(status, "text/plain; charset=utf-8", (message + "\n").encode("utf-8"))


# ---------------------------------------------------------------------- content negotiation


_QVALUE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_accept(header: str) -> list[tuple[str, float]]:
    """Media ranges with their weight, as an ``Accept`` header lists them (RFC 9110 12.5.1).

    A range that is not ``type/subtype``, ``type/*`` or ``*/*`` is skipped. A weight that is
    not a valid qvalue (``0`` to ``1``, at most three decimals) is ignored: the range counts
    with the default weight 1, as if it had none. A range with media-type parameters other
    than ``charset`` is skipped too (no result here has such parameters).

    >>> parse_accept("text/csv;q=0.5, application/json, */*;q=abc, bad")
    [('text/csv', 0.5), ('application/json', 1.0), ('*/*', 1.0)]
    """
    out = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        kind, slash, subtype = media.partition("/")
        if not (slash and _TOKEN.fullmatch(kind) and _TOKEN.fullmatch(subtype)):
            continue
        if kind == "*" and subtype != "*":
            continue
        quality, usable = 1.0, True
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            key, value = key.strip().lower(), value.strip()
            if key == "q":
                if _QVALUE.fullmatch(value):
                    quality = float(value)
                break  # what follows the weight are accept-extensions: not about the media type
            if key and key != "charset":
                usable = False
        if usable:
            out.append((media, quality))
    return out


def negotiate(
    accept: str, formats: tuple[ResultFormat, ...], name: str | None = None
) -> ResultFormat | None:
    """The format to answer with: the one named (by name, alias or media type, as the
    ``format`` request parameter gives it), else the best the ``Accept`` header allows;
    ``None`` when none is acceptable (every range matching it has weight 0, or none matches).

    Each format gets the weight of the most specific range that matches one of its media
    types (exact type, then ``type/*``, then ``*/*``); the highest weight wins, then the more
    specific match, then the first of ``formats``.

    >>> negotiate("text/csv", SOLUTION_FORMATS).name
    'csv'
    >>> negotiate("*/*", GRAPH_FORMATS).name
    'turtle'
    >>> negotiate("text/csv, */*", SOLUTION_FORMATS).name
    'csv'
    """
    if name:
        return next((f for f in formats if f.named(name)), None)
    ranges = parse_accept(accept) if accept.strip() else [("*/*", 1.0)]
    best: tuple[float, int, int, ResultFormat] | None = None
    for position, fmt in enumerate(formats):
        kind = fmt.media_type.partition("/")[0]  # the type the response would have
        quality, specificity = 0.0, -1
        for media, q in ranges:
            if media in fmt.accepts:
                rank = 2
            elif media == kind + "/*":
                rank = 1
            elif media == "*/*":
                rank = 0
            else:
                continue
            if rank > specificity:
                quality, specificity = q, rank
            elif rank == specificity:
                quality = max(quality, q)
        if quality <= 0:
            continue
        key = (quality, specificity, -position, fmt)
        if best is None or key[:3] > best[:3]:
            best = key
    return best[3] if best else None


# ---------------------------------------------------------------------- result writers


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {  # an RDF 1.2 triple term
        "type": "triple",
        "value": {
            "subject": _json_term(term.subject),
            "predicate": _json_term(term.predicate),
            "object": _json_term(term.object),
        },
    }


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return (
                f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
            )
        return f"<literal>{escape(term.value)}</literal>"
    return (
        f"<triple><subject>{_xml_term(term.subject)}</subject>"
        f"<predicate>{_xml_term(term.predicate)}</predicate>"
        f"<object>{_xml_term(term.object)}</object></triple>"
    )


def _csv_cell(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = "_:" + term.value
    elif isinstance(term, ox.NamedNode | ox.Literal):
        text = term.value
    else:
        text = str(term)
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _tsv_cell(term: Any) -> str:
    return "" if term is None else str(term).replace("\t", "\\t")


def write_solutions(
    variables: list[str],
    rows: Iterable[tuple[Any, ...]],
    fmt: str,
    truncated_at: int | None = None,
) -> bytes:
    """SELECT results in a SPARQL 1.1 results format (``json``, ``xml``, ``csv``, ``tsv``).

    :param truncated_at: the rows were cut at this limit: JSON results say so in an extra
        top-level member ``"truncated": {"limit": N}``, written first (rdflib and Oxigraph
        read such documents as SPARQL JSON results); the other formats have no place for it, the
        ``NGFF-KG-Truncated`` response header says it for all.
    """
    if fmt == "json":
        bindings = [
            {v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None}
            for row in rows
        ]
        document: dict[str, Any] = {}
        if truncated_at is not None:  # first: Oxigraph's reader refuses members after results
            document["truncated"] = {"limit": truncated_at}
        document |= {"head": {"vars": variables}, "results": {"bindings": bindings}}
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    if fmt == "xml":
        parts = [
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
            "<head>",
            *(f"<variable name={quoteattr(v)}/>" for v in variables),
            "</head><results>",
        ]
        for row in rows:
            parts.append("<result>")
            for name, term in zip(variables, row, strict=True):
                if term is not None:
                    parts.append(f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>")
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode("utf-8")
    if fmt == "csv":
        lines = [",".join(_csv_cell(ox.Literal(v)) for v in variables)]
        lines += [",".join(_csv_cell(t) for t in row) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join(_tsv_cell(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown results format {fmt!r}")


# ---------------------------------------------------------------------- running one query

_PROLOGUE = re.compile(r"^\s*(?:(?:PREFIX\s+[^\s:]*:\s*<>|BASE\s*<>)\s*)*", re.I)
_UPDATE_START = re.compile(r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:])", re.I)
_PARAM_CALL = re.compile(r"(?<![\w?$])param:([A-Za-z_]\w*)\s*\(")


def strip_strings_and_comments(query: str) -> str:
    """The query with string literals, IRIs and comments blanked, to look for keywords.

    >>> strip_strings_and_comments('SELECT * { ?s ?p "SERVICE" } # SERVICE')
    'SELECT * { ?s ?p "" } '
    """
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            quote = query[i : i + 3] if query[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not query.startswith(quote, j):
                j += 2 if query[j] == "\\" else 1
            out.append(quote + quote)
            i = j + len(quote)
        elif c == "<" and re.match(r"<[^<>\"{}|^`\\\s]*>", query[i:]):
            end = query.index(">", i)
            out.append("<>")
            i = end + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def is_update(code: str) -> bool:
    """Whether a request (strings, IRIs and comments stripped) is a SPARQL update.

    >>> is_update(strip_strings_and_comments("PREFIX a: <http://a/> INSERT DATA { a:b a:c 1 }"))
    True
    >>> is_update(strip_strings_and_comments("SELECT * { ?s ?p ?o }"))
    False
    """
    prologue = _PROLOGUE.match(code)
    assert prologue is not None  # every part of the pattern is optional: it always matches
    return bool(_UPDATE_START.match(code, prologue.end()))


_ONTOLOGIES: dict[int, Any] = {}


def _ontology(store: ox.Store) -> Any:
    """The ontology index of the store (built once per worker), to resolve term names."""
    index = _ONTOLOGIES.get(id(store))
    if index is None:
        from ngff_kg.ontology.index import OntologyIndex
        from ngff_kg.ontology.taxonomy import load_taxonomy
        from ngff_kg.store.knowledge import ontology_graph_names

        graphs = ontology_graph_names(store)
        index = _ONTOLOGIES[id(store)] = OntologyIndex.from_store(store, load_taxonomy(), graphs)
    return index


def execute(store: ox.Store, request: QueryRequest, limit: int) -> Response:
    """Run one query and write its results, at most ``limit`` rows or triples."""
    code = strip_strings_and_comments(request.query)
    if is_update(code):
        return Response.error(403, "this endpoint is read-only: SPARQL updates are refused")
    if _SERVICE.search(code):
        return Response.error(403, "SERVICE (federated queries) is not allowed on this endpoint")
    try:
        named = parse_query(request.query, "query")
        bindings = bindings_for(named, request.params, lambda: _ontology(store))
    except NgffKgError as exc:
        return Response.error(400, str(exc))
    functions = bindings.custom_functions
    for name in _PARAM_CALL.findall(code):  # used but not declared: unbound
        functions.setdefault(ox.NamedNode(PARAM_NS + name), lambda: None)
    options: dict[str, Any] = {
        "custom_functions": functions,
        "substitutions": bindings.substitutions,
    }
    try:
        if request.default_graphs:
            options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
        else:
            options["use_default_graph_as_union"] = True
        if request.named_graphs:
            options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    except ValueError as exc:
        return Response.error(400, f"bad graph IRI: {exc}")
    try:
        result = store.query(bindings.text, **options)
    except SyntaxError as exc:
        return Response.error(400, f"invalid SPARQL query: {exc}")
    except (OSError, RuntimeError, ValueError) as exc:
        return Response.error(400, f"query failed: {exc}")
    try:
        return _write_result(result, request, limit)
    except (OSError, RuntimeError, ValueError) as exc:  # errors raised while evaluating lazily
        return Response.error(400, f"query failed: {exc}")


def _write_result(result: Any, request: QueryRequest, limit: int) -> Response:
    if isinstance(result, ox.QueryBoolean):
        fmt = negotiate(request.accept, SOLUTION_FORMATS, request.format)
        if fmt is None:
            return _not_acceptable(SOLUTION_FORMATS)
        body = result.serialize(format=_BOOLEAN[fmt.name])
        assert body is not None  # given no output, serialize returns the bytes
        return Response(200, fmt.media_type, body)
    if isinstance(result, ox.QuerySolutions):
        fmt = negotiate(request.accept, SOLUTION_FORMATS, request.format)
        if fmt is None:
            return _not_acceptable(SOLUTION_FORMATS)
        variables = [v.value for v in result.variables]
        rows, truncated = _take((tuple(s[v] for v in variables) for s in result), limit)
        body = write_solutions(variables, rows, fmt.name, limit if truncated else None)
        return Response(200, fmt.media_type, body, _truncation(truncated, limit))
    fmt = negotiate(request.accept, GRAPH_FORMATS, request.format)
    if fmt is None:
        return _not_acceptable(GRAPH_FORMATS)
    triples, truncated = _take(iter(result), limit)
    prefixes = PREFIXES if fmt.name == "turtle" else None
    body = ox.serialize(triples, format=_RDF[fmt.name], prefixes=prefixes) or b""
    return Response(200, fmt.media_type, body, _truncation(truncated, limit))


def _take(items: Iterable[Any], limit: int) -> tuple[list[Any], bool]:
    out: list[Any] = []
    for item in items:
        if len(out) == limit:
            return out, True
        out.append(item)
    return out, False


def _truncation(truncated: bool, limit: int) -> dict[str, str]:
    return {TRUNCATED_HEADER: str(limit)} if truncated else {}


def _not_acceptable(formats: tuple[ResultFormat, ...]) -> Response:
    offered = ", ".join(f.accepts[0] for f in formats)
    return Response.error(406, f"no acceptable result format; this result can be: {offered}")


# ---------------------------------------------------------------------- worker processes


#: The message that makes a worker open the store afresh (read-only handles are snapshots).
_REOPEN = "reopen"


def _worker_main(store_path: str, conn: Any, limit: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers itself
    try:
        store = ox.Store.read_only(store_path)
    except (OSError, RuntimeError) as exc:
        conn.send(("error", f"cannot open store at {store_path}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the server has gone
        if request == _REOPEN:
            try:
                fresh = ox.Store.read_only(store_path)
            except (OSError, RuntimeError) as exc:  # keep the old snapshot
                conn.send(("error", f"cannot reopen store at {store_path}: {exc}"))
                continue
            _ONTOLOGIES.pop(id(store), None)
            store = fresh
            conn.send(("ready", None))
            continue
        try:
            response = execute(store, request, limit)
        except Exception as exc:  # keep serving; the server reports it as a 500
            response = Response.error(500, f"internal error: {type(exc).__name__}: {exc}")
        conn.send(response)


class _Worker:
    def __init__(self, context: Any, store_path: str, limit: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(store_path, child, limit), daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False
        self.generation = 0

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        if not self.conn.poll(timeout):
            raise TimeoutError(f"the query worker did not start within {timeout:.0f} s")
        status, message = self.conn.recv()
        if status != "ready":
            raise OSError(message)
        self.ready = True

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryPool:
    """Worker processes answering queries, each query bounded by ``timeout`` seconds.

    One worker is held back for clients that have no query running: a client (an address)
    whose queries already run may take a worker only while another one stays free, so however
    many slow queries one client sends, another client's query finds a worker (with
    ``workers`` at least 2). Queries wait up to ``timeout`` seconds for a worker, then get 503.

    :param store_path: a store directory (opened read-only by every worker).
    :param workers: how many queries may run at once.
    :param timeout: seconds a query may run; then its worker is killed and replaced.
    :param limit: the most rows (or triples) a result may have; more are cut off.
    """

    def __init__(
        self,
        store_path: str,
        *,
        workers: int = 2,
        timeout: float = 30.0,
        limit: int = 10_000,
        start_timeout: float = 120.0,
    ) -> None:
        if workers < 1 or timeout <= 0 or limit < 1:
            raise ValueError("workers and limit must be at least 1, timeout positive")
        self.store_path = store_path
        self.timeout = timeout
        self.limit = limit
        self.start_timeout = start_timeout
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Condition()
        self._all: set[_Worker] = set()
        self._idle: list[_Worker] = []
        self._running: dict[str, int] = {}  # client -> queries it has running
        self._generation = 0  # bumped when the store changed: workers reopen it
        self._closed = False
        for _ in range(workers):
            self._idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self.store_path, self.limit)
        worker.generation = self._generation
        with self._lock:
            self._all.add(worker)
        return worker

    def _release(self, worker: _Worker | None, client: str) -> None:
        """Give back a worker (``None``: it was killed; start a fresh one) and the client's slot."""
        if worker is None and not self._closed:
            worker = self._spawn()
        with self._lock:
            count = self._running.get(client, 0) - 1
            if count > 0:
                self._running[client] = count
            else:
                self._running.pop(client, None)
            if worker is not None and not self._closed:
                self._idle.append(worker)
            self._lock.notify_all()

    def _acquire(self, client: str, wait: float) -> _Worker | None:
        """A free worker for ``client``, waiting at most ``wait`` seconds (``None``: none)."""
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                running = self._running.get(client, 0)
                reserve = 1 if self.workers > 1 and running else 0
                if not self._closed and len(self._idle) > reserve:
                    self._running[client] = running + 1
                    return self._idle.pop(0)
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return None
                self._lock.wait(left)

    def check(self) -> None:
        """Wait until one worker has opened the store.

        :raises OSError: the store cannot be opened, or no worker started in time.
        """
        worker = self._acquire("", self.start_timeout)
        if worker is None:
            raise OSError("no query worker is free")
        try:
            worker.wait_ready(self.start_timeout)
        finally:
            self._release(worker, "")

    def reopen(self) -> None:
        """Make every worker reopen the store before its next query (a newer snapshot)."""
        with self._lock:
            self._generation += 1

    def run(self, request: QueryRequest, client: str = "") -> Response:
        """Answer one request for ``client`` (its address; blocking: call it from a thread)."""
        worker = self._acquire(client, self.timeout)
        if worker is None:
            return Response.error(
                503, f"the server is busy: no query slot freed in {self.timeout:g} s"
            )
        try:
            worker.wait_ready(self.start_timeout)
            if worker.generation != self._generation:
                generation = self._generation
                worker.conn.send(_REOPEN)
                if not worker.conn.poll(self.start_timeout):
                    raise TimeoutError("the query worker did not reopen the store")
                worker.conn.recv()  # ("error", ...): the worker keeps its older snapshot
                worker.generation = generation
            worker.conn.send(request)
            if not worker.conn.poll(self.timeout):
                worker.stop()
                self._forget(worker)
                self._release(None, client)
                return Response.error(
                    503, f"the query ran longer than the time limit of {self.timeout:g} s"
                )
            response = worker.conn.recv()
        except (OSError, EOFError, TimeoutError) as exc:
            worker.stop()
            self._forget(worker)
            self._release(None, client)
            return Response.error(500, f"the query worker failed: {exc}")
        self._release(worker, client)
        return response

    def _forget(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._lock.notify_all()
        for worker in workers:
            worker.stop()


def parse_request(params: Mapping[str, list[str]], accept: str) -> QueryRequest | Response:
    """A :class:`QueryRequest` from protocol parameters (name → values), or the error response
    to give: 403 for an update, 400 without exactly one query."""
    if params.get("update"):
        return Response.error(403, "this endpoint is read-only: SPARQL updates are refused")
    queries = params.get("query", [])
    if len(queries) != 1:
        return Response.error(400, "give exactly one 'query' parameter")
    bound = {
        name.removeprefix("param."): values[-1]
        for name, values in params.items()
        if name.startswith("param.") and values
    }
    formats = params.get("format", [])
    return QueryRequest(
        queries[0],
        bound,
        list(params.get("default-graph-uri", [])),
        list(params.get("named-graph-uri", [])),
        accept,
        formats[-1] if formats else None,
    )

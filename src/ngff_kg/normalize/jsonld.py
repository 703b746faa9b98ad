"""JSON-LD to RDF, offline, fast on the shapes RO-Crates use.

Two paths give the same triples:

* a fast path written for the JSON-LD that RO-Crates are made of (a context of remote URLs
  and term maps, a flat or nested ``@graph`` of node objects with strings, numbers, booleans,
  references and value objects). Compiled contexts are cached, so a crate costs a few
  dictionary look-ups per property;
* pyld's standard ``to_rdf`` for anything outside that shape (``@list``, scoped contexts,
  ``@base``, default languages...), with a document loader that only answers from the
  bundled and user-provided contexts.

Both are checked against each other in the test suite on every crate of the corpus, and
against the W3C JSON-LD 1.1 toRdf suite (``tests/test_jsonld_conformance.py``): the converter
passes every applicable positive test pyld passes and rejects every negative test with an
:class:`ExtractionError`. Where the fast path is not sure to read a feature exactly, it hands
the document to pyld (whose processed contexts are cached, the bundled ones being "static").
Graph names are kept (:meth:`Expansion.quads`). Any failure, of pyld or of the fast path, is
an :class:`ExtractionError`; documents nested deeper than :data:`MAX_DEPTH` are rejected
before any work.

Deliberate readings that differ from a plain JSON-LD processor:

* the RO-Crate 0.2-1.0 contexts' ``"@base": null`` is ignored, so a crate's relative
  identifiers resolve against its location as RO-Crate 1.1 and later say (with it, every
  relative ``@id`` of such a crate would be dropped);
* with ``repair_iris`` (what :func:`~ngff_kg.extract.rocrate.extract_crate` asks for) the fast
  path percent-encodes characters an IRI may not hold, and keeps a text whose language tag
  is not well-formed BCP 47 without its tag, and reports both (as repairs), instead of
  dropping the statement;
* no negative test of the suite is read instead of rejected (:data:`LENIENT` is empty).

The caller may append a *patch* to the context: term definitions that apply only where the
document's own context leaves a term undefined. Uses of patched terms are reported, so that
a profile repair (see :mod:`ngff_kg.extract.rocrate`) is recorded and never silent.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pyld.iri_resolver import resolve as _pyld_resolve

from ngff_kg import rdf
from ngff_kg.errors import ExtractionError, UnknownContextError
from ngff_kg.store.parsing import parse_nquads_lenient
from ngff_kg.vocab import RDF_TYPE, XSD_BOOLEAN, XSD_DOUBLE, XSD_INTEGER, XSD_STRING

_RDF_TYPE_TERM = f"<{RDF_TYPE}>"
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")
_GEN_DELIMS = (":", "/", "?", "#", "[", "]", "@")
_KEYWORDS = frozenset(
    "@base @container @context @direction @graph @id @import @included @index @json "
    "@language @list @nest @none @prefix @propagate @protected @reverse @set @type "
    "@value @version @vocab".split()
)
_KEYWORD_LIKE = re.compile(r"^@[a-zA-Z]+$")
#: Well-formed BCP 47 language tag (the syntax RDF requires of a literal's language).
_LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")

#: Deepest nesting of JSON arrays and objects a document may have. pyld recurses once or more
#: per level; real crates stay below 20 levels, and at a few hundred Python's recursion limit
#: is reached. Deeper documents are an :class:`ExtractionError`, found before any work.
MAX_DEPTH = 128

#: Environment variable naming a directory of extra context documents.
CONTEXTS_ENV = "NGFF_KG_CONTEXTS"


#: Negative tests of the W3C JSON-LD 1.1 toRdf suite that the converter reads instead of
#: rejecting (test id -> why). Checked by ``tests/test_jsonld_conformance.py``.
LENIENT: dict[str, str] = {}


class Unsupported(Exception):
    """The document uses JSON-LD outside the fast path; the caller falls back to pyld."""


# --------------------------------------------------------------------------- contexts


def _context_key(url: str) -> str:
    """Lookup key of a context URL: scheme-insensitive, without trailing slash."""
    url = url.strip()
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            url = url[len(scheme) :]
            break
    return url.rstrip("/")


@lru_cache(maxsize=1)
def _bundled_contexts() -> tuple[dict[str, Any], dict[str, Any]]:
    """The shipped context documents by lookup key (parsed once per process), and their paths."""
    bundled = resources.files("ngff_kg") / "contexts"
    index = json.loads((bundled / "contexts.json").read_text("utf-8"))
    parsed: dict[str, Any] = {}
    docs: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for url, name in index.items():
        if name not in parsed:
            doc = json.loads((bundled / name).read_text("utf-8"))
            inner = doc.get("@context") if isinstance(doc, dict) else None
            if isinstance(inner, dict) and "@base" in inner and inner["@base"] is None:
                # RO-Crate 0.2-1.0 contexts say "@base": null, which makes a standard processor
                # drop every relative identifier ("./", "data.csv"), the whole crate. RO-Crate
                # resolves them against the crate's location (stated from 1.1 on, where the
                # line was removed): a deliberate leniency, the crate is read as 1.1 reads it.
                doc = {**doc, "@context": {k: v for k, v in inner.items() if k != "@base"}}
            parsed[name] = doc
        docs[_context_key(url)] = parsed[name]
        paths[_context_key(url)] = bundled / name
    return docs, paths


class ContextRegistry:
    """Context documents that can be used without network access.

    The bundled RO-Crate contexts are always present; ``extra_dirs`` (and the directory named
    by ``NGFF_KG_CONTEXTS``) add more. A document is registered under its top-level ``@id``,
    or under the URL given for its file name in a ``contexts.json`` of the same directory.

    >>> reg = ContextRegistry()
    >>> "https://w3id.org/ro/crate/1.1/context" in reg
    True
    """

    def __init__(self, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> None:
        self._paths: dict[str, Any] = {}
        self._docs: dict[str, dict[str, Any]] = {}
        self._parsed: dict[str, Any] = {}
        self.extra_dirs: list[Path] = []
        bundled_docs, bundled_paths = _bundled_contexts()
        self._docs.update(bundled_docs)
        self._paths.update(bundled_paths)
        dirs = list(extra_dirs)
        env = os.environ.get(CONTEXTS_ENV)
        if env:
            dirs.append(env)
        for directory in dirs:
            self._register_dir(Path(directory))
            self.extra_dirs.append(Path(directory))

    def _register_dir(self, directory: Path) -> None:
        if not directory.is_dir():
            raise UnknownContextError(f"contexts directory {directory} does not exist")
        mapping: dict[str, list[str]] = {}
        index = directory / "contexts.json"
        if index.is_file():
            try:
                for url, name in json.loads(index.read_text("utf-8")).items():
                    mapping.setdefault(name, []).append(url)
            except (ValueError, AttributeError) as exc:
                raise UnknownContextError(f"{index}: not a JSON object of URL -> file") from exc
        for path in sorted(directory.iterdir()):
            if path.suffix in (".jsonld", ".json") and path.name != "contexts.json":
                urls: list[str | None] = list(mapping.get(path.name, [])) or [None]
                for url in urls:
                    self._register(path, url)

    def _register(self, path: Any, url: str | None = None) -> None:
        """Register the document at ``path`` for ``url`` (default: its top-level ``@id``).

        A URL is known with and without trailing slash, over http and https.
        """
        try:
            doc = self._parsed.get(str(path))
            if doc is None:
                doc = self._parsed[str(path)] = json.loads(path.read_text("utf-8"))
        except ValueError as exc:
            raise UnknownContextError(f"context file {path} is not valid JSON: {exc}") from exc
        if url is None:
            url = doc.get("@id") if isinstance(doc, dict) else None
        if not isinstance(url, str):
            return
        self._docs[_context_key(url)] = doc
        self._paths[_context_key(url)] = path

    def __contains__(self, url: str) -> bool:
        return _context_key(url) in self._docs

    def urls(self) -> list[str]:
        return sorted(self._docs)

    def document(self, url: str) -> dict[str, Any]:
        """The context document for ``url``; :class:`UnknownContextError` if there is none."""
        try:
            return self._docs[_context_key(url)]
        except KeyError:
            raise UnknownContextError(
                f"remote JSON-LD context {url!r} is not available offline; put the context "
                f"document in a directory and pass it with --contexts (or ${CONTEXTS_ENV})"
            ) from None

    def pyld_loader(self) -> Any:
        """A pyld document loader answering only from this registry."""

        def load(url: str, options: Any = None) -> dict[str, Any]:
            from pyld import jsonld

            try:
                doc = self.document(url)
            except UnknownContextError as exc:
                raise jsonld.JsonLdError(
                    str(exc), "jsonld.LoadDocumentError", code="loading document failed"
                ) from exc
            return {
                "contentType": "application/ld+json",
                "contextUrl": None,
                "documentUrl": url,
                "document": doc,
                # pyld keeps documents tagged "static" in its shared context cache
                "tag": "static",
            }

        return load


@dataclass(frozen=True, slots=True)
class TermDef:
    """A compiled term definition."""

    iri: str | None  # None: the term is explicitly undefined
    reverse: bool = False
    type: str | None = None  # "@id", "@vocab", a datatype IRI, or None
    prefix: bool = False
    patched: bool = False  # comes from the caller's patch, not the document


@dataclass
class ActiveContext:
    terms: dict[str, TermDef] = field(default_factory=dict)
    vocab: str | None = None

    def copy(self) -> ActiveContext:
        return ActiveContext(dict(self.terms), self.vocab)

    def expand_iri(self, value: str, *, vocab: bool) -> str | None:
        """IRI expansion without document-relative resolution (the caller resolves)."""
        if value in _KEYWORDS:
            return value
        if _KEYWORD_LIKE.match(value):
            return None
        if vocab:
            td = self.terms.get(value)
            if td is not None:
                return td.iri
        colon = value.find(":")
        if colon > 0:
            prefix, suffix = value[:colon], value[colon + 1 :]
            if prefix == "_" or suffix.startswith("//"):
                return value
            td = self.terms.get(prefix)
            if td is not None and td.iri is not None and td.prefix:
                return td.iri + suffix
            if _ABSOLUTE_IRI.match(value):
                return value
        if vocab and self.vocab is not None:
            return self.vocab + value
        return value


class _ContextCompiler:
    def __init__(self, registry: ContextRegistry) -> None:
        self.registry = registry
        self.remote_cache: dict[str, ActiveContext] = {}

    def compile(
        self, value: Any, active: ActiveContext | None = None, *, patched: bool = False
    ) -> ActiveContext:
        ctx = active.copy() if active is not None else ActiveContext()
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is None:
                ctx = ActiveContext()
            elif isinstance(item, str):
                if not _ABSOLUTE_IRI.match(item) or item.startswith("_:"):
                    raise Unsupported("relative context URL")
                key = _context_key(item)
                remote = self.remote_cache.get(key)
                if remote is None:
                    doc = self.registry.document(item)
                    inner = doc.get("@context") if isinstance(doc, dict) else None
                    if inner is None:
                        raise ExtractionError(f"context document {item!r} has no @context")
                    remote = self.compile(inner)
                    self.remote_cache[key] = remote
                ctx.terms.update(remote.terms)
                if remote.vocab is not None:
                    ctx.vocab = remote.vocab
            elif isinstance(item, dict):
                self._apply_local(ctx, item, patched)
            else:
                raise ExtractionError(f"invalid @context entry: {item!r}")
        return ctx

    def _apply_local(self, ctx: ActiveContext, local: dict[str, Any], patched: bool) -> None:
        for key in ("@base", "@language", "@direction", "@import", "@propagate", "@protected"):
            if key in local:
                raise Unsupported(key)
        if "@version" in local and local["@version"] != 1.1:
            raise Unsupported("@version")
        if "@vocab" in local:
            vocab = local["@vocab"]
            if vocab is None:
                ctx.vocab = None
            elif isinstance(vocab, str):
                expanded = ctx.expand_iri(vocab, vocab=True)
                if expanded is None or not _ABSOLUTE_IRI.match(expanded):
                    raise Unsupported("relative @vocab")
                ctx.vocab = expanded
            else:
                raise ExtractionError("@vocab must be a string or null")
        defining: set[str] = set()
        done: set[str] = set()

        def define(term: str) -> None:
            if term in done:
                return
            if term in defining:
                raise ExtractionError(f"cyclic IRI mapping for term {term!r}")
            defining.add(term)
            spec = local[term]
            if term.startswith("@"):
                if term in _KEYWORDS:
                    if term in ("@version", "@vocab"):
                        defining.discard(term)
                        done.add(term)
                        return
                    raise Unsupported(f"keyword {term} in context")
                if not _KEYWORD_LIKE.match(term):
                    raise Unsupported("term beginning with @")
                # terms that look like keywords are ignored (pyld warns and ignores them)
                defining.discard(term)
                done.add(term)
                return
            if ":" in term or "/" in term or term == "":
                raise Unsupported("compact IRI, IRI or empty string used as a term")
            # a redefined term never expands through its own previous definition
            ctx.terms.pop(term, None)

            def expand(value: str) -> str | None:
                if value in local and value not in done and value != term:
                    define(value)
                colon = value.find(":")
                if colon > 0:
                    prefix = value[:colon]
                    if prefix == term and not value.startswith("//", colon + 1):
                        raise Unsupported("term used as its own prefix")
                    if prefix in local and prefix not in done and prefix != term:
                        define(prefix)
                return ctx.expand_iri(value, vocab=True)

            if spec is None:
                ctx.terms[term] = TermDef(None, patched=patched)
            elif isinstance(spec, str):
                target = expand(spec)
                if target is None or target in _KEYWORDS:
                    raise Unsupported("keyword alias")
                ctx.terms[term] = TermDef(
                    target, prefix=target.endswith(_GEN_DELIMS), patched=patched
                )
            elif isinstance(spec, dict):
                allowed = {"@id", "@reverse", "@type", "@container", "@prefix"}
                if set(spec) - allowed:
                    raise Unsupported(f"term definition keys {sorted(set(spec) - allowed)}")
                container = spec.get("@container")
                if container not in (None, "@set", ["@set"]):
                    raise Unsupported("@container")
                reverse = "@reverse" in spec
                if not isinstance(spec.get("@prefix", False), bool):
                    raise Unsupported("invalid @prefix")
                if reverse and ("@id" in spec or spec.get("@type", "@id") != "@id"):
                    raise Unsupported("@reverse with @id or a datatype")
                if reverse:
                    target = expand(spec["@reverse"]) if isinstance(spec["@reverse"], str) else None
                    if target is None or not _ABSOLUTE_IRI.match(target):
                        raise Unsupported("@reverse mapping")
                elif "@id" in spec:
                    if spec["@id"] is None:
                        ctx.terms[term] = TermDef(None, patched=patched)
                        defining.discard(term)
                        done.add(term)
                        return
                    if not isinstance(spec["@id"], str):
                        raise ExtractionError(f"@id of term {term!r} must be a string")
                    target = expand(spec["@id"])
                    if target is None or target in _KEYWORDS:
                        raise Unsupported("keyword alias")
                elif ctx.vocab is not None:
                    target = ctx.vocab + term
                else:
                    raise ExtractionError(f"term {term!r} has no IRI mapping")
                typ = spec.get("@type")
                if typ is not None:
                    if not isinstance(typ, str):
                        raise ExtractionError(f"@type of term {term!r} must be a string")
                    if typ not in ("@id", "@vocab"):
                        if typ in ("@json", "@none"):
                            raise Unsupported(f"@type {typ}")
                        typ = expand(typ)
                        if typ is None or not _ABSOLUTE_IRI.match(typ) or typ.startswith("_:"):
                            raise Unsupported("relative or blank node datatype")
                prefix = bool(spec.get("@prefix", False))
                ctx.terms[term] = TermDef(target, reverse, typ, prefix, patched)
            else:
                raise ExtractionError(f"invalid definition of term {term!r}")
            defining.discard(term)
            done.add(term)

        for term in local:
            if term == "@vocab" or term == "@version":
                continue
            define(term)


# --------------------------------------------------------------------------- expansion


@dataclass
class Expansion:
    """Triples of one JSON-LD document plus what the patch was needed for."""

    triples: list[rdf.Triple]
    patched_terms: set[str]
    dropped_terms: set[str]
    engine: str  # "fast" or "pyld"
    dropped_iris: set[str] = field(default_factory=set)  # could not be made absolute
    escaped_iris: dict[str, str] = field(default_factory=dict)  # as written → percent-encoded
    #: Graph name of each triple (N-Triples term, None for the default graph); None when every
    #: triple is in the default graph. ``triples`` holds the triples of all graphs.
    graphs: list[str | None] | None = None

    def quads(self) -> list[tuple[str, str, str, str | None]]:
        """The triples with their graph names (None: the default graph)."""
        names = self.graphs or [None] * len(self.triples)
        return [(s, p, o, g) for (s, p, o), g in zip(self.triples, names, strict=True)]


class JsonLdConverter:
    """JSON-LD to RDF triples, offline.

    >>> conv = JsonLdConverter()
    >>> doc = {"@context": "https://w3id.org/ro/crate/1.1/context",
    ...        "@graph": [{"@id": "./", "@type": "Dataset", "name": "x"}]}
    >>> sorted(conv.to_triples(doc, base="https://example.org/ds/").triples)[0]
    ('<https://example.org/ds/>', '<http://schema.org/name>', '"x"')
    """

    def __init__(self, registry: ContextRegistry | None = None) -> None:
        self.registry = registry or ContextRegistry()
        self._compiler = _ContextCompiler(self.registry)
        self._cache: dict[str, ActiveContext] = {}
        self._recent: list[tuple[Any, Any, ActiveContext]] = []

    def active_context(self, context: Any, patch: Mapping[str, Any] | None = None) -> ActiveContext:
        # Crates of one collection share their context: compare with the recent ones first
        # (a dict comparison) before building a cache key.
        for recent_context, recent_patch, recent in self._recent:
            if recent_patch is patch and recent_context == context:
                return recent
        key = json.dumps([context, patch], sort_keys=True)
        ctx = self._cache.get(key)
        if ctx is None:
            ctx = self._compiler.compile(context)
            if patch:
                missing = {k: v for k, v in patch.items() if k not in ctx.terms}
                if missing:
                    ctx = self._compiler.compile(missing, ctx, patched=True)
            if len(self._cache) > 1024:
                self._cache.clear()
            self._cache[key] = ctx
        self._recent = [(context, patch, ctx), *self._recent[:7]]
        return ctx

    def to_triples(
        self,
        doc: Any,
        base: str,
        patch: Mapping[str, Any] | None = None,
        bnode_prefix: str = "b",
        *,
        repair_iris: bool = False,
    ) -> Expansion:
        """Triples of ``doc`` with relative IRIs resolved against ``base``.

        Blank node labels start with ``bnode_prefix``, so that documents loaded together do not
        share blank nodes. A triple with an IRI that is not well-formed (a space in it...) is
        dropped, as JSON-LD to RDF says; with ``repair_iris`` the fast path percent-encodes the
        IRI instead and reports it in ``escaped_iris`` (a profile repair).

        :raises UnknownContextError: the document needs a context that is not available.
        :raises ExtractionError: the document is not valid JSON-LD.
        """
        try:
            try:
                return _FastExpander(self, doc, base, patch, bnode_prefix, repair_iris).run()
            except Unsupported:
                check_depth(doc)  # pyld recurses per level: bound it first
                return self._pyld(doc, base, patch, bnode_prefix)
            except RecursionError:
                check_depth(doc)  # the bound's message, when that is why
                raise
        except ExtractionError:
            raise
        except RecursionError as exc:  # a remote context nested deeper than MAX_DEPTH
            raise ExtractionError("invalid JSON-LD: nested too deeply") from exc
        except Exception as exc:  # one document's failure is reported, never raised
            raise ExtractionError(f"invalid JSON-LD: {type(exc).__name__}: {exc}") from exc

    def without_unknown_contexts(self, context: Any) -> tuple[Any, list[str]]:
        """``context`` without the remote contexts the registry lacks, and their URLs.

        Only the document's top-level context list is looked at; contexts named inside term
        definitions or nodes still raise :class:`UnknownContextError` when used.
        """
        items = context if isinstance(context, list) else [context]
        unknown = [i for i in items if isinstance(i, str) and i not in self.registry]
        if not unknown:
            return context, []
        return [i for i in items if not (isinstance(i, str) and i in unknown)], unknown

    def undefined_terms(self, doc: Any) -> set[str]:
        """Property names used in ``doc`` that its top-level context does not declare."""
        if not isinstance(doc, dict):
            return set()
        declared = self._declared_terms(doc.get("@context"))
        used: set[str] = set()
        stack = [doc]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for k, v in item.items():
                    if k != "@context":
                        used.add(k)
                        stack.append(v)
            elif isinstance(item, list):
                stack.extend(item)
        return {k for k in used if not k.startswith("@") and ":" not in k and k not in declared}

    def _declared_terms(self, context: Any) -> set[str]:
        """Every term a context declares (its local maps and the remote documents it names)."""
        found: set[str] = set()
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, str):
                doc = self.registry.document(item)
                found |= self._declared_terms(
                    doc.get("@context") if isinstance(doc, dict) else None
                )
            elif isinstance(item, dict):
                found.update(item)
                if isinstance(item.get("@import"), str):
                    found |= self._declared_terms(item["@import"])
        return found

    def _pyld(
        self, doc: Any, base: str, patch: Mapping[str, Any] | None, bnode_prefix: str
    ) -> Expansion:
        from pyld import jsonld

        patched_terms: set[str] = set()
        if patch and isinstance(doc, dict) and "@context" in doc:
            defined = self._declared_terms(doc["@context"])
            missing = {k: v for k, v in patch.items() if k not in defined}
            if missing:
                used = _keys_and_types(doc)
                patched_terms = {k for k in missing if k in used}
                doc = dict(doc)
                context = doc["@context"]
                doc["@context"] = [*(context if isinstance(context, list) else [context]), missing]
        options = {
            "base": base,
            "format": "application/n-quads",
            "documentLoader": self.registry.pyld_loader(),
        }
        try:
            with warnings.catch_warnings():
                # the RO-Crate 1.1 context defines "@label", which pyld reports and ignores
                warnings.filterwarnings("ignore", "terms beginning with", SyntaxWarning)
                text = jsonld.to_rdf(doc, options)
        except jsonld.JsonLdError as exc:
            unknown = _chained(exc, UnknownContextError)
            if unknown is not None:
                raise unknown from exc
            kind = getattr(exc, "code", None) or getattr(exc, "type", "")
            raise ExtractionError(f"invalid JSON-LD: {kind}: {exc.args[0]}") from exc
        triples, graphs = _parse_pyld_nquads(text, bnode_prefix)
        named = graphs if any(g is not None for g in graphs) else None
        return Expansion(triples, patched_terms, set(), "pyld", graphs=named)


def _chained(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` in the chain of ``exc`` (``__cause__``/``__context__``).

    pyld 2 and 3 chain their errors differently (an attribute in one, ``raise ... from`` in the
    other); both set Python's own chain, which is all this reads.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def check_depth(doc: Any, limit: int | None = None) -> None:
    """Fail cleanly (and fast) on a document nested deeper than ``limit`` (default MAX_DEPTH).

    :raises ExtractionError: the document is too deep to be read safely.
    """
    limit = MAX_DEPTH if limit is None else limit
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise ExtractionError(
                f"invalid JSON-LD: nested more than {limit} levels deep (arrays and objects)"
            )
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))


def _keys_and_types(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                found.add(k)
                if k == "@type":  # type names only: a malformed @type may hold objects
                    found.update(
                        t for t in (v if isinstance(v, list) else [v]) if isinstance(t, str)
                    )
                else:
                    stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
    return {f for f in found if isinstance(f, str)}


def _parse_pyld_nquads(text: str, bnode_prefix: str) -> tuple[list[rdf.Triple], list[str | None]]:
    try:
        quads = parse_nquads_lenient(text.encode("utf-8"), f"{bnode_prefix}p")
    except ValueError as exc:  # a term N-Triples cannot write
        raise ExtractionError(str(exc)) from None
    return [(s, p, o) for s, p, o, _ in quads], [g for *_, g in quads]


_SIMPLE_SEGMENT = re.compile(r"^[A-Za-z0-9_~\-][A-Za-z0-9._~\-]*$")


def _resolve(value: str, base: str) -> str:
    """RFC 3986 resolution of ``value`` against ``base``, as pyld does it.

    The shapes crates use all the time (``#fragment``, ``./``, ``file.ext``) are resolved
    directly; anything else goes to pyld's resolver. Both are compared in the test suite.
    """
    if "?" not in base and base.count("/") >= 3:
        if value.startswith("#"):
            hash_at = base.find("#")
            return (base if hash_at < 0 else base[:hash_at]) + value
        directory = base[: base.rfind("/") + 1]
        if value == "./" or value == ".":
            return directory
        if _SIMPLE_SEGMENT.match(value) and value != "..":
            return directory + value
    return _resolve_general(value, base)


@lru_cache(maxsize=4096)
def _resolve_general(value: str, base: str) -> str:
    return _pyld_resolve(value, base)


class _FastExpander:
    def __init__(
        self,
        conv: JsonLdConverter,
        doc: Any,
        base: str,
        patch: Mapping[str, Any] | None,
        bnode_prefix: str,
        repair_iris: bool = False,
    ) -> None:
        if not isinstance(doc, dict):
            raise Unsupported("top-level array")
        self.doc = doc
        self.base = base
        self.ctx = conv.active_context(doc.get("@context"), patch)
        self.triples: list[rdf.Triple] = []
        self.patched: set[str] = set()
        self.dropped: set[str] = set()
        self.dropped_iris: set[str] = set()
        self.escaped: dict[str, str] = {}
        self.repair_iris = repair_iris
        self.dropped_languages: set[str] = set()
        self._bnodes: dict[str, str] = {}
        self._bnode_counter = 0
        self._prefix = bnode_prefix

    def run(self) -> Expansion:
        doc = self.doc
        extra = set(doc) - {"@context", "@graph"}
        if "@graph" in doc:
            if extra:
                raise Unsupported("top-level node with @graph")
            graph = doc["@graph"]
            nodes = graph if isinstance(graph, list) else [graph]
        else:
            nodes = [{k: v for k, v in doc.items() if k != "@context"}]
        for node in nodes:
            if isinstance(node, dict):
                if set(node) <= {"@id"}:
                    if not isinstance(node.get("@id", ""), str):
                        raise ExtractionError(f"invalid @id value {node['@id']!r}")
                    continue  # a bare reference at top level yields no triple
                self.node(node)
            elif node is not None:
                raise Unsupported("@graph item that is not a node object")
        return Expansion(
            self.triples, self.patched, self.dropped, "fast", self.dropped_iris, self.escaped
        )

    # -- terms
    def _bnode(self, label: str | None) -> str:
        if label is None:
            self._bnode_counter += 1
            return f"_:{self._prefix}n{self._bnode_counter}"
        term = self._bnodes.get(label)
        if term is None:
            term = f"_:{self._prefix}l{len(self._bnodes)}"
            self._bnodes[label] = term
        return term

    def _id_term(self, value: str) -> str | None:
        if value.startswith("_:"):
            return self._bnode(value[2:])
        return self._term(self.ctx.expand_iri(value, vocab=False), value)

    def _vocab_term(self, value: str) -> str | None:
        td = self.ctx.terms.get(value)
        if td is not None and td.patched:
            self.patched.add(value)
        return self._term(self.ctx.expand_iri(value, vocab=True), value)

    def _term(self, expanded: str | None, written: str) -> str | None:
        """The RDF term of an expanded IRI, resolved against the base.

        Characters N-Triples forbids in an IRI (spaces, braces...) are percent-encoded and
        reported, so the caller records a repair; pyld drops IRIs with white space instead.
        """
        if expanded is None or expanded in _KEYWORDS:
            return None
        if not _ABSOLUTE_IRI.match(expanded):
            resolved = _resolve(expanded, self.base)
            if not _ABSOLUTE_IRI.match(resolved):
                if not self.repair_iris:
                    self.dropped_iris.add(written)
                    return None
                resolved = _resolve(rdf.escape_iri(expanded), self.base)
                if not _ABSOLUTE_IRI.match(resolved):
                    self.dropped_iris.add(written)
                    return None
                self.escaped[expanded] = resolved
                return f"<{resolved}>"
            expanded = resolved
        if expanded.startswith("_:"):
            return self._bnode(expanded[2:])
        if rdf.iri_is_valid(expanded):
            return f"<{expanded}>"
        if not self.repair_iris:
            self.dropped_iris.add(written)
            return None  # not well-formed: the triple is dropped (JSON-LD 1.1 to RDF)
        self.escaped[expanded] = rdf.escape_iri(expanded)
        return f"<{self.escaped[expanded]}>"

    # -- nodes and values
    def node(self, node: dict[str, Any]) -> str | None:
        if "@context" in node:
            raise Unsupported("embedded @context")
        node_id = node.get("@id")
        if node_id is None:
            subject: str | None = self._bnode(None)
        elif isinstance(node_id, str):
            subject = self._id_term(node_id)
        else:
            raise ExtractionError(f"@id must be a string, got {node_id!r}")
        out = self.triples
        for key, value in node.items():
            if key == "@id":
                continue
            if key == "@type":
                for typ in value if isinstance(value, list) else [value]:
                    if not isinstance(typ, str):
                        raise ExtractionError(f"@type values must be strings, got {typ!r}")
                    term = self._vocab_term(typ)
                    if term is not None and subject is not None:
                        out.append((subject, _RDF_TYPE_TERM, term))
                continue
            if key[0] == "@":
                if key in _KEYWORDS or not _KEYWORD_LIKE.match(key):
                    raise Unsupported(f"{key} in node object")
                continue
            td = self.ctx.terms.get(key)
            if td is None:
                expanded = self.ctx.expand_iri(key, vocab=True)
                if expanded is None or not _ABSOLUTE_IRI.match(expanded):
                    self.dropped.add(key)
                    continue
                td = TermDef(expanded)
                iri = expanded
            else:
                if td.patched:
                    self.patched.add(key)
                if td.iri is None:
                    continue
                if not _ABSOLUTE_IRI.match(td.iri):
                    self.dropped.add(key)
                    continue
                iri = td.iri
            if iri.startswith("_:"):
                continue  # blank node predicates are not RDF
            predicate = f"<{iri}>"
            for item in value if isinstance(value, list) else [value]:
                obj = self.value(item, td)
                if obj is None or subject is None:
                    continue
                if td.reverse:
                    if obj.startswith('"'):
                        raise ExtractionError(f"reverse property {key!r} needs a node value")
                    out.append((obj, predicate, subject))
                else:
                    out.append((subject, predicate, obj))
        return subject

    def value(self, item: Any, td: TermDef) -> str | None:
        typ = td.type
        if isinstance(item, str):
            if typ == "@id":
                return self._id_term(item)
            if typ == "@vocab":
                return self._vocab_term(item)
            return rdf.literal(item, typ or XSD_STRING)
        if item is None:
            return None
        if isinstance(item, bool | int | float):
            return _native_literal(item, None if typ in (None, "@id", "@vocab") else typ)
        if isinstance(item, dict):
            if "@value" in item:
                return self.value_object(item)
            if "@list" in item or "@set" in item or "@graph" in item or "@reverse" in item:
                raise Unsupported("@list/@set/@graph/@reverse value")
            return self.node(item)
        if isinstance(item, list):
            raise Unsupported("nested array")
        raise ExtractionError(f"unexpected JSON value {item!r}")

    def value_object(self, item: dict[str, Any]) -> str | None:
        if set(item) - {"@value", "@type", "@language"}:
            raise Unsupported("value object keys")
        value = item["@value"]
        if item.get("@type") == "@json":
            raise Unsupported("@json")  # also a JSON null is a literal, "null"^^rdf:JSON
        if value is None:
            return None
        language = item.get("@language")
        vtype = item.get("@type")
        if language is not None:
            if vtype is not None or not isinstance(value, str) or not isinstance(language, str):
                raise ExtractionError("a language-tagged value must be a plain string")
            if not _LANGUAGE_TAG.match(language):
                self.dropped_languages.add(language)
                if self.repair_iris:  # repaired: the text kept without its tag, recorded
                    return rdf.literal(value, language=language)
                return None  # not well-formed: the triple is dropped (JSON-LD 1.1 to RDF)
            return rdf.literal(value, language=language.lower())
        datatype = None
        if vtype is not None:
            if not isinstance(vtype, str):
                raise ExtractionError("@type of a value object must be a string")
            if vtype == "@json":
                raise Unsupported("@json")
            expanded = self.ctx.expand_iri(vtype, vocab=True)
            if expanded is None or not _ABSOLUTE_IRI.match(expanded):
                raise Unsupported("relative datatype")
            if expanded.startswith("_:") or not rdf.iri_is_valid(expanded):
                raise ExtractionError(f"invalid typed value: datatype {vtype!r} is not an IRI")
            td = self.ctx.terms.get(vtype)
            if td is not None and td.patched:
                self.patched.add(vtype)
            datatype = expanded
        if isinstance(value, str):
            if datatype == XSD_DOUBLE:
                raise Unsupported("string typed as double")
            return rdf.literal(value, datatype or XSD_STRING)
        if isinstance(value, bool | int | float):
            return _native_literal(value, datatype)
        raise ExtractionError(f"invalid @value {value!r}")


def _native_literal(value: bool | int | float, datatype: str | None) -> str:
    """A JSON boolean or number as an RDF literal, following JSON-LD 1.1 to RDF.

    Numbers with a fractional part (or of magnitude 1e21 and more) are doubles in canonical
    form; other numbers are integers, also when JSON wrote them as ``2.0``.
    """
    if isinstance(value, bool):
        return rdf.literal("true" if value else "false", datatype or XSD_BOOLEAN)
    if isinstance(value, float) and not value.is_integer():
        if value != value or value in (float("inf"), float("-inf")):
            raise Unsupported("NaN or infinite number")
        return rdf.literal(rdf.canonical_double(value), datatype or XSD_DOUBLE)
    if datatype == XSD_DOUBLE or abs(value) >= 10**21:
        return rdf.literal(rdf.canonical_double(float(value)), datatype or XSD_DOUBLE)
    return rdf.literal(str(int(value)), datatype or XSD_INTEGER)

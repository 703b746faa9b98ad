"""RDF terms as N-Triples text.

Extraction produces triples of terms already written in N-Triples syntax (``<iri>``,
``_:label``, ``"text"^^<datatype>``). That keeps the per-dataset work to plain string
operations and lets the store load a whole batch with Oxigraph's N-Quads parser.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import quote

from ngff_kg.errors import ExtractionError
from ngff_kg.vocab import XSD, XSD_BOOLEAN, XSD_DOUBLE, XSD_INTEGER, XSD_STRING

Triple = tuple[str, str, str]

# -- validity ----------------------------------------------------------------------------
# Only terms that Oxigraph accepts may reach the store: one invalid term makes it refuse the
# whole batch. The checks below follow RFC 3987 (IRIs) and RFC 5646 (language tags) as
# Oxigraph applies them; tests/test_rdf_terms.py checks them against pyoxigraph itself.

#: Characters that N-Triples forbids inside an IRIREF.
_BAD_IRI_CHARS = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_SURROGATE = re.compile("[\ud800-\udfff]")

_UCS = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
    "\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd"
    "\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_PRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_UNRESERVED_ASCII = "A-Za-z0-9\\-._~"
_UNRESERVED = _UNRESERVED_ASCII + _UCS
_SUB_DELIMS = "!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_PCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_REG_NAME = f"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_USERINFO = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_IP_LITERAL = f"\\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\\.[{_UNRESERVED_ASCII}{_SUB_DELIMS}:]+)\\]"
_IRI = re.compile(
    "[A-Za-z][A-Za-z0-9+\\-.]*:"
    f"(?://(?:{_USERINFO}@)?(?P<host>{_IP_LITERAL}|{_REG_NAME})(?::[0-9]*)?(?:/{_PCHAR}*)*"
    f"|(?!//)(?:{_PCHAR}|/)*)"
    f"(?:\\?(?:{_PCHAR}|[/?{_PRIVATE}])*)?"
    f"(?:#(?:{_PCHAR}|[/?])*)?"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
#: Characters kept as they are when a component of an invalid IRI is percent-encoded.
_KEEP_PATH = re.compile(f"{_PCT}|[{_UNRESERVED}{_SUB_DELIMS}:@/]")
_KEEP_QUERY = re.compile(f"{_PCT}|[{_UNRESERVED}{_SUB_DELIMS}:@/?{_PRIVATE}]")
_KEEP_FRAGMENT = re.compile(f"{_PCT}|[{_UNRESERVED}{_SUB_DELIMS}:@/?]")
_KEEP_HOST = re.compile(f"{_PCT}|[{_UNRESERVED}{_SUB_DELIMS}]")

_ALNUM = "[A-Za-z0-9]"
_LANGTAG = re.compile(
    "(?:"
    "(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"  # language (extlang is 3 letters)
    "(?:-[A-Za-z]{4})?"  # script
    "(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    f"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"  # variants
    f"(?:-[0-9A-WYZa-wyz](?:-{_ALNUM}{{2,8}})+)*"  # extensions
    f"(?:-[xX](?:-{_ALNUM}{{1,8}})+)?"  # private use
    f"|[xX](?:-{_ALNUM}{{1,8}})+"  # private use only
    "|en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo"
    "|i-pwn|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de"  # irregular grandfathered tags
    ")",
    re.IGNORECASE,
)


def _valid_ip_literal(host: str) -> bool:
    if not host.startswith("["):
        return True
    inner = host[1:-1]
    if inner[:1] in ("v", "V"):
        return True
    try:
        ipaddress.IPv6Address(inner)
    except ValueError:
        return False
    return True


#: A common, plain shape of absolute IRI that is always valid: ASCII, ``scheme://``, a host
#: name (no user, no IP literal) and an optional port, then path, query and fragment made of
#: unreserved and sub-delimiter characters, ``:``, ``@``, ``/``, ``?`` (no ``%``). Checked
#: first because the full grammar is slow; anything else goes to the full grammar.
_PLAIN_IRI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*://[A-Za-z0-9.\-]*(?::[0-9]*)?"
    r"(?:[/?][A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?"
)


@lru_cache(maxsize=1 << 16)
def iri_is_valid(value: str) -> bool:
    """Whether ``value`` is an absolute IRI (RFC 3987) that can stand in ``<...>`` as it is."""
    if _PLAIN_IRI.fullmatch(value) is not None:
        return True
    match = _IRI.fullmatch(value)
    return match is not None and _valid_ip_literal(match.group("host") or "")


def _encode(text: str, keep: re.Pattern[str]) -> str:
    """``text`` with every character that ``keep`` does not match percent-encoded (UTF-8)."""
    out: list[str] = []
    pos = 0
    for match in keep.finditer(text):
        if match.start() > pos:
            out.append(quote(text[pos : match.start()], safe="", errors="replace"))
        out.append(match.group(0))
        pos = match.end()
    if pos < len(text):
        out.append(quote(text[pos:], safe="", errors="replace"))
    return "".join(out)


def escape_iri(value: str) -> str:
    """``value`` with what an IRI may not hold percent-encoded, component by component.

    Characters N-Triples forbids (spaces, quotes, braces...), stray ``%`` and lone surrogates
    are encoded everywhere; an authority that is not a valid host (``http://[::1``) becomes a
    registered name with its delimiters encoded. A relative reference stays relative.
    """
    if iri_is_valid(value):
        return value
    value = _SURROGATE.sub("\ufffd", value)
    scheme = ""
    match = _SCHEME.match(value)
    if match:
        scheme, value = match.group(0), value[match.end() :]
    value, hash_, fragment = value.partition("#")
    value, question, query = value.partition("?")
    authority = None
    if value.startswith("//"):
        authority, slash, path = value[2:].partition("/")
        path = slash + path
    else:
        path = value
    out = scheme
    if authority is not None:
        userinfo, at, hostport = authority.rpartition("@")
        host, colon, port = hostport.rpartition(":")
        if not colon or (port and not port.isdigit()):
            host, colon, port = hostport, "", ""
        if host.startswith("[") and host.endswith("]") and iri_is_valid(f"x://{host}/"):
            pass
        else:
            host = _encode(host, _KEEP_HOST)
        if at:
            userinfo = _encode(userinfo, _KEEP_HOST)
        out += "//" + (userinfo + at if at else "") + host + colon + port
    elif path.startswith("//"):
        path = "/%2F" + path[2:]
    out += _encode(path, _KEEP_PATH)
    if question:
        out += "?" + _encode(query, _KEEP_QUERY)
    if hash_:
        out += "#" + _encode(fragment, _KEEP_FRAGMENT)
    return out


def repair_iri(value: str) -> str | None:
    """``value`` when it is a valid absolute IRI, else its percent-encoded repair, or ``None``
    when no repair makes it one (no scheme: a relative reference)."""
    if iri_is_valid(value):
        return value
    repaired = escape_iri(value)
    return repaired if iri_is_valid(repaired) else None


def language_is_valid(tag: str) -> bool:
    """Whether ``tag`` is a well-formed BCP 47 language tag (RFC 5646, section 2.1)."""
    return _LANGTAG.fullmatch(tag) is not None


def clean_text(value: str) -> str:
    """``value`` with lone surrogates (which no Unicode encoding can write) replaced by U+FFFD."""
    if value.isascii() or _SURROGATE.search(value) is None:  # isascii: O(1), no surrogate
        return value
    return _SURROGATE.sub("\ufffd", value)


class InvalidTermError(ExtractionError):
    """A value cannot become an RDF term, even repaired (a relative IRI, a non-finite number)."""


# -- term builders ---------------------------------------------------------------------------
# Each builder returns a term Oxigraph accepts. What it has to repair is reported to the
# collector of the current context (see :func:`collect_repairs`), so the caller can record it.

#: (kind, original, repaired N-Triples term or "" when dropped), as in normalize.repairs.
TermRepair = tuple[str, str, str]
_COLLECTOR: ContextVar[list[TermRepair] | None] = ContextVar("rdf_term_repairs", default=None)


@contextmanager
def collect_repairs() -> Iterator[list[TermRepair]]:
    """Collect the repairs the term builders make within the ``with`` block.

    >>> with collect_repairs() as repairs:
    ...     _ = iri("http://example.org/a b")
    >>> repairs
    [('invalid-iri', 'http://example.org/a b', '<http://example.org/a%20b>')]
    """
    found: list[TermRepair] = []
    token = _COLLECTOR.set(found)
    try:
        yield found
    finally:
        _COLLECTOR.reset(token)


def _note(kind: str, original: str, repaired: str) -> None:
    found = _COLLECTOR.get()
    if found is not None:
        found.append((kind, clean_text(original), repaired))


def iri(value: str) -> str:
    """``<value>``, percent-encoding what an IRI may not hold (reported as ``invalid-iri``).

    :raises InvalidTermError: ``value`` is not an absolute IRI and cannot be made one.
    """
    if iri_is_valid(value):
        return f"<{value}>"
    repaired = repair_iri(value)
    if repaired is None:
        raise InvalidTermError(f"not an absolute IRI: {clean_text(value)!r}")
    _note("invalid-iri", value, f"<{repaired}>")
    return f"<{repaired}>"


def _quoted(value: str) -> str:
    """``value`` as a quoted N-Triples string: ``\\``, ``"``, line feed and carriage return
    escaped (one ``str.replace`` each where present: several times faster than
    ``str.translate``, whose replacements are longer than one character)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if '"' in value:
        value = value.replace('"', '\\"')
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return '"' + value + '"'


def literal(value: str, datatype: str = XSD_STRING, language: str | None = None) -> str:
    """A literal term; plain strings get ``xsd:string``, which N-Triples may leave implicit.

    Lone surrogates are replaced (``invalid-string``); an ill-formed language tag is dropped
    (``invalid-language-tag``, the text stays as a plain string); an invalid datatype IRI is
    repaired like any IRI.
    """
    if not value.isascii() and _SURROGATE.search(value) is not None:  # isascii is O(1)
        cleaned = clean_text(value)
        _note("invalid-string", value, _quoted(cleaned))
        value = cleaned
    text = _quoted(value)
    if language:
        if language_is_valid(language):
            return f"{text}@{language}"
        _note("invalid-language-tag", f"{value}@{language}", text)
        return text
    if datatype == XSD_STRING:
        return text
    if not iri_is_valid(datatype):
        return text + "^^" + iri(datatype)
    return f"{text}^^<{datatype}>"


def integer(value: int) -> str:
    return f'"{int(value)}"^^<{XSD_INTEGER}>'


def boolean(value: bool) -> str:
    return f'"{"true" if value else "false"}"^^<{XSD_BOOLEAN}>'


def canonical_double(value: float) -> str:
    """The canonical lexical form of an ``xsd:double`` (``1.5E0``), as JSON-LD to RDF writes it.

    :raises InvalidTermError: ``value`` is NaN or infinite (JSON has no such numbers).
    """
    if not math.isfinite(value):
        raise InvalidTermError(f"not a finite number: {value!r}")
    text = f"{value:1.15E}"
    mantissa, _, exponent = text.partition("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    exp = int(exponent)
    return f"{mantissa}E{exp}"


def double(value: float) -> str:
    """An ``xsd:double`` literal; :class:`InvalidTermError` for NaN and infinities."""
    return f'"{canonical_double(value)}"^^<{XSD_DOUBLE}>'


def unwrap_iri(term: str) -> str | None:
    """The IRI inside ``<...>``, or ``None`` when ``term`` is not an IRI term."""
    if term.startswith("<") and term.endswith(">"):
        return term[1:-1]
    return None


def unwrap_literal(term: str) -> str | None:
    """The lexical form of a literal term (escapes undone), or ``None`` for IRIs and blank nodes."""
    if not term.startswith('"'):
        return None
    return literal_parts(term)[0]


def literal_parts(term: str) -> tuple[str, str | None]:
    """A literal term's lexical form (every N-Triples escape undone, in one pass) and datatype
    IRI (``xsd:string`` when it has none; ``None`` for a language-tagged string).

    >>> literal_parts('"a\\\\nb"')
    ('a\\nb', 'http://www.w3.org/2001/XMLSchema#string')
    >>> literal_parts('"4"^^<http://www.w3.org/2001/XMLSchema#integer>')[1][-7:]
    'integer'
    """
    end = term.rfind('"')
    body = term[1:end]
    if "\\" in body:
        body = _ESCAPE.sub(_unescape, body)
    rest = term[end + 1 :]
    if rest.startswith("^^<"):
        return body, rest[3:-1]
    if rest.startswith("@"):
        return body, None
    return body, XSD_STRING


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2)
    if code:
        return chr(int(code, 16))
    return _ECHAR.get(match.group(3), match.group(0))


_INTEGERS = frozenset(XSD + n for n in ("integer", "long", "int", "nonNegativeInteger"))
_DECIMALS = frozenset(XSD + n for n in ("double", "decimal", "float"))


def typed_value(lexical: str, datatype: str | None) -> object:
    """A literal as Python reads it in query results: a number for the numeric datatypes, a
    boolean for ``xsd:boolean``, else the text (also when the text is not a valid number)."""
    try:
        if datatype in _INTEGERS:
            return int(lexical)
        if datatype in _DECIMALS:
            return float(lexical)
    except ValueError:
        return lexical
    if datatype == XSD_BOOLEAN:
        return lexical == "true"
    return lexical


def nquads(triples: Iterable[Triple], graph: str) -> str:
    """Serialize triples into N-Quads lines in ``graph`` (an IRI term)."""
    return "".join(f"{s} {p} {o} {graph} .\n" for s, p, o in triples)


def trig_block(graph_iri: str, triples: Iterable[Triple]) -> str:
    """A TriG graph block ``<graph> { s p o . ... }``; with ``GRAPH`` before it, SPARQL quads."""
    body = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    return f"<{graph_iri}> {{\n{body}}}\n"

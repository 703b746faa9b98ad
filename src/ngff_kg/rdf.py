"""RDF terms as N-Triples text.

Extraction produces triples of terms already written in N-Triples syntax (``<iri>``,
``_:label``, ``"text"^^<datatype>``). That keeps the per-dataset work to plain string
operations and lets the store load a whole batch with Oxigraph's N-Quads parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from ngff_kg.vocab import XSD_BOOLEAN, XSD_DOUBLE, XSD_INTEGER, XSD_STRING

Triple = tuple[str, str, str]

#: Characters that N-Triples forbids inside an IRIREF.
_BAD_IRI_CHARS = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def iri_is_valid(value: str) -> bool:
    """Whether ``value`` can stand inside ``<...>`` in N-Triples as it is."""
    return _BAD_IRI_CHARS.search(value) is None


def escape_iri(value: str) -> str:
    """Percent-encode the characters N-Triples forbids in an IRI (spaces, quotes, braces...)."""
    return _BAD_IRI_CHARS.sub(lambda m: quote(m.group(0), safe=""), value)


def iri(value: str) -> str:
    """``<value>``, percent-encoding characters that are not allowed in an IRI."""
    if _BAD_IRI_CHARS.search(value) is not None:
        value = escape_iri(value)
    return f"<{value}>"


def literal(value: str, datatype: str = XSD_STRING, language: str | None = None) -> str:
    """A literal term; plain strings get ``xsd:string``, which N-Triples may leave implicit."""
    text = '"' + value.translate(_LITERAL_ESCAPES) + '"'
    if language:
        return f"{text}@{language}"
    if datatype == XSD_STRING:
        return text
    return f"{text}^^<{datatype}>"


def integer(value: int) -> str:
    return f'"{int(value)}"^^<{XSD_INTEGER}>'


def boolean(value: bool) -> str:
    return f'"{"true" if value else "false"}"^^<{XSD_BOOLEAN}>'


def canonical_double(value: float) -> str:
    """The canonical lexical form of an ``xsd:double`` (``1.5E0``), as JSON-LD to RDF writes it."""
    text = f"{value:1.15E}"
    mantissa, _, exponent = text.partition("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    exp = int(exponent)
    return f"{mantissa}E{exp}"


def double(value: float) -> str:
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
    end = term.rfind('"')
    body = term[1:end]
    if "\\" in body:
        body = (
            body.replace("\\n", "\n").replace("\\r", "\r").replace('\\"', '"').replace("\\\\", "\\")
        )
    return body


def nquads(triples: Iterable[Triple], graph: str) -> str:
    """Serialize triples into N-Quads lines in ``graph`` (an IRI term)."""
    return "".join(f"{s} {p} {o} {graph} .\n" for s, p, o in triples)


def trig_block(graph_iri: str, triples: Iterable[Triple]) -> str:
    """A TriG graph block ``<graph> { s p o . ... }``; with ``GRAPH`` before it, SPARQL quads."""
    body = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    return f"<{graph_iri}> {{\n{body}}}\n"

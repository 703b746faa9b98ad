"""RDF documents read into triples of N-Triples terms (see :mod:`ngff_kg.rdf`), with
Oxigraph's parsers, for code that must not depend on pyoxigraph itself."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pyoxigraph as ox

from ngff_kg import rdf


class SyntaxName(StrEnum):
    """The RDF syntaxes :func:`parse_triples` reads."""

    NQUADS = "nquads"
    TURTLE = "turtle"


_FORMATS = {SyntaxName.NQUADS: ox.RdfFormat.N_QUADS, SyntaxName.TURTLE: ox.RdfFormat.TURTLE}


def parse_triples(data: bytes, syntax: SyntaxName | str, prefix: str = "") -> list[rdf.Triple]:
    """The triples of an RDF document (graph names dropped) as N-Triples terms; blank node
    labels get ``prefix`` before them.

    :raises SyntaxError: the document is not valid in that syntax.
    :raises ValueError: a term that N-Triples cannot write (an RDF-star triple term).
    """
    return [
        (
            term(q.subject, prefix),
            term(q.predicate, prefix),
            term(q.object, prefix),
        )
        for q in ox.parse(data, format=_FORMATS[SyntaxName(syntax)])
    ]


def parse_nquads_lenient(data: bytes, prefix: str = "") -> list[tuple[str, str, str, str | None]]:
    """The quads of an N-Quads document as N-Triples terms (graph ``None`` for the default
    graph); when the document is not valid, each line is read on its own and the lines that
    are not valid are left out (pyld writes some ill-formed terms, such as a language tag with
    a space, as they are: JSON-LD to RDF drops such statements).

    :raises ValueError: a term that N-Triples cannot write (an RDF-star triple term).
    """
    try:
        quads = list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
    except SyntaxError:
        quads = []
        for line in data.splitlines():
            try:
                quads.extend(ox.parse(line, format=ox.RdfFormat.N_QUADS))
            except SyntaxError:
                continue
    return [
        (
            term(q.subject, prefix),
            term(q.predicate, prefix),
            term(q.object, prefix),
            None if isinstance(q.graph_name, ox.DefaultGraph) else term(q.graph_name, prefix),
        )
        for q in quads
    ]


def term(value: Any, prefix: str = "") -> str:
    """One pyoxigraph term as N-Triples text (literals written by :func:`rdf.literal`)."""
    if isinstance(value, ox.NamedNode):
        return f"<{value.value}>"
    if isinstance(value, ox.BlankNode):
        return f"_:{prefix}{value.value}"
    if isinstance(value, ox.Literal):
        return rdf.literal(value.value, value.datatype.value, value.language)
    raise ValueError(f"unexpected RDF term {value!r}")

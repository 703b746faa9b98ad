"""The query library: SPARQL files in ``queries/`` with a header that documents them.

A query file starts with comment lines ``# key: value``::

    # title: Datasets by organism
    # description: Number of datasets per organism (NCBI Taxonomy IRI).
    # param: organism (term, optional): keep only this organism (CURIE in any spelling, or IRI)
    # columns: organism, label, datasets

Every query is plain SPARQL 1.1 that any engine runs as it is, with its parameters' defaults.
A declared parameter ``NAME`` is the variable ``?param_NAME`` in the query, never bound by a
pattern, so that elsewhere it is unbound and the query means its defaults::

    BIND(?param_organism AS ?wanted)
    FILTER(!BOUND(?wanted) || ?organism = ?wanted)
    BIND(COALESCE(?param_rank, obo:NCBITaxon_class) AS ?rank)

ngff-kg binds a given parameter by writing its value (an RDF term in SPARQL syntax, built from
the typed value, never the raw text) in place of the variable, outside strings, IRIs and
comments: a constant the query planner sees, so ``?taxon nkg:subClassOfOrSelf ?param_organism``
becomes an index lookup. A parameter not given leaves the variable unbound.

A parameter declared with a ``?`` before its name (``# param: ?dataset (iri, optional): …``)
is instead substituted for the variable of that name, which the query must select: given, the
variable is that term everywhere in the query (Oxigraph's ``substitutions``, SEP-0007; another
engine gets the same rows from ``VALUES ?dataset { <iri> }`` appended to the query); not
given, the variable is matched as usual.

Queries written for earlier versions may still call ``param:NAME()`` (prefix
``param: <https://w3id.org/ngff-kg/param#>``, an Oxigraph custom function giving the value or
an error when not given); the library does not, as no other engine knows these functions.

Parameter types:

- ``taxon``: an NCBITaxon term: identifier in any spelling, IRI, scientific or common name
  (``Mammalia``, ``mouse``, ``C. elegans``);
- ``method``: an imaging method: FBbi identifier in any spelling or label/synonym
  (``SPIM``, ``confocal microscopy``), or an identifier of another ontology (NCIT, MI, OBI, EDAM);
- ``term``: an identifier in any spelling of any of these ontologies, or a name in any of them;
- ``rank``: an NCBI Taxonomy rank (``class``, ``kingdom``…), bound as the rank IRI;
- ``iri``, ``string``, ``integer``, ``number``.

Names are resolved in Python against the loaded ontologies (an
:class:`~ngff_kg.ontology.index.OntologyIndex`, passed to :func:`bindings_for` as a function that
builds it on first use) before binding; a name that is unknown or names several terms is a
:class:`~ngff_kg.errors.TermError` listing close matches or the candidates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol

import pyoxigraph as ox

from ngff_kg import rdf
from ngff_kg._resources import resource_dir
from ngff_kg.errors import QueryError, QueryNotFoundError, TermError
from ngff_kg.normalize.terms import canonical_iri, ontology_of
from ngff_kg.ontology.index import OntologyIndex, rank_iri
from ngff_kg.suggest import did_you_mean
from ngff_kg.vocab import XSD

PARAM_NS = "https://w3id.org/ngff-kg/param#"
#: A parameter ``NAME`` not declared with ``?`` is the variable ``?param_NAME`` of the query.
PARAM_VARIABLE_PREFIX = "param_"
PARAM_TYPES = ("term", "taxon", "method", "rank", "iri", "string", "integer", "number")
#: The ontology names of each term-valued parameter type are looked up in (None: any).
_TERM_TYPES = {"term": None, "taxon": "ncbitaxon", "method": "fbbi"}

#: Gives the ontology index when a name has to be resolved (built on first use).
Resolver = Callable[[], OntologyIndex]

_HEADER = re.compile(r"^#\s*([a-z]+)\s*:\s*(.*)$")
_PARAM = re.compile(
    r"^(?P<var>\?)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\((?P<type>[a-z]+)(?:\s*,\s*(?P<opt>optional|required))?\)"
    r"\s*(?::\s*(?P<doc>.*))?$"
)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>\"{}|^`\\]*$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool
    description: str
    #: substituted for the selected variable ``?NAME`` (else written for ``?param_NAME``)
    variable: bool = False

    @property
    def sparql_variable(self) -> str:
        """The query variable the parameter binds, without ``?``."""
        return self.name if self.variable else PARAM_VARIABLE_PREFIX + self.name


@dataclass(frozen=True)
class NamedQuery:
    """A query with its documentation."""

    name: str
    text: str
    title: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    columns: tuple[str, ...] = ()
    path: str | None = None

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise QueryError(f"query {self.name!r} has no parameter {name!r} (parameters: {known})")


def parse_query(text: str, name: str = "query", path: str | None = None) -> NamedQuery:
    """Read the header of a query text.

    :raises QueryError: a ``param`` line is malformed.
    """
    meta: dict[str, str] = {}
    params: list[Param] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        match = _HEADER.match(stripped)
        if not match:
            continue
        key, value = match.group(1), match.group(2).strip()
        if key == "param":
            pm = _PARAM.match(value)
            if not pm or pm.group("type") not in PARAM_TYPES:
                raise QueryError(
                    f"{path or name}: bad param line {value!r}; expected "
                    f"'[?]NAME (TYPE[, optional]): description' with TYPE one of {PARAM_TYPES}"
                )
            params.append(
                Param(
                    pm.group("name"),
                    pm.group("type"),
                    pm.group("opt") != "optional",
                    (pm.group("doc") or "").strip(),
                    bool(pm.group("var")),
                )
            )
        else:
            meta[key] = value
    columns = tuple(c.strip() for c in meta.get("columns", "").split(",") if c.strip())
    return NamedQuery(
        name=name,
        text=text,
        title=meta.get("title", ""),
        description=meta.get("description", ""),
        params=tuple(params),
        columns=columns,
        path=path,
    )


def library() -> dict[str, NamedQuery]:
    """Every query shipped in ``queries/``, by name (file name without ``.rq``)."""
    folder = resource_dir("queries")
    out: dict[str, NamedQuery] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".rq"):
            name = entry.name.removesuffix(".rq")
            out[name] = parse_query(entry.read_text("utf-8"), name, str(entry))
    return out


def resolve_query(spec: str) -> NamedQuery:
    """A query from a library name, a ``.rq`` file path, or SPARQL text.

    :raises QueryNotFoundError: ``spec`` is none of these.
    """
    lib = library()
    if spec in lib:
        return lib[spec]
    if spec.endswith(".rq") and "\n" not in spec:
        path = Path(spec)
        if not path.is_file():
            raise QueryNotFoundError(f"query file {spec} does not exist")
        return parse_query(path.read_text("utf-8"), path.stem, str(path))
    if re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", spec, re.I):
        return parse_query(spec)
    raise QueryNotFoundError(
        f"no query named {spec!r}.{did_you_mean(spec, lib)} 'ngff-kg queries' lists them; a "
        "path ending in .rq or SPARQL text also works"
    )


def bind_value(
    param: Param, value: Any, resolver: Resolver | None = None
) -> ox.NamedNode | ox.Literal:
    """The RDF term for a parameter value: text (as typed on the command line), or a Python
    value: ``int``, ``float``, ``Decimal``, ``bool``, a pyoxigraph ``NamedNode`` or ``Literal``
    (a taxon given as an ``int`` is an NCBI Taxonomy identifier: ``organism=10090``).

    :param resolver: gives the ontology index used to resolve names of terms.
    :raises QueryError: the value does not fit the parameter's type.
    :raises TermError: a term name is unknown or ambiguous.
    """
    value = _as_text(param, value)
    if param.type in _TERM_TYPES:
        return ox.NamedNode(_term_iri(param, value, resolver))
    if param.type == "rank":
        try:
            return ox.NamedNode(rank_iri(value))
        except TermError as exc:
            raise TermError(f"{param.name}={value!r}: {exc}") from None
    if param.type == "iri":
        if not _ABSOLUTE_IRI.match(value):
            raise QueryError(f"{param.name}={value!r} is not an absolute IRI")
        return ox.NamedNode(value)
    if param.type == "integer":
        try:
            return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
        except ValueError:
            raise QueryError(f"{param.name}={value!r} is not an integer") from None
    if param.type == "number":
        try:
            return ox.Literal(repr(float(value)), datatype=ox.NamedNode(XSD + "double"))
        except ValueError:
            raise QueryError(f"{param.name}={value!r} is not a number") from None
    return ox.Literal(value)


def _as_text(param: Param, value: Any) -> str:
    """A parameter value given as a Python value, spelt as it would be typed."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, ox.NamedNode):
        return value.value
    if isinstance(value, ox.Literal):
        return value.value.strip()
    if isinstance(value, bool):
        if param.type in ("string",):
            return "true" if value else "false"
        raise QueryError(f"{param.name}={value!r}: a {param.type} parameter takes no true/false")
    if isinstance(value, int):
        if param.type == "taxon":
            return f"NCBITaxon:{value}"
        if param.type in ("integer", "number", "string"):
            return str(value)
    elif isinstance(value, float | Decimal):
        if param.type == "integer" and value == int(value):
            return str(int(value))
        if param.type in ("number", "string"):
            return repr(float(value)) if isinstance(value, float) else str(value)
    kind = type(value).__name__
    raise QueryError(f"{param.name}={value!r}: a {param.type} parameter cannot be a {kind}")


def _term_iri(param: Param, value: str, resolver: Resolver | None) -> str:
    """The IRI a term-valued parameter names (identifiers need no ontology; names do)."""
    iri = canonical_iri(value)
    if iri is None and _ABSOLUTE_IRI.match(value) and "://" in value:
        iri = value
    if iri is not None:
        prefix = ontology_of(iri)
        if param.type == "taxon" and prefix not in (None, "NCBITaxon"):
            raise TermError(
                f"{param.name}={value!r} is an ontology term of {prefix}, not of NCBITaxon"
            )
        if param.type == "method" and prefix == "NCBITaxon":
            raise TermError(f"{param.name}={value!r} is an organism, not an imaging method")
        return iri
    if resolver is None:
        raise QueryError(
            f"{param.name}={value!r} is not an ontology identifier (such as NCBITaxon:10090 "
            "or FBbi:00000246), and names can only be looked up through a Catalog"
        )
    try:
        return resolver().resolve(value, _TERM_TYPES[param.type]).iri
    except TermError as exc:
        raise TermError(f"{param.name}: {exc}") from None


@dataclass
class QueryResult:
    """Rows of a SELECT query as RDF terms (``None`` where unbound)."""

    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    @classmethod
    def from_solutions(cls, name: str, results: Any) -> QueryResult:
        """The rows of pyoxigraph query results.

        :raises QueryError: the query ``name`` is not a SELECT query.
        """
        if not isinstance(results, ox.QuerySolutions):
            raise QueryError(f"query {name!r} is not a SELECT query")
        columns = [v.value for v in results.variables]
        # a solution iterates over its values in the order of the variables (None if unbound)
        return cls(columns, [tuple(s) for s in results])

    def values(self) -> list[dict[str, Any]]:
        """Rows as dicts of plain Python values: IRIs as str, numbers as int/float."""
        return [
            {c: to_python(v) for c, v in zip(self.columns, row, strict=True)} for row in self.rows
        ]

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [to_python(row[index]) for row in self.rows]

    def to_dataframe(self) -> Any:
        """The rows as a pandas ``DataFrame`` of plain values (needs ``ngff-kg[notebook]``):
        nullable ``Int64`` integers, lists for joined lists (see :mod:`ngff_kg.frames`).

        :raises MissingDependencyError: pandas is not installed.
        """
        from ngff_kg.frames import dataframe

        return dataframe(self.columns, self.values())


class QuerySource(Protocol):
    """What the views need of a catalog: named queries run with parameters (a
    :class:`~ngff_kg.catalog.Catalog` is one)."""

    def query(
        self, query: str | NamedQuery, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> QueryResult: ...


class ResultFormat(StrEnum):
    """The SPARQL 1.1 result formats :func:`write_results` writes."""

    CSV = "csv"
    TSV = "tsv"
    JSON = "json"


_RESULT_FORMATS = {
    ResultFormat.CSV: ox.QueryResultsFormat.CSV,
    ResultFormat.TSV: ox.QueryResultsFormat.TSV,
    ResultFormat.JSON: ox.QueryResultsFormat.JSON,
}


def write_results(results: Any, fmt: ResultFormat | str, output: IO[bytes]) -> None:
    """Write the solutions (or boolean) of a SELECT (or ASK) query as SPARQL 1.1 CSV, TSV or
    JSON results; JSON ends with a newline.

    :raises QueryError: an unknown format, or a query that gives triples.
    """
    try:
        fmt = ResultFormat(fmt)
    except ValueError:
        known = ", ".join(f.value for f in ResultFormat)
        hint = did_you_mean(str(fmt), [f.value for f in ResultFormat])
        raise QueryError(f"unknown result format {fmt!r};{hint} use one of {known}") from None
    if isinstance(results, ox.QueryTriples):
        raise QueryError("a CONSTRUCT or DESCRIBE query has no table of results to write")
    output.write(results.serialize(format=_RESULT_FORMATS[fmt]))
    if fmt is ResultFormat.JSON:
        output.write(b"\n")


def is_iri(term: Any) -> bool:
    """Whether a term of a result row is an IRI (not a literal, blank node or unbound)."""
    return isinstance(term, ox.NamedNode)


def to_python(term: Any) -> Any:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        return rdf.typed_value(term.value, term.datatype.value)
    return term.value


#: What a query text holds outside its strings, IRIs and comments is matched by the last group.
_TOKENS = re.compile(
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""|'''
    + r"""'''(?:[^'\\]|\\.|'(?!''))*'''|"""
    + r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|"""
    + r"""<[^<>"{}|^`\\\s]*>|#[^\n]*|[?$]([A-Za-z_][A-Za-z0-9_]*)"""
)


def parameter_variables(text: str) -> set[str]:
    """The names ``NAME`` of the variables ``?param_NAME`` a query text uses (outside its
    strings, IRIs and comments)."""
    return {
        m.group(1).removeprefix(PARAM_VARIABLE_PREFIX)
        for m in _TOKENS.finditer(text)
        if m.group(1) and m.group(1).startswith(PARAM_VARIABLE_PREFIX)
    }


def substitute(text: str, values: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """The query text with each variable ``?VAR`` of ``values`` (names without ``?``) replaced
    by its term in SPARQL syntax; strings, IRIs and comments are left alone."""
    if not values:
        return text

    def replace(match: re.Match[str]) -> str:
        term = values.get(match.group(1)) if match.group(1) else None
        return match.group(0) if term is None else str(term)

    return _TOKENS.sub(replace, text)


@dataclass
class Bindings:
    """The parameter values of one run: the text to run and pyoxigraph ``Store.query`` keyword
    arguments."""

    #: the query text with the given ``?param_NAME`` variables replaced by their values
    text: str = ""
    #: ``param:NAME()`` for every declared function parameter (``None`` when not given), for
    #: queries written for earlier versions
    custom_functions: dict[ox.NamedNode, Any] = field(default_factory=dict)
    #: ``?NAME`` for every given variable parameter
    substitutions: dict[ox.Variable, ox.NamedNode | ox.Literal] = field(default_factory=dict)
    #: the value written for each given ``?param_NAME`` (by variable name, without ``?``)
    written: dict[str, ox.NamedNode | ox.Literal] = field(default_factory=dict)


def bindings_for(
    query: NamedQuery, params: Mapping[str, Any], resolver: Resolver | None = None
) -> Bindings:
    """The query text and substitutions that bind the given parameters of ``query``.

    :param resolver: gives the ontology index that resolves term names.
    :raises QueryError: an unknown parameter is given or a required one is missing.
    """
    for name in params:
        query.param(name)
    bindings = Bindings()
    for p in query.params:
        term: ox.NamedNode | ox.Literal | None = None
        if p.name in params and params[p.name] is not None and params[p.name] != "":
            term = bind_value(p, params[p.name], resolver)
        elif p.required:
            raise QueryError(f"query {query.name!r} needs parameter {p.name!r}: {p.description}")
        if p.variable:
            if term is not None:
                bindings.substitutions[ox.Variable(p.name)] = term
        else:
            bindings.custom_functions[ox.NamedNode(PARAM_NS + p.name)] = lambda term=term: term
            if term is not None:
                bindings.written[p.sparql_variable] = term
    bindings.text = substitute(query.text, bindings.written)
    return bindings


def functions_for(
    query: NamedQuery, params: Mapping[str, Any], resolver: Resolver | None = None
) -> dict[ox.NamedNode, Any]:
    """Custom functions ``param:NAME()`` for every declared function parameter (variable
    parameters, substituted, are left out: see :func:`bindings_for`).

    :param resolver: gives the ontology index that resolves term names.
    :raises QueryError: an unknown parameter is given or a required one is missing.
    """
    return bindings_for(query, params, resolver).custom_functions


def standalone_text(
    query: NamedQuery, params: Mapping[str, str], resolver: Resolver | None = None
) -> str:
    """The query text with every given parameter in it, for an engine that is not ngff-kg:
    written parameters in place of ``?param_NAME``, variable parameters as a ``VALUES`` clause
    appended to the query (the same rows as Oxigraph's substitution of a selected variable).

    :raises QueryError: an unknown parameter is given or a required one is missing.
    """
    bindings = bindings_for(query, params, resolver)
    text = bindings.text
    if bindings.substitutions:
        names = " ".join(f"?{v.value}" for v in bindings.substitutions)
        terms = " ".join(str(t) for t in bindings.substitutions.values())
        text = f"{text.rstrip()}\nVALUES ({names}) {{ ({terms}) }}\n"
    return text

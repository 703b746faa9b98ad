"""Faceted search over dataset records: the engine of the web catalogue, in plain Python.

Facets are organism and imaging method (hierarchical: a term stands for itself and every
descendant, so "fluorescence microscopy" finds confocal datasets too), license, host and kind.
Values chosen within one facet are alternatives; facets combine with AND; free text must match
every word, in a dataset's name, description and URL or in the names of its organisms and
imaging methods and of their ancestors (``mouse`` and ``mammal`` find *Mus musculus* datasets,
``brightfield`` finds *bright-field microscopy* ones). The counts of a facet apply the text and
every *other* facet's choice, so each count says how many datasets choosing that value (too)
would show.

>>> from ngff_kg.views.records import DatasetRecord
>>> index = FacetIndex([DatasetRecord("https://a.org/x/", kind="image")], {})
>>> result = index.search({"kind": ["image"]})
>>> result.total, [(v.value, v.count) for v in result.facets["kind"]]
(1, [('image', 1)])
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ngff_kg.errors import UsageError
from ngff_kg.normalize.terms import curie
from ngff_kg.suggest import did_you_mean
from ngff_kg.views.records import DatasetRecord, Hierarchy

FACETS = ("organism", "modality", "license", "host", "kind")
HIERARCHICAL = ("organism", "modality")
FACET_TITLES = {
    "organism": "Organism",
    "modality": "Imaging method",
    "license": "License",
    "host": "Source host",
    "kind": "Kind",
}
MAX_LIMIT = 1000
#: Sort keys of :meth:`FacetIndex.search` (``-key`` sorts descending): what a record holds.
#: Datasets missing the value come last either way; ties keep the URL order.
SORTS = (
    "url",
    "name",
    "size",
    "pixels",
    "organism",
    "modality",
    "method",
    "kind",
    "license",
    "host",
    "version",
)
_TERMS = {"organism": "organisms", "modality": "modalities"}  # record attribute per facet


@dataclass
class FacetValue:
    """A value of a facet with the number of datasets it would give; tree nodes have children."""

    value: str
    label: str
    count: int
    selected: bool = False
    children: list[FacetValue] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "label": self.label,
            "count": self.count,
            "selected": self.selected,
        }
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out


@dataclass
class SearchResult:
    total: int
    records: list[DatasetRecord]
    facets: dict[str, list[FacetValue]]


def term_names(index: Any) -> Callable[[str], list[str]]:
    """The label and synonyms of a term, from an ontology index (:class:`OntologyIndex`)."""

    def names(iri: str) -> list[str]:
        term = index.get(iri)
        return [name for _tier, name in term.names()] if term is not None else []

    return names


def license_label(iri: str) -> str:
    """A short name for a license IRI (``CC BY 4.0``); other values come back unchanged.

    >>> license_label("https://creativecommons.org/licenses/by-nc-sa/4.0/")
    'CC BY-NC-SA 4.0'
    """
    match = re.match(
        r"^https?://creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/([\d.]+)", iri
    )
    if match:
        kind = "0" if match.group(2) == "zero" else " " + match.group(2).upper()
        return f"CC{kind} {match.group(3)}"
    if iri.startswith(("https://spdx.org/licenses/", "http://spdx.org/licenses/")):
        return iri.rstrip("/").rsplit("/", 1)[1].removesuffix(".html")
    return iri


class _Tree:
    """The display structure of one hierarchy: which terms are shown, under which parents."""

    def __init__(self, hierarchy: Hierarchy, used: set[str], universe: set[str]) -> None:
        self.hierarchy = hierarchy
        shown = {t for t in universe if hierarchy.shown(t, t in used)}
        memo: dict[str, frozenset[str]] = {}

        def display_parents(term: str) -> frozenset[str]:
            if term not in memo:
                memo[term] = frozenset()  # guards against cycles in broken ontologies
                found: set[str] = set()
                known = hierarchy.terms.get(term)
                for parent in known.parents if known else ():
                    found |= {parent} if parent in shown else display_parents(parent)
                memo[term] = frozenset(found)
            return memo[term]

        self.children: dict[str, list[str]] = {t: [] for t in shown}
        roots = []
        for term in sorted(shown):
            parents = display_parents(term)
            for parent in parents:
                self.children[parent].append(term)
            if not parents:
                roots.append(term)
        # A single root that no dataset uses says nothing ("imaging method", "Eukaryota"):
        # show its children instead, until the top has several terms.
        while len(roots) == 1 and roots[0] not in used and self.children[roots[0]]:
            roots = self.children[roots[0]]
        self.roots = roots

    def values(self, counts: Counter[str], selected: set[str]) -> list[FacetValue]:
        include: dict[str, bool] = {}

        def keep(term: str) -> bool:
            if term not in include:
                include[term] = False
                include[term] = (
                    counts[term] > 0
                    or term in selected
                    or any(keep(c) for c in self.children[term])
                )
            return include[term]

        def build(term: str, depth: int) -> FacetValue:
            label = self.hierarchy.label(term) or curie(term)
            children = (
                [build(c, depth + 1) for c in self.children[term] if keep(c)] if depth < 64 else []
            )
            children.sort(key=lambda v: (-v.count, v.label.lower()))
            return FacetValue(term, label, counts[term], term in selected, children)

        top = [build(r, 0) for r in self.roots if keep(r)]
        top.sort(key=lambda v: (-v.count, v.label.lower()))
        return top


class FacetIndex:
    """Records prepared for faceted search: each record's facet values (for a hierarchical
    facet, its terms and all their ancestors) computed once."""

    def __init__(
        self,
        records: list[DatasetRecord],
        hierarchies: Mapping[str, Hierarchy],
        names: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        """:param names: the names of an ontology term (label, synonyms) for free-text search;
        by default the labels the hierarchies hold."""
        self.records = records
        self.hierarchies = {f: hierarchies.get(f) or Hierarchy(f) for f in HIERARCHICAL}
        self._values = [self._facet_values(r) for r in records]
        self._text = self._texts(names)
        self._trees: dict[str, _Tree] = {}
        for position, facet in enumerate(FACETS):
            if facet in HIERARCHICAL:
                used = {t for r in records for t in getattr(r, _TERMS[facet])}
                universe = set().union(*(v[position] for v in self._values))
                self._trees[facet] = _Tree(self.hierarchies[facet], used, universe)

    def _texts(self, names: Callable[[str], Iterable[str]] | None) -> list[str]:
        """Each record's searchable text: its own, then the names of its facet terms and their
        ancestors, also written without spaces and hyphens (``brightfield``)."""
        if names is None:

            def names(iri: str) -> Iterable[str]:
                label = next(
                    (h.label(iri) for h in self.hierarchies.values() if h.label(iri)), None
                )
                return (label,) if label else ()

        positions = [FACETS.index(f) for f in HIERARCHICAL]
        term_text: dict[str, str] = {}
        self._term_text = term_text
        by_terms: dict[frozenset[str], str] = {}
        texts = []
        for record, values in zip(self.records, self._values, strict=True):
            terms = frozenset().union(*(values[p] for p in positions))
            shared = by_terms.get(terms)
            if shared is None:
                parts = []
                for iri in sorted(terms):
                    if iri not in term_text:
                        found = [n.lower() for n in names(iri) if n]
                        found += [re.sub(r"[\W_]", "", n) for n in found]
                        term_text[iri] = " ".join(found)
                    parts.append(term_text[iri])
                shared = by_terms[terms] = " ".join(parts)
            texts.append(f"{record.text()} {shared}" if shared else record.text())
        return texts

    def _facet_values(self, record: DatasetRecord) -> tuple[frozenset[str], ...]:
        out = []
        for facet in FACETS:
            if facet in HIERARCHICAL:
                hierarchy = self.hierarchies[facet]
                terms = getattr(record, _TERMS[facet])
                out.append(frozenset().union(*(hierarchy.ancestors(t) for t in terms)))
            elif facet == "license":
                out.append(frozenset(record.licenses))
            elif facet == "host":
                out.append(frozenset([record.host]))
            else:
                out.append(frozenset([record.kind]) if record.kind else frozenset())
        return tuple(out)

    def search(
        self,
        selected: Mapping[str, Iterable[str]] | None = None,
        text: str = "",
        offset: int = 0,
        limit: int = 50,
        sort: str = "",
        *,
        bounded: bool = True,
    ) -> SearchResult:
        """Datasets matching the chosen facet values and text, one page of them, and counts.

        :param selected: facet name → chosen values (IRIs for organism, modality and license).
        :param bounded: whether ``limit`` is at most :data:`MAX_LIMIT` (not for exports).
        :param sort: one of :data:`SORTS`, ``-`` in front for descending; empty: by URL.
        :raises UsageError: an unknown facet or sort key, or a bad offset or limit.
        """
        chosen = {f: set(v) for f, v in (selected or {}).items() if v}
        unknown = sorted(set(chosen) - set(FACETS))
        if unknown:
            hint = did_you_mean(unknown[0], FACETS)
            raise UsageError(f"unknown facet {unknown[0]!r};{hint} facets: {', '.join(FACETS)}")
        if offset < 0 or limit < 1 or (bounded and limit > MAX_LIMIT):
            raise UsageError(f"offset must be >= 0 and limit between 1 and {MAX_LIMIT}")
        descending = sort.startswith("-")
        key = sort.removeprefix("-")
        if sort and key not in SORTS:
            hint = did_you_mean(key, SORTS)
            raise UsageError(
                f"unknown sort {sort!r};{hint} sorts: {', '.join(SORTS)} (-key: descending)"
            )
        wanted = [chosen.get(f) for f in FACETS]
        words = text.lower().split()
        groups: Counter[tuple[frozenset[str], ...]] = Counter()
        matching: list[int] = []
        for index, values in enumerate(self._values):
            if words and not all(w in self._text[index] for w in words):
                continue
            groups[values] += 1
            if all(not want or values[i] & want for i, want in enumerate(wanted)):
                matching.append(index)
        facets: dict[str, list[FacetValue]] = {}
        for position, facet in enumerate(FACETS):
            counts: Counter[str] = Counter()
            for values, n in groups.items():
                if all(
                    not want or i == position or values[i] & want for i, want in enumerate(wanted)
                ):
                    for value in values[position]:
                        counts[value] += n
            facets[facet] = self._facet(facet, counts, chosen.get(facet, set()))
        if key and key != "url":
            matching = self._sorted(matching, key, descending)
        elif descending:
            matching.reverse()
        page = [self.records[i] for i in matching[offset : offset + limit]]
        return SearchResult(len(matching), page, facets)

    def sort_value(self, record: DatasetRecord, key: str) -> Any:
        """What ``key`` sorts ``record`` by (None: the record does not say)."""
        if key == "size":
            return record.bytes
        if key == "pixels":
            return math.prod(record.shape) if record.shape else None
        if key in ("organism", "modality", "method"):
            facet = "organism" if key == "organism" else "modality"
            hierarchy = self.hierarchies[facet]
            names = [
                (hierarchy.label(t) or curie(t)).lower() for t in getattr(record, _TERMS[facet])
            ]
            return ", ".join(sorted(names)) or None
        if key == "license":
            return ", ".join(sorted(license_label(x).lower() for x in record.licenses)) or None
        if key == "name":
            return (record.name or "").lower() or None
        value = getattr(record, key)
        return value.lower() if isinstance(value, str) and value else None

    def _sorted(self, matching: list[int], key: str, descending: bool) -> list[int]:
        values = {i: self.sort_value(self.records[i], key) for i in matching}
        known = [i for i in matching if values[i] is not None]
        missing = [i for i in matching if values[i] is None]
        known.sort(key=lambda i: values[i], reverse=descending)  # stable: ties keep URL order
        return known + missing

    def sparql(self, selected: Mapping[str, Iterable[str]] | None = None, text: str = "") -> str:
        """A SPARQL query selecting the datasets :meth:`search` finds for the same choices and
        text, runnable at the server's endpoint (its default graph is the union of graphs).

        Hierarchical facets follow ``nkg:subClassOfOrSelf`` (``rdfs:subClassOf*``); a text word
        matches the name, description or URL (as stored, and percent-encoded), or the terms
        whose names hold it (listed in the query, as the index knows them).

        :raises UsageError: an unknown facet.
        """
        chosen = {f: sorted(set(v)) for f, v in (selected or {}).items() if v}
        unknown = sorted(set(chosen) - set(FACETS))
        if unknown:
            raise UsageError(f"unknown facet {unknown[0]!r}; facets: {', '.join(FACETS)}")
        # one subquery per constraint, joined on ?dataset (hash joins of small sets)
        parts = ["{ SELECT ?dataset WHERE { ?dataset a nkg:OmeZarrDataset } }"]
        for facet in FACETS:
            values = chosen.get(facet)
            if not values:
                continue
            if facet in HIERARCHICAL:
                terms = " ".join(_iri(v) for v in values)
                parts.append(
                    f"{{ SELECT DISTINCT ?dataset WHERE {_under(_PROPERTIES[facet], terms)} }}"
                )
            elif facet == "license":
                iris = " ".join(_iri(v) for v in values)
                parts.append(
                    f"{{ SELECT DISTINCT ?dataset WHERE {{ VALUES ?license {{ {iris} }} "
                    "?dataset schema:license ?license } }"
                )
            elif facet == "kind":
                kinds = " ".join(_literal(v) for v in values)
                parts.append(
                    f"{{ SELECT DISTINCT ?dataset WHERE {{ VALUES ?kind {{ {kinds} }} "
                    "?dataset nkg:kind ?kind } }"
                )
            else:
                hosts = " ".join(_literal(v) for v in values)
                parts.append(
                    "{ SELECT ?dataset WHERE { ?dataset a nkg:OmeZarrDataset .\n"
                    f"    VALUES ?host {{ {hosts} }}\n"
                    '    FILTER(IF(STRSTARTS(STR(?dataset), "file:"), "(local files)",\n'
                    '      STRBEFORE(STRAFTER(CONCAT(STR(?dataset), "/"), "://"), "/"))'
                    " = ?host) } }"
                )
        for word in text.lower().split():
            literal = _literal(word)
            own = (
                "{ ?dataset a nkg:OmeZarrDataset .\n"
                "      OPTIONAL { ?dataset schema:name ?name }\n"
                "      OPTIONAL { ?dataset schema:description ?description }\n"
                '      BIND(LCASE(CONCAT(COALESCE(STR(?name), ""), " ",\n'
                '        COALESCE(STR(?description), ""), " ", STR(?dataset))) AS ?text)\n'
                f"      FILTER(CONTAINS(?text, {literal})\n"
                f"        || CONTAINS(?text, LCASE(ENCODE_FOR_URI({literal})))) }}"
            )
            terms = " ".join(
                _iri(t) for t, names in sorted(self._term_text.items()) if word in names
            )
            if terms:
                own += "\n    UNION\n    " + _under(
                    "(schema:taxonomicRange|schema:measurementTechnique)", terms
                )
            parts.append(f"{{ SELECT DISTINCT ?dataset WHERE {{\n    {own} }} }}")
        lines = parts
        body = "\n  ".join(lines)
        return (
            "# The datasets the catalogue shows for these filters (ngff-kg web catalogue).\n"
            "PREFIX schema: <http://schema.org/>\n"
            "PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>\n"
            "\n"
            f"SELECT DISTINCT ?dataset\nWHERE {{\n  {body}\n}}\nORDER BY ?dataset\n"
        )

    def _facet(self, facet: str, counts: Counter[str], selected: set[str]) -> list[FacetValue]:
        if facet in self._trees:
            return self._trees[facet].values(counts, selected)
        names = set(counts) | selected
        label = license_label if facet == "license" else str
        values = [FacetValue(v, label(v), counts[v], v in selected) for v in names]
        values.sort(key=lambda v: (-v.count, v.label.lower()))
        return values


_PROPERTIES = {"organism": "schema:taxonomicRange", "modality": "schema:measurementTechnique"}


def _under(prop: str, terms: str) -> str:
    """A group: the datasets whose ``prop`` is one of ``terms`` or narrower (the store's
    materialized ``nkg:subClassOfOrSelf``; a term the ontologies lack stands for itself)."""
    return (
        f"{{ VALUES ?term {{ {terms} }}\n"
        f"      {{ ?dataset {prop} ?term }}\n"
        f"      UNION {{ ?used nkg:subClassOfOrSelf ?term . ?dataset {prop} ?used }} }}"
    )


def _iri(value: str) -> str:
    """``value`` as a SPARQL IRI reference (characters an IRI may not hold are refused)."""
    if re.search(r'[\x00-\x20<>"{}|^`\\]', value):
        raise UsageError(f"not an IRI: {value!r}")
    return f"<{value}>"


def _literal(value: str) -> str:
    """``value`` as a SPARQL string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


__all__ = [
    "FACETS",
    "FACET_TITLES",
    "SORTS",
    "FacetIndex",
    "FacetValue",
    "SearchResult",
    "license_label",
    "term_names",
]

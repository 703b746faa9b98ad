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

import orjson

from ngff_kg.errors import UsageError
from ngff_kg.normalize.terms import curie
from ngff_kg.store.catalogue import CatalogueIndex
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


class _Facets:
    """What both search engines share: the hierarchies and their display trees, the names of
    terms for text search, the facet values of a dataset, checks, counts, sort values, and
    the SPARQL equivalent of a search."""

    def __init__(
        self,
        hierarchies: Mapping[str, Hierarchy],
        names: Callable[[str], Iterable[str]] | None,
    ) -> None:
        self.hierarchies = {f: hierarchies.get(f) or Hierarchy(f) for f in HIERARCHICAL}
        if names is None:

            def names(iri: str) -> Iterable[str]:
                label = next(
                    (h.label(iri) for h in self.hierarchies.values() if h.label(iri)), None
                )
                return (label,) if label else ()

        self._names = names
        self._term_text: dict[str, str] = {}
        self._shared: dict[frozenset[str], str] = {}
        self._trees: dict[str, _Tree] = {}

    def _make_trees(self, used: Mapping[str, set[str]], universe: Mapping[str, set[str]]) -> None:
        for facet in HIERARCHICAL:
            self._trees[facet] = _Tree(self.hierarchies[facet], used[facet], universe[facet])

    def facet_values(
        self,
        organisms: Iterable[str],
        modalities: Iterable[str],
        licenses: Iterable[str],
        host: str,
        kind: str | None,
    ) -> tuple[frozenset[str], ...]:
        """A dataset's values in each facet of :data:`FACETS` (a term with its ancestors)."""
        organism = self.hierarchies["organism"]
        modality = self.hierarchies["modality"]
        return (
            frozenset().union(*(organism.ancestors(t) for t in organisms)),
            frozenset().union(*(modality.ancestors(t) for t in modalities)),
            frozenset(licenses),
            frozenset([host]),
            frozenset([kind]) if kind else frozenset(),
        )

    def shared_text(self, values: tuple[frozenset[str], ...]) -> str:
        """The searchable names of a dataset's organisms and methods and their ancestors, also
        written without spaces and hyphens (``brightfield``)."""
        terms = frozenset().union(*(values[FACETS.index(f)] for f in HIERARCHICAL))
        shared = self._shared.get(terms)
        if shared is None:
            parts = []
            for iri in sorted(terms):
                if iri not in self._term_text:
                    found = [n.lower() for n in self._names(iri) if n]
                    found += [re.sub(r"[\W_]", "", n) for n in found]
                    self._term_text[iri] = " ".join(found)
                parts.append(self._term_text[iri])
            shared = self._shared[terms] = " ".join(parts)
        return shared

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
        chosen, key, descending = self._check(selected, offset, limit, sort, bounded)
        return self._search(chosen, text.lower().split(), key, descending, offset, limit)

    def _search(
        self,
        chosen: dict[str, set[str]],
        words: list[str],
        key: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> SearchResult:
        """:meth:`search` once its arguments are checked: each engine's own way."""
        raise NotImplementedError

    @staticmethod
    def _check(
        selected: Mapping[str, Iterable[str]] | None,
        offset: int,
        limit: int,
        sort: str,
        bounded: bool,
    ) -> tuple[dict[str, set[str]], str, bool]:
        """The chosen values per facet, the sort key and whether descending.

        :raises UsageError: an unknown facet or sort key, or a bad offset or limit."""
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
        return chosen, key, descending

    def _facets(
        self,
        groups: Iterable[tuple[tuple[frozenset[str], ...], int]],
        chosen: Mapping[str, set[str]],
    ) -> dict[str, list[FacetValue]]:
        """The values of every facet with their counts, from (facet values, datasets) pairs:
        a facet's counts apply every *other* facet's choice."""
        groups = list(groups)
        wanted = [chosen.get(f) for f in FACETS]
        facets: dict[str, list[FacetValue]] = {}
        for position, facet in enumerate(FACETS):
            counts: Counter[str] = Counter()
            for values, n in groups:
                if all(
                    not want or i == position or values[i] & want for i, want in enumerate(wanted)
                ):
                    for value in values[position]:
                        counts[value] += n
            facets[facet] = self._facet(facet, counts, chosen.get(facet, set()))
        return facets

    @staticmethod
    def _matches(values: tuple[frozenset[str], ...], wanted: list[set[str] | None]) -> bool:
        return all(not want or values[i] & want for i, want in enumerate(wanted))

    def _terms_sort(self, facet: str, terms: Iterable[str]) -> str | None:
        hierarchy = self.hierarchies[facet]
        names = [(hierarchy.label(t) or curie(t)).lower() for t in terms]
        return ", ".join(sorted(names)) or None

    def group_sort_value(
        self,
        key: str,
        organisms: Iterable[str],
        modalities: Iterable[str],
        licenses: Iterable[str],
        host: str,
        kind: str | None,
    ) -> Any:
        """What ``key`` sorts a dataset by, for the keys its facet values decide (None: the
        dataset does not say)."""
        if key == "organism":
            return self._terms_sort("organism", organisms)
        if key in ("modality", "method"):
            return self._terms_sort("modality", modalities)
        if key == "license":
            return ", ".join(sorted(license_label(x).lower() for x in licenses)) or None
        value = host if key == "host" else kind
        return value.lower() if value else None

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


class FacetIndex(_Facets):
    """Records prepared for faceted search: each record's facet values (for a hierarchical
    facet, its terms and all their ancestors) computed once. :class:`CatalogueFacets` gives
    the same answers from a store's catalogue index, without holding the records."""

    def __init__(
        self,
        records: list[DatasetRecord],
        hierarchies: Mapping[str, Hierarchy],
        names: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        """:param names: the names of an ontology term (label, synonyms) for free-text search;
        by default the labels the hierarchies hold."""
        super().__init__(hierarchies, names)
        self.records = records
        self._values = [
            self.facet_values(r.organisms, r.modalities, r.licenses, r.host, r.kind)
            for r in records
        ]
        self._text = [
            f"{r.text()} {shared}" if (shared := self.shared_text(v)) else r.text()
            for r, v in zip(records, self._values, strict=True)
        ]
        positions = {f: FACETS.index(f) for f in HIERARCHICAL}
        self._make_trees(
            {f: {t for r in records for t in getattr(r, _TERMS[f])} for f in HIERARCHICAL},
            {f: set().union(*(v[p] for v in self._values)) for f, p in positions.items()},
        )

    def _search(
        self,
        chosen: dict[str, set[str]],
        words: list[str],
        key: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> SearchResult:
        wanted = [chosen.get(f) for f in FACETS]
        groups: Counter[tuple[frozenset[str], ...]] = Counter()
        matching: list[int] = []
        for index, values in enumerate(self._values):
            if words and not all(w in self._text[index] for w in words):
                continue
            groups[values] += 1
            if self._matches(values, wanted):
                matching.append(index)
        facets = self._facets(groups.items(), chosen)
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
        if key in ("organism", "modality", "method", "license", "host", "kind"):
            return self.group_sort_value(
                key, record.organisms, record.modalities, record.licenses, record.host, record.kind
            )
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


class CatalogueFacets(_Facets):
    """Faceted search over a store's catalogue index (:mod:`ngff_kg.store.catalogue`), with
    the answers of :class:`FacetIndex` over the same records, but without holding them.

    Datasets with the same facet values (organisms, methods, licenses, host, kind) form a
    group; the index counts the datasets of each group, so that facet counts are sums over
    groups, and a page of results is one query on the index. Free text is matched at two
    levels: a word in the names of a group's terms matches the whole group; other words must
    be in each dataset's own text (name, description, URL), which the index searches.
    """

    def __init__(
        self,
        index: CatalogueIndex,
        hierarchies: Mapping[str, Hierarchy],
        names: Callable[[str], Iterable[str]] | None = None,
        groups: list[tuple[str, int]] | None = None,
    ) -> None:
        """:param groups: :func:`group_counts` of the index, when read already."""
        super().__init__(hierarchies, names)
        self.catalogue = index
        self._keys: list[str] = []
        self._direct: list[tuple[Any, ...]] = []
        self._values: list[tuple[frozenset[str], ...]] = []
        self._counts: list[int] = []
        used: dict[str, set[str]] = {f: set() for f in HIERARCHICAL}
        universe: dict[str, set[str]] = {f: set() for f in HIERARCHICAL}
        for key, count in group_counts(index) if groups is None else groups:
            organisms, modalities, licenses, host, kind = orjson.loads(key)
            values = self.facet_values(organisms, modalities, licenses, host, kind)
            self._keys.append(key)
            self._direct.append((organisms, modalities, licenses, host, kind))
            self._values.append(values)
            self._counts.append(count)
            used["organism"].update(organisms)
            used["modality"].update(modalities)
            universe["organism"] |= values[0]
            universe["modality"] |= values[1]
        self._group = {key: g for g, key in enumerate(self._keys)}
        self._shared_texts = [self.shared_text(v) for v in self._values]
        self.total = sum(self._counts)
        self._make_trees(used, universe)

    def __len__(self) -> int:
        return self.total

    def _search(
        self,
        chosen: dict[str, set[str]],
        words: list[str],
        key: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> SearchResult:
        wanted = [chosen.get(f) for f in FACETS]
        # per group, the words its terms' names lack: each dataset's own text must hold them
        needs: dict[tuple[str, ...], list[int]] = {}
        for g, shared in enumerate(self._shared_texts):
            needs.setdefault(tuple(w for w in words if w not in shared), []).append(g)
        counts = list(self._counts)
        # the datasets that hold the words, when few: counted and paged by their ids (unless
        # the groups that need the words are few enough to be read through their index)
        listed = {
            need: ids
            for need, groups in needs.items()
            if need
            and sum(self._counts[g] for g in groups) >= _SCANNED * self.total
            and (ids := self._listed(need)) is not None
        }
        for need, groups in needs.items():
            if need:
                found = dict.fromkeys(groups, 0)
                for grp, n in self._text_counts(groups, need, listed):
                    found[self._group[grp]] = n
                for g, n in found.items():
                    counts[g] = n
        facets = self._facets(((self._values[g], n) for g, n in enumerate(counts) if n), chosen)
        matching = [g for g, n in enumerate(counts) if n and self._matches(self._values[g], wanted)]
        total = sum(counts[g] for g in matching)
        need_of = {g: need for need, groups in needs.items() for g in groups}
        if key in _GROUP_SORTS:
            urls = self._page_by_group(
                matching, counts, need_of, listed, key, descending, offset, limit
            )
        else:
            urls = self._page(matching, need_of, listed, key, descending, offset, limit, total)
        records = [DatasetRecord.from_json(r) for r in self.catalogue.folded(urls)]
        return SearchResult(total, records, facets)

    def _listed(self, need: tuple[str, ...]) -> str | None:
        """The ids of the datasets whose own text holds every word of ``need``, as a JSON
        array, or ``None`` when there are more than :data:`_LISTED`.

        They are read from the index ``records_text`` (URL and text id of each dataset): a
        third of the table's width, so the scan takes 166 ms instead of 233 ms for a word
        that 261 of 1M datasets hold; a word that many hold ends the scan early."""
        rows = self.catalogue.execute(
            f"SELECT id FROM records WHERE {' AND '.join(_HOLDS for _ in need)} LIMIT ?",
            [*(w for word in need for w in (word, word)), _LISTED + 1],
        )
        if len(rows) > _LISTED:
            return None
        return orjson.dumps([id_ for (id_,) in rows]).decode()

    def _condition(
        self,
        groups: Iterable[int],
        need_of: Mapping[int, tuple[str, ...]],
        listed: Mapping[tuple[str, ...], str],
    ) -> tuple[str, list[Any]]:
        """SQL selecting the datasets of these groups whose own text holds what they need
        (``listed``: the ids of those that hold it, for some needs)."""
        by_need: dict[tuple[str, ...], list[str]] = {}
        for g in groups:
            by_need.setdefault(need_of.get(g, ()), []).append(self._keys[g])
        clauses = []
        params: list[Any] = []
        for need, keys in by_need.items():
            if len(keys) == len(self._keys):  # every group: a test of each row's group costs
                clause = "1"
            elif len(keys) <= _PARAMETERS:
                clause = f"grp IN ({','.join('?' * len(keys))})"
                params.extend(keys)
            else:  # more groups than an SQLite statement takes parameters: one JSON array
                clause = "grp IN (SELECT value FROM json_each(?))"
                params.append(orjson.dumps(keys).decode())
            if need in listed:
                clause += " AND id IN (SELECT value FROM json_each(?))"
                params.append(listed[need])
                need = ()
            for word in need:
                clause += f" AND {_HOLDS}"
                params += [word, word]
            clauses.append(f"({clause})")
        return " OR ".join(clauses) or "0", params

    def _text_counts(
        self, groups: list[int], need: tuple[str, ...], listed: Mapping[tuple[str, ...], str]
    ) -> list[Any]:
        where, params = self._condition(groups, dict.fromkeys(groups, need), listed)
        table = "records" if need in listed else self._scanned(groups)
        return self.catalogue.execute(
            f"SELECT grp, count(*) FROM {table} WHERE {where} GROUP BY grp", params
        )

    def _scanned(self, groups: Iterable[int], matches: int = 0) -> str:
        """How a statement whose rows must match text reads the datasets of these groups:
        through the index of groups (the default) while they are few, or as one scan of the
        table once they are many. SQLite otherwise reads even most of the table through an
        index, a row lookup per dataset (on 100K datasets, 145 ms to count the groups'
        matches of a word against 27 ms for the scan). ``matches``: of a page in URL order,
        how many datasets it is chosen from; with many, the default reads the table in URL
        order until the page is full, and the scan would have to sort them all."""
        rows = sum(self._counts[g] for g in groups)
        if rows < _SCANNED * self.total or matches > _SORTED:
            return "records"
        return "records NOT INDEXED"

    def _page(
        self,
        matching: list[int],
        need_of: Mapping[int, tuple[str, ...]],
        listed: Mapping[tuple[str, ...], str],
        key: str,
        descending: bool,
        offset: int,
        limit: int,
        total: int,
    ) -> list[str]:
        every = len(matching) == len(self._keys) and not any(need_of.values())
        where, params = ("1", []) if every else self._condition(matching, need_of, listed)
        column = _COLUMNS.get(key)
        table = "records"
        if _unlisted(matching, need_of, listed):
            # in another order than by URL, every match is sorted
            table = self._scanned(matching, total if column is None else 0)
        if column is None:  # by URL
            order = "url DESC" if descending else "url"
        else:
            order = f"{column} IS NULL, {column}{' DESC' if descending else ''}, url"
        rows = self.catalogue.execute(
            f"SELECT url FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [url for (url,) in rows]

    def _page_by_group(
        self,
        matching: list[int],
        counts: list[int],
        need_of: Mapping[int, tuple[str, ...]],
        listed: Mapping[tuple[str, ...], str],
        key: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[str]:
        """A page sorted by a value that the facet values decide: groups of equal value in
        order (those without one last), each read by URL; whole groups before the page are
        skipped by their counts."""
        buckets: dict[Any, list[int]] = {}
        for g in matching:
            buckets.setdefault(self.group_sort_value(key, *self._direct[g]), []).append(g)
        known = sorted((v for v in buckets if v is not None), reverse=descending)
        order = known + ([None] if None in buckets else [])
        urls: list[str] = []
        for value in order:
            groups = buckets[value]
            size = sum(counts[g] for g in groups)
            if offset >= size:
                offset -= size
                continue
            where, params = self._condition(groups, need_of, listed)
            table = "records"
            if _unlisted(groups, need_of, listed):
                table = self._scanned(groups, sum(counts[g] for g in groups))
            rows = self.catalogue.execute(
                f"SELECT url FROM {table} WHERE {where} ORDER BY url LIMIT ? OFFSET ?",
                [*params, limit - len(urls), offset],
            )
            urls.extend(url for (url,) in rows)
            offset = 0
            if len(urls) >= limit:
                break
        return urls

    def record(self, url: str) -> DatasetRecord | None:
        """The record of the dataset ``url`` (``None``: no such dataset)."""
        found = self.catalogue.record(url)
        return DatasetRecord.from_json(found) if found is not None else None


def _unlisted(
    groups: Iterable[int],
    need_of: Mapping[int, tuple[str, ...]],
    listed: Mapping[tuple[str, ...], str],
) -> bool:
    """Whether some of these groups need words whose datasets were not listed by id."""
    return any(need and need not in listed for need in (need_of.get(g, ()) for g in groups))


def group_counts(index: CatalogueIndex) -> list[tuple[str, int]]:
    """Each group of datasets with the same facet values (its key) and how many it has."""
    return [(key, count) for key, count in index.execute(_GROUPS)]


def used_terms(groups: Iterable[tuple[str, int]]) -> dict[str, set[str]]:
    """The organisms and imaging methods of these groups (facet → IRIs)."""
    used: dict[str, set[str]] = {"organism": set(), "modality": set()}
    for key, _count in groups:
        organisms, modalities, *_ = orjson.loads(key)
        used["organism"].update(organisms)
        used["modality"].update(modalities)
    return used


_GROUPS = "SELECT grp, count(*) FROM records GROUP BY grp"
#: At most this many groups are given to a statement as parameters of their own (SQLite
#: takes 32,766 in all from 3.32, 999 before).
_PARAMETERS = 500
#: Datasets that must match text are scanned, not looked up through the index of groups,
#: once their groups hold this share of the datasets: a lookup costs about 5 times a row of
#: the scan (100K datasets, SQLite 3.40).
_SCANNED = 0.15
#: ... unless a page in URL order is chosen among more datasets than this: they would all be
#: sorted.
_SORTED = 10_000
#: Datasets that hold the words of a text (beyond their terms' names) are listed by id when
#: there are at most this many (each is then read by its id), else matched by a scan.
_LISTED = 20_000
#: SQL: the dataset's own text (URL, or name and description) holds a word (two parameters,
#: the word twice).
_HOLDS = "(instr(url_text, ?) > 0 OR text_id IN (SELECT id FROM texts WHERE instr(text, ?) > 0))"
#: sort keys that the index has a column for (lowercased text, numbers)
_COLUMNS = {
    "name": "name",
    "size": "bytes",
    "pixels": "pixels",
    "version": "version",
}
#: sort keys that a dataset's facet values decide
_GROUP_SORTS = frozenset({"organism", "modality", "method", "license", "host", "kind"})


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
    "CatalogueFacets",
    "FacetIndex",
    "FacetValue",
    "SearchResult",
    "group_counts",
    "license_label",
    "term_names",
    "used_terms",
]

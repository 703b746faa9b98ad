"""Faceted search over the catalogue index gives what the in-memory index gives.

:class:`~ngff_kg.views.facets.FacetIndex` holds every record (read with the named queries) and
searches them one by one in Python; :class:`~ngff_kg.views.facets.CatalogueFacets` counts
groups of datasets and pages with SQL on the store's catalogue index. Both are asked the same
generated questions: facet choices, text, sort keys, offsets and limits.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ngff_kg import Catalog
from ngff_kg.errors import UsageError
from ngff_kg.views.facets import (
    FACETS,
    MAX_LIMIT,
    SORTS,
    CatalogueFacets,
    FacetIndex,
    FacetValue,
    SearchResult,
    group_counts,
    term_names,
    used_terms,
)
from ngff_kg.views.records import read_hierarchies, read_records, term_hierarchies

#: words found in names, descriptions, URLs and term labels, and words found nowhere
WORDS = ["mouse", "brain", "idr", "zarr", "x", "s3", "fluorescence", "human", "2024"]
WORDS += ["microscopy", "confocal", "plate", "tissue", "ebi", "mammal", "em", "nowhere-at-all"]


def _engines(catalog: Catalog) -> tuple[FacetIndex, CatalogueFacets]:
    hierarchies = read_hierarchies(catalog)
    names = term_names(catalog.ontology)
    return (
        FacetIndex(read_records(catalog), hierarchies, names),
        CatalogueFacets(catalog.store.catalogue, hierarchies, names),
    )


def _values(found: list[FacetValue]) -> list[Any]:
    return [(v.value, v.label, v.count, v.selected, _values(v.children)) for v in found]


def _shown(result: SearchResult) -> Any:
    return (
        result.total,
        result.records,
        {facet: _values(values) for facet, values in result.facets.items()},
    )


def _question(engine: FacetIndex) -> st.SearchStrategy[dict[str, Any]]:
    every = engine.search({})
    values = {facet: _flat(every.facets[facet]) for facet in FACETS}
    selections = st.fixed_dictionaries(
        {},
        optional={
            facet: st.lists(st.sampled_from(found), min_size=1, max_size=2)
            for facet, found in values.items()
            if found
        },
    )
    sorts = st.sampled_from(["", *SORTS, *(f"-{key}" for key in SORTS)])
    return st.fixed_dictionaries(
        {
            "selected": selections,
            "text": st.lists(st.sampled_from(WORDS), max_size=2).map(" ".join),
            "offset": st.sampled_from([0, 0, 1, 7, 40, 5000]),
            "limit": st.sampled_from([1, 3, 50, 1000]),
            "sort": sorts,
        }
    )


def _flat(found: list[FacetValue]) -> list[str]:
    out = []
    for value in found:
        out.append(value.value)
        out.extend(_flat(value.children))
    return out


@pytest.fixture(scope="module")
def examples_engines(examples_catalog: Catalog) -> tuple[FacetIndex, CatalogueFacets]:
    return _engines(examples_catalog)


def test_same_answers_on_the_examples(examples_engines) -> None:
    memory, indexed = examples_engines
    assert indexed.total == len(memory.records)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_question(memory))
    def check(question: dict[str, Any]) -> None:
        assert _shown(indexed.search(**question)) == _shown(memory.search(**question))

    check()


def test_same_answers_on_the_corpus(corpus_catalog: Catalog) -> None:
    memory, indexed = _engines(corpus_catalog)
    assert indexed.total == len(memory.records) == 15_241

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_question(memory))
    def check(question: dict[str, Any]) -> None:
        assert _shown(indexed.search(**question)) == _shown(memory.search(**question))

    check()
    # the whole catalogue, as the export reads it, in every order
    for sort in ("", "-size", "organism", "-license", "name"):
        total = memory.search({}, sort=sort).total
        everything = indexed.search({}, "", 0, total, sort, bounded=False)
        assert everything.records == memory.search({}, "", 0, total, sort, bounded=False).records


def test_same_errors(examples_engines) -> None:
    for engine in examples_engines:
        with pytest.raises(UsageError, match="unknown facet"):
            engine.search({"organsim": ["x"]})
        with pytest.raises(UsageError, match="unknown sort"):
            engine.search({}, sort="sizes")
        with pytest.raises(UsageError, match="limit"):
            engine.search({}, limit=MAX_LIMIT + 1)


def test_records_by_url(examples_engines) -> None:
    memory, indexed = examples_engines
    for record in memory.records:
        assert indexed.record(record.url) == record
    assert indexed.record("https://example.org/no-such-dataset/") is None


def test_same_sparql(examples_engines) -> None:
    memory, indexed = examples_engines
    for selected, text in [({}, ""), ({"kind": ["image"]}, "mouse brain"), ({}, "mammal")]:
        assert indexed.sparql(selected, text) == memory.sparql(selected, text)


def _terms(hierarchies: dict[str, Any]) -> dict[str, Any]:
    return {
        facet: {
            iri: (term.label, term.rank, frozenset(term.parents))
            for iri, term in hierarchy.terms.items()
        }
        for facet, hierarchy in hierarchies.items()
    }


@pytest.mark.parametrize("name", ["examples_catalog", "tree_catalog", "corpus_catalog"])
def test_hierarchies_from_the_index_terms(name: str, request: pytest.FixtureRequest) -> None:
    """The hierarchies the server builds from the terms in the index, by lookups, are those
    of the named query ``term-hierarchy``."""
    catalog = request.getfixturevalue(name)
    used = used_terms(group_counts(catalog.store.catalogue))
    assert used["organism"] or name == "tree_catalog"
    found = term_hierarchies(catalog.store, used)
    assert _terms(found) == _terms(read_hierarchies(catalog))


def test_many_groups_go_to_sqlite_as_one_array(examples_engines, monkeypatch) -> None:
    """More groups than a statement takes parameters are passed as one JSON array."""
    from ngff_kg.views import facets

    monkeypatch.setattr(facets, "_PARAMETERS", 1)
    memory, indexed = examples_engines
    every = memory.search({})
    kinds = [v.value for v in every.facets["kind"]]
    for question in (
        {"selected": {"kind": kinds[:2]}},
        {"text": "mouse"},
        {"text": "zarr", "sort": "-organism"},
        {"selected": {"host": [v.value for v in every.facets["host"]]}, "sort": "size"},
    ):
        assert _shown(indexed.search(**question)) == _shown(memory.search(**question))


@pytest.mark.parametrize(
    ("listed", "scanned", "sorted_"),
    [(0, 0.0, 10**9), (0, 0.0, 0), (0, 2.0, 10**9), (10**9, 0.0, 10**9)],
)
def test_same_answers_whichever_way_text_is_read(
    examples_engines, monkeypatch, listed: int, scanned: float, sorted_: int
) -> None:
    """Datasets that must match text are listed by id when few, else read through the index
    of groups or by a scan of the table, as their share says: the answers are the same
    whichever way, and each way is taken."""
    from ngff_kg.views import facets

    monkeypatch.setattr(facets, "_LISTED", listed)
    monkeypatch.setattr(facets, "_SCANNED", scanned)
    monkeypatch.setattr(facets, "_SORTED", sorted_)
    memory, indexed = examples_engines
    statements: list[str] = []
    execute = indexed.catalogue.execute

    def spied(sql: str, params: Any = ()) -> list[Any]:
        statements.append(sql)
        return execute(sql, params)

    monkeypatch.setattr(indexed.catalogue, "execute", spied)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_question(memory))
    def check(question: dict[str, Any]) -> None:
        assert _shown(indexed.search(**question)) == _shown(memory.search(**question))

    check()
    for question in (
        {"text": "brain"},
        {"text": "zarr", "sort": "-organism"},
        {"text": "zarr idr", "selected": {"kind": ["image"]}},
    ):
        assert _shown(indexed.search(**question)) == _shown(memory.search(**question))
    scans = [s for s in statements if "FROM records NOT INDEXED" in s]
    by_id = [s for s in statements if "id IN (SELECT value FROM json_each(?))" in s]
    if listed:  # every text is held by few datasets here: they are listed
        assert by_id and not scans
        assert any("GROUP BY grp" in s for s in by_id)
        assert any("ORDER BY" in s for s in by_id)
    elif scanned > 1:  # (a text that no dataset holds is listed, even here: by no id)
        assert not scans
    else:  # every statement with text: counts, pages by group, pages in URL order unless sorted
        assert any("GROUP BY grp" in s for s in scans)
        assert any("ORDER BY url LIMIT" in s for s in scans) == (sorted_ > 0)

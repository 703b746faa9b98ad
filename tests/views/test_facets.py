"""Faceted search: hierarchy-aware organism and imaging-method facets, counts, text, paging."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import BY_HIERARCHY, ROOT, fbbi, taxon
from corpus_reference import roots

from ngff_kg import Catalog
from ngff_kg.errors import UsageError
from ngff_kg.views.facets import FacetIndex, FacetValue, license_label, term_names
from ngff_kg.views.records import read_hierarchies, read_records

MOUSE = "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"
PLATE = "https://data.example.org/Example%20Lab/screens/plate-1.ome.zarr/"
ZEBRAFISH = "https://data.example.org/Example%20Lab/collections/zebrafish-spim.zarr/"
YEAST = "https://s3.example.net/ngff-public/v0.4/yeast-cells.zarr/"
EM = "https://s3.example.net/ngff-public/v0.5/em-volume.ome.zarr/"
MAMMALIA = taxon(40674)
FLUORESCENCE = fbbi(246)


@pytest.fixture(scope="module")
def index(examples_catalog: Catalog) -> FacetIndex:
    return FacetIndex(read_records(examples_catalog), read_hierarchies(examples_catalog))


def urls(index: FacetIndex, **kwargs) -> set[str]:
    return {r.url for r in index.search(**kwargs).records}


def flatten(values: list[FacetValue]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v.value] = v.count
        out.update(flatten(v.children))
    return out


def test_broader_terms_include_their_descendants(index: FacetIndex, examples_catalog) -> None:
    chosen = {"organism": [MAMMALIA], "modality": [FLUORESCENCE]}
    reference = examples_catalog.query(BY_HIERARCHY, organism=MAMMALIA, modality=FLUORESCENCE)
    assert urls(index, selected=chosen) == set(reference.column("dataset")) == {MOUSE, PLATE}
    # confocal (mouse brain) is under fluorescence microscopy; SPIM (zebrafish) too
    assert urls(index, selected={"modality": [FLUORESCENCE]}) == {MOUSE, PLATE, ZEBRAFISH}


def test_counts_follow_the_other_facets(index: FacetIndex) -> None:
    result = index.search({"organism": [MAMMALIA], "kind": ["image"]})
    assert result.total == 1
    kinds = flatten(result.facets["kind"])
    assert kinds == {"image": 1, "plate": 1}  # the kind counts ignore the kind choice
    organisms = flatten(result.facets["organism"])
    assert organisms[MAMMALIA] == 1 and organisms[taxon(10090)] == 1
    assert organisms[taxon(4932)] == 1  # yeast is an image too: choosing it would add one
    hosts = flatten(result.facets["host"])
    assert hosts == {"data.example.org": 1}


def test_everything_without_a_choice(index: FacetIndex) -> None:
    result = index.search()
    assert result.total == 5
    assert flatten(result.facets["kind"]) == {"image": 3, "plate": 1, "bioformats2raw": 1}
    assert flatten(result.facets["host"]) == {"data.example.org": 3, "s3.example.net": 2}
    licenses = result.facets["license"]
    assert [(v.label, v.count) for v in licenses] == [("CC BY 4.0", 3), ("CC BY-NC-SA 4.0", 1)]
    organisms = flatten(result.facets["organism"])
    assert organisms[MAMMALIA] == 2 and organisms[taxon(7955)] == 1
    assert "http://purl.obolibrary.org/obo/NCBITaxon_1" not in organisms  # root: says nothing


def test_values_of_one_facet_are_alternatives(index: FacetIndex) -> None:
    assert urls(index, selected={"kind": ["plate", "bioformats2raw"]}) == {PLATE, ZEBRAFISH}
    assert urls(index, selected={"kind": ["plate"], "host": ["s3.example.net"]}) == set()


def test_free_text_matches_every_word(index: FacetIndex) -> None:
    assert urls(index, text="yeast") == {YEAST}
    assert urls(index, text="Zebrafish LIGHT-sheet") == {ZEBRAFISH}
    assert urls(index, text="em-volume") == {EM}  # the URL counts too
    assert urls(index, text="zebrafish yeast") == set()


def test_paging_and_errors(index: FacetIndex) -> None:
    page = index.search(offset=4, limit=2)
    assert page.total == 5 and len(page.records) == 1
    with pytest.raises(UsageError, match="unknown facet 'species'"):
        index.search({"species": ["x"]})
    with pytest.raises(UsageError, match="unknown facet 'organisms'; Did you mean 'organism'"):
        index.search({"organisms": ["x"]})
    with pytest.raises(UsageError, match="limit"):
        index.search(limit=0)


def test_a_chosen_value_with_no_dataset_stays_visible(index: FacetIndex) -> None:
    result = index.search({"kind": ["plate"], "license": ["https://example.org/none"]})
    assert result.total == 0
    assert ("https://example.org/none", 0, True) in [
        (v.value, v.count, v.selected) for v in result.facets["license"]
    ]


def test_license_labels() -> None:
    assert license_label("https://creativecommons.org/licenses/by/4.0/") == "CC BY 4.0"
    assert license_label("https://creativecommons.org/publicdomain/zero/1.0/") == "CC0 1.0"
    assert license_label("https://spdx.org/licenses/MIT") == "MIT"
    assert license_label("custom terms") == "custom terms"


def _closure_from_ontology_files() -> dict[str, set[str]]:
    """term → its ancestors (itself included), read from ontologies/*.ttl with rdflib."""
    rdflib = pytest.importorskip("rdflib")
    graph = rdflib.Graph()
    for name in ("fbbi.ttl", "ncbitaxon.ttl"):
        graph.parse(ROOT / "ontologies" / name, format="turtle")
    parents: dict[str, set[str]] = {}
    for s, o in graph.subject_objects(rdflib.RDFS.subClassOf):
        parents.setdefault(str(s), set()).add(str(o))
    closure: dict[str, set[str]] = {}

    def up(term: str) -> set[str]:
        if term not in closure:
            closure[term] = {term}
            for parent in parents.get(term, ()):
                closure[term] |= up(parent)
        return closure[term]

    for term in list(parents):
        up(term)
    return closure


def test_corpus_counts_equal_an_independent_reference(
    corpus_catalog: Catalog, corpus: Path
) -> None:
    """Every organism and imaging-method count shown equals the number of datasets whose
    crate (read as plain JSON) names that term or a term below it in the ontology files."""
    closure = _closure_from_ontology_files()
    expected: dict[str, Counter[str]] = {"organism": Counter(), "modality": Counter()}
    for info in roots(corpus).values():
        for facet, terms in (("organism", info.organisms), ("modality", info.modalities)):
            expected[facet].update(set().union(*(closure.get(t, {t}) for t in terms)))
    index = FacetIndex(read_records(corpus_catalog), read_hierarchies(corpus_catalog))
    result = index.search()
    assert result.total == len(roots(corpus))
    for facet in ("organism", "modality"):
        shown = flatten(result.facets[facet])
        assert len(shown) > 10
        assert shown == {t: expected[facet][t] for t in shown}
    assert flatten(result.facets["modality"])[FLUORESCENCE] == 674
    chosen = {"organism": [MAMMALIA], "modality": [FLUORESCENCE]}
    found = index.search(chosen, limit=1000)
    reference = corpus_catalog.query(BY_HIERARCHY, organism=MAMMALIA, modality=FLUORESCENCE)
    assert found.total == len(found.records) > 100
    assert {r.url for r in found.records} == set(reference.column("dataset"))


@pytest.fixture(scope="module")
def named_index(examples_catalog: Catalog) -> FacetIndex:
    records = read_records(examples_catalog)
    hierarchies = read_hierarchies(examples_catalog)
    return FacetIndex(records, hierarchies, term_names(examples_catalog.ontology))


@pytest.mark.parametrize(
    ("text", "facet", "term"),
    [
        ("mouse", "organism", taxon(10090)),  # an NCBI common name (synonym)
        ("Mus musculus", "organism", taxon(10090)),  # the scientific name, two words
        ("mammal", "organism", MAMMALIA),  # an ancestor, by its (singular) common name
        ("fluorescence", "modality", FLUORESCENCE),  # an ancestor of confocal and SPIM
        ("lightsheet", "modality", fbbi(369)),  # a synonym written without the space
    ],
)
def test_text_finds_datasets_by_term_names(named_index: FacetIndex, text, facet, term) -> None:
    # the reference: the datasets the facet gives for the term (descendants included)
    assert urls(named_index, text=text) == urls(named_index, selected={facet: [term]})
    assert urls(named_index, text=text)


def test_text_without_names_uses_the_hierarchy_labels(index: FacetIndex) -> None:
    assert urls(index, text="Mus musculus") == urls(index, selected={"organism": [taxon(10090)]})
    assert urls(index, text="brightfield nothing-like-this") == set()

"""Term lookup and name resolution over the shipped ontologies, and the materialized hierarchy.

Expected hierarchies are computed here from the Turtle files with pyoxigraph's parser and a
plain breadth-first walk, independent of :mod:`ngff_kg.ontology.index`.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import NKG, OBO, ROOT, fbbi, taxon

from ngff_kg import Catalog, QueryError
from ngff_kg.errors import TermError
from ngff_kg.ontology.index import OntologyIndex, Term, closure, rank_iri
from ngff_kg.ontology.taxonomy import load_taxonomy
from ngff_kg.store.knowledge import KnowledgeStore
from ngff_kg.vocab import CLOSURE_GRAPH

SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"


@pytest.fixture(scope="module")
def index() -> OntologyIndex:
    return OntologyIndex.from_files()


def parents_in(path: Path) -> dict[str, set[str]]:
    parents: dict[str, set[str]] = defaultdict(set)
    for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        if triple.predicate.value == SUBCLASS:
            parents[triple.subject.value].add(triple.object.value)
    return parents


def descendants(parents: dict[str, set[str]], top: str) -> set[str]:
    children: dict[str, set[str]] = defaultdict(set)
    for child, ps in parents.items():
        for p in ps:
            children[p].add(child)
    seen, queue = {top}, deque([top])
    while queue:
        for child in children[queue.popleft()]:
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return seen


# ------------------------------------------------------------------ search
@pytest.mark.parametrize(
    ("text", "ontology", "first"),
    [
        ("house mouse", None, taxon(10090)),
        ("House Mouse", "ncbitaxon", taxon(10090)),
        ("SPIM", None, fbbi(369)),
        ("spim", "fbbi", fbbi(369)),
        ("selective plane illumination microscopy", None, fbbi(369)),
        ("Mammalia", None, taxon(40674)),
        ("mammals", None, taxon(40674)),
        ("mouse", None, taxon(10090)),
        ("Mus musculus", None, taxon(10090)),
        ("C. elegans", None, taxon(6239)),
        ("confocal microscopy", None, fbbi(251)),
        ("brightfield microscopy", None, fbbi(243)),
        ("bright field microscopy", None, fbbi(243)),
        ("NCBI:txid9606", None, taxon(9606)),
        ("obo:FBbi:00000246", None, fbbi(246)),
        ("fluorescense microscopy", "fbbi", fbbi(246)),  # a close spelling
    ],
)
def test_search_ranks_the_right_term_first(
    index: OntologyIndex, text: str, ontology: str | None, first: str
) -> None:
    matches = index.search(text, ontology)
    assert matches and matches[0].term.iri == first, [m.term.curie for m in matches]


def test_search_orders_exact_before_partial(index: OntologyIndex) -> None:
    matches = index.search("house mouse", "ncbitaxon")
    assert [m.how for m in matches][:2] == ["synonym", "contains"]
    assert {m.term.iri for m in matches[1:]} >= {taxon(10091), taxon(10092)}  # subspecies
    assert all(m.term.ontology == "fbbi" for m in index.search("microscopy", "fbbi"))
    assert index.search("", None) == []


# ------------------------------------------------------------------ resolve
@pytest.mark.parametrize(
    ("text", "ontology", "iri"),
    [
        ("Mammalia", "ncbitaxon", taxon(40674)),
        ("MAMMALIA", "ncbitaxon", taxon(40674)),
        ("mouse", "ncbitaxon", taxon(10090)),
        ("human", "ncbitaxon", taxon(9606)),
        ("zebrafish", "ncbitaxon", taxon(7955)),
        ("SPIM", "fbbi", fbbi(369)),
        ("fluorescence microscopy", "fbbi", fbbi(246)),
        # a label shared by a genus and its subgenus resolves to the genus, which holds both
        ("Mus", "ncbitaxon", taxon(10088)),
        ("Drosophila", "ncbitaxon", taxon(7215)),
        ("NCBITaxon:10090", "ncbitaxon", taxon(10090)),
        ("https://identifiers.org/taxonomy:9606", "ncbitaxon", taxon(9606)),
    ],
)
def test_resolve(index: OntologyIndex, text: str, ontology: str, iri: str) -> None:
    assert index.resolve(text, ontology).iri == iri


def test_resolve_ambiguous_lists_the_candidates(index: OntologyIndex) -> None:
    with pytest.raises(TermError, match="ambiguous") as info:
        index.resolve("green sea urchin", "ncbitaxon")
    assert "NCBITaxon:7654" in str(info.value) and "NCBITaxon:7671" in str(info.value)
    assert isinstance(info.value, QueryError)


def test_resolve_unknown_lists_close_matches(index: OntologyIndex) -> None:
    with pytest.raises(TermError, match=r"no NCBITaxon term is named .Mamalia.*NCBITaxon:40674"):
        index.resolve("Mamalia", "ncbitaxon")
    with pytest.raises(TermError, match="no NCBITaxon term is named 'SPIM'"):
        index.resolve("SPIM", "ncbitaxon")
    with pytest.raises(TermError, match="is a term of NCBI Taxonomy, not of FBbi"):
        index.resolve("NCBI:txid9606", "fbbi")


def test_resolve_keeps_identifiers_the_slims_lack(index: OntologyIndex) -> None:
    term = index.resolve("NCIT:C16853")
    assert term == Term(OBO + "NCIT_C16853")
    assert index.resolve("https://example.org/method").iri == "https://example.org/method"


def test_context_shows_rank_or_parents(index: OntologyIndex) -> None:
    assert index.context(index.get(taxon(10090))) == "species"
    assert index.context(index.get(fbbi(369))) == "fluorescence microscopy"
    assert index.context(index.get(fbbi(242))).startswith("obsolete")


def test_rank_names() -> None:
    assert rank_iri("class") == OBO + "NCBITaxon_class"
    assert rank_iri("Species Group") == OBO + "NCBITaxon_species_group"
    assert rank_iri("domain") == OBO + "NCBITaxon_superkingdom"
    with pytest.raises(TermError, match="Did you mean: class"):
        rank_iri("clas")


# ------------------------------------------------------------------ hierarchy
def test_closure_is_reflexive_transitive_and_survives_cycles() -> None:
    found = closure({"a": ["b"], "b": ["c", "d"], "d": ["c"]})
    assert found["a"] == {"a", "b", "c", "d"} and found["c"] == {"c"}
    cyclic = closure({"x": ["y"], "y": ["x"]})
    assert "y" in cyclic["x"] and "x" in cyclic["x"]


def test_index_ancestors_match_the_files(index: OntologyIndex) -> None:
    fbbi_parents = parents_in(ROOT / "ontologies" / "fbbi.ttl")
    fluorescence = descendants(fbbi_parents, fbbi(246))
    assert {fbbi(251), fbbi(253), fbbi(369)} <= fluorescence
    assert {t for t in fluorescence if fbbi(246) in index.ancestors(t)} == fluorescence
    taxon_parents = parents_in(ROOT / "ontologies" / "ncbitaxon.ttl")
    mammals = descendants(taxon_parents, taxon(40674))
    indexed = {i for i in index.terms if taxon(40674) in index.ancestors(i)}
    assert indexed == mammals and taxon(10090) in mammals and taxon(4932) not in mammals


def test_store_materializes_the_hierarchy() -> None:
    store = KnowledgeStore(None)
    store.ensure_ontologies()
    db = store.oxigraph
    within = ox.NamedNode(NKG + "subClassOfOrSelf")
    pairs = {
        (q.subject.value, q.object.value)
        for q in db.quads_for_pattern(None, within, None, ox.NamedNode(CLOSURE_GRAPH))
    }
    parents = parents_in(ROOT / "ontologies" / "fbbi.ttl")
    expected = {(t, fbbi(246)) for t in descendants(parents, fbbi(246))}
    assert {p for p in pairs if p[1] == fbbi(246)} == expected
    assert (taxon(10090), taxon(40674)) in pairs and (taxon(10090), taxon(10090)) in pairs
    assert store.ensure_ontologies() == []  # nothing changed: nothing reloaded
    assert OntologyIndex.from_store(db).terms == OntologyIndex.from_files().terms


# ------------------------------------------------------------------ catalog
def test_catalog_terms_and_errors() -> None:
    catalog = Catalog(None)
    assert catalog.terms("house mouse")[0].term.curie == "NCBITaxon:10090"
    assert catalog.terms("SPIM", "FBbi")[0].term.curie == "FBbi:00000369"
    with pytest.raises(ValueError, match="unknown ontology 'ncit'"):
        catalog.terms("x", "ncit")


def test_names_in_query_parameters(examples_catalog: Catalog) -> None:
    def found(**params: str) -> list[str]:
        return examples_catalog.query("find-datasets", **params).column("dataset")

    mouse = found(organism="NCBI:txid10090")
    assert len(mouse) == 1
    assert found(organism="mouse") == found(organism="Mus musculus") == mouse
    assert found(organism="house mouse") == mouse
    # both zebrafish and mouse are vertebrates; the human dataset is a mammal too
    mammals = set(found(organism="Mammalia"))
    assert set(mouse) <= mammals and not set(found(organism="zebrafish")) & mammals
    assert set(found(organism="NCBITaxon:7742")) == mammals | set(found(organism="zebrafish"))
    assert found(modality="SPIM") == found(organism="Danio rerio")
    fluorescence = set(found(modality="fluorescence microscopy"))
    assert set(found(modality="confocal microscopy")) < fluorescence
    with pytest.raises(QueryError, match="organism: no NCBITaxon term is named 'unicorn'"):
        found(organism="unicorn")
    with pytest.raises(QueryError, match="is an organism, not an imaging method"):
        found(modality="NCBI:txid10090")


def test_rank_and_branch_queries(examples_catalog: Catalog) -> None:
    rows = examples_catalog.query("datasets-by-taxon-rank", rank="class").values()
    by_label = {r["label"]: r["datasets"] for r in rows}
    organisms = examples_catalog.query("datasets-by-organism").values()
    assert sum(by_label.values()) >= len({r["organism"] for r in organisms})
    assert by_label.get("Mammalia", 0) == len(
        examples_catalog.query("find-datasets", organism="Mammalia").rows
    )
    with pytest.raises(QueryError, match="not an NCBI Taxonomy rank"):
        examples_catalog.query("datasets-by-taxon-rank", rank="sort")
    branches = examples_catalog.query("datasets-by-modality-branch", ancestor="microscopy")
    assert {r["label"] for r in branches.values()} <= {
        "microscopy with lenses",
        "scanning probe microscopy",
        "X-ray microscopy",
        "microscopy",
    }


def test_taxonomy_off_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NGFF_KG_TAXONOMY", "off")
    load_taxonomy.cache_clear()
    try:
        assert load_taxonomy() is None
        monkeypatch.setenv("NGFF_KG_TAXONOMY", str(ROOT / "no-such-dir"))
        load_taxonomy.cache_clear()
        with pytest.raises(ValueError, match="no usable taxonomy index"):
            load_taxonomy()
    finally:
        monkeypatch.undo()
        load_taxonomy.cache_clear()

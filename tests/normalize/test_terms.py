"""Term identifiers in every spelling → canonical OBO PURLs."""

from __future__ import annotations

import pytest
from conftest import OBO, fbbi, taxon

from ngff_kg.normalize.terms import canonical_iri, canonical_term, curie, ontology_iri, ontology_of


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NCBI:txid9606", taxon(9606)),
        ("NCBI:txid10090", taxon(10090)),
        ("NCBITaxon:9606", taxon(9606)),
        ("obo:NCBITaxon_9606", taxon(9606)),
        ("http://purl.obolibrary.org/obo/NCBITaxon_9606", taxon(9606)),
        ("https://purl.obolibrary.org/obo/NCBITaxon_9606", taxon(9606)),
        ("https://identifiers.org/taxonomy:9606", taxon(9606)),
        ("http://identifiers.org/taxonomy/9606", taxon(9606)),
        ("taxonomy:9606", taxon(9606)),
        ("https://www.ncbi.nlm.nih.gov/Taxonomy/Browser/wwwtax.cgi?id=9606", taxon(9606)),
        ("https://www.ncbi.nlm.nih.gov/Taxonomy/Browser/wwwtax.cgi?mode=Info&id=7955", taxon(7955)),
        ("obo:FBbi_00000243", fbbi(243)),
        ("FBbi:00000243", fbbi(243)),
        ("obo:FBbi:00000243", fbbi(243)),
        ("http://purl.obolibrary.org/obo/FBbi:00000243", fbbi(243)),
        ("http://purl.obolibrary.org/obo/FBbi_00000243", fbbi(243)),
        ("FBbi:243", fbbi(243)),
        ("fbbi:00050000", fbbi(50000)),
    ],
)
def test_variants(value: str, expected: str) -> None:
    assert canonical_term(value) == expected


@pytest.mark.parametrize(
    "value",
    ["https://example.org/x", "NCIT:C17753", "obo:MI_0040", "NCBI:txidABC", "FBbi:xyz", ""],
)
def test_not_taxon_or_fbbi(value: str) -> None:
    assert canonical_term(value) is None


def test_curie_display() -> None:
    assert curie(taxon(10090)) == "NCBITaxon:10090"
    assert curie(fbbi(243)) == "FBbi:00000243"
    assert curie("https://example.org/x") == "https://example.org/x"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NCIT:C16853", OBO + "NCIT_C16853"),
        ("ncit:C16853", OBO + "NCIT_C16853"),
        ("obo:NCIT_C16853", OBO + "NCIT_C16853"),
        ("obo:MI_0040", OBO + "MI_0040"),
        ("MI:0040", OBO + "MI_0040"),
        ("psimi:0040", OBO + "MI_0040"),
        ("OBI:0001631", OBO + "OBI_0001631"),
        ("https://purl.obolibrary.org/obo/OBI_0001631", OBO + "OBI_0001631"),
        ("EDAM:topic_3383", "http://edamontology.org/topic_3383"),
        ("edam:format_1915", "http://edamontology.org/format_1915"),
        ("NCBI:txid9606", taxon(9606)),
        ("obo:FBbi:00000243", fbbi(243)),
    ],
)
def test_other_ontologies(value: str, expected: str) -> None:
    assert canonical_iri(value) == expected
    assert canonical_term(value) == (
        expected if "NCBITaxon" in expected or "FBbi" in expected else None
    )


@pytest.mark.parametrize(
    "value", ["NCIT:xyz", "MI:12", "obo:HSO_0000308", "https://example.org/mi"]
)
def test_not_a_known_term(value: str) -> None:
    assert canonical_iri(value) is None


def test_ontology_of_and_its_iri() -> None:
    assert ontology_of(OBO + "NCIT_C16853") == "NCIT"
    assert ontology_iri(OBO + "NCIT_C16853") == OBO + "ncit.owl"
    assert ontology_iri(OBO + "HSO_0000308") == OBO + "hso.owl"
    assert ontology_iri("http://edamontology.org/topic_3383") == "http://edamontology.org"
    assert curie("http://edamontology.org/topic_3383") == "EDAM:topic_3383"
    assert ontology_iri("https://example.org/x") is None

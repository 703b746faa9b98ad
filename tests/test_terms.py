"""Term identifiers in every spelling → canonical OBO PURLs."""

from __future__ import annotations

import pytest
from conftest import fbbi, taxon

from ngff_kg.terms import canonical_term, curie


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

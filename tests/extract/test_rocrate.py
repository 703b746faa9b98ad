"""Profile repair: each repair on its fixture, checked against pyld's expansion of the original."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import CRATES, fbbi, taxon
from rdfcompare import load, ntriples_quads, pyld_quads

from ngff_kg.errors import ExtractionError, UnknownContextError
from ngff_kg.extract.rocrate import extract_crate, license_iri
from ngff_kg.normalize.jsonld import JsonLdConverter
from ngff_kg.normalize.repairs import Repair

DS = "https://example.org/ds/"
STD = {"undefined-term", "schema-https", "license-literal"}
SCHEMA = "http://schema.org/"


@pytest.fixture(scope="module")
def converter() -> JsonLdConverter:
    return JsonLdConverter()


def kinds(result) -> set[str]:
    return {r.kind for r in result.repairs}


def originals(result, kind: str) -> set[str]:
    return {r.original for r in result.repairs if r.kind == kind}


def test_challenge_crate(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "challenge.json"), DS, converter)
    assert kinds(result) == STD | {"term-identifier"}
    assert originals(result, "undefined-term") == {"fbbi_id", "resultOf", "image_acquisition"}
    assert originals(result, "term-identifier") == {"NCBI:txid10090"}
    assert result.organisms == {f"<{taxon(10090)}>"}
    assert result.modalities == {f"<{fbbi(243)}>"}
    ds = f"<{DS}>"
    assert (ds, f"<{SCHEMA}taxonomicRange>", f"<{taxon(10090)}>") in result.triples
    assert (ds, f"<{SCHEMA}measurementTechnique>", f"<{fbbi(243)}>") in result.triples
    lic = "<https://creativecommons.org/licenses/by/4.0/>"
    assert (ds, f"<{SCHEMA}license>", lic) in result.triples
    # the acquisition is linked to the dataset through the reverse of schema:result
    assert any(p == f"<{SCHEMA}result>" and o == ds for _, p, o in result.triples)
    # no https schema.org IRI, no pseudo IRI, no base-relative type survives
    flat = " ".join(" ".join(t) for t in result.triples)
    assert "https://schema.org/" not in flat
    assert "NCBI:txid" not in flat
    assert f"{DS}image_acquisition" not in flat


def test_taxon_variants(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "variants-taxon.json"), DS, converter)
    assert result.organisms == {f"<{taxon(n)}>" for n in (9606, 10090, 7955, 4932, 10116)}
    assert originals(result, "term-identifier") == {
        "NCBI:txid9606",
        "NCBITaxon:10090",
        "https://identifiers.org/taxonomy:4932",
    }
    assert "unlinked-entity" not in kinds(result)


def test_fbbi_variants(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "variants-fbbi.json"), DS, converter)
    assert result.modalities == {f"<{fbbi(n)}>" for n in (246, 251, 369)}
    assert originals(result, "term-identifier") >= {
        "FBbi:00000246",
        "http://purl.obolibrary.org/obo/FBbi:00000251",
    }


def test_licence_spelling(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "licence-spelling.json"), DS, converter)
    assert "licence" in originals(result, "undefined-term")
    assert result.licenses == {"<https://creativecommons.org/licenses/by/4.0/>"}


def test_license_already_iri_needs_no_repair(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "license-iri.json"), DS, converter)
    assert result.repairs == set()
    assert result.licenses == {"<https://creativecommons.org/licenses/by/4.0/>"}


def test_spdx_license(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "license-spdx.json"), DS, converter)
    assert result.licenses == {"<https://spdx.org/licenses/CC-BY-4.0>"}
    assert kinds(result) == {"license-literal"}


def test_crate_defining_the_terms_itself_needs_no_repair(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "self-defined.json"), DS, converter)
    assert result.repairs == set()
    assert result.organisms == {f"<{taxon(10090)}>"}
    assert result.modalities == {f"<{fbbi(243)}>"}


def test_unlinked_biosample_is_attributed_and_recorded(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "unlinked-biosample.json"), DS, converter)
    assert result.organisms == {f"<{taxon(10090)}>"}
    assert Repair("unlinked-entity", f"{SCHEMA}taxonomicRange", f"<{taxon(10090)}>") in (
        result.repairs
    )


def test_absolute_root_links_the_dataset(converter: JsonLdConverter) -> None:
    result = extract_crate(load(CRATES / "root-absolute.json"), DS, converter)
    assert result.root == "<https://other.example.org/ds/>"
    ds = f"<{DS}>"
    assert (ds, f"<{SCHEMA}taxonomicRange>", f"<{taxon(9606)}>") in result.triples
    assert any(s == ds and p == f"<{SCHEMA}name>" for s, p, _ in result.triples)
    assert "unlinked-entity" not in kinds(result)


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("not-object.json", ExtractionError, "JSON object"),
        ("no-graph.json", ExtractionError, "no @graph"),
    ],
)
def test_bad_crates(name: str, error: type, message: str, converter: JsonLdConverter) -> None:
    with pytest.raises(error, match=message):
        extract_crate(load(CRATES / name), DS, converter)


def test_unknown_remote_context_is_read_with_the_known_ones(converter: JsonLdConverter) -> None:
    doc = load(CRATES / "unknown-context.json")
    result = extract_crate(doc, DS, converter)
    # everything pyld reads from the crate without the unknown context is there (no blank
    # nodes in this crate, so the sets compare directly)
    known = {**doc, "@context": "https://w3id.org/ro/crate/1.1/context"}
    expected = pyld_quads(known, DS + "ro-crate-metadata.json")
    assert len(expected) == 6
    got = ntriples_quads(result.triples)
    license_ = [q for q in expected if q.predicate.value == f"{SCHEMA}license"]
    assert expected - set(license_) <= got  # the license string is repaired to its IRI:
    assert Repair("license-literal", license_[0].object.value, f"<{license_[0].object.value}>") in (
        result.repairs
    )
    assert (f"<{DS}>", f"<{SCHEMA}name>", '"Needs a context that is not available"') in (
        result.triples
    )
    assert len(result.warnings) == 1
    assert "https://example.org/unknown/context.jsonld" in result.warnings[0]
    assert "not available offline" in result.warnings[0]
    assert result.dropped_terms == set()  # every term used is defined by RO-Crate 1.1


def test_terms_of_an_unknown_context_are_reported(converter: JsonLdConverter) -> None:
    doc = {
        "@context": ["https://w3id.org/ro/crate/1.1/context", "https://example.org/x/context"],
        "@graph": [
            {"@id": "./", "@type": "Dataset", "name": "n", "sampleCount": 3},
            {"@id": "ro-crate-metadata.json", "about": {"@id": "./"}, "xProp": {"y": 1}},
        ],
    }
    result = extract_crate(doc, DS, converter)
    assert result.dropped_terms == {"sampleCount", "xProp", "y"}
    assert not any("sampleCount" in p or "xProp" in p for _, p, _ in result.triples)
    assert (f"<{DS}>", f"<{SCHEMA}name>", '"n"') in result.triples


def test_a_context_named_inside_the_crate_must_still_be_known(converter: JsonLdConverter) -> None:
    doc = {
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [{"@id": "./", "@context": "https://example.org/x/context", "name": "n"}],
    }
    with pytest.raises(UnknownContextError, match="not available offline"):
        extract_crate(doc, DS, converter)


@pytest.mark.parametrize(
    ("text", "iri"),
    [
        (
            "https://creativecommons.org/licenses/by/4.0/",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        (" CC0-1.0 ", "https://spdx.org/licenses/CC0-1.0"),
        ("CC-BY-NC-SA-4.0", "https://spdx.org/licenses/CC-BY-NC-SA-4.0"),
        ("all rights reserved", None),
    ],
)
def test_license_iri(text: str, iri: str | None) -> None:
    assert license_iri(text) == iri


def replaced_by_repair(quad: ox.Quad, base: str) -> bool:
    """The broken forms the profile repair replaces (see the enrich issue's definition)."""
    obj, pred = quad.object, quad.predicate
    if isinstance(obj, ox.NamedNode) and obj.value.startswith("NCBI:"):
        return True
    if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith("NCBI:"):
        return True
    if pred.value.endswith("rdf-syntax-ns#type") and isinstance(obj, ox.NamedNode):
        if obj.value.startswith(base.rsplit("/", 1)[0] + "/"):
            return True  # base-relative type such as image_acquisition
        if obj.value.startswith("https://schema.org/"):
            return True
    if pred.value == SCHEMA + "license" and isinstance(obj, ox.Literal):
        return True
    if pred.value.startswith("https://schema.org/"):
        return True
    return isinstance(obj, ox.NamedNode) and (
        obj.value.startswith(("FBbi:", "NCBITaxon:", "https://identifiers.org/"))
        or "/obo/FBbi:" in obj.value
    )


def check_nothing_lost(
    doc: object,
    dataset_iri: str,
    converter: JsonLdConverter,
    standard: set[ox.Quad] | None = None,
) -> None:
    """Every triple of pyld's expansion of the original is in ours, except the replaced forms,
    and each replaced form has a recorded repair."""
    base = dataset_iri + "ro-crate-metadata.json"
    if standard is None:
        standard = pyld_quads(doc, base)
    result = extract_crate(doc, dataset_iri, converter)
    ours = ntriples_quads(result.triples)
    assert not any(isinstance(q.subject, ox.BlankNode) for q in standard), "use isomorphism"
    missing = {q for q in standard - ours if not replaced_by_repair(q, base)}
    assert not missing, sorted(map(str, missing))[:5]
    replaced = {q for q in standard if replaced_by_repair(q, base)}
    if replaced:
        assert result.repairs


@pytest.mark.parametrize(
    "name",
    [
        "challenge.json",
        "variants-taxon.json",
        "variants-fbbi.json",
        "licence-spelling.json",
        "license-spdx.json",
        "self-defined.json",
        "unlinked-biosample.json",
        "root-absolute.json",
    ],
)
def test_nothing_lost_on_fixtures(name: str, converter: JsonLdConverter) -> None:
    check_nothing_lost(load(CRATES / name), DS, converter)


def test_ids_with_spaces_or_braces_are_encoded_and_recorded(converter: JsonLdConverter) -> None:
    doc = {
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [
            {
                "@id": "./",
                "@type": "Dataset",
                "hasPart": [{"@id": "my file.tif"}, {"@id": "a|b.tif"}],
            }
        ],
    }
    result = extract_crate(doc, DS, converter)
    parts = {o for _, p, o in result.triples if p == f"<{SCHEMA}hasPart>"}
    assert parts == {f"<{DS}my%20file.tif>", f"<{DS}a%7Cb.tif>"}
    assert {(r.kind, r.original) for r in result.repairs} == {
        ("invalid-iri", "my file.tif"),
        ("invalid-iri", f"{DS}a|b.tif"),
    }

"""Enrich on crates of every RO-Crate version and of other shapes harvest reads.

The crates are written from the RO-Crate 1.0-1.4 specifications' examples (root data entity,
metadata descriptor, files, contextual entities) and the Workflow Run profile. Each must be
enriched losslessly: pyld reading the original and the enriched crate with the same contexts
gives a superset (checked by ``enrichcheck.check_enriched``), or fail with a clean
``ExtractionError``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from enrichcheck import check_enriched, enrich, pyld_triples

from ngff_kg.enrich import serialize
from ngff_kg.errors import ExtractionError
from ngff_kg.normalize.jsonld import JsonLdConverter

DS = "https://example.org/ds/"
SCHEMA = "http://schema.org/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
MOUSE = "http://purl.obolibrary.org/obo/NCBITaxon_10090"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"


def crate(version: str, *, descriptor: str = "ro-crate-metadata.json", extra=()) -> dict:
    """A crate as the RO-Crate ``version`` specification's examples write one."""
    return {
        "@context": f"https://w3id.org/ro/crate/{version}/context",
        "@graph": [
            {
                "@id": descriptor,
                "@type": "CreativeWork",
                "conformsTo": {"@id": f"https://w3id.org/ro/crate/{version}"},
                "about": {"@id": "./"},
            },
            {
                "@id": "./",
                "@type": "Dataset",
                "name": "Mouse brain images",
                "description": "Light-sheet images of a mouse brain",
                "datePublished": "2024-11-25",
                "license": {"@id": CC_BY},
                "hasPart": [{"@id": "images/brain.ome.zarr/"}],
                "author": {"@id": "https://orcid.org/0000-0002-1825-0097"},
            },
            {
                "@id": "images/brain.ome.zarr/",
                "@type": "Dataset",
                "name": "brain",
                "about": {"@id": "#sample"},
            },
            {"@id": "#sample", "@type": "Thing", "name": "sample 1"},
            {
                "@id": "https://orcid.org/0000-0002-1825-0097",
                "@type": "Person",
                "name": "Josiah Carberry",
            },
            {"@id": CC_BY, "@type": "CreativeWork", "name": "CC BY 4.0"},
            *extra,
        ],
    }


def workflow_run() -> dict:
    """A Workflow Run crate (Process Run profile with the ro/terms workflow-run vocabulary)."""
    doc = crate("1.1")
    doc["@context"] = [
        "https://w3id.org/ro/crate/1.1/context",
        "https://w3id.org/ro/terms/workflow-run",
    ]
    doc["@graph"][1]["mentions"] = {"@id": "#run"}
    doc["@graph"] += [
        {
            "@id": "#run",
            "@type": "CreateAction",
            "name": "conversion to OME-Zarr",
            "result": {"@id": "images/brain.ome.zarr/"},
            "containerImage": {"@id": "#image"},
        },
        {
            "@id": "#image",
            "@type": "ContainerImage",
            "registry": "quay.io",
            "name": "bioformats2raw",
            "tag": "0.9.1",
        },
    ]
    return doc


@pytest.fixture(scope="module")
def converter() -> JsonLdConverter:
    return JsonLdConverter()


def _check(doc: dict, converter: JsonLdConverter, expand=pyld_triples) -> dict:
    result = enrich(doc, DS, converter)
    assert result.changed
    check_enriched(doc, result.doc, DS, converter, expand)
    again = enrich(json.loads(serialize(result.doc)), DS, converter)
    assert serialize(again.doc) == serialize(result.doc)  # a fixpoint
    return result.doc


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.3", "1.4-DRAFT"])
def test_each_ro_crate_version_is_enriched_losslessly(
    version: str, converter: JsonLdConverter
) -> None:
    descriptor = "ro-crate-metadata.jsonld" if version == "1.0" else "ro-crate-metadata.json"
    organism = {"@id": MOUSE, "@type": "DefinedTerm", "name": "Mus musculus"}
    doc = crate(version, descriptor=descriptor, extra=[organism])
    # the sample's organism (RO-Crate 1.0 and 1.1 contexts do not define taxonomicRange: the
    # specifications say to use the full IRI then)
    key = "taxonomicRange" if version not in ("1.0", "1.1") else f"{SCHEMA}taxonomicRange"
    doc["@graph"][3][key] = {"@id": MOUSE}
    new = _check(doc, converter)
    after = pyld_triples(new, DS + "ro-crate-metadata.json")
    # the organism is linked from the root and stays a DefinedTerm, the root's type is kept
    assert (f"<{DS}>", f"<{SCHEMA}taxonomicRange>", f"<{MOUSE}>") in after
    assert (f"<{MOUSE}>", RDF_TYPE, f"<{SCHEMA}DefinedTerm>") in after
    assert (f"<{DS}>", RDF_TYPE, f"<{SCHEMA}Dataset>") in after


def test_workflow_run_crate(converter: JsonLdConverter) -> None:
    new = _check(workflow_run(), converter)
    after = pyld_triples(new, DS + "ro-crate-metadata.json")
    wfrun = "https://w3id.org/ro/terms/workflow-run#"
    image = f"<{DS}ro-crate-metadata.json#image>"
    assert (image, RDF_TYPE, f"<{wfrun}ContainerImage>") in after
    assert (image, f"<{wfrun}registry>", '"quay.io"') in after


def test_undefined_type_name_keeps_its_reading(converter: JsonLdConverter) -> None:
    """A type the crate's context does not define keeps the IRI it read as (rdf:type kept)."""
    term = {"@id": MOUSE, "@type": "DefinedTerm", "name": "Mus musculus"}
    doc = crate("1.1", extra=[term])
    # a crate with its own context, which leaves the type name DefinedTerm undefined
    doc["@context"] = {
        name: {"@id": f"{SCHEMA}{name}", "@type": "@id"}
        if name in ("about", "hasPart", "license", "author", "taxonomicRange")
        else f"{SCHEMA}{name}"
        for name in "name description datePublished about hasPart license author taxonomicRange "
        "Dataset CreativeWork Person Thing".split()
    }
    doc["@context"]["conformsTo"] = {"@id": "http://purl.org/dc/terms/conformsTo", "@type": "@id"}
    doc["@graph"][3]["taxonomicRange"] = MOUSE
    before = pyld_triples(doc, DS + "ro-crate-metadata.json")
    relative = (f"<{MOUSE}>", RDF_TYPE, f"<{DS}DefinedTerm>")
    assert relative in before  # how standard JSON-LD reads the undefined type name
    new = _check(doc, converter)
    after = pyld_triples(new, DS + "ro-crate-metadata.json")
    assert relative in after
    assert (f"<{MOUSE}>", RDF_TYPE, f"<{SCHEMA}DefinedTerm>") in after


def test_crate_with_an_unknown_remote_context(converter: JsonLdConverter) -> None:
    doc = crate("1.1")
    doc["@context"] = [doc["@context"], "https://example.org/unknown/context"]
    doc["@graph"][1]["sampleCount"] = 3  # a term only the unknown context defines

    def known_contexts(d: Any, base: str) -> set:
        context = [c for c in d["@context"] if c != "https://example.org/unknown/context"]
        return pyld_triples({**d, "@context": context}, base)

    new = _check(doc, converter, known_contexts)
    assert new["@context"][1] == "https://example.org/unknown/context"  # kept as it was
    assert new["@graph"][1]["sampleCount"] == 3


def test_crate_whose_context_enrich_cannot_edit_is_a_clean_error(
    converter: JsonLdConverter,
) -> None:
    doc = crate("0.2")  # the RO-Crate 0.2 context defines compact IRIs as terms
    with pytest.raises(ExtractionError, match="cannot edit"):
        enrich(doc, DS, converter)


def test_crate_without_context_is_a_clean_error(converter: JsonLdConverter) -> None:
    doc = crate("1.1")
    del doc["@context"]
    with pytest.raises(ExtractionError, match="no @context"):
        enrich(doc, DS, converter)


def test_crate_without_descriptor(converter: JsonLdConverter) -> None:
    doc = crate("1.1")
    del doc["@graph"][0]
    _check(doc, converter)


def _changed(change) -> dict:
    doc = crate("1.1")
    change(doc["@graph"])
    return doc


@pytest.mark.parametrize(
    "change",
    [
        lambda g: g[1].update({"@type": {"@id": "Dataset"}}),  # an object as a type
        lambda g: g[1].update({"@id": 5}),  # a number as identifier
    ],
)
def test_malformed_crates_are_clean_errors(change, converter: JsonLdConverter) -> None:
    """pyld rejects these too; harvest and enrich report them as that crate's error."""
    from pyld import jsonld
    from rdfcompare import pyld_quads

    from ngff_kg.extract.rocrate import extract_crate

    doc = _changed(change)
    with pytest.raises(jsonld.JsonLdError):
        pyld_quads(doc, DS + "ro-crate-metadata.json")
    with pytest.raises(ExtractionError):
        extract_crate(doc, DS, converter)
    with pytest.raises(ExtractionError):
        enrich(doc, DS, converter)


@pytest.mark.parametrize(
    "change",
    [
        lambda g: g[1].update({"license": [[{"@id": CC_BY}]]}),  # a nested array
        lambda g: g.append("not an entity"),  # a free-floating string: dropped
    ],
)
def test_odd_but_valid_crates_read_as_pyld_reads_them(change, converter: JsonLdConverter) -> None:
    from rdfcompare import canonical, ntriples_quads, pyld_quads

    doc = _changed(change)
    base = DS + "ro-crate-metadata.json"
    ours = converter.to_triples(doc, base).triples
    assert canonical(ntriples_quads(ours)) == canonical(pyld_quads(doc, base))
    try:
        result = enrich(doc, DS, converter)
    except ExtractionError:
        return  # a clean refusal is allowed; otherwise nothing may be lost
    check_enriched(doc, result.doc, DS, converter, pyld_triples)

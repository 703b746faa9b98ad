"""The fast JSON-LD path gives exactly pyld's standard expansion (isomorphic graphs)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from conftest import CRATES
from rdfcompare import canonical, load, ntriples_quads, pyld_quads

from ngff_kg.errors import ExtractionError, UnknownContextError
from ngff_kg.normalize.jsonld import ContextRegistry, JsonLdConverter

BASE = "https://example.org/data/set%201.zarr/ro-crate-metadata.json"
VALID = sorted(
    p.name
    for p in CRATES.glob("*.json")
    if p.name not in {"invalid.json", "not-object.json", "unknown-context.json"}
)


@pytest.fixture(scope="module")
def converter() -> JsonLdConverter:
    return JsonLdConverter()


@pytest.mark.parametrize("name", VALID)
def test_fixture_crate_equals_pyld(name: str, converter: JsonLdConverter) -> None:
    doc = load(CRATES / name)
    ours = converter.to_triples(doc, BASE)
    assert canonical(ntriples_quads(ours.triples)) == canonical(pyld_quads(doc, BASE))


def test_fast_path_is_used_for_challenge_shapes(converter: JsonLdConverter) -> None:
    assert converter.to_triples(load(CRATES / "challenge.json"), BASE).engine == "fast"
    assert converter.to_triples(load(CRATES / "values.json"), BASE).engine == "fast"


def test_list_falls_back_to_pyld(converter: JsonLdConverter) -> None:
    expansion = converter.to_triples(load(CRATES / "fallback-list.json"), BASE)
    assert expansion.engine == "pyld"
    firsts = [t for t in expansion.triples if t[1].endswith("#first>")]
    assert len(firsts) == 5


def test_values_follow_json_ld_number_rules(converter: JsonLdConverter) -> None:
    triples = converter.to_triples(load(CRATES / "values.json"), BASE).triples
    objects = {p.rsplit("/", 1)[-1].rstrip(">"): o for _, p, o in triples}
    assert objects["version"] == '"2"^^<http://www.w3.org/2001/XMLSchema#integer>'
    assert objects["height"] == '"5.0E-1"^^<http://www.w3.org/2001/XMLSchema#double>'
    assert objects["description"] == '"Une image d\'exemple"@fr'


def test_undefined_terms_are_reported(converter: JsonLdConverter) -> None:
    expansion = converter.to_triples(load(CRATES / "values.json"), BASE)
    assert expansion.dropped_terms == {"mystery_term"}


def test_unknown_remote_context_is_an_error_without_network(converter: JsonLdConverter) -> None:
    with pytest.raises(UnknownContextError, match=r"example\.org/unknown/context\.jsonld"):
        converter.to_triples(load(CRATES / "unknown-context.json"), BASE)


def test_user_contexts_directory(tmp_path) -> None:
    doc = load(CRATES / "unknown-context.json")
    (tmp_path / "unknown.jsonld").write_text(
        json.dumps({"@context": {"extra": "http://example.org/extra#"}}), "utf-8"
    )
    (tmp_path / "contexts.json").write_text(
        json.dumps({"https://example.org/unknown/context.jsonld": "unknown.jsonld"}), "utf-8"
    )
    conv = JsonLdConverter(ContextRegistry([tmp_path]))
    ours = conv.to_triples(doc, BASE)
    assert ours.triples
    assert canonical(ntriples_quads(ours.triples)) == canonical(_pyld_with(conv, doc))


def _pyld_with(conv: JsonLdConverter, doc: object) -> set[ox.Quad]:
    from pyld import jsonld

    text = jsonld.to_rdf(
        doc,
        {
            "base": BASE,
            "format": "application/n-quads",
            "documentLoader": conv.registry.pyld_loader(),
        },
    )
    return set(ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS))


@pytest.mark.parametrize(
    "url",
    [
        "https://w3id.org/ro/crate/1.1/context",
        "https://w3id.org/ro/crate/1.2/context",
        "https://w3id.org/ro/crate/1.3/context",
        "http://w3id.org/ro/crate/1.1/context/",
    ],
)
def test_bundled_contexts(url: str) -> None:
    doc = ContextRegistry().document(url)
    assert doc["@context"]["Dataset"] == "http://schema.org/Dataset"


def test_invalid_id_type_is_an_extraction_error(converter: JsonLdConverter) -> None:
    doc = {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": [{"@id": 5, "name": "x"}]}
    with pytest.raises(ExtractionError):
        converter.to_triples(doc, BASE)

"""The fast JSON-LD path gives exactly pyld's standard expansion (isomorphic graphs)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from conftest import CRATES
from rdfcompare import canonical, load, ntriples_quads, pyld_quads

from ngff_kg.errors import ExtractionError, UnknownContextError
from ngff_kg.normalize.jsonld import MAX_DEPTH, ContextRegistry, JsonLdConverter

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


SHARED_CONTEXTS = CRATES.parents[3].parent / "shared" / "contexts"
RO_CRATE_VERSIONS = ["0.2-DRAFT", "0.2", "0.3-DRAFT", "1.0", "1.1", "1.2-DRAFT", "1.2", "1.3"]
RO_CRATE_VERSIONS += ["1.4-DRAFT"]


@pytest.mark.parametrize("version", RO_CRATE_VERSIONS)
def test_every_ro_crate_context_is_known_by_all_its_urls(version: str) -> None:
    registry = ContextRegistry()
    documents = [
        registry.document(f"{scheme}://w3id.org/ro/crate/{version}{suffix}")
        for scheme in ("https", "http")
        for suffix in ("/context", "/context/", "", "/")
    ]
    assert all(d is documents[0] for d in documents)
    # the shipped copy is the published document (where the copy is at hand), but for the
    # "@base": null of RO-Crate 1.0 and before, which would drop every relative identifier
    shared = SHARED_CONTEXTS / "ro-crate" / f"ro-crate-{version}.jsonld"
    if shared.is_file():
        published = json.loads(shared.read_text("utf-8"))
        assert published["@context"].pop("@base", None) is None
        assert published == documents[0]
    # and it defines the RO-Crate terms: the root dataset "./" with a name
    doc = {"@context": f"https://w3id.org/ro/crate/{version}/context", "@id": "./", "name": "x"}
    triples = JsonLdConverter(registry).to_triples(doc, BASE).triples
    assert triples == [
        ("<https://example.org/data/set%201.zarr/>", "<http://schema.org/name>", '"x"')
    ]


def test_ro_terms_vocabularies_are_known() -> None:
    registry = ContextRegistry()
    workflow_run = registry.document("https://w3id.org/ro/terms/workflow-run")
    assert workflow_run["@context"]["containerImage"] == (
        "https://w3id.org/ro/terms/workflow-run#containerImage"
    )
    assert "http://w3id.org/ro/terms/workflow-run/" in registry
    assert "https://w3id.org/ro/terms" in registry  # the common namespace
    if (SHARED_CONTEXTS / "ro-terms").is_dir():
        for path in (SHARED_CONTEXTS / "ro-terms").glob("*.jsonld"):
            ns = path.stem
            url = "https://w3id.org/ro/terms" + ("" if ns == "common" else f"/{ns}")
            assert registry.document(url) == json.loads(path.read_text("utf-8"))


def _nested(depth: int) -> dict:
    doc: dict = {"@context": {"p": "http://example.org/p"}, "@id": "http://example.org/0"}
    node = doc
    for i in range(depth):
        node["p"] = {"@id": f"http://example.org/{i + 1}"}
        node = node["p"]
    return doc


def test_deep_documents_fail_cleanly_and_fast(converter: JsonLdConverter) -> None:
    # within the bound: read, one triple per level (checked against pyld)
    doc = _nested(MAX_DEPTH - 2)
    ours = converter.to_triples(doc, BASE).triples
    assert len(ours) == MAX_DEPTH - 2
    assert canonical(ntriples_quads(ours)) == canonical(pyld_quads(doc, BASE))
    for deep in (_nested(10_000), {"@context": _nested(1_000), "@id": "http://example.org/x"}):
        with pytest.raises(ExtractionError, match=f"more than {MAX_DEPTH} levels"):
            converter.to_triples(deep, BASE)


@pytest.mark.parametrize(
    "doc",
    [
        # an entity-scoped context naming an unknown URL
        {
            "@context": {"p": {"@id": "http://example.org/p", "@context": "https://x.invalid/c"}},
            "@id": "http://example.org/s",
            "p": {"q": 1},
        },
        # @import of an unknown URL
        {"@context": {"@version": 1.1, "@import": "https://x.invalid/c"}, "@id": "_:a"},
    ],
)
def test_unknown_contexts_anywhere_are_unknown_context_errors(
    doc: dict, converter: JsonLdConverter
) -> None:
    with pytest.raises(UnknownContextError, match=r"x\.invalid"):
        converter.to_triples(doc, BASE)


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": {"p": "http://example.org/p"}, "@id": "http://e/s", "p": {"@value": {}}},
        {"@context": {"p": "http://example.org/p"}, "@id": {"x": 1}, "p": 1},
        {"@context": {"p": {"@id": "http://example.org/p", "@type": {}}}, "p": "x"},
        {"@context": {"p": "http://example.org/p"}, "@type": [{"a": 1}], "p": 1},
        {"@context": [{"@import": {}}], "p": 1},
        {"@context": {"@vocab": 3}, "p": 1},
        {"@context": 5, "p": 1},
    ],
)
def test_invalid_documents_are_extraction_errors(doc: dict, converter: JsonLdConverter) -> None:
    # pyld rejects each of these too (with a JsonLdError); none escapes as another exception
    from pyld import jsonld

    with pytest.raises(jsonld.JsonLdError):
        pyld_quads(doc, BASE)
    with pytest.raises(ExtractionError):
        converter.to_triples(doc, BASE)

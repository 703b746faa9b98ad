"""The reads ``KnowledgeStore`` offers the rest of the package (the one door to Oxigraph),
checked against a hand-written TriG document read independently with rdflib."""

from __future__ import annotations

import io
import json

import pytest
import rdflib

from ngff_kg import Catalog, QueryError, UsageError, rdf
from ngff_kg.queries import write_results
from ngff_kg.store.knowledge import GraphData, KnowledgeStore
from ngff_kg.store.parsing import parse_triples

# rdflib's Dataset warns about its own internals (default_context, ConjunctiveGraph)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NKG = "https://w3id.org/ngff-kg/vocab#"
DS = "https://example.org/a.ome.zarr/"
DS2 = "https://example.org/b.ome.zarr/"
LIST = "https://example.org/samples.csv"
REPAIRS = "https://w3id.org/ngff-kg/graph/repairs"

# A dataset graph, a second dataset, a sample list's graph and a repair about the first
# dataset in a shared graph; written by hand after the vocabulary the harvester writes.
TRIG = f"""
@prefix nkg: <{NKG}> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<{DS}> {{
  <{DS}> a nkg:OmeZarrDataset ;
      schema:name "Dataset \\"A\\""@en ;
      nkg:metadataSource <file:///data/a.ome.zarr/zarr.json> ;
      schema:size "12"^^xsd:integer ;
      schema:hasPart _:img .
  _:img schema:name "image" .
}}
<{DS2}> {{
  <{DS2}> a nkg:OmeZarrDataset ;
      nkg:metadataSource <file:///data/b.ome.zarr/.zattrs> .
}}
<{LIST}> {{
  <{DS2}> nkg:listedIn <{LIST}> .
  <{DS}> nkg:listedIn <{LIST}> .
  <{LIST}> nkg:includesList <https://example.org/more.csv> .
}}
<{REPAIRS}> {{
  <{DS}> nkg:repairSet <https://example.org/rs1> .
  <https://example.org/rs1> nkg:repair <https://example.org/r1> .
  <https://example.org/r1> nkg:repairKind nkg:unit ;
      nkg:originalValue "micron" ;
      nkg:repairedValue "micrometer" .
}}
"""


@pytest.fixture
def store() -> KnowledgeStore:
    ks = KnowledgeStore(None)
    dataset = rdflib.Dataset()
    dataset.parse(data=TRIG, format="trig")
    for graph in dataset.graphs():
        if isinstance(graph.identifier, rdflib.URIRef) and len(graph):
            triples = [(s.n3(), p.n3(), o.n3()) for s, p, o in graph]
            ks.write([GraphData.from_triples(str(graph.identifier), triples)])
    return ks


def _reference(graph: str) -> set[tuple[str, str, str]]:
    """The graph's triples as read by rdflib, blank nodes replaced by one marker."""
    dataset = rdflib.Dataset()
    dataset.parse(data=TRIG, format="trig")

    def text(term: rdflib.term.Node) -> str:
        return "_:" if isinstance(term, rdflib.BNode) else term.n3()

    return {(text(s), text(p), text(o)) for s, p, o in dataset.graph(rdflib.URIRef(graph))}


def test_graph_triples_are_the_graph(store: KnowledgeStore) -> None:
    triples = store.graph_triples(DS)
    blanked = {tuple("_:" if t.startswith("_:") else t for t in triple) for triple in triples}
    assert blanked == _reference(DS) and len(triples) == 6
    assert store.graph_triples("https://example.org/none/") == []


def test_metadata_sources_and_sample_lists(store: KnowledgeStore) -> None:
    assert store.metadata_sources() == {
        "file:///data/a.ome.zarr/zarr.json": DS,
        "file:///data/b.ome.zarr/.zattrs": DS2,
    }
    assert store.list_members(LIST) == ([DS, DS2], ["https://example.org/more.csv"])
    assert store.list_members(DS) == ([], [])


def test_dataset_detail(store: KnowledgeStore) -> None:
    detail = store.dataset_detail(DS)
    assert detail is not None
    in_own_graph = [s for s in detail.statements if s.graph.value == DS]
    elsewhere = [s for s in detail.statements if s.graph.value != DS]
    assert len(in_own_graph) == len(_reference(DS))
    # the list's triple and the repair link, after the dataset's own graph
    assert {(s.graph.value, s.predicate.value) for s in elsewhere} == {
        (LIST, NKG + "listedIn"),
        (REPAIRS, NKG + "repairSet"),
    }
    assert detail.statements[: len(in_own_graph)] == in_own_graph
    assert [(r.kind, r.original, r.repaired) for r in detail.repairs] == [
        ("unit", "micron", "micrometer")
    ]
    assert store.dataset_detail(LIST) is None  # a graph, but no dataset
    with pytest.raises(UsageError, match="not an IRI"):
        store.dataset_detail("not an iri")


@pytest.mark.parametrize("fmt", ["nquads", "trig", "turtle"])
def test_dump_reads_back_as_the_same_graph(store: KnowledgeStore, fmt: str) -> None:
    out = io.BytesIO()
    store.dump(fmt, out)
    reference = rdflib.Dataset()
    reference.parse(data=TRIG, format="trig")
    if fmt == "turtle":  # the union of the graphs, each triple once
        union = rdflib.Graph()
        union.parse(data=out.getvalue(), format="turtle")
        expected = {t for g in reference.graphs() for t in g}
        assert len(union) == len(expected)
        assert {p for _, p, _ in union} == {p for _, p, _ in expected}
    else:
        dumped = rdflib.Dataset()
        dumped.parse(data=out.getvalue(), format="nquads" if fmt == "nquads" else "trig")
        names = {str(g.identifier) for g in dumped.graphs() if len(g)}
        assert names == {DS, DS2, LIST, REPAIRS}
        assert len(dumped.graph(rdflib.URIRef(LIST))) == 3
    with pytest.raises(UsageError, match="unknown RDF format"):
        store.dump("rdfxml", out)


def test_parse_triples_writes_n_triples_terms() -> None:
    text = (
        '<http://a/s> <http://a/p> "line\\nbreak \\"q\\""@en-GB <http://a/g> .\n'
        '_:x <http://a/p> "1.5E0"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
        '_:x <http://a/p> "plain" .\n'
    )
    triples = parse_triples(text.encode(), "nquads", "b0")
    # language tags are case-insensitive (BCP 47): Oxigraph writes them in lower case
    assert triples == [
        ("<http://a/s>", "<http://a/p>", '"line\\nbreak \\"q\\""@en-gb'),
        ("_:b0x", "<http://a/p>", '"1.5E0"^^<http://www.w3.org/2001/XMLSchema#double>'),
        ("_:b0x", "<http://a/p>", '"plain"'),
    ]
    # rdflib reads the same strings (it rewrites doubles, so those are left out)
    graph = rdflib.Dataset()
    graph.parse(data=text, format="nquads")
    strings = {str(o) for _, _, o, _ in graph.quads() if o.datatype is None}
    assert strings == {rdf.unwrap_literal(t[2]) for t in triples if "^^" not in t[2]}
    with pytest.raises(SyntaxError):
        parse_triples(b"<a> <b> .", "nquads")


def test_write_results_formats(examples_catalog: Catalog) -> None:
    rows = examples_catalog.query("datasets-by-license")
    out = io.BytesIO()
    examples_catalog.write_query("datasets-by-license", {}, "json", out)
    data = json.loads(out.getvalue())
    assert out.getvalue().endswith(b"}\n")
    assert data["head"]["vars"] == rows.columns
    assert len(data["results"]["bindings"]) == len(rows.rows) > 0
    out = io.BytesIO()
    examples_catalog.write_query("datasets-by-license", None, "tsv", out)
    lines = out.getvalue().decode().splitlines()
    assert lines[0] == "\t".join(f"?{c}" for c in rows.columns)
    assert len(lines) == len(rows.rows) + 1
    with pytest.raises(QueryError, match="unknown result format"):
        examples_catalog.write_query("datasets-by-license", None, "xml", out)
    triples = examples_catalog.store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1")
    with pytest.raises(QueryError, match="CONSTRUCT"):
        write_results(triples, "csv", out)


def test_ontology_graphs_are_found_by_their_markers() -> None:
    """The ontology graphs come from the meta graph's markers (not a listing of every graph,
    one per dataset): the same graphs as the listing, added lineages included."""
    import pyoxigraph as ox

    from ngff_kg.store.knowledge import KnowledgeStore, ontology_graph_names
    from ngff_kg.vocab import ONTOLOGY_GRAPH

    ks = KnowledgeStore(None)
    ks.ensure_ontologies()
    term = "<http://purl.obolibrary.org/obo/NCBITaxon_999999>"
    ks.add_ontology_triples(
        "ncbitaxon-extra",
        [(term, "<http://www.w3.org/2000/01/rdf-schema#label>", '"a taxon"')],
    )

    def listed() -> list[str]:
        return sorted(
            g.value
            for g in ks.oxigraph.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value.startswith(ONTOLOGY_GRAPH)
        )

    found = [g.value for g in ontology_graph_names(ks.oxigraph)]
    assert found == listed() and ONTOLOGY_GRAPH + "ncbitaxon-extra" in found
    assert ks.ontology_index().get(term[1:-1]) is not None
    # a store without markers (loaded from shards without its meta graph) is listed
    ks.oxigraph.remove_graph(ox.NamedNode("https://w3id.org/ngff-kg/graph/meta"))
    assert [g.value for g in ontology_graph_names(ks.oxigraph)] == listed()

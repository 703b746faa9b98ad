"""Stores made by hand and by Hypothesis: dataset graphs with chosen facts, for the tests
that compare what the catalogue index gives with SPARQL over the graph."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
from hypothesis import strategies as st

from ngff_kg import Catalog, rdf
from ngff_kg.store.knowledge import GraphData

NKG = "https://w3id.org/ngff-kg/vocab#"
SCHEMA = "http://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCAT_BYTES = "<http://www.w3.org/ns/dcat#byteSize>"


def dataset(url: str, *facts: tuple[str, str]) -> GraphData:
    triples = [(f"<{url}>", f"<{RDF_TYPE}>", f"<{NKG}OmeZarrDataset>")]
    triples += [(f"<{url}>", predicate, obj) for predicate, obj in facts]
    return GraphData.from_triples(url, triples)


def name(text: str) -> tuple[str, str]:
    return f"<{SCHEMA}name>", rdf.literal(text)


_TERMS = st.sampled_from(
    [
        "<http://purl.obolibrary.org/obo/NCBITaxon_10090>",
        "<http://purl.obolibrary.org/obo/NCBITaxon_9606>",
        "<http://purl.obolibrary.org/obo/NCBITaxon_7227>",
        "<http://purl.obolibrary.org/obo/FBbi_00000246>",
        "<http://purl.obolibrary.org/obo/FBbi_00000332>",
        "<https://creativecommons.org/licenses/by/4.0/>",
        rdf.literal("x"),
        rdf.literal("x", language="en"),
        rdf.literal("0.5"),
        rdf.literal("", XSD + "token"),
    ]
)
_PREDICATES = st.sampled_from(
    [
        f"<{SCHEMA}taxonomicRange>",
        f"<{SCHEMA}measurementTechnique>",
        f"<{SCHEMA}license>",
        f"<{NKG}kind>",
        f"<{NKG}ngffVersion>",
        f"<{NKG}converterName>",
        f"<{NKG}converterVersion>",
    ]
)
_AXIS_VALUES = st.sampled_from([rdf.literal("x"), rdf.literal("space"), rdf.literal("um"), "<a:u>"])
_AXIS_PREDICATES = st.sampled_from([f"<{NKG}axisName>", f"<{NKG}axisType>", f"<{NKG}axisUnit>"])
_NAMES = st.one_of(
    st.text(alphabet=" \t\n\x1c\x1f\u3000\xa0a", max_size=3).map(rdf.literal),
    st.just("<https://names.example.org/n>"),
)
_URLS = st.sampled_from(
    ["https://h1.example.org/", "https://h2.example.org", "http://h3/x/", "file:///d/", "s3://b/"]
)


@st.composite
def stores(draw: st.DrawFn) -> list[GraphData]:
    """Dataset graphs and a sample list; a dataset graph may also speak of another subject
    (another dataset, an IRI or a blank node it types a dataset, an entity)."""
    graphs = []
    listed = []
    for number in range(draw(st.integers(0, 6))):
        url = f"{draw(_URLS)}{number}"
        facts = draw(st.lists(st.tuples(_PREDICATES, _TERMS), max_size=5))
        facts += draw(st.lists(_NAMES.map(lambda n: (f"<{SCHEMA}name>", n)), max_size=2))
        graph = dataset(url, *facts)
        axes = []
        for axis in range(draw(st.integers(0, 2))):
            node = f"<{url}#axis-{axis}>"
            axes.append((f"<{url}>", f"<{NKG}axis>", node))
            for predicate, value in draw(st.lists(st.tuples(_AXIS_PREDICATES, _AXIS_VALUES))):
                axes.append((node, predicate, value))
        if axes:
            graph = GraphData.from_triples(url, [*rdf_triples(graph), *axes])
        graphs.append(graph)
        sizes = draw(st.lists(st.integers(0, 2**40), max_size=2))
        listed += [(f"<{url}>", DCAT_BYTES, rdf.integer(size)) for size in sizes]
        # a sample list may also say what a dataset shows
        listed += [
            (f"<{url}>", p, o)
            for p, o in draw(st.lists(st.tuples(_PREDICATES, _TERMS), max_size=1))
        ]
    if graphs and draw(st.integers(0, 3)) == 0:
        # an RO-Crate can say anything of anything: of another dataset, of a blank node or
        # an IRI it types a dataset, of an entity with no fragment
        speaker = draw(st.integers(0, len(graphs) - 1))
        others = [f"<{g.iri}>" for g in graphs]
        subject = draw(st.sampled_from([*others, "_:x", "<https://orcid.example.org/p>"]))
        fact = draw(st.one_of(st.tuples(_PREDICATES, _TERMS), st.just((_TYPE, _DATASET))))
        said = graphs[speaker]
        graphs[speaker] = GraphData.from_triples(said.iri, [*rdf_triples(said), (subject, *fact)])
    if listed:
        graphs.append(GraphData.from_triples("https://lists.example.org/l", listed))
    return graphs


_TYPE = f"<{RDF_TYPE}>"
_DATASET = f"<{NKG}OmeZarrDataset>"


def types_a_blank_node(graphs: list[GraphData]) -> bool:
    """Whether a graph types a blank node ``nkg:OmeZarrDataset``: a dataset SPARQL lists and
    the catalogue index, whose records are of IRIs, cannot hold."""
    return any(
        s.startswith("_:") and p == _TYPE and o == _DATASET
        for graph in graphs
        for s, p, o in rdf_triples(graph)
    )


def rdf_triples(graph: GraphData) -> list[tuple[str, str, str]]:
    quads = ox.parse(graph.trig.encode(), format=ox.RdfFormat.TRIG)
    return [(str(q.subject), str(q.predicate), str(q.object)) for q in quads]


@contextmanager
def written(graphs: list[GraphData], ontologies: Path, scratch: Path) -> Iterator[Catalog]:
    """A store holding the ontologies (a copy of ``ontologies``) and ``graphs``, written
    through its writer and flushed; removed afterwards (Hypothesis runs many in one test)."""
    store = scratch / f"s{id(graphs)}"
    shutil.copytree(ontologies, store)
    try:
        with Catalog(store) as catalog:
            catalog.store.write(graphs)
            catalog.store.flush()
            yield catalog
    finally:
        shutil.rmtree(store, ignore_errors=True)

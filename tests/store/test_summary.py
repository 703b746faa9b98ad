"""The catalogue summary: every query that reads it gives the same rows with it as without it.

Without the summary graph, each count query falls back to counting over the datasets
themselves (its original SPARQL, kept as the guarded branch), so the reference of every check
is the same query on the same store with the summary removed: SPARQL over the graph, with no
index involved. The stores are the examples, the test tree, the corpus, adversarial datasets,
hand-made edge cases and Hypothesis-generated graphs.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from conftest import EXAMPLES
from generated_stores import (
    DCAT_BYTES,
    NKG,
    RDF_TYPE,
    SCHEMA,
    XSD,
    dataset,
    name,
    rdf_triples,
    stores,
    types_a_blank_node,
    written,
)
from hypothesis import HealthCheck, given, settings

from ngff_kg import Catalog, rdf
from ngff_kg.queries import resolve_query
from ngff_kg.store import catalogue
from ngff_kg.store.knowledge import GraphData, KnowledgeStore
from ngff_kg.store.summary import SUMMARY_GRAPH

#: Every query that reads the summary, with the parameters it is run with.
CASES: list[tuple[str, dict[str, str]]] = [
    ("datasets-by-license", {}),
    ("datasets-by-organism", {}),
    ("datasets-by-organism", {"organism": "Mammalia"}),
    ("datasets-by-modality", {}),
    ("datasets-by-modality", {"modality": "FBbi:00000246"}),
    ("datasets-by-modality-branch", {}),
    ("datasets-by-modality-branch", {"ancestor": "FBbi:00000246"}),
    ("datasets-by-taxon-rank", {}),
    ("datasets-by-taxon-rank", {"rank": "kingdom"}),
    ("datasets-by-source", {}),
    ("kinds", {}),
    ("missing-metadata", {}),
    ("converters", {}),
    ("axes-units", {}),
    ("channels", {}),
    ("repairs", {}),
    ("repairs", {"kind": "TermIdentifierRepair"}),
    # a listing that skips the fields the summary says no dataset lacks
    ("datasets-missing-metadata", {}),
    ("datasets-missing-metadata", {"field": "license"}),
    ("datasets-missing-metadata", {"field": "name"}),
    # the terms in use: those of the summary's groups
    ("term-hierarchy", {}),
]
SUMMARIZED = {name for name, _ in CASES}


def test_the_cases_are_every_query_that_reads_the_summary() -> None:
    from ngff_kg.queries import library

    readers = {
        name
        for name, q in library().items()
        if "nkg:CatalogueSummary" in q.text or "nkg:exactBytes" in q.text
    }
    assert readers == SUMMARIZED


def rows(catalog: Catalog, name: str, params: dict[str, str]) -> list[tuple[Any, ...]]:
    return [
        tuple(None if term is None else str(term) for term in row)
        for row in catalog.raw_query(resolve_query(name), params)
    ]


@contextmanager
def without_summary(catalog: Catalog) -> Iterator[None]:
    """The store with its summary graph taken away for a while."""
    db = catalog.store.oxigraph
    node = ox.NamedNode(SUMMARY_GRAPH)
    saved = list(db.quads_for_pattern(None, None, None, node))
    db.remove_graph(node)
    try:
        yield
    finally:
        db.extend(saved)


def has_summary(catalog: Catalog) -> bool:
    return catalog.store.oxigraph.contains_named_graph(ox.NamedNode(SUMMARY_GRAPH))


def same_counts(catalog: Catalog, cases: list[tuple[str, dict[str, str]]] = CASES) -> None:
    """Each case gives the same rows with and without the summary (as many of each; their
    order is the query's only as far as its ORDER BY goes: rows that tie may come in any)."""
    assert has_summary(catalog)
    found = {
        (name, tuple(params.items())): sorted(rows(catalog, name, params), key=repr)
        for name, params in cases
    }
    with without_summary(catalog):
        for name, params in cases:
            counted = sorted(rows(catalog, name, params), key=repr)
            assert found[name, tuple(params.items())] == counted, (name, params)


def test_examples(examples_catalog: Catalog) -> None:
    same_counts(examples_catalog)
    assert rows(examples_catalog, "missing-metadata", {})  # four rows


def test_the_test_tree(tree_catalog: Catalog) -> None:
    same_counts(tree_catalog)


def test_the_corpus(corpus_catalog: Catalog) -> None:
    same_counts(corpus_catalog)
    assert catalog_total(corpus_catalog) == 15_241  # the roots of the corpus (CORPUS.md)


def catalog_total(catalog: Catalog) -> int:
    found = catalog.query(
        f"SELECT ?n WHERE {{ GRAPH <{SUMMARY_GRAPH}> {{ ?s <{NKG}datasets> ?n }} }}"
    ).column("n")
    counted = catalog.query(
        f"SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ ?d a <{NKG}OmeZarrDataset> }}"
    ).column("n")
    assert found == counted
    return int(found[0])


def test_adversarial_datasets(tmp_path: Path) -> None:
    from adversarial import generate

    generate(tmp_path / "tree", seed=5)
    with Catalog(tmp_path / "store") as catalog:
        catalog.harvest([tmp_path / "tree"], base_url="https://hostile.example.org/")
        same_counts(catalog)


# ---------------------------------------------------------------------------- edge cases
def test_edge_cases(tmp_path: Path) -> None:
    organism = f"<{SCHEMA}taxonomicRange>"
    license_ = f"<{SCHEMA}license>"
    kind = f"<{NKG}kind>"
    version = f"<{NKG}ngffVersion>"
    mouse = "<http://purl.obolibrary.org/obo/NCBITaxon_10090>"
    human = "<http://purl.obolibrary.org/obo/NCBITaxon_9606>"
    graphs = [
        dataset("https://a.example.org/1", name("one"), (organism, mouse), (organism, human)),
        dataset(
            "https://a.example.org/2", name("\x1c"), (organism, rdf.literal("mouse", language="en"))
        ),
        dataset("https://a.example.org/3", name(" \u3000\t"), (organism, rdf.literal("mouse"))),
        dataset("https://a.example.org/4", (f"<{SCHEMA}name>", "<https://names.example.org/x>")),
        dataset(
            "https://b.example.org", (kind, rdf.literal("image")), (kind, rdf.literal("plate"))
        ),
        dataset(
            "https://b.example.org/5", (version, rdf.literal("0.5")), (kind, rdf.literal("image"))
        ),
        dataset("https://b.example.org/6", (version, rdf.literal("5", XSD + "integer"))),
        dataset("https://b.example.org/7", (license_, rdf.literal("CC-BY"))),
        dataset("https://b.example.org/8", (license_, "<https://spdx.org/licenses/CC-BY-4.0>")),
        dataset("file:///data/9", (DCAT_BYTES, rdf.integer(10**12))),
        dataset("urn:x:10"),
    ]
    listing = GraphData.from_triples(
        "https://lists.example.org/l.csv",
        [
            ("<https://a.example.org/1>", DCAT_BYTES, rdf.integer(5)),
            ("<https://a.example.org/1>", DCAT_BYTES, rdf.integer(7)),
            ("<https://a.example.org/2>", DCAT_BYTES, rdf.integer(3)),
            # a second graph typing a dataset: two rows in datasets-by-source
            ("<https://a.example.org/2>", f"<{RDF_TYPE}>", f"<{NKG}OmeZarrDataset>"),
            ("<https://a.example.org/3>", organism, human),
        ],
    )
    with Catalog(tmp_path / "store") as catalog:
        catalog.store.ensure_ontologies()
        catalog.store.write([*graphs, listing])
        catalog.store.flush()
        same_counts(catalog)
        by_source = {row["source"]: row for row in catalog.query("datasets-by-source").values()}
        # 1 (sizes 5 and 7), 2 (typed twice: two rows, size 3 in each), 3, 4
        assert (by_source["a.example.org"]["datasets"], by_source["a.example.org"]["bytes"]) == (
            5,
            13,
        )
        assert by_source[""]["datasets"] == 2  # no "/" after the host; no "://"
        assert by_source["(local files)"]["bytes"] == 10**12
        missing = {
            row["field"]: row["datasets"] for row in catalog.query("missing-metadata").values()
        }
        # named: 1, 2 (U+001C is no White_Space for SPARQL's REGEX) and 4 (an IRI); not 3
        assert missing == {"organism": 8, "modality": 11, "license": 9, "name": 8}
        # a size that is not an integer: the source counts fall back to the datasets
        catalog.store.write(
            [dataset("https://c.example.org/x", (DCAT_BYTES, rdf.literal("12.5", XSD + "decimal")))]
        )
        catalog.store.flush()
        assert has_summary(catalog)
        assert not catalog.store.oxigraph.query(f"ASK {{ ?s <{NKG}exactBytes> true }}")
        same_counts(catalog)


# ---------------------------------------------------------------------------- upkeep
def test_a_change_removes_the_summary_and_the_flush_writes_it(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(EXAMPLES, tree)
    with Catalog(tmp_path / "store") as catalog:
        catalog.harvest([tree], base_url="https://")
        assert has_summary(catalog)
        before = catalog_total(catalog)
        catalog.store.write([dataset("https://new.example.org/d")])
        assert not has_summary(catalog)  # counted the slow way until the flush
        same_before_flush = rows(catalog, "kinds", {})
        catalog.store.flush()
        assert has_summary(catalog)
        assert catalog_total(catalog) == before + 1
        assert rows(catalog, "kinds", {}) == same_before_flush
        same_counts(catalog)
        # pruned
        shutil.rmtree(next(tree.rglob("ro-crate-metadata.json")).parent)
        catalog.harvest([tree], base_url="https://", prune=True)
        assert catalog_total(catalog) == before  # one pruned, the written one kept
        same_counts(catalog)


def test_a_stale_index_leaves_no_summary_and_counts_stay_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Catalog(tmp_path / "store") as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        expected = {name: rows(catalog, name, params) for name, params in CASES}

        def fail(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(catalogue.CatalogueIndex, "replace", fail)
        catalog.store.write([dataset("https://new.example.org/d")])
        catalog.store.flush()
        assert not has_summary(catalog)
        changed = {name: rows(catalog, name, params) for name, params in CASES}
        assert changed["missing-metadata"] != expected["missing-metadata"]  # the new one counts
    monkeypatch.undo()
    with Catalog(tmp_path / "store") as catalog:  # the next writer rebuilds: summary again
        catalog.store.flush()
        assert has_summary(catalog)
        assert {name: rows(catalog, name, params) for name, params in CASES} == changed


def test_a_summary_that_cannot_be_written_does_not_stop_the_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, examples_catalog: Catalog
) -> None:
    from ngff_kg.store import knowledge

    monkeypatch.setattr(knowledge, "summary_nquads", lambda groups: "not N-Quads .\n")
    with Catalog(tmp_path / "store") as catalog:
        assert catalog.harvest([EXAMPLES], base_url="https://").ok
        assert not has_summary(catalog)
        for name, params in CASES:  # counted over the datasets: the rows of a summary
            expected = sorted(rows(examples_catalog, name, params), key=repr)
            assert sorted(rows(catalog, name, params), key=repr) == expected, name


def test_shards_loaded_into_a_store_get_one_summary(tmp_path: Path) -> None:
    from ngff_kg.store.shards import load_shards

    shards = tmp_path / "shards"
    shards.mkdir()
    with Catalog(tmp_path / "a") as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        expected = {name: rows(catalog, name, params) for name, params in CASES}
        for number in (1, 2):  # the same dump twice, summary included: counted once
            with (shards / f"{number}.nq").open("wb") as out:
                catalog.dump("nquads", out)
    store = KnowledgeStore(tmp_path / "b")
    assert load_shards(store, shards) == 2
    store.close()
    with Catalog(tmp_path / "b", read_only=True) as catalog:
        assert has_summary(catalog)
        assert {name: rows(catalog, name, params) for name, params in CASES} == expected


# ---------------------------------------------------------------------------- generated
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(graphs=stores())
def test_generated_stores(graphs: list[GraphData], ontology_store: Path, tmp_path: Path) -> None:
    with written(graphs, ontology_store, tmp_path) as catalog:
        if types_a_blank_node(graphs):  # a dataset the index cannot hold
            assert not has_summary(catalog)
        else:
            same_counts(catalog)


# ---------------------------------------------------------------------------- what is left out
SPEAKER = "https://a.example.org/speaker"
OTHER = "https://a.example.org/other"


@pytest.mark.parametrize(
    "said",
    [
        # of another dataset: its organism
        (
            f"<{OTHER}>",
            f"<{SCHEMA}taxonomicRange>",
            "<http://purl.obolibrary.org/obo/NCBITaxon_9606>",
        ),
        # typing an IRI a dataset
        ("<https://a.example.org/third>", f"<{RDF_TYPE}>", f"<{NKG}OmeZarrDataset>"),
    ],
    ids=["another-dataset", "types-an-iri"],
)
def test_what_a_dataset_graph_says_of_other_datasets_is_counted(
    said: tuple[str, str, str], tmp_path: Path
) -> None:
    """A dataset's own graph (an RO-Crate can say anything) gives another dataset an organism,
    or types another IRI a dataset: the summary counts it as SPARQL does."""
    mouse = "<http://purl.obolibrary.org/obo/NCBITaxon_10090>"
    speaker = GraphData.from_triples(
        SPEAKER, [*rdf_triples(dataset(SPEAKER, (f"<{SCHEMA}taxonomicRange>", mouse))), said]
    )
    with Catalog(tmp_path / "store") as catalog:
        catalog.store.ensure_ontologies()
        catalog.store.write([speaker, dataset(OTHER)])
        catalog.store.flush()
        assert catalog.store.catalogue.faithful()
        same_counts(catalog)
        counted = {
            row["organism"]: row["datasets"]
            for row in catalog.query("datasets-by-organism").values()
        }
        if said[0] == f"<{OTHER}>":
            assert counted == {f"{mouse[1:-1]}": 1, said[2][1:-1]: 1}
        kinds = catalog.query("missing-metadata").values()
        assert {row["field"]: row["datasets"] for row in kinds}["name"] == (
            3 if said[1] == f"<{RDF_TYPE}>" else 2
        )
        # the graph says it no more
        catalog.store.write([dataset(SPEAKER, (f"<{SCHEMA}taxonomicRange>", mouse))])
        catalog.store.flush()
        same_counts(catalog)
        kinds = catalog.query("missing-metadata").values()
        assert {row["field"]: row["datasets"] for row in kinds}["name"] == 2


def test_a_blank_node_typed_a_dataset_leaves_no_summary(tmp_path: Path) -> None:
    """A dataset SPARQL counts but the index, whose records are of IRIs, cannot hold: no
    summary (the counts are made over the datasets) until the graph says it no more."""
    speaker = GraphData.from_triples(
        SPEAKER,
        [*rdf_triples(dataset(SPEAKER)), ("_:x", f"<{RDF_TYPE}>", f"<{NKG}OmeZarrDataset>")],
    )
    with Catalog(tmp_path / "store") as catalog:
        catalog.store.ensure_ontologies()
        catalog.store.write([speaker, dataset(OTHER)])
        catalog.store.flush()
        assert not catalog.store.catalogue.faithful()
        assert not has_summary(catalog)
        kinds = catalog.query("missing-metadata").values()
        assert {row["field"]: row["datasets"] for row in kinds}["name"] == 3
        catalog.store.write([dataset(SPEAKER)])
        catalog.store.flush()
        assert catalog.store.catalogue.faithful()
        same_counts(catalog)


def test_what_a_dataset_graph_says_of_subjects_that_are_no_datasets_yet_is_counted_later(
    tmp_path: Path,
) -> None:
    """Entities of a crate (a person at an IRI without fragment, the dataset's own nodes),
    ontology terms: no dataset. When a dataset is harvested at the person's IRI later, what
    the crate said of it counts as SPARQL counts it."""
    speaker = GraphData.from_triples(
        SPEAKER,
        [
            *rdf_triples(dataset(SPEAKER)),
            ("<https://orcid.example.org/0000>", f"<{SCHEMA}name>", rdf.literal("A. Person")),
            (f"<{SPEAKER}#channel-0>", f"<{SCHEMA}name>", rdf.literal("DAPI")),
            (
                "<http://purl.obolibrary.org/obo/NCBITaxon_9606>",
                f"<{SCHEMA}name>",
                rdf.literal("Homo sapiens"),
            ),
        ],
    )
    with Catalog(tmp_path / "store") as catalog:
        catalog.store.ensure_ontologies()
        catalog.store.write([speaker, dataset(OTHER)])
        catalog.store.flush()
        same_counts(catalog)
        catalog.store.write([dataset("https://orcid.example.org/0000")])
        catalog.store.flush()
        same_counts(catalog)
        missing = {
            row["field"]: row["datasets"] for row in catalog.query("missing-metadata").values()
        }
        assert missing["name"] == 2  # the person's dataset is named by the crate


def test_a_dataset_iri_with_a_fragment_leaves_no_summary(tmp_path: Path) -> None:
    """The index does not keep what a dataset graph says of subjects with a fragment (its
    entities and channels, thousands of them): a dataset at such an IRI turns the summary off."""
    with Catalog(tmp_path / "store") as catalog:
        catalog.store.ensure_ontologies()
        catalog.store.write([dataset(SPEAKER), dataset(f"{SPEAKER}#channel-0")])
        catalog.store.flush()
        assert not catalog.store.catalogue.faithful()
        assert not has_summary(catalog)
        catalog.store.discard_graph(f"{SPEAKER}#channel-0")
        catalog.store.flush()
        same_counts(catalog)

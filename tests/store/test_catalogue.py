"""The catalogue index: what it holds is what the named queries say, after every kind of change.

The reference is :func:`ngff_kg.views.records.read_records`, which reads the records with the
named queries ``dataset-fields`` and ``dataset-axes`` (SPARQL in Oxigraph); the index builds
them from the triples as they are written, with no query.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from conftest import EXAMPLES, TREE
from hypothesis import given, settings
from hypothesis import strategies as st

from ngff_kg import Catalog, rdf
from ngff_kg.queries import to_python
from ngff_kg.store import catalogue
from ngff_kg.store.catalogue import FILE_NAME, CatalogueIndex
from ngff_kg.store.knowledge import GraphData, KnowledgeStore
from ngff_kg.views.records import indexed_records, read_records

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
NKG = "https://w3id.org/ngff-kg/vocab#"


def same_records(catalog: Catalog) -> list[str]:
    """The dataset URLs, after checking the index's records against the named queries'."""
    expected = read_records(catalog)
    found = list(indexed_records(catalog.store.catalogue))
    assert [r.url for r in found] == [r.url for r in expected]
    for mine, reference in zip(found, expected, strict=True):
        assert mine == reference
    return [r.url for r in expected]


# ---------------------------------------------------------------------------- terms
@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from([None, "en", "de-CH"]))
def test_literal_values_are_read_as_oxigraph_reads_them(text: str, language: str | None) -> None:
    term = rdf.literal(text, language=language)
    parsed = next(iter(ox.parse(f"<a:s> <a:p> {term} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    kind, value, _ = catalogue.term_value(term)
    assert (kind, value) == ("l", parsed.object.value)


@pytest.mark.parametrize(
    "term",
    [
        rdf.integer(42),
        rdf.double(0.25),
        rdf.literal("1.5", XSD + "decimal"),
        rdf.literal("x", XSD + "integer"),  # not a number: the text
        rdf.boolean(True),
        rdf.literal('tab\there "quoted" \\ back'),
        '"\\u00e9t\\U0001F600"',
        "<https://example.org/unit#micrometer>",
    ],
)
def test_python_values_are_those_of_query_results(term: str) -> None:
    parsed = next(iter(ox.parse(f"<a:s> <a:p> {term} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    assert catalogue.python_value(term) == to_python(parsed.object)


# ---------------------------------------------------------------------------- harvested stores
def test_examples(examples_catalog: Catalog) -> None:
    assert len(same_records(examples_catalog)) == examples_catalog.report.datasets_harvested


def test_the_test_tree(tree_catalog: Catalog) -> None:
    """The tree of edge cases: plates, bioformats2raw series, broken documents."""
    assert same_records(tree_catalog)


def test_the_corpus(corpus_catalog: Catalog) -> None:
    urls = same_records(corpus_catalog)
    assert len(urls) == 15_241


def test_adversarial_datasets(tmp_path: Path) -> None:
    from adversarial import generate

    generate(tmp_path / "tree", seed=3)
    with Catalog(tmp_path / "store") as catalog:
        catalog.harvest([tmp_path / "tree"], base_url="https://hostile.example.org/")
        same_records(catalog)


# ---------------------------------------------------------------------------- changes
def _copy_examples(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(EXAMPLES, tree)
    return tree


def test_changes_removals_and_sample_lists_are_followed(tmp_path: Path) -> None:
    tree = _copy_examples(tmp_path)
    store = tmp_path / "store"
    crates = sorted(tree.rglob("ro-crate-metadata.json"))
    with Catalog(store) as catalog:
        catalog.harvest([tree], base_url="https://")
        before = same_records(catalog)
        # a changed name
        text = crates[0].read_text(encoding="utf-8")
        crates[0].write_text(text.replace('"name": "', '"name": "Renamed ', 1), encoding="utf-8")
        catalog.harvest([tree], base_url="https://")
        assert any(r.name and r.name.startswith("Renamed") for r in read_records(catalog))
        assert same_records(catalog) == before
        # a removed dataset (pruned)
        shutil.rmtree(crates[0].parent)
        catalog.harvest([tree], base_url="https://", prune=True)
        after = same_records(catalog)
        assert len(after) == len(before) - 1
        # a sample list (found by the walk) giving sizes and origins of datasets
        listed = after[:2]
        sample = tree / "samples.csv"
        rows = "".join(
            f"{u},{10**15 + i},https://idr.example.org/{i}\n" for i, u in enumerate(listed)
        )
        sample.write_text("url,written,origin\n" + rows)
        catalog.harvest([tree], base_url="https://")
        records = {r.url: r for r in read_records(catalog)}
        assert records[listed[0]].bytes == 10**15
        assert records[listed[1]].origin == "https://idr.example.org/1"
        same_records(catalog)
        # the list says less: what it gave goes
        sample.write_text("url,written\n" + f"{listed[1]},7\n")
        catalog.harvest([tree], base_url="https://")
        records = {r.url: r for r in read_records(catalog)}
        assert records[listed[0]].bytes != 10**15
        assert records[listed[1]].origin != "https://idr.example.org/1"
        same_records(catalog)


def test_the_index_survives_reopening_and_is_read_from_its_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with Catalog(store) as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        expected = [r.url for r in read_records(catalog)]
    assert (store / FILE_NAME).is_file()
    with Catalog(store, read_only=True) as catalog:
        index = catalog.store.catalogue
        assert index.path == store / FILE_NAME  # the file, not one rebuilt in memory
        assert [r.url for r in indexed_records(index)] == expected


def _state(store: Path) -> str:
    with sqlite3.connect(store / FILE_NAME) as db:
        return db.execute("SELECT value FROM meta WHERE key = 'state'").fetchone()[0]


def test_an_unfinished_index_is_rebuilt(tmp_path: Path) -> None:
    """A harvest that stopped midway leaves the index ``writing``: a reader builds its own from
    the store, and the next writer rebuilds the file."""
    store = tmp_path / "store"
    with Catalog(store) as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        expected = [r.url for r in read_records(catalog)]
    with sqlite3.connect(store / FILE_NAME) as db:
        db.execute("UPDATE meta SET value = 'writing' WHERE key = 'state'")
        db.execute("DELETE FROM records")  # what a crash could have left: anything
    with Catalog(store, read_only=True) as catalog:
        index = catalog.store.catalogue
        assert index.path is None  # built in memory from the snapshot
        assert [r.url for r in indexed_records(index)] == expected
    with Catalog(store) as catalog:
        assert [r.url for r in indexed_records(catalog.store.catalogue)] == expected
    assert _state(store) == "clean"


def test_being_written_says_when_a_reader_would_rebuild(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert not catalogue.being_written(store)  # no index at all: nothing to wait for
    ks = KnowledgeStore(store)
    assert not catalogue.being_written(store)
    iri = "https://example.org/ds/"
    ks.write(
        [GraphData.from_triples(iri, [(f"<{iri}>", f"<{RDF_TYPE}>", f"<{NKG}OmeZarrDataset>")])]
    )
    assert catalogue.being_written(store)  # written, not yet flushed
    ks.close()
    assert not catalogue.being_written(store)


def test_an_index_of_another_format_is_rebuilt(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with Catalog(store) as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        expected = [r.url for r in read_records(catalog)]
    (store / FILE_NAME).unlink()
    (store / FILE_NAME).write_bytes(b"not a database at all")
    with Catalog(store, read_only=True) as catalog:
        assert [r.url for r in indexed_records(catalog.store.catalogue)] == expected
    with Catalog(store) as catalog:  # a writer makes the file again
        assert [r.url for r in indexed_records(catalog.store.catalogue)] == expected
    assert _state(store) == "clean"


def test_a_rebuild_says_how_far_it_got(tmp_path: Path, monkeypatch, capsys) -> None:
    """Some ten minutes at 1M datasets: the rebuild says how many graphs it will read, how
    far it got (here after every graph) and how long it took."""
    from ngff_kg.store import knowledge

    store = tmp_path / "store"
    with Catalog(store) as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        graphs = sum(1 for _ in catalog.store.oxigraph.named_graphs())
    (store / FILE_NAME).unlink()
    capsys.readouterr()
    monkeypatch.setattr(knowledge, "REBUILD_NOTE_EVERY", 0.0)
    with Catalog(store) as catalog:
        assert catalog.store.catalogue.usable()
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(f"from its {graphs:,} graphs")
    notes = [line for line in err if "graphs read" in line]
    assert notes and notes[0].startswith(f"ngff-kg: catalogue index: 1 of some {graphs:,}")
    assert all("s left)" in line for line in notes)
    assert len(notes) < graphs  # the ontology graphs are not read
    assert err[-1].startswith("ngff-kg: catalogue index built in ")
    (store / FILE_NAME).unlink()
    with Catalog(store, read_only=True) as catalog:  # built in memory: says how to avoid it
        assert catalog.store.catalogue.usable()
    err = capsys.readouterr().err.splitlines()
    assert "in memory" in err[0] and "the next harvest into the store writes the index" in err[0]


def test_a_failing_index_write_does_not_fail_the_store_write(tmp_path: Path, monkeypatch) -> None:
    """The graph is written; the index is marked for a rebuild, which the next open does."""
    store = tmp_path / "store"

    def fail(self: CatalogueIndex, graphs: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(CatalogueIndex, "replace", fail)
    with Catalog(store) as catalog:
        report = catalog.harvest([EXAMPLES], base_url="https://")
        assert report.ok and report.datasets_harvested
        assert catalog.store.catalogue.meta("state") == "stale"
    monkeypatch.undo()
    with Catalog(store) as catalog:
        assert len(same_records(catalog)) == report.datasets_harvested


def test_facts_added_to_a_shared_graph_count(tmp_path: Path) -> None:
    ks = KnowledgeStore(tmp_path / "store")
    iri = "https://example.org/ds/"
    ks.write(
        [
            GraphData.from_triples(
                iri,
                [(f"<{iri}>", f"<{RDF_TYPE}>", "<https://w3id.org/ngff-kg/vocab#OmeZarrDataset>")],
            )
        ]
    )
    ks.add("https://example.org/notes", [(f"<{iri}>", "<http://schema.org/name>", '"Named"')])
    record = ks.catalogue.record(iri)
    assert record is not None and record["name"] == "Named"
    ks.remove_graph("https://example.org/notes")
    assert ks.catalogue.record(iri)["name"] is None  # type: ignore[index]
    ks.remove_graph(iri)
    assert ks.catalogue.record(iri) is None
    ks.close()


def test_a_graph_from_text_gives_the_same_rows(tmp_path: Path) -> None:
    """Graphs salvaged by the writer come as text: the rows are read from it."""
    with Catalog(None) as catalog:
        catalog.harvest([TREE], base_url="https://tree.example.org/")
        store = catalog.store
        for iri in sorted(store.catalogue.execute("SELECT url FROM records")):
            triples = store.graph_triples(iri[0])
            graph = GraphData.from_triples(iri[0], triples)
            assert GraphData(graph.iri, graph.trig).catalogue_rows() == graph.rows


def test_a_graph_the_index_cannot_read_stops_nothing(tmp_path: Path, monkeypatch) -> None:
    """A bug in reading a graph's rows (here: every graph) leaves the harvest and the store
    whole; the index is rebuilt on the next open, where the bug is gone."""

    def broken(triples: object) -> dict[str, dict[str, object]]:
        raise IndexError("a graph this version cannot read")

    monkeypatch.setattr(catalogue, "graph_rows", broken)
    monkeypatch.setattr("ngff_kg.store.knowledge.graph_rows", broken)
    store = tmp_path / "store"
    with Catalog(store) as catalog:
        report = catalog.harvest([EXAMPLES], base_url="https://")
        assert report.ok and report.datasets_harvested
    monkeypatch.undo()
    with Catalog(store) as catalog:
        assert len(same_records(catalog)) == report.datasets_harvested


def test_an_index_write_that_fails_once_leaves_the_index_stale(tmp_path: Path, monkeypatch) -> None:
    """After one failed change, later changes that succeed do not make the index say it
    is whole again (it missed the first): it stays stale until the next open rebuilds it."""
    store = tmp_path / "store"
    replace = CatalogueIndex.replace
    calls = [0]

    def fail_once(self: CatalogueIndex, graphs: Any, **kwargs: Any) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise sqlite3.OperationalError("database or disk is full")
        replace(self, graphs, **kwargs)

    monkeypatch.setattr(CatalogueIndex, "replace", fail_once)
    with Catalog(store) as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        catalog.harvest([TREE], base_url="https://tree.example.org/")
        assert calls[0] > 2
        assert catalog.store.catalogue.meta("state") == "stale"
        assert not catalog.store.catalogue.has_sources()
    assert _state(store) == "stale"
    monkeypatch.undo()
    with Catalog(store) as catalog:
        assert _state(store) == "clean"
        assert same_records(catalog)
        assert catalog.store.catalogue.has_sources()

"""The files each dataset was read from, as the catalogue index records them for a re-harvest.

:meth:`KnowledgeStore.source_files` reads them from the index when it holds every record, and
from the store's graphs otherwise; both must say the same, whatever was written, replaced,
removed or added, and an index of an earlier version gets them once, from the store.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import EXAMPLES, TREE

from ngff_kg import Catalog
from ngff_kg.store.catalogue import FILE_NAME, SourceRecords, graph_files
from ngff_kg.store.knowledge import GraphData, KnowledgeStore

NKG = "https://w3id.org/ngff-kg/vocab#"


def same_sources(store: KnowledgeStore) -> dict[str, list[list[object]]]:
    """The records the index gives, checked against those read from the graphs."""
    assert store.catalogue.has_sources()
    found = store.source_files()
    stored = SourceRecords(dict(store._stored_source_texts()))
    assert sorted(found) == sorted(stored)
    assert found.readable() == stored.readable()
    return found.readable()


def test_the_index_says_what_the_graphs_say(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    store = tmp_path / "store"
    with Catalog(store) as catalog:
        catalog.harvest([EXAMPLES, tree], base_url="https://tree.example.org/")
        first = same_sources(catalog.store)
        assert len(first) >= 10
        # a changed crate: its dataset is read again and its record replaced
        crate = tree / "lab-b" / "img-two.ome.zarr" / "ro-crate-metadata.json"
        crate.write_text(crate.read_text() + "\n")
        catalog.harvest([EXAMPLES, tree], base_url="https://tree.example.org/")
        second = same_sources(catalog.store)
        assert second.keys() == first.keys()
        changed = [iri for iri in first if first[iri] != second[iri]]
        assert changed == ["https://tree.example.org/lab-b/img-two.ome.zarr/"]
        # a dataset gone from the tree: pruned, and its record with it
        shutil.rmtree(crate.parent)
        report = catalog.harvest([EXAMPLES, tree], base_url="https://tree.example.org/", prune=True)
        assert report.datasets_pruned == 1
        third = same_sources(catalog.store)
        assert len(third) == len(first) - 1
        # a graph written without a record, then one added to a shared graph
        gone = sorted(third)[0]
        catalog.store.write([GraphData.from_triples(gone, [(f"<{gone}>", f"<{NKG}x>", '"y"')])])
        assert gone not in same_sources(catalog.store)
        shared = "https://tree.example.org/some-list"
        record = json.dumps([["list.csv", 3, 4]])
        catalog.store.add(shared, [(f"<{shared}>", f"<{NKG}sourceFiles>", json.dumps(record))])
        last = same_sources(catalog.store)
        assert last[shared] == [["list.csv", 3, 4]]
    with Catalog(store, read_only=True) as again:
        assert same_sources(again.store) == last


def test_an_index_of_an_earlier_version_gets_the_records_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    with Catalog(store) as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        expected = same_sources(catalog.store)
    db = sqlite3.connect(store / FILE_NAME)
    with db:  # what an index of the version before holds: no table of records, no mark
        db.execute("DROP TABLE sources")
        db.execute("DELETE FROM meta WHERE key = 'sources'")
    db.close()
    with Catalog(store, read_only=True) as reader:  # read as it is: from the graphs
        assert not reader.store.catalogue.has_sources()
        assert reader.store.source_files().readable() == expected
    capsys.readouterr()
    with Catalog(store) as writer:  # the first writer records them
        assert writer.store.catalogue.has_sources()
        assert "the files each dataset was read from" in capsys.readouterr().err
        assert same_sources(writer.store) == expected
    with Catalog(store) as again:  # once
        assert again.store.catalogue.has_sources()
        assert capsys.readouterr().err == ""


def test_an_unreadable_record_is_left_out(tmp_path: Path) -> None:
    """As from the graphs: a record that is no JSON list makes its dataset read again."""
    store = KnowledgeStore(None)
    graphs = {"https://a.example/": '"[[\\"zarr.json\\",1,2]]"', "https://b.example/": '"[[{"'}
    store.write(
        [
            GraphData.from_triples(iri, [(f"<{iri}>", f"<{NKG}sourceFiles>", files)])
            for iri, files in graphs.items()
        ]
    )
    assert same_sources(store) == {"https://a.example/": [["zarr.json", 1, 2]]}
    records = store.source_files()
    assert sorted(records) == sorted(graphs)  # a graph with a record, readable or not
    assert records.get("https://b.example/") is None


@pytest.mark.parametrize(
    "text",
    ["[[{", "{}", '"x"', "[1, 2]", '[["zarr.json", 1]]', "[[1, 2, 3]]", "[[], []]"],
)
def test_a_record_of_another_shape_is_not_looked_up(text: str) -> None:
    records = SourceRecords({"https://a.example/": text, "https://b.example/": "[]"})
    assert records.get("https://a.example/") is None
    assert records.get("https://a.example/", "unread") == "unread"
    assert records.get("https://c.example/", "unread") == "unread"
    assert "https://a.example/" not in records
    assert records.get("https://b.example/") == []
    assert records.readable() == {"https://b.example/": []}
    assert len(records) == 2


def test_graph_files_reads_the_graphs_own_literal() -> None:
    iri = "https://a.example/"
    p = f"<{NKG}sourceFiles>"
    assert graph_files(iri, [(f"<{iri}>", p, '"x\\"y"')]) == 'x"y'
    assert graph_files(iri, [("<https://other.example/>", p, '"x"')]) is None
    assert graph_files(iri, [(f"<{iri}>", p, "<https://not.a.literal/>")]) is None
    assert graph_files(iri, [(f"<{iri}>", f"<{NKG}other>", '"x"')]) is None


def test_the_corpus_records(corpus_catalog: Catalog) -> None:
    found = same_sources(corpus_catalog.store)
    datasets = corpus_catalog.query(f"SELECT ?d WHERE {{ ?d a <{NKG}OmeZarrDataset> }}").column("d")
    assert len(datasets) == 15_241
    assert set(datasets) <= found.keys()  # and the sample lists' records, ETags kept

"""Named queries answered from the catalogue index give the rows SPARQL gives.

The reference of every check is the same query on the same store run by Oxigraph
(``raw_query(..., indexed=False)``); each check also asserts that the index did answer,
so that a silent fall-back to SPARQL cannot pass for agreement. The stores are the
examples, the test tree, the corpus, adversarial datasets, hand-made edge cases and
Hypothesis-generated graphs.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from conftest import EXAMPLES
from generated_stores import NKG, RDF_TYPE, SCHEMA, dataset, stores, types_a_blank_node, written
from generated_stores import name as named
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ngff_kg import Catalog, rdf
from ngff_kg.queries import bindings_for, parse_query, resolve_query
from ngff_kg.store.answers import ANSWERS, answer
from ngff_kg.store.catalogue import FILE_NAME, CatalogueIndex
from ngff_kg.store.knowledge import GraphData

MOUSE = "http://purl.obolibrary.org/obo/NCBITaxon_10090"
HUMAN = "http://purl.obolibrary.org/obo/NCBITaxon_9606"
FLY = "http://purl.obolibrary.org/obo/NCBITaxon_7227"
CONFOCAL = "http://purl.obolibrary.org/obo/FBbi_00000251"
#: every case of every query the index answers
CASES: list[tuple[str, dict[str, str]]] = [
    ("find-datasets", {}),
    ("find-datasets", {"organism": "Mammalia"}),
    ("find-datasets", {"organism": "NCBITaxon:10090"}),
    ("find-datasets", {"organism": "Drosophila melanogaster"}),
    ("find-datasets", {"organism": "Homo sapiens", "modality": "fluorescence microscopy"}),
    ("find-datasets", {"modality": "FBbi:00000246"}),
    ("find-datasets", {"modality": "confocal microscopy"}),
    # a term outside the ontologies matches itself
    ("find-datasets", {"modality": "http://example.org/methods/m"}),
    ("datasets-missing-metadata", {}),
    ("datasets-missing-metadata", {"field": "organism"}),
    ("datasets-missing-metadata", {"field": "name"}),
    ("datasets-missing-metadata", {"field": "license"}),
    ("datasets-missing-metadata", {"field": "no such field"}),
    ("dataset-descriptions", {}),
]
#: queries that sample a value of several (``SAMPLE``): an engine may give any of them
SAMPLED = {"dataset-descriptions": ("name", "description")}


def test_the_cases_cover_every_answered_query() -> None:
    assert {name for name, _ in CASES} == set(ANSWERS)


def rows(catalog: Catalog, name: str, params: dict[str, str], *, indexed: bool) -> list[Any]:
    found = catalog.raw_query(resolve_query(name), params, indexed=indexed)
    return sorted(tuple(None if t is None else str(t) for t in row) for row in found)


def answered(catalog: Catalog, name: str, params: dict[str, str]) -> bool:
    query = resolve_query(name)
    bindings = bindings_for(query, params, lambda: catalog.ontology)
    return answer(catalog.store, query, bindings.written, bindings.substitutions) is not None


def same_answers(catalog: Catalog, cases: list[tuple[str, dict[str, str]]] = CASES) -> None:
    """Each case gives, from the index, the rows (as many of each) SPARQL gives; of a
    query that samples values, a row per dataset holding one of its values (or none)."""
    for name, params in cases:
        assert answered(catalog, name, params), (name, params)
        if name in SAMPLED:
            sampled_answers(catalog, name, SAMPLED[name])
            continue
        assert rows(catalog, name, params, indexed=True) == rows(
            catalog, name, params, indexed=False
        ), (name, params)


def sampled_answers(catalog: Catalog, name: str, columns: tuple[str, ...]) -> None:
    """The rows of ``name`` from the index and from SPARQL are of the same datasets, and
    each value sampled is one of the dataset's values, as SPARQL lists them all."""
    found = {
        key: rows(catalog, name, {}, indexed=indexed)
        for key, indexed in (("i", True), ("s", False))
    }
    assert [row[0] for row in found["i"]] == [row[0] for row in found["s"]], name
    every: dict[tuple[str, int], set[str | None]] = {}
    for position, column in enumerate(columns, start=1):
        query = (
            f"SELECT ?d ?v WHERE {{ ?d a <{NKG}OmeZarrDataset> "
            f"OPTIONAL {{ ?d <{SCHEMA}{column}> ?v }} }}"
        )
        for solution in catalog.store.query(query):
            value = solution["v"]
            every.setdefault((str(solution["d"]), position), set()).add(
                None if value is None else str(value)
            )
    for row in found["i"]:
        for position in range(1, len(columns) + 1):
            values = every[row[0], position]
            if row[position] is None:
                assert values == {None}, (row, values)
            elif row[position].startswith("_:"):  # a blank node: its label is the results'
                assert any(v is not None and v.startswith("_:") for v in values), row
            else:
                assert row[position] in values, (row, values)


def test_examples(examples_catalog: Catalog) -> None:
    same_answers(examples_catalog)
    assert rows(examples_catalog, "find-datasets", {"organism": "Mammalia"}, indexed=True)


def test_the_test_tree(tree_catalog: Catalog) -> None:
    same_answers(tree_catalog)


def test_the_corpus(corpus_catalog: Catalog) -> None:
    same_answers(corpus_catalog)
    everything = rows(corpus_catalog, "find-datasets", {}, indexed=True)
    assert len(everything) == 15_241  # the roots of the corpus (CORPUS.md)


def test_adversarial_datasets(tmp_path: Path) -> None:
    from adversarial import generate

    generate(tmp_path / "tree", seed=7)
    with Catalog(tmp_path / "store") as catalog:
        catalog.harvest([tmp_path / "tree"], base_url="https://hostile.example.org/")
        same_answers(catalog)


def test_edge_cases(ontology_store: Path, tmp_path: Path) -> None:
    organism = f"<{SCHEMA}taxonomicRange>"
    method = f"<{SCHEMA}measurementTechnique>"
    graphs = [
        dataset("https://a.example.org/1", (organism, f"<{MOUSE}>"), (organism, f"<{FLY}>")),
        dataset("https://a.example.org/2", (organism, rdf.literal("mouse", language="en"))),
        dataset("https://a.example.org/3", (method, f"<{CONFOCAL}>")),
        dataset("https://a.example.org/4", (method, "<http://example.org/methods/m>")),
        dataset("urn:x:5"),
        # names: U+001C is no White_Space for SPARQL's REGEX; an IRI is a name
        dataset("https://b.example.org/7", named("\x1c")),
        dataset("https://b.example.org/8", named(" \u3000\t")),
        dataset("https://b.example.org/9", (f"<{SCHEMA}name>", "<https://names.example.org/x>")),
        # a blank node as name; descriptions language-tagged, with a tab, typed
        dataset(
            "https://b.example.org/10",
            (f"<{SCHEMA}name>", "_:n"),
            (f"<{SCHEMA}description>", '"Zwei\tTeile"@DE'),
        ),
        dataset(
            "https://b.example.org/11",
            (f"<{SCHEMA}description>", '"7"^^<http://www.w3.org/2001/XMLSchema#integer>'),
            (f"<{SCHEMA}description>", rdf.literal("seven")),
        ),
        # named by a graph that does not type it: no dataset
        GraphData.from_triples(
            "https://a.example.org/6", [("<https://a.example.org/6>", organism, f"<{MOUSE}>")]
        ),
    ]
    listing = GraphData.from_triples(
        "https://lists.example.org/l.csv",
        [
            # what a sample list says counts: 3 becomes a human dataset
            ("<https://a.example.org/3>", organism, f"<{HUMAN}>"),
            # typed in a second graph: listed once
            ("<https://a.example.org/1>", f"<{RDF_TYPE}>", f"<{NKG}OmeZarrDataset>"),
        ],
    )
    store = tmp_path / "store"
    shutil.copytree(ontology_store, store)
    with Catalog(store) as catalog:
        catalog.store.write([*graphs, listing])
        catalog.store.flush()
        same_answers(catalog)
        mammals = rows(catalog, "find-datasets", {"organism": "Mammalia"}, indexed=True)
        assert mammals == [("<https://a.example.org/1>",), ("<https://a.example.org/3>",)]
        both = {"organism": "Homo sapiens", "modality": "fluorescence microscopy"}
        assert rows(catalog, "find-datasets", both, indexed=True) == [
            ("<https://a.example.org/3>",)
        ]
        assert len(rows(catalog, "find-datasets", {}, indexed=True)) == 10
        unnamed = rows(catalog, "datasets-missing-metadata", {"field": "name"}, indexed=True)
        assert [url for url, _ in unnamed] == [
            "<https://a.example.org/1>",  # once for each graph that types it
            "<https://a.example.org/1>",
            "<https://a.example.org/2>",
            "<https://a.example.org/3>",
            "<https://a.example.org/4>",
            "<https://b.example.org/10>",  # a blank node names nothing
            "<https://b.example.org/11>",
            "<https://b.example.org/8>",
            "<urn:x:5>",
        ]
        described = {row[0]: row for row in rows(catalog, "dataset-descriptions", {}, indexed=True)}
        name, description = described["<https://b.example.org/10>"][1:]
        assert name.startswith("_:") and description == '"Zwei\\tTeile"@de'
        assert described["<https://b.example.org/11>"][1] is None
        # after a change and a removal
        catalog.store.discard_graph("https://lists.example.org/l.csv")
        catalog.store.write([dataset("https://a.example.org/2", (organism, f"<{HUMAN}>"))])
        catalog.store.flush()
        same_answers(catalog)
        assert rows(catalog, "find-datasets", {"organism": "Mammalia"}, indexed=True) == [
            ("<https://a.example.org/1>",),
            ("<https://a.example.org/2>",),
        ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    graphs=stores(),
    organism=st.sampled_from(["Mammalia", "Homo sapiens", "NCBITaxon:7227", "Eukaryota"]),
    modality=st.sampled_from(["FBbi:00000246", "FBbi:00000332", "microscopy"]),
)
def test_generated_stores(
    graphs: list[GraphData], organism: str, modality: str, ontology_store: Path, tmp_path: Path
) -> None:
    """Every case, and the two parameters of find-datasets drawn from the hierarchy."""
    drawn = ("find-datasets", {"organism": organism, "modality": modality})
    with written(graphs, ontology_store, tmp_path) as catalog:
        if not types_a_blank_node(graphs):
            same_answers(catalog, [*CASES, drawn])
        else:  # a dataset the index cannot hold: it answers nothing
            assert not catalog.store.catalogue.faithful()
            for name, params in [*CASES, drawn]:
                assert not answered(catalog, name, params)
                assert rows(catalog, name, params, indexed=True) == rows(
                    catalog, name, params, indexed=False
                )


_TEXTS = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_LANGUAGES = st.sampled_from([None, "en", "EN-gb", "de"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    described=st.lists(
        st.tuples(st.sampled_from(["name", "description"]), _TEXTS, _LANGUAGES),
        min_size=1,
        max_size=6,
    )
)
def test_names_and_descriptions_of_any_text(
    described: list[tuple[str, str, str | None]], ontology_store: Path, tmp_path: Path
) -> None:
    """Names and descriptions of any text (control characters, tabs, quotes, backslashes,
    line and paragraph separators), plain or language-tagged, come back from the index as
    SPARQL reads them."""
    graphs = [
        dataset(
            f"https://t.example.org/{number % 3}",
            *[
                (f"<{SCHEMA}{field}>", rdf.literal(text, language=language))
                for field, text, language in described[number::3]
            ],
        )
        for number in range(min(3, len(described)))
    ]
    with written(graphs, ontology_store, tmp_path) as catalog:
        same_answers(catalog, [("dataset-descriptions", {}), ("find-datasets", {})])


# ---------------------------------------------------------------------------- when not
def test_a_query_of_the_same_name_with_another_text_runs_in_sparql(
    examples_catalog: Catalog,
) -> None:
    shipped = resolve_query("find-datasets")
    other = parse_query(shipped.text.replace("SELECT DISTINCT", "SELECT"), "find-datasets")
    bindings = bindings_for(other, {}, lambda: examples_catalog.ontology)
    assert answer(examples_catalog.store, other, bindings.written, {}) is None
    # the same name, the same text: answered
    assert answer(examples_catalog.store, shipped, {}, {}) is not None


def test_a_store_opened_read_only_reads_its_index_file_and_never_builds_one(
    examples_store: Path, tmp_path: Path
) -> None:
    with Catalog(examples_store, read_only=True) as catalog:
        assert answered(catalog, "find-datasets", {})
        same_answers(catalog)
    copy = tmp_path / "store"
    shutil.copytree(examples_store, copy)
    index = CatalogueIndex(copy / FILE_NAME)
    index.begin_writing()  # as a harvest running elsewhere leaves it
    index.close()
    with Catalog(copy, read_only=True) as catalog:
        assert not answered(catalog, "find-datasets", {})
        assert catalog.store._catalogue is None  # no index built in memory for it
        assert len(rows(catalog, "find-datasets", {}, indexed=True)) == len(
            rows(catalog, "find-datasets", {}, indexed=False)
        )


def test_a_stale_index_is_not_read(examples_catalog: Catalog, tmp_path: Path) -> None:
    with Catalog(tmp_path / "store") as catalog:
        catalog.harvest([EXAMPLES], base_url="https://")
        assert answered(catalog, "find-datasets", {})
        catalog.store.catalogue.invalidate()
        assert not answered(catalog, "find-datasets", {})
        assert rows(catalog, "find-datasets", {}, indexed=True) == rows(
            examples_catalog, "find-datasets", {}, indexed=False
        )


def test_the_answer_is_pyoxigraph_solutions_and_writes_the_same_results(
    examples_catalog: Catalog,
) -> None:
    query = resolve_query("find-datasets")
    found = examples_catalog.raw_query(query, {"organism": "Mammalia"})
    assert isinstance(found, ox.QuerySolutions)
    assert [v.value for v in found.variables] == ["dataset"]
    for fmt in ("csv", "tsv", "json"):
        written = {}
        for indexed in (True, False):
            out = io.BytesIO()
            results = examples_catalog.raw_query(query, {"organism": "Mammalia"}, indexed=indexed)
            out.write(results.serialize(format=ox.QueryResultsFormat.from_extension(fmt)))
            written[indexed] = out.getvalue()
        if fmt == "json":
            import json

            def bindings(text: bytes) -> list[str]:
                return sorted(map(str, json.loads(text)["results"]["bindings"]))

            assert bindings(written[True]) == bindings(written[False])
        else:
            assert sorted(written[True].splitlines()) == sorted(written[False].splitlines())
    result = examples_catalog.query("find-datasets", organism="Mammalia")
    assert result.columns == ["dataset"] and result.rows


def test_what_a_dataset_graph_says_of_other_datasets_is_answered(
    ontology_store: Path, tmp_path: Path
) -> None:
    """A crate can type another IRI a dataset, or give another dataset an organism: the
    index keeps it, and answers as SPARQL does. A blank node typed a dataset it cannot hold:
    then SPARQL answers."""
    mouse = (f"<{SCHEMA}taxonomicRange>", f"<{MOUSE}>")
    typed = f"<{RDF_TYPE}>", f"<{NKG}OmeZarrDataset>"
    speaker = GraphData.from_triples(
        "https://a.example.org/a",
        [
            ("<https://a.example.org/a>", *typed),
            ("<https://a.example.org/b>", *mouse),
            ("<https://a.example.org/c>", *typed),
        ],
    )
    with written([speaker, dataset("https://a.example.org/b")], ontology_store, tmp_path) as cat:
        same_answers(cat)
        assert rows(cat, "find-datasets", {}, indexed=True) == [
            ("<https://a.example.org/a>",),
            ("<https://a.example.org/b>",),
            ("<https://a.example.org/c>",),
        ]
        assert rows(cat, "find-datasets", {"organism": "Mammalia"}, indexed=True) == [
            ("<https://a.example.org/b>",)
        ]
        blank = GraphData.from_triples(
            "https://a.example.org/a", [("<https://a.example.org/a>", *typed), ("_:x", *typed)]
        )
        cat.store.write([blank])
        cat.store.flush()
        assert not cat.store.catalogue.faithful()
        for name, params in CASES:
            assert not answered(cat, name, params)
        assert len(rows(cat, "find-datasets", {}, indexed=True)) == 3  # a, b and the node
        cat.store.write([dataset("https://a.example.org/a")])
        cat.store.flush()
        same_answers(cat)


def test_a_harvested_crate_that_names_a_sibling_dataset(tmp_path: Path) -> None:
    """An RO-Crate whose entity is the dataset beside it (``../b.zarr/``), with an organism
    (which the crate's root is also given, as an entity's): SPARQL reads that into b's facts,
    and so does the index."""
    import json

    from adversarial import crate, image

    for name in ("a.zarr", "b.zarr"):
        (tmp_path / "tree" / name).mkdir(parents=True)
        (tmp_path / "tree" / name / "zarr.json").write_text(json.dumps(image()))
    doc = crate()
    # (the RO-Crate 1.1 context has no "taxonomicRange": the full IRI)
    doc["@graph"].append({"@id": "../b.zarr/", f"{SCHEMA}taxonomicRange": {"@id": MOUSE}})
    (tmp_path / "tree" / "a.zarr" / "ro-crate-metadata.json").write_text(json.dumps(doc))
    with Catalog(tmp_path / "store") as catalog:
        catalog.harvest([tmp_path / "tree"], base_url="https://h.example.org/")
        same_answers(catalog)
        assert rows(catalog, "find-datasets", {"organism": "Mammalia"}, indexed=True) == [
            ("<https://h.example.org/a.zarr/>",),
            ("<https://h.example.org/b.zarr/>",),
        ]
        # and b's catalogue record (the web catalogue, the exports) says so too
        record = catalog.store.catalogue.record("https://h.example.org/b.zarr/")
        assert record is not None and record["organisms"] == [MOUSE]
        # the crate no longer names it
        doc["@graph"].pop()
        (tmp_path / "tree" / "a.zarr" / "ro-crate-metadata.json").write_text(json.dumps(doc))
        catalog.harvest([tmp_path / "tree"], base_url="https://h.example.org/")
        assert rows(catalog, "find-datasets", {"organism": "Mammalia"}, indexed=True) == []
        same_answers(catalog)


def test_graphs_loaded_behind_the_index_are_not_answered_from_it(tmp_path: Path) -> None:
    """Graphs put into the Oxigraph store directly (not through its writer) leave the index
    without them, and the summary they brought counts other datasets: the graph answers."""
    dump = tmp_path / "examples.nq"
    with Catalog(tmp_path / "store") as source:
        source.harvest([EXAMPLES], base_url="https://")
        with dump.open("wb") as out:
            source.dump("nquads", out)
        expected = rows(source, "find-datasets", {}, indexed=False)
    catalog = Catalog(None)
    catalog.store.oxigraph.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    assert catalog.store.following_catalogue() is not None  # it knows nothing of the load
    assert not answered(catalog, "find-datasets", {})
    assert rows(catalog, "find-datasets", {}, indexed=True) == expected
    # and while a change is not flushed (the summary is gone until then)
    catalog.store.rebuild_catalogue()
    assert not answered(catalog, "find-datasets", {})
    catalog.store.flush()
    assert answered(catalog, "find-datasets", {})
    assert rows(catalog, "find-datasets", {}, indexed=True) == expected

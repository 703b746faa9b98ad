"""One bad dataset never ends a harvest nor changes the other datasets' graphs.

Each root below breaks one stage (read, parse, JSON-LD, NGFF, RDF, store write); they are
harvested FIRST, before the bundled example roots, and the examples' graphs must come out
exactly as in a harvest of the examples alone (compared as canonical quads per graph,
provenance of the run left aside). The fixtures are written here from the specifications
(OME-Zarr 0.5 groups and arrays, RO-Crate 1.1 JSON-LD), not copied from anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from conftest import EXAMPLES, NKG
from rdfcompare import canonical
from typer.testing import CliRunner

from ngff_kg import Catalog
from ngff_kg.cli import app
from ngff_kg.harvest import dataset as dataset_module
from ngff_kg.harvest import jobs as jobs_module
from ngff_kg.normalize.repairs import KINDS
from ngff_kg.store import writer as writer_module
from ngff_kg.store.knowledge import GraphData, KnowledgeStore
from ngff_kg.store.writer import BatchWriter, write_isolated
from ngff_kg.urls import file_url

CTX = "https://w3id.org/ro/crate/1.1/context"
PROV_GENERATED = "http://www.w3.org/ns/prov#wasGeneratedBy"
AXES = [
    {"name": "y", "type": "space", "unit": "micrometer"},
    {"name": "x", "type": "space", "unit": "micrometer"},
]
ARRAY = {
    "zarr_format": 3,
    "node_type": "array",
    "shape": [8, 8],
    "data_type": "uint16",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [8, 8]}},
    "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
    "fill_value": 0,
    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
    "dimension_names": ["y", "x"],
}


def multiscale(name: str, scale: Any = (0.5, 0.5), axes: Any = AXES) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": list(scale)}]}
        ],
    }
    if axes is not None:
        entry["axes"] = axes
    return entry


def image(root: Path, group_text: str | None = None, crate: str | None = None) -> Path:
    """An OME-Zarr 0.5 image (one level) with an optional RO-Crate, as raw text."""
    root.mkdir(parents=True)
    if group_text is None:
        group = {"version": "0.5", "multiscales": [multiscale(root.name)]}
        group_text = json.dumps(
            {"zarr_format": 3, "node_type": "group", "attributes": {"ome": group}}
        )
    (root / "zarr.json").write_text(group_text, "utf-8")
    (root / "0").mkdir()
    (root / "0" / "zarr.json").write_text(json.dumps(ARRAY), "utf-8")
    if crate is not None:
        (root / "ro-crate-metadata.json").write_text(crate, "utf-8")
    return root


def crate(root_entity: dict[str, Any], context: Any = CTX) -> str:
    return json.dumps(
        {
            "@context": context,
            "@graph": [
                {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
                {"@id": "./", "@type": "Dataset", "name": "broken on purpose", **root_entity},
            ],
        }
    )


def group_text(entry: dict[str, Any]) -> str:
    attributes = {"ome": {"version": "0.5", "multiscales": [entry]}}
    return json.dumps({"zarr_format": 3, "node_type": "group", "attributes": attributes})


#: name → (stage reported, text the reason contains, the crate broke: NGFF facts are kept)
EXPECTED = {
    "a-pyld-scoped-context.ome.zarr": ("jsonld", "ro-crate-metadata.json", True),
    "b-deep-crate.ome.zarr": ("parse", "nested deeper than", True),
}
#: Roots whose NGFF metadata breaks the specification: read as far as it can be, with a
#: warning (and, where the validator has a model for the version, recorded violations).
WARNED = {
    "c-no-axes.ome.zarr": "has no axes",
    "d-nan-scale.ome.zarr": "is not a finite number",
}
#: Roots whose values no RDF store accepts as written: repaired by the term builders and
#: recorded as repairs (kind, the value as written), never handed to the store.
REPAIRED = {
    "e-language-tag.ome.zarr": ("invalid-language-tag", "tagged@en US"),
    "f-ipv6-iri.ome.zarr": ("invalid-iri", "http://[::1"),
}


def bad_roots(directory: Path) -> Path:
    """A tree of roots that each break one stage, and a CSV list with unusable rows."""
    # pyld itself fails on a scoped context that is not an object (the converter falls back
    # to pyld for scoped contexts)
    scoped = [CTX, {"thing": {"@id": "https://example.org/thing", "@context": 5}}]
    image(directory / "a-pyld-scoped-context.ome.zarr", crate=crate({"thing": "x"}, scoped))
    depth = 10_000
    deep = '{"@id": "#n", "hasPart": ' * depth + "{}" + "}" * depth
    image(
        directory / "b-deep-crate.ome.zarr",
        crate=crate({"hasPart": "DEEP"}).replace('"DEEP"', deep),
    )
    # multiscales without axes (required by OME-Zarr 0.4 and 0.5)
    image(directory / "c-no-axes.ome.zarr", group_text(multiscale("c", axes=None)))
    # scales that are not finite numbers (JSON allows neither; Python writes them)
    nan = group_text(multiscale("d", scale=("NAN", "BIG")))
    image(directory / "d-nan-scale.ome.zarr", nan.replace('"NAN"', "NaN").replace('"BIG"', "1e999"))
    # a language tag with a space (BCP 47 forbids it): the store refuses the literal
    lang = crate({"description": {"@value": "tagged", "@language": "en US"}})
    image(directory / "e-language-tag.ome.zarr", crate=lang)
    # an IRI whose authority is an unterminated IPv6 literal
    image(directory / "f-ipv6-iri.ome.zarr", crate=crate({"license": {"@id": "http://[::1"}}))
    rows = (
        b"url,written\n"
        b"http://[::1,10\n"
        b"http://%zz,11\n"
        b"https://example.org/\xed\xa0\x80/,12\n"
        b"https://example.org/fine/,13\n"
    )
    (directory / "rows.csv").write_bytes(rows)
    return directory


def graphs_below(store: KnowledgeStore, prefix: str) -> dict[str, frozenset[ox.Quad]]:
    """The graphs whose name starts with ``prefix``: canonical quads, run provenance left out."""
    db = store.oxigraph
    out: dict[str, frozenset[ox.Quad]] = {}
    for graph in db.named_graphs():
        if not isinstance(graph, ox.NamedNode) or not graph.value.startswith(prefix):
            continue
        quads = [
            q
            for q in db.quads_for_pattern(None, None, None, graph)
            if q.predicate.value != PROV_GENERATED
        ]
        out[graph.value] = frozenset(canonical(quads))
    return out


@pytest.fixture(scope="module")
def reference() -> dict[str, frozenset[ox.Quad]]:
    """The example roots harvested alone."""
    with Catalog(None) as catalog:
        report = catalog.harvest([EXAMPLES])
        assert report.ok, report.failed
        graphs = graphs_below(catalog.store, file_url(EXAMPLES, directory=True))
    assert len(graphs) >= 5
    return graphs


@pytest.fixture()
def bad(tmp_path: Path) -> Path:
    return bad_roots(tmp_path / "bad")


def dataset_quads(store: KnowledgeStore, iri: str) -> list[ox.Quad]:
    node = ox.NamedNode(iri)
    return list(store.oxigraph.quads_for_pattern(None, None, None, node))


def test_bad_roots_first_do_not_change_the_good_ones(bad: Path, reference: dict) -> None:
    with Catalog(None) as catalog:
        report = catalog.harvest([bad, EXAMPLES])
        assert not report.ok
        # the good datasets: exactly their graphs of a harvest without the bad roots
        assert graphs_below(catalog.store, file_url(EXAMPLES, directory=True)) == reference
        failed = {Path(p.path).name: p for p in report.failed}
        for name, (stage, reason, crate_broke) in EXPECTED.items():
            problem = failed[name]
            assert problem.path == str(bad / name)
            assert problem.stage == stage, problem
            assert reason in problem.reason, problem
            iri = file_url(bad / name, directory=True)
            quads = dataset_quads(catalog.store, iri)
            predicates = {q.predicate.value for q in quads}
            assert NKG + "extractionError" in predicates, name
            if crate_broke:  # the crate's problem left the NGFF facts alone
                types = {q.object.value for q in quads if q.subject.value == iri}
                assert NKG + "OmeZarrDataset" in types, name
                arrays = catalog.store.oxigraph.query(
                    f'ASK {{ GRAPH <{iri}> {{ ?level <{NKG}dataType> "uint16" }} }}'
                )
                assert bool(arrays), name
        for name, reason in WARNED.items():
            assert name not in failed
            warned = [p for p in report.warnings if Path(p.path).name == name]
            assert any(reason in p.reason for p in warned), (name, warned)
            iri = file_url(bad / name, directory=True)
            types = {q.object.value for q in dataset_quads(catalog.store, iri)}
            assert NKG + "OmeZarrDataset" in types, name
        violations = catalog.query("ngff-violations").values()
        assert any(v["path"] == "$.multiscales[0].axes" for v in violations), violations
        # the CSV list: each unusable row reported, the usable row kept
        rows = [p for p in report.failed if p.path == str(bad / "rows.csv")]
        assert len(rows) == 3, rows
        assert all(p.stage == "parse" for p in rows)
        assert any("[::1" in p.reason for p in rows)
        assert any("%zz" in p.reason for p in rows)
        list_iri = file_url(bad / "rows.csv", directory=False)
        listed = catalog.store.list_members(list_iri)[0]
        assert listed == ["https://example.org/fine/"]
        assert report.sample_rows >= 1
        # every dataset was found and counted; only the good ones count as harvested
        assert report.datasets_harvested == report.datasets_found - len(EXPECTED)


def test_invalid_language_tag_and_iri_are_repaired_and_recorded(bad: Path) -> None:
    """Values no store accepts are repaired where the terms are built, recorded as repairs of
    their dataset, and the rest of the dataset is read as usual."""
    with Catalog(None) as catalog:
        report = catalog.harvest([bad])
        failed = {Path(p.path).name for p in report.failed}
        for name, (kind, original) in REPAIRED.items():
            assert name not in failed, report.failed
            iri = file_url(bad / name, directory=True)
            quads = dataset_quads(catalog.store, iri)
            names = [q.object.value for q in quads if q.predicate.value == "http://schema.org/name"]
            assert "broken on purpose" in names, name
            assert NKG + "extractionError" not in {q.predicate.value for q in quads}
            rows = catalog.query("dataset-repairs", dataset=iri).values()
            assert (KINDS[kind][0], original) in {(r["kind"], r["original"]) for r in rows}
        assert report.repairs["invalid-language-tag"] == 1
        assert report.repairs["invalid-iri"] >= 1


def test_cli_exit_code_1_and_every_bad_root_named(bad: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["harvest", str(bad), str(EXAMPLES), "--store", str(tmp_path / "store"), "--show", "50"],
    )
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    output = result.output.replace("\n", "")  # the console wraps long lines
    assert "failed          5" in output  # 2 roots and 3 CSV rows
    for name in EXPECTED:
        assert f"failed: {bad / name}: " in output


def test_any_exception_of_an_extractor_stays_with_its_dataset(
    bad: Path, reference: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arbitrary exception types from the hierarchy reader and from a whole job."""
    original = dataset_module.read_hierarchy
    kinds: Iterator[type[Exception]] = iter([IndexError, TypeError, AttributeError, ValueError])

    def flaky(found: Any, *args: Any) -> Any:
        if "mouse-brain" in found.path:
            raise next(kinds)("boom in the hierarchy")
        return original(found, *args)

    monkeypatch.setattr(dataset_module, "read_hierarchy", flaky)
    original_root = jobs_module.process_root

    def crash(found: Any, *args: Any, **kwargs: Any) -> Any:
        if "zebrafish" in found.path:
            raise KeyError("boom in the job")
        return original_root(found, *args, **kwargs)

    monkeypatch.setattr(jobs_module, "process_root", crash)
    with Catalog(None) as catalog:
        report = catalog.harvest([bad, EXAMPLES])
        graphs = graphs_below(catalog.store, file_url(EXAMPLES, directory=True))
    by_name = {Path(p.path).name: p for p in report.failed}
    mouse = by_name["mouse-brain.ome.zarr"]
    assert (mouse.stage, "IndexError: boom in the hierarchy") == ("ngff", mouse.reason[-33:])
    zebrafish = by_name["zebrafish-spim.zarr"]
    assert zebrafish.stage == "read" and "KeyError" in zebrafish.reason
    # every other example dataset is exactly as in the reference
    changed = {iri for iri in reference if graphs.get(iri) != reference[iri]}
    assert changed and all("mouse-brain" in i or "zebrafish" in i for i in changed), changed


def test_job_exceptions_on_an_executor_are_dataset_problems(
    reference: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an executor (as with Dask), an exception raised by a job is that dataset's."""
    original = jobs_module.process_root

    def crash(found: Any, *args: Any, **kwargs: Any) -> Any:
        if "plate-1" in found.path:
            raise RecursionError("boom on a worker")
        return original(found, *args, **kwargs)

    monkeypatch.setattr(jobs_module, "process_root", crash)
    with ThreadPoolExecutor(2) as pool, Catalog(None) as catalog:
        report = catalog.harvest([EXAMPLES], executor=pool)
        graphs = graphs_below(catalog.store, file_url(EXAMPLES, directory=True))
    assert [(Path(p.path).name, p.stage) for p in report.failed] == [("plate-1.ome.zarr", "read")]
    assert "RecursionError: boom on a worker" in report.failed[0].reason
    plate = [iri for iri in reference if "plate-1" in iri]
    assert plate and all(iri not in graphs for iri in plate)
    assert {k: v for k, v in reference.items() if k not in plate} == graphs


def triples_graph(iri: str, *objects: str) -> GraphData:
    return GraphData.from_triples(
        iri, [(f"<{iri}>", "<http://schema.org/name>", obj) for obj in objects]
    )


def test_a_batch_with_one_rejected_graph_writes_the_others() -> None:
    store = KnowledgeStore(None)
    good = [triples_graph(f"https://example.org/ds{i}/", f'"ds {i}"') for i in range(5)]
    bad_term = triples_graph("https://example.org/bad/", '"kept"', "<http://[::1>")
    bad_name = triples_graph("http://[::1/", '"x"')
    rejected: list[tuple[str, str]] = []
    batch = [*good[:2], bad_term, *good[2:4], bad_name, good[4]]
    write_isolated(store, batch, lambda iri, reason: rejected.append((iri, reason)))
    for graph in good:
        assert len(dataset_quads(store, graph.iri)) == 1, graph.iri
    kept = dataset_quads(store, "https://example.org/bad/")
    values = sorted(q.object.value for q in kept)
    assert values[0] == "kept" and values[1].startswith("write: 1 triples rejected")
    assert [iri for iri, _reason in rejected] == ["https://example.org/bad/", "http://[::1/"]
    assert store.dataset_graph_count() == 6


def test_batch_writer_replaces_existing_graphs_around_a_rejected_one() -> None:
    """The update path (graphs already in the store) isolates a bad graph too."""
    store = KnowledgeStore(None)
    first = [triples_graph(f"https://example.org/ds{i}/", '"old"') for i in range(3)]
    store.write(first)
    rejected: list[tuple[str, str]] = []
    writer = BatchWriter(store, 10, lambda iri, reason: rejected.append((iri, reason)))
    writer.add(triples_graph("https://example.org/ds0/", '"new"'))
    writer.add(triples_graph("https://example.org/ds1/", '"\ud800"'))  # lone surrogate
    writer.add(triples_graph("https://example.org/ds2/", '"new"'))
    writer.close()
    assert [q.object.value for q in dataset_quads(store, "https://example.org/ds0/")] == ["new"]
    assert [q.object.value for q in dataset_quads(store, "https://example.org/ds2/")] == ["new"]
    values = [q.object.value for q in dataset_quads(store, "https://example.org/ds1/")]
    assert len(values) == 1 and values[0].startswith("write: 1 triples rejected")
    assert [iri for iri, _ in rejected] == ["https://example.org/ds1/"]


def test_batch_writer_of_a_reharvest_writes_replacements_as_they_come(monkeypatch) -> None:
    """Graphs the store has already go in small batches, written before the writer closes;
    new graphs, and names the store cannot hold, wait for the large batch."""
    monkeypatch.setattr(writer_module, "REPLACE_BATCH", 2)
    store = KnowledgeStore(None)
    store.write([triples_graph(f"https://example.org/ds{i}/", '"old"') for i in range(3)])
    rejected: list[tuple[str, str]] = []
    writer = BatchWriter(store, 10, lambda iri, reason: rejected.append((iri, reason)), True)
    writer.add(triples_graph("https://example.org/ds0/", '"new"'))
    writer.add(triples_graph("https://example.org/new/", '"new"'))
    writer.add(triples_graph("http://[::1/", '"x"'))
    writer.add(triples_graph("https://example.org/ds1/", '"\ud800"'))  # lone surrogate
    assert writer.future is not None
    writer.future.result()  # the two replacements, before the end
    assert [q.object.value for q in dataset_quads(store, "https://example.org/ds0/")] == ["new"]
    assert not store.has_graph("https://example.org/new/")
    writer.add(triples_graph("https://example.org/ds2/", '"new"'))
    writer.close()
    for iri in ("https://example.org/ds2/", "https://example.org/new/"):
        assert [q.object.value for q in dataset_quads(store, iri)] == ["new"]
    values = [q.object.value for q in dataset_quads(store, "https://example.org/ds1/")]
    assert len(values) == 1 and values[0].startswith("write: 1 triples rejected")
    assert [iri for iri, _ in rejected] == ["https://example.org/ds1/", "http://[::1/"]

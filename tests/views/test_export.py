"""Exports: RDF dumps that load back into a fresh store, and the one-row-per-dataset table."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyoxigraph as ox
import pytest
from corpus_reference import roots
from typer.testing import CliRunner

from ngff_kg import Catalog, library
from ngff_kg.cli import app
from ngff_kg.views.export import COLUMNS, catalogue_rows, export

MOUSE = "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"


@pytest.fixture(scope="module")
def store(examples_store: Path) -> Path:
    return examples_store


def comparable(catalog: Catalog, name: str) -> list[tuple]:
    """A query's rows with blank nodes blanked (their labels may change in a round trip)."""
    rows = catalog.query(name).rows
    return sorted(
        tuple("_:" if isinstance(t, ox.BlankNode) else str(t) for t in row) for row in rows
    )


@pytest.mark.parametrize("fmt", ["nquads", "trig"])
def test_quads_load_into_a_fresh_store_with_the_same_answers(
    fmt: str, store: Path, tmp_path: Path
) -> None:
    out = tmp_path / f"kg.{fmt}"
    with Catalog(store, read_only=True) as catalog:
        export(catalog, fmt, out)
        fresh = Catalog(tmp_path / "fresh")
        rdf_format = ox.RdfFormat.N_QUADS if fmt == "nquads" else ox.RdfFormat.TRIG
        fresh.store.oxigraph.bulk_load(path=str(out), format=rdf_format)
        assert len(fresh.store) == len(catalog.store)
        assert set(fresh.store.oxigraph.named_graphs()) == set(
            catalog.store.oxigraph.named_graphs()
        )
        for name in library():
            assert comparable(fresh, name) == comparable(catalog, name), name
        fresh.close()


# rdflib 7 warns about its own internals (default_context, ConjunctiveGraph) while parsing
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("fmt", ["nquads", "trig", "turtle"])
def test_another_parser_reads_the_dumps(fmt: str, store: Path, tmp_path: Path) -> None:
    rdflib = pytest.importorskip("rdflib")
    out = tmp_path / f"kg.{fmt}"
    with Catalog(store, read_only=True) as catalog:
        export(catalog, fmt, out)
        quads = len(catalog.store)
        triples = len({q.triple for q in catalog.store.oxigraph})
    if fmt == "turtle":  # no named graphs: the union, each triple once
        graph = rdflib.Graph().parse(out, format="turtle")
        assert len(graph) == triples <= quads
    else:
        dataset = rdflib.Dataset().parse(out, format=fmt)
        assert len(dataset) == quads


def test_catalogue_table(examples_catalog: Catalog) -> None:
    rows = catalogue_rows(examples_catalog)
    assert [r["url"] for r in rows] == sorted(r["url"] for r in rows)
    assert len(rows) == 5 and all(
        list(r) == [n for n, _ in COLUMNS] or set(r) == {n for n, _ in COLUMNS} for r in rows
    )
    mouse = next(r for r in rows if r["url"] == MOUSE)
    assert mouse == mouse | {
        "organism": "http://purl.obolibrary.org/obo/NCBITaxon_10090",
        "organism_label": "Mus musculus",
        "modality": "http://purl.obolibrary.org/obo/FBbi_00000251",
        "modality_label": "confocal microscopy",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "kind": "image",
        "axes": "t,c,z,y,x",
        "shape": "1,2,64,2048,2048",
        "pixel_size": "1.0,,0.5,0.2,0.2",  # no physical size along the channel axis
        "size_x": 2048,
        "size_z": 64,
        "physical_size_x": 0.2,
        "physical_size_z": 0.5,
        "physical_size_unit": "micrometer",
        "bytes": 282816000,
        "origin": "https://idr.openmicroscopy.org/webclient/?show=image-1",
        "File Path": MOUSE,
    }


def test_parquet_opens_in_duckdb_one_row_per_dataset(store: Path, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "catalogue.parquet"
    with Catalog(store, read_only=True) as catalog:
        export(catalog, "parquet", out)
        datasets = catalog.store.dataset_graph_count() - 2  # minus the two sample-list graphs
    con = duckdb.connect()
    rows, distinct = con.execute(
        "SELECT count(*), count(DISTINCT url) FROM read_parquet(?)", [str(out)]
    ).fetchone()
    assert rows == distinct == datasets == 5
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(out)]).fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["bytes"] == "BIGINT" and types["physical_size_x"] == "DOUBLE"
    total = con.execute("SELECT sum(bytes) FROM read_parquet(?)", [str(out)]).fetchone()[0]
    assert total == 880_504_320  # examples/metadata/README.md
    mammals = con.execute(
        "SELECT count(*) FROM read_parquet(?) "
        "WHERE organism_label IN ('Mus musculus', 'Homo sapiens')",
        [str(out)],
    ).fetchone()[0]
    assert mammals == 2


def test_csv_and_parquet_hold_the_same_table(store: Path, tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    with Catalog(store, read_only=True) as catalog:
        export(catalog, "csv", tmp_path / "c.csv")
        export(catalog, "parquet", tmp_path / "c.parquet")
    from_csv = pandas.read_csv(tmp_path / "c.csv")
    from_parquet = pandas.read_parquet(tmp_path / "c.parquet")
    assert list(from_csv.columns) == list(from_parquet.columns) == [n for n, _ in COLUMNS]
    pandas.testing.assert_frame_equal(
        from_csv.astype(str), from_parquet.astype(str).replace({"None": "nan", "<NA>": "nan"})
    )


def test_cli_export(store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["export", "--store", str(store), "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(table) == 5 and table[0]["url"].startswith("https://")
    out = tmp_path / "kg.nq"
    result = runner.invoke(app, ["export", "-s", str(store), "-f", "nquads", "-o", str(out)])
    assert result.exit_code == 0 and out.stat().st_size > 0
    assert not (tmp_path / "kg.nq.part").exists()
    bad = runner.invoke(app, ["export", "-s", str(store), "-f", "xlsx"])
    assert bad.exit_code == 2 and "'xlsx' is not one of" in bad.output
    binary = runner.invoke(app, ["export", "-s", str(store), "-f", "parquet"])
    assert binary.exit_code == 2 and "-o FILE.parquet" in binary.output
    missing = runner.invoke(app, ["export", "-s", str(tmp_path / "none"), "-f", "csv"])
    assert missing.exit_code == 1 and "no store" in missing.output


def test_corpus_catalogue_equals_the_raw_crates(corpus_catalog: Catalog, corpus: Path) -> None:
    rows = {r["url"]: r for r in catalogue_rows(corpus_catalog)}
    reference = roots(corpus)
    assert set(rows) == set(reference)
    for url, info in reference.items():
        row = rows[url]
        assert set((row["organism"] or "").split(",")) - {""} == info.organisms, url
        assert set((row["modality"] or "").split(",")) - {""} == info.modalities, url
        assert row["license"] == info.license, url
        assert row["kind"] == info.kind, url

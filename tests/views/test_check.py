"""``ngff-kg check`` and ``ngff-kg terms`` on the ``tests/support/data/quality`` fixtures (see
its README).

The full NCBI Taxonomy (taxonomy extra) is switched off here so that the results do not
depend on what is installed; ``test_taxonomy.py`` covers it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import DATA, EXAMPLES, OBO, ROOT, fbbi, taxon
from typer.testing import CliRunner

from ngff_kg import Catalog
from ngff_kg.cli import app
from ngff_kg.ontology.taxonomy import load_taxonomy
from ngff_kg.queries import library
from ngff_kg.views.check import CELL_LINES, CHECKS, cell_lines_in

QUALITY = DATA / "quality"
BASE = "https://q.example.org/"
runner = CliRunner()


@pytest.fixture(scope="module")
def quality_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NGFF_KG_TAXONOMY", "off")
        load_taxonomy.cache_clear()
        path = tmp_path_factory.mktemp("quality") / "kg"
        with Catalog(path) as catalog:
            report = catalog.harvest([QUALITY], base_url=BASE)
            assert report.ok and report.datasets_found == 6 and report.taxa_added == 0
        yield path
    load_taxonomy.cache_clear()


@pytest.fixture(scope="module")
def report(quality_store: Path):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NGFF_KG_TAXONOMY", "off")
        load_taxonomy.cache_clear()
        with Catalog(quality_store, read_only=True) as catalog:
            yield catalog.check()
    load_taxonomy.cache_clear()


def by_check(report) -> dict[str, set[tuple[str, str | None]]]:
    found: dict[str, set[tuple[str, str | None]]] = {name: set() for name in CHECKS}
    for f in report.findings:
        found[f.check].add((f.dataset.removeprefix(BASE), f.value))
    return found


def test_findings_match_the_fixture_table(report) -> None:
    found = by_check(report)
    assert found["missing-organism"] == {("no-crate.ome.zarr/", None)}
    assert found["missing-modality"] == {("no-crate.ome.zarr/", None)}
    assert found["missing-license"] == {
        ("no-crate.ome.zarr/", None),
        ("other-ontologies.ome.zarr/", None),
    }
    assert found["missing-name"] == {
        ("no-crate.ome.zarr/", None),
        ("swapped-fields.ome.zarr/", None),
    }
    assert found["unknown-term"] == {
        ("obsolete-unknown.ome.zarr/", fbbi(99999999)),
        ("obsolete-unknown.ome.zarr/", taxon(9627)),
        ("swapped-fields.ome.zarr/", "https://example.org/my-organism"),
    }
    assert found["obsolete-term"] == {("obsolete-unknown.ome.zarr/", fbbi(242))}
    assert found["wrong-ontology"] == {
        ("other-ontologies.ome.zarr/", OBO + "NCIT_C16853"),
        ("other-ontologies.ome.zarr/", OBO + "MI_0040"),
        ("other-ontologies.ome.zarr/", OBO + "OBI_0001631"),
        ("other-ontologies.ome.zarr/", "http://edamontology.org/topic_Light-sheet_microscopy"),
        ("swapped-fields.ome.zarr/", fbbi(246)),
        ("swapped-fields.ome.zarr/", taxon(10090)),
    }
    assert found["suspicious-organism"] == {("hela-as-mouse.ome.zarr/", taxon(10090))}
    assert report.counts() == {
        "missing-organism": 1,
        "missing-modality": 1,
        "missing-license": 2,
        "missing-name": 2,
        "unknown-term": 2,
        "obsolete-term": 1,
        "wrong-ontology": 2,
        "suspicious-organism": 1,
        "ngff-violation": 0,  # the fixtures are valid NGFF 0.5
    }
    assert not report.ok


def test_details_say_what_is_wrong(report) -> None:
    details = {(f.check, f.value): f.detail for f in report.findings}
    assert "install ngff-kg[taxonomy]" in details[("unknown-term", taxon(9627))]
    assert "NCI Thesaurus" in details[("wrong-ontology", OBO + "NCIT_C16853")]
    assert "expects FBbi" in details[("wrong-ontology", OBO + "NCIT_C16853")]
    assert "wide field light micrograph" in details[("obsolete-term", fbbi(242))]
    suspicious = details[("suspicious-organism", taxon(10090))]
    assert "HeLa" in suspicious and "Homo sapiens" in suspicious and "Mus musculus" in suspicious
    kinds = {r["kind"] for r in report.repairs}
    assert {"TermIdentifierRepair", "UndefinedTermRepair", "LicenseLiteralRepair"} <= kinds


def test_other_ontology_terms_are_kept_and_typed(quality_store: Path) -> None:
    with Catalog(quality_store, read_only=True) as catalog:
        rows = catalog.query("dataset-terms", field="modality").values()
        kept = {r["term"] for r in rows if r["dataset"].endswith("other-ontologies.ome.zarr/")}
        assert kept == {
            OBO + "NCIT_C16853",
            OBO + "MI_0040",
            OBO + "OBI_0001631",
            "http://edamontology.org/topic_Light-sheet_microscopy",
        }
        store = catalog.store.oxigraph
        defined_by = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#isDefinedBy")
        for term, ontology in [
            (OBO + "NCIT_C16853", OBO + "ncit.owl"),
            (OBO + "MI_0040", OBO + "mi.owl"),
            (OBO + "OBI_0001631", OBO + "obi.owl"),
            ("http://edamontology.org/topic_Light-sheet_microscopy", "http://edamontology.org"),
            (fbbi(246), OBO + "fbbi.owl"),  # the FBbi term in the organism field
        ]:
            objects = {
                q.object.value
                for q in store.quads_for_pattern(ox.NamedNode(term), defined_by, None)
            }
            assert ontology in objects, term
        # the identifiers were normalized, and that is recorded
        repairs = catalog.query("repairs", kind="TermIdentifierRepair").values()
        # (obo:MI_0040 needs none: the crate's context defines the obo prefix)
        assert {"NCIT:C16853", "OBI:0001631"} <= {r["original"] for r in repairs}
        # such a term can be searched for by its identifier
        assert catalog.query("find-datasets", modality="NCIT:C16853").column("dataset") == [
            BASE + "other-ontologies.ome.zarr/"
        ]


def test_missing_counts_agree_with_the_missing_metadata_query(quality_store: Path, report) -> None:
    with Catalog(quality_store, read_only=True) as catalog:
        counts = {r["field"]: r["datasets"] for r in catalog.query("missing-metadata").values()}
    assert {f"missing-{k}": v for k, v in counts.items()} == {
        k: v for k, v in report.counts().items() if k.startswith("missing-")
    }


def test_cell_lines() -> None:
    assert [c.name for c in cell_lines_in("siRNA screen in HeLa cells")] == ["HeLa"]
    assert [c.name for c in cell_lines_in("NIH/3T3 fibroblasts and U2OS")] == ["U2OS", "NIH 3T3"]
    assert cell_lines_in("Chelation in the cho-rd region, by Cho et al.") == []
    assert cell_lines_in("helical filaments") == []
    assert len({c.name for c in CELL_LINES}) == len(CELL_LINES)


def test_examples_lack_only_the_crate_of_the_em_volume() -> None:
    catalog = Catalog(None)
    catalog.harvest([EXAMPLES], base_url="https://")
    report = catalog.check()
    assert {f.check for f in report.findings} == {
        "missing-organism",
        "missing-modality",
        "missing-license",
        "missing-name",
    }
    assert {f.dataset for f in report.findings} == {
        "https://s3.example.net/ngff-public/v0.5/em-volume.ome.zarr/"
    }


# ------------------------------------------------------------------ command line
def test_check_command_formats(quality_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NGFF_KG_TAXONOMY", "off")
    load_taxonomy.cache_clear()
    args = ["check", "--store", str(quality_store)]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "suspicious-organism" in table.output and "repairs applied" in table.output
    assert runner.invoke(app, [*args, "--strict"]).exit_code == 1
    data = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    assert {s["check"]: s["datasets"] for s in data["summary"]}["wrong-ontology"] == 2
    assert len(data["findings"]) == 17 and data["repairs"]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*args, "-f", "csv"]).stdout)))
    assert sum(r["check"] != "repair" for r in rows) == 17
    # every check has findings in the fixtures but ngff-violation (they are valid NGFF)
    assert {r["check"] for r in rows} == set(CHECKS) - {"ngff-violation"} | {"repair"}
    assert runner.invoke(app, [*args, "-f", "yaml"]).exit_code == 2
    load_taxonomy.cache_clear()


def test_check_strict_passes_on_a_clean_store(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "hela.ome.zarr").symlink_to(QUALITY / "hela-as-human.ome.zarr")
    store = tmp_path / "kg"
    assert runner.invoke(app, ["harvest", str(clean), "-s", str(store), "-q"]).exit_code == 0
    result = runner.invoke(app, ["check", "-s", str(store), "--strict"])
    assert result.exit_code == 0, result.output


def test_terms_command() -> None:
    result = runner.invoke(app, ["terms", "house mouse", "-f", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["id"] == "NCBITaxon:10090" and rows[0]["rank_or_parent"] == "species"
    spim = json.loads(
        runner.invoke(app, ["terms", "SPIM", "--ontology", "fbbi", "-f", "json"]).stdout
    )
    assert (
        spim[0]["id"] == "FBbi:00000369" and spim[0]["rank_or_parent"] == "fluorescence microscopy"
    )
    table = runner.invoke(app, ["terms", "confocal", "-n", "3"])
    assert table.exit_code == 0 and "FBbi:00000251" in table.output
    none = runner.invoke(app, ["terms", "qqqqzzzz"])
    assert none.exit_code == 1 and "no term matches" in none.output
    bad = runner.invoke(app, ["terms", "mouse", "--ontology", "go"])
    assert bad.exit_code == 2 and "unknown ontology" in bad.output and "Traceback" not in bad.output


def test_repairs_query_counts_datasets_like_a_plain_join(quality_store: Path) -> None:
    """The repairs query counts per shared repair set; a plain per-dataset join agrees."""
    plain = """PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>
    SELECT ?kind ?original ?repaired (COUNT(DISTINCT ?dataset) AS ?datasets) WHERE {
      ?dataset a nkg:OmeZarrDataset ; nkg:repairSet/nkg:repair ?repair .
      ?repair nkg:repairKind ?k ; nkg:originalValue ?original ; nkg:repairedValue ?repaired .
      BIND(STRAFTER(STR(?k), "#") AS ?kind)
    } GROUP BY ?kind ?original ?repaired"""
    with Catalog(quality_store, read_only=True) as catalog:
        fast = catalog.query("repairs").values()
        slow = catalog.query(plain).values()
    key = lambda r: (r["kind"], r["original"], r["repaired"])  # noqa: E731
    assert sorted(fast, key=key) == sorted(slow, key=key) and len(fast) > 10


def test_docs_document_queries_commands_and_cell_lines() -> None:
    queries = (ROOT / "docs" / "queries.md").read_text("utf-8")
    for name in library():
        assert f"| `{name}` |" in queries, f"docs/queries.md's query table lacks {name}"
    ontologies = (ROOT / "docs" / "ontologies.md").read_text("utf-8")
    for command in ("ngff-kg terms TEXT", "ngff-kg check --store DIR", "ngff-kg[taxonomy]"):
        assert command in ontologies
    assert f"a table of {len(CELL_LINES)}:" in ontologies


def test_nothing_touches_the_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("NGFF_KG_TAXONOMY", "off")
    load_taxonomy.cache_clear()
    catalog = Catalog(tmp_path / "kg")
    assert catalog.harvest([QUALITY], base_url=BASE).ok
    assert catalog.terms("house mouse")[0].term.curie == "NCBITaxon:10090"
    found = catalog.query("find-datasets", organism="Mammalia", modality="confocal microscopy")
    assert sorted(found.column("dataset")) == [  # find-datasets does not sort
        BASE + "hela-as-human.ome.zarr/",
        BASE + "hela-as-mouse.ome.zarr/",
    ]
    assert len(catalog.query("find-datasets", organism="Mammalia").rows) == 3
    assert not catalog.check().ok
    load_taxonomy.cache_clear()

"""Enrich: each fixture crate keeps everything, becomes readable, is stable; the command is safe.

Properties 1, 2, 4 and 6 are defined in ``enrichcheck``; the corpus runs are at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import corpus_reference as ref
import pytest
from conftest import CRATES, EXAMPLES, TREE, fbbi, taxon
from enrichcheck import NOW, check_enriched, enrich, fast_triples, pyld_triples
from rdfcompare import load
from typer.testing import CliRunner

from ngff_kg import Catalog
from ngff_kg.cli import app
from ngff_kg.enrich import EnrichOptions, enrich_targets, serialize
from ngff_kg.enrich.crate import license_name
from ngff_kg.enrich.facts import Axis, DatasetFacts
from ngff_kg.errors import ExtractionError, SourceNotFoundError, UsageError
from ngff_kg.normalize.jsonld import JsonLdConverter

DS = "https://example.org/ds/"
CRATE = "ro-crate-metadata.json"
runner = CliRunner()
FIXTURES = [
    "challenge.json",
    "variants-taxon.json",
    "variants-fbbi.json",
    "licence-spelling.json",
    "license-iri.json",
    "license-spdx.json",
    "self-defined.json",
    "unlinked-biosample.json",
    "root-absolute.json",
]


@pytest.fixture(scope="module")
def converter() -> JsonLdConverter:
    return JsonLdConverter()


def files(root: Path) -> dict[str, str]:
    """Every file below ``root`` with the sha256 of its bytes (symlinks as their target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            out[str(path.relative_to(root))] = "-> " + os.readlink(path)
        elif path.is_file():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# --------------------------------------------------------------------------- crates


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_crates(name: str, converter: JsonLdConverter) -> None:
    doc = load(CRATES / name)
    result = enrich(doc, DS, converter)
    assert result.changed
    check_enriched(doc, result.doc, DS, converter, pyld_triples)
    again = enrich(json.loads(serialize(result.doc)), DS, converter, now=NOW.replace(year=2030))
    assert not again.changed
    assert serialize(again.doc) == serialize(result.doc)


def test_challenge_crate_reads_as_meant_in_plain_json_ld(converter: JsonLdConverter) -> None:
    doc = load(CRATES / "challenge.json")
    new = enrich(doc, DS, converter).doc
    triples = pyld_triples(new, DS + CRATE)
    ds = f"<{DS}>"
    assert (ds, "<http://schema.org/measurementTechnique>", f"<{fbbi(243)}>") in triples
    assert (ds, "<http://schema.org/taxonomicRange>", f"<{taxon(10090)}>") in triples
    lic = "<https://creativecommons.org/licenses/by/4.0/>"
    assert (ds, "<http://schema.org/license>", lic) in triples
    assert (lic, "<http://schema.org/name>", '"CC BY 4.0"') in triples
    term = f"<{taxon(10090)}>"
    assert (term, "<http://schema.org/name>", '"Mus musculus"') in triples
    assert (term, "<http://schema.org/termCode>", '"NCBITaxon:10090"') in triples
    assert (
        term,
        "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
        "<http://schema.org/DefinedTerm>",
    ) in triples
    assert (f"<{fbbi(243)}>", "<http://schema.org/name>", '"bright-field microscopy"') in triples
    descriptor = f"<{DS}{CRATE}>"
    assert (
        descriptor,
        "<http://purl.org/dc/terms/conformsTo>",
        "<https://w3id.org/ro/crate/1.1>",
    ) in triples
    action = f"<{DS}{CRATE}#ngff-kg-enrichment>"
    assert (action, "<http://schema.org/endTime>", '"2026-01-02T03:04:05Z"') in triples
    assert (action, "<http://schema.org/instrument>", "<https://w3id.org/ngff-kg>") in triples
    # the profile's terms are defined exactly as the harvester's patch reads them
    local = new["@context"][-1]
    assert local["fbbi_id"] == {"@id": "http://schema.org/measurementTechnique", "@type": "@id"}
    assert local["resultOf"] == {"@reverse": "http://schema.org/result", "@type": "@id"}
    # the original context entries stay, in order
    assert list(local)[: len(doc["@context"][-1])] == list(doc["@context"][-1])


def test_facts_become_property_values(converter: JsonLdConverter) -> None:
    facts = DatasetFacts(
        kind="image",
        ngff_version="0.5",
        converter_name="ome2024-ngff-challenge",
        converter_version="1.0.2",
        axes=[
            Axis("c", "channel"),
            Axis("y", "space", "micrometer", 0.5, 512),
            Axis("x", "space", "micrometer", 0.5, 256),
        ],
        shape="2,512,256",
        levels=3,
        channel_count=2,
        channels=["DAPI", None],
    )
    new = enrich(load(CRATES / "challenge.json"), DS, converter, facts).doc
    values = {n["@id"]: n for n in new["@graph"] if n.get("@type") == "PropertyValue"}
    assert values["#ngff-kg-shape"]["value"] == "2,512,256"
    assert values["#ngff-kg-pixel-size-x"]["value"] == 0.5
    assert values["#ngff-kg-pixel-size-x"]["unitCode"] == {
        "@id": "http://qudt.org/vocab/unit/MicroM"
    }
    assert values["#ngff-kg-channel-0"]["value"] == "DAPI"
    assert "#ngff-kg-channel-1" not in values and "#ngff-kg-pixel-size-c" not in values
    assert (
        values["#ngff-kg-converter-version"]["propertyID"]
        == "https://w3id.org/ngff-kg/vocab#converterVersion"
    )
    root = next(n for n in new["@graph"] if n["@id"] == "./")
    assert [r["@id"] for r in root["additionalProperty"]] == list(values)
    # changed facts replace the old ones, and the action is dated again
    fewer = DatasetFacts(kind="image")
    later = NOW.replace(year=2027)
    again = enrich(new, DS, converter, fewer, now=later)
    assert again.changed
    ids = [n["@id"] for n in again.doc["@graph"]]
    assert "#ngff-kg-shape" not in ids and "#ngff-kg-kind" in ids
    action = next(n for n in again.doc["@graph"] if n["@id"] == "#ngff-kg-enrichment")
    assert action["endTime"].startswith("2027")


@pytest.mark.parametrize(
    ("iri", "name"),
    [
        ("https://creativecommons.org/licenses/by-nc-sa/4.0/", "CC BY-NC-SA 4.0"),
        ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0"),
        ("https://spdx.org/licenses/MIT.html", "MIT"),
        ("https://example.org/license", None),
    ],
)
def test_license_names(iri: str, name: str | None) -> None:
    assert license_name(iri) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [("not-object.json", "JSON object"), ("no-graph.json", "no @graph")],
)
def test_bad_crates_are_refused(name: str, message: str, converter: JsonLdConverter) -> None:
    with pytest.raises(ExtractionError, match=message):
        enrich(load(CRATES / name), DS, converter)


# --------------------------------------------------------------------------- the command


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    return copy


def test_enrich_writes_crates_and_backups_only(tree: Path) -> None:
    before = files(tree)
    report = enrich_targets([tree])
    assert report.ok and report.enriched == 4 and report.backups == 4
    assert [Path(p.path).name for p in report.missing] == ["em-volume.ome.zarr"]
    after = files(tree)
    changed = {k for k in before if before[k] != after[k]}
    assert changed and all(k.endswith(CRATE) for k in changed)
    added = set(after) - set(before)
    assert added == {k + ".orig" for k in changed}
    assert all(after[k + ".orig"] == before[k] for k in changed)
    # a second run changes no byte and writes nothing
    report = enrich_targets([tree])
    assert report.enriched == 0 and report.unchanged == 4
    assert files(tree) == after


def test_enriched_crate_facts_from_the_ngff_metadata(tree: Path) -> None:
    enrich_targets([tree])
    crate = tree / "data.example.org/Example Lab/images/mouse-brain.ome.zarr" / CRATE
    graph = json.loads(crate.read_text("utf-8"))["@graph"]
    values = {n["@id"]: n.get("value") for n in graph if n.get("@type") == "PropertyValue"}
    zarr = json.loads((crate.parent / "zarr.json").read_text("utf-8"))["attributes"]["ome"]
    level0 = json.loads((crate.parent / "0" / "zarr.json").read_text("utf-8"))
    axes = [a["name"] for a in zarr["multiscales"][0]["axes"]]
    assert values["#ngff-kg-axes"] == ",".join(axes)
    assert values["#ngff-kg-shape"] == ",".join(map(str, level0["shape"]))
    assert values["#ngff-kg-resolution-levels"] == len(zarr["multiscales"][0]["datasets"])
    scale = zarr["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert values["#ngff-kg-pixel-size-x"] == pytest.approx(scale[axes.index("x")])


def test_no_backup_and_mode_kept(tree: Path) -> None:
    crate = tree / "data.example.org/Example Lab/screens/plate-1.ome.zarr" / CRATE
    crate.chmod(0o640)
    report = enrich_targets([crate.parent], backup=False)
    assert report.enriched == 1 and report.backups == 0
    assert not crate.with_name(CRATE + ".orig").exists()
    assert (crate.stat().st_mode & 0o777) == 0o640
    assert not [p for p in crate.parent.iterdir() if p.name.endswith(".tmp")]


def test_dry_run_prints_diffs_and_writes_nothing(tree: Path) -> None:
    before = files(tree)
    result = runner.invoke(app, ["enrich", str(tree), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert files(tree) == before
    assert result.output.count("+++ b/") == 4
    assert '-        "@id": "NCBI:txid10090"' in result.output
    assert "would be enriched" in result.output


def test_symlinked_crate_is_not_followed(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    root = tree / "data.example.org/Example Lab/screens/plate-1.ome.zarr"
    shutil.move(root / CRATE, outside)
    (root / CRATE).symlink_to(outside)
    before = outside.read_bytes()
    report = enrich_targets([root])
    assert len(report.failed) == 1 and "symbolic link" in report.failed[0].reason
    assert outside.read_bytes() == before and (root / CRATE).is_symlink()


def test_level0_path_out_of_the_root_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "img.ome.zarr"
    shutil.copytree(EXAMPLES / "data.example.org/Example Lab/images/mouse-brain.ome.zarr", root)
    meta = json.loads((root / "zarr.json").read_text("utf-8"))
    meta["attributes"]["ome"]["multiscales"][0]["datasets"][0]["path"] = "../elsewhere"
    (root / "zarr.json").write_text(json.dumps(meta), "utf-8")
    shutil.copytree(root / "0", tmp_path / "elsewhere")
    enrich_targets([root])
    graph = json.loads((root / CRATE).read_text("utf-8"))["@graph"]
    assert "#ngff-kg-shape" not in {n["@id"] for n in graph}


def test_bad_crate_is_reported_and_left_alone(tmp_path: Path) -> None:
    shutil.copytree(TREE, tmp_path / "tree")
    before = files(tmp_path / "tree")
    result = runner.invoke(app, ["enrich", str(tmp_path / "tree"), "--no-backup"])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # rich wraps long paths
    assert "bad-crate.ome.zarr" in "".join(output.split()) and "invalid JSON" in output
    after = files(tmp_path / "tree")
    bad = next(k for k in before if "bad-crate" in k and k.endswith(CRATE))
    assert after[bad] == before[bad]
    assert not [k for k in after if k.endswith(".tmp")]


def test_create_needs_a_license(tree: Path) -> None:
    root = tree / "s3.example.net/ngff-public/v0.5/em-volume.ome.zarr"
    result = runner.invoke(app, ["enrich", str(root), "--create"])
    assert result.exit_code == 2 and "--license" in result.output
    assert not (root / CRATE).exists()
    result = runner.invoke(app, ["enrich", str(root)])
    assert result.exit_code == 0 and "--create --license" in result.output
    result = runner.invoke(app, ["enrich", str(root), "--create", "--license", "CC-BY-4.0"])
    assert result.exit_code == 0, result.output
    doc = json.loads((root / CRATE).read_text("utf-8"))
    entities = {n["@id"]: n for n in doc["@graph"]}
    assert entities["./"]["license"] == {"@id": "https://spdx.org/licenses/CC-BY-4.0"}
    assert entities["https://spdx.org/licenses/CC-BY-4.0"]["name"] == "CC-BY-4.0"
    assert entities["#ngff-kg-kind"]["value"] == "image"
    assert enrich_targets([root]).unchanged == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["s3://bucket/data"], 2, "local directories only"),
        (["/nonexistent/path"], 2, "does not exist"),
        (["{examples}", "--license", "MIT"], 2, "only used with --create"),
        (["{examples}", "--create", "--license", "not a license"], 2, "license IRI"),
        (["{examples}", "--date-published", "yesterday"], 2, "ISO 8601"),
    ],
)
def test_usage_errors(args: list[str], code: int, message: str) -> None:
    args = [a.format(examples=EXAMPLES) for a in args]
    result = runner.invoke(app, ["enrich", *args])
    assert result.exit_code == code
    assert message in result.output and "Traceback" not in result.output


def test_api_errors() -> None:
    with pytest.raises(SourceNotFoundError):
        enrich_targets(["/nonexistent"])
    with pytest.raises(UsageError):
        enrich_targets([EXAMPLES / "README.md"])


def test_enrich_options_are_checked_once_and_name_their_parameters() -> None:
    options = EnrichOptions(create_license="CC-BY-4.0", date_published="2024-01-01")
    assert options.license == "https://spdx.org/licenses/CC-BY-4.0"
    with pytest.raises(AttributeError):
        options.dry_run = True  # type: ignore[misc]
    with pytest.raises(UsageError, match=r"^create_license must be a license IRI"):
        EnrichOptions(create_license="not a license")
    with pytest.raises(UsageError, match=r"^date_published must be an ISO 8601 date"):
        EnrichOptions(date_published="yesterday")
    with pytest.raises(UsageError, match="batch_size"):
        EnrichOptions(batch_size=0)
    with pytest.raises(UsageError, match="either options or settings"):
        enrich_targets([EXAMPLES], options, dry_run=True)
    # the command line names the flags instead
    result = runner.invoke(app, ["enrich", str(EXAMPLES), "--date-published", "yesterday"])
    assert result.exit_code == 2
    assert "--date-published must be an ISO 8601 date" in result.output


def test_store_facts_equal_in_memory_facts(tree: Path, tmp_path: Path) -> None:
    """With a store, datasets are found by their harvested metadata file or, with --base-url,
    by IRI; the crates written are the ones an in-memory run writes."""
    store = tmp_path / "kg"
    result = runner.invoke(
        app, ["harvest", str(tree), "--store", str(store), "--base-url", "https://"]
    )
    assert result.exit_code == 0
    memory = tmp_path / "memory"
    by_iri = tmp_path / "by-iri"
    shutil.copytree(tree, memory)
    shutil.copytree(tree, by_iri)
    enrich_targets([memory])
    runs = [
        (tree, ["--store", str(store)]),
        (by_iri, ["--store", str(store), "--base-url", "https://"]),
    ]
    for target, args in runs:
        command = ["enrich", str(target), "--date-published", "2024-01-01", *args]
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        for crate in target.rglob(CRATE):
            ours = json.loads(crate.read_text("utf-8"))
            theirs = json.loads((memory / crate.relative_to(target)).read_text("utf-8"))
            for doc in (ours, theirs):  # only the run's time and the published date differ
                for node in doc["@graph"]:
                    node.pop("endTime", None)
                    node.pop("datePublished", None)
            assert ours == theirs
    # a dataset the store does not know is reported with what to do
    with Catalog(store, read_only=True) as catalog:
        report = catalog.enrich([memory])
    assert len(report.failed) == 4 and "harvest it first" in report.failed[0].reason


# --------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def enriched_corpus(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("enriched") / "corpus"
    shutil.copytree(corpus, copy)
    report = enrich_targets([copy])
    assert report.ok, report.failed[:5]
    assert report.enriched == sum(r.has_crate for r in ref.roots(str(corpus)).values()) == 15_159
    assert len(report.missing) == 82
    return copy


def test_corpus_crates_keep_everything_and_read_as_meant(
    enriched_corpus: Path, converter: JsonLdConverter
) -> None:
    """Properties 1, 2, 6 on every crate with ngff-kg's standard expansion (equal to pyld's, see
    test_corpus), and with pyld's own on a sample (NGFF_KG_ENRICH_PYLD=all: on every crate)."""
    every = os.environ.get("NGFF_KG_ENRICH_PYLD") == "all"
    fast = fast_triples(converter)
    crates = sorted(enriched_corpus.rglob(CRATE))
    sample = set(random.Random(5).sample(range(len(crates)), 300))
    for index, crate in enumerate(crates):
        original = json.loads(crate.with_name(CRATE + ".orig").read_text("utf-8"))
        enriched = json.loads(crate.read_text("utf-8"))
        dataset = "https://" + "/".join(crate.parent.relative_to(enriched_corpus).parts) + "/"
        dataset = dataset.replace(" ", "%20")
        check_enriched(original, enriched, dataset, converter, fast)
        if every or index in sample:
            check_enriched(original, enriched, dataset, converter, pyld_triples)
    assert len(crates) == 15_159


def test_corpus_second_run_changes_no_byte(enriched_corpus: Path) -> None:
    before = {p: p.read_bytes() for p in enriched_corpus.rglob(CRATE)}
    report = enrich_targets([enriched_corpus])
    assert report.enriched == 0 and report.unchanged == 15_159 and report.ok
    assert {p: p.read_bytes() for p in enriched_corpus.rglob(CRATE)} == before


def test_corpus_harvest_round_trip(
    enriched_corpus: Path, corpus_catalog: Catalog, tmp_path: Path
) -> None:
    """The catalogue answers are the same; the repairs left are only schema.org https ones."""
    catalog = Catalog(tmp_path / "store")
    report = catalog.harvest([enriched_corpus], base_url="https://")
    assert report.ok and report.datasets_found == 15_241
    for name in (
        "datasets-by-organism",
        "datasets-by-modality",
        "datasets-by-license",
        "datasets-by-source",
        "kinds",
        "find-datasets",
        "channels",
        "axes-units",
        "converters",
    ):
        assert catalog.query(name).rows == corpus_catalog.query(name).rows, name
    # names were filled in (RO-Crate requires one): only that row of missing-metadata changes
    missing = dict(corpus_catalog.query("missing-metadata").rows)
    missing.pop(next(k for k in missing if str(k).endswith('"name"')), None)
    enriched_missing = dict(catalog.query("missing-metadata").rows)
    assert {k: v for k, v in enriched_missing.items() if k in missing} == missing
    assert set(report.repairs) <= {"schema-https"}
    assert set(corpus_catalog.report.repairs) >= {"undefined-term", "term-identifier"}


def _roots(tree: Path) -> dict[str, dict]:
    """Each crate's root entity, by dataset directory relative to ``tree``."""
    out = {}
    for crate in tree.rglob(CRATE):
        doc = json.loads(crate.read_text("utf-8"))
        out[str(crate.parent.relative_to(tree))] = next(
            n for n in doc["@graph"] if n.get("@id") == "./"
        )
    return out


def test_date_published_comes_from_the_metadata_never_from_file_times(
    tree: Path, tmp_path: Path
) -> None:
    """The crate's dateCreated, else the images' OME-XML AcquisitionDate (read here with
    ElementTree), else nothing and a warning; the crate files' time is never used."""
    import xml.etree.ElementTree as ET

    mouse = "data.example.org/Example Lab/images/mouse-brain.ome.zarr"
    spim = "data.example.org/Example Lab/collections/zebrafish-spim.zarr"
    crate = tree / mouse / CRATE
    doc = json.loads(crate.read_text("utf-8"))
    next(n for n in doc["@graph"] if n.get("@id") == "./")["dateCreated"] = "2019-07-01T12:00Z"
    crate.write_text(json.dumps(doc), "utf-8")
    stamps = [
        e.text.strip()
        for e in ET.parse(tree / spim / "OME/METADATA.ome.xml").iter()
        if e.tag.endswith("}AcquisitionDate") and e.text and e.text.strip()
    ]
    before = _roots(tree)
    undated = {
        d
        for d, root in before.items()
        if d not in (mouse, spim) and "dateCreated" not in root and "datePublished" not in root
    }
    assert undated and stamps and not any("datePublished" in r for r in before.values())
    for path in tree.rglob(CRATE):  # a copy made on 2001-02-03: not its publication date
        os.utime(path, (981_158_400, 981_158_400))
    store = tmp_path / "kg"
    with Catalog(store) as catalog:
        assert catalog.harvest([tree], base_url="https://").ok
    for from_store in (False, True):
        copy = tmp_path / f"copy-{from_store}"
        shutil.copytree(tree, copy)
        with Catalog(store if from_store else None, read_only=from_store) as catalog:
            settings = {"base_url": "https://"} if from_store else {}
            report = catalog.enrich([copy], from_store=from_store, **settings)
        assert report.ok, report.failed
        after = _roots(copy)
        assert after[mouse]["datePublished"] == "2019-07-01"
        assert after[spim]["datePublished"] == min(stamps)[:10]
        assert all("datePublished" not in after[d] for d in undated)
        assert "2001-02-03" not in {r.get("datePublished") for r in after.values()}
        warned = {str(Path(p.path).relative_to(copy)) for p in report.warnings}
        assert undated <= warned
        assert all("datePublished" in p.reason for p in report.warnings)
    # the option, when given, is what the user says: it fills every root without one
    report = enrich_targets([tree], date_published="2024-01-01")
    assert {r["datePublished"] for r in _roots(tree).values()} == {"2024-01-01"}
    assert report.ok and not report.warnings

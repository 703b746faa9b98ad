"""Harvest of the examples and the fixture tree: datasets, failures, provenance, re-harvest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import EXAMPLES, NKG, TREE, fbbi, taxon

from ngff_kg import Catalog, SourceNotFoundError, UsageError
from ngff_kg.harvest.dataset import _files_json

EX = "https://data.example.org/Example%20Lab/"
MOUSE_BRAIN = EX + "images/mouse-brain.ome.zarr/"


def values(catalog: Catalog, name: str, **params: str) -> list[dict]:
    return catalog.query(name, **params).values()


def test_examples_harvest_report(examples_catalog: Catalog) -> None:
    report = examples_catalog.report
    assert (report.datasets_found, report.datasets_harvested, report.crates) == (5, 5, 4)
    assert report.failed == [] and report.warnings == []
    assert report.sample_lists == 2 and report.sample_rows == 5


def test_examples_catalogue(examples_catalog: Catalog) -> None:
    organisms = {
        r["organism"]: r["datasets"] for r in values(examples_catalog, "datasets-by-organism")
    }
    assert organisms == {taxon(10090): 1, taxon(9606): 1, taxon(7955): 1, taxon(4932): 1}
    kinds = {(r["kind"], r["version"]): r["datasets"] for r in values(examples_catalog, "kinds")}
    assert kinds == {
        ("image", "0.5"): 2,
        ("plate", "0.5"): 1,
        ("bioformats2raw", "0.5"): 1,
        ("image", "0.4"): 1,
    }
    plates = values(examples_catalog, "plates")
    assert plates == [
        {
            "dataset": EX + "screens/plate-1.ome.zarr/",
            "name": "Example plate 1",
            "rows": 2,
            "columns": 3,
            "wells": 4,
            "fields": 2,
        }
    ]
    sources = {
        r["source"]: (r["datasets"], r["bytes"])
        for r in values(examples_catalog, "datasets-by-source")
    }
    assert sum(b for _, b in sources.values()) == 880_504_320
    assert {s: d for s, (d, _) in sources.items()} == {"data.example.org": 3, "s3.example.net": 2}


def test_axes_and_channels(examples_catalog: Catalog) -> None:
    axes = {(r["axis"], r["type"], r["unit"]) for r in values(examples_catalog, "axes-units")}
    assert ("z", "space", "micrometer") in axes
    assert ("c", "channel", None) in axes
    channels = {r["label"] for r in values(examples_catalog, "channels")}
    assert {"DAPI", "GFP"} <= channels


def test_dataset_graph_and_provenance(examples_catalog: Catalog) -> None:
    store = examples_catalog.store.oxigraph
    graph = ox.NamedNode(MOUSE_BRAIN)
    quads = list(store.quads_for_pattern(None, None, None, graph))
    predicates = {q.predicate.value for q in quads if q.subject == graph}
    assert {
        NKG + "metadataSource",
        NKG + "contentHash",
        "http://www.w3.org/ns/prov#wasGeneratedBy",
    } <= predicates
    hashes = [q.object.value for q in quads if q.predicate.value == NKG + "contentHash"]
    assert len(hashes) == 1 and hashes[0].startswith("sha256:")
    run = next(q.object for q in quads if q.predicate.value.endswith("wasGeneratedBy"))
    assert list(store.quads_for_pattern(run, None, None))  # the run is described


def test_find_datasets_any_spelling(examples_catalog: Catalog) -> None:
    for spelling in ("NCBI:txid10090", "NCBITaxon:10090", taxon(10090), "obo:NCBITaxon_10090"):
        rows = values(examples_catalog, "find-datasets", organism=spelling)
        assert rows == [{"dataset": MOUSE_BRAIN}]
    rows = values(
        examples_catalog, "find-datasets", organism="NCBI:txid10090", modality="FBbi:00000243"
    )
    assert rows == []
    # confocal is a fluorescence microscopy: the hierarchy is followed
    rows = values(
        examples_catalog, "find-datasets", organism="NCBI:txid10090", modality="FBbi:00000246"
    )
    assert rows == [{"dataset": MOUSE_BRAIN}]
    rows = values(examples_catalog, "find-datasets", modality=fbbi(251))
    assert rows == [{"dataset": MOUSE_BRAIN}]
    assert len(values(examples_catalog, "find-datasets")) == 5


def test_tree_failures_are_reported_and_kept(tree_catalog: Catalog) -> None:
    report = tree_catalog.report
    assert report.datasets_found == 7
    failed = {Path(p.path).name: p.reason for p in report.failed}
    assert set(failed) == {"bad-crate.ome.zarr", "bad-multiscales.ome.zarr"}
    assert "invalid JSON" in failed["bad-crate.ome.zarr"]
    assert "multiscales" in failed["bad-multiscales.ome.zarr"]
    assert any("broken-zarr-json" in w.path for w in report.warnings)
    # failed datasets stay in the catalogue with what could be read, and say what went wrong
    assert len(values(tree_catalog, "find-datasets")) == 7
    errors = tree_catalog.query(
        "SELECT ?d ?e WHERE { ?d <https://w3id.org/ngff-kg/vocab#extractionError> ?e }"
    ).values()
    assert len(errors) == 2


def test_tree_sample_list_matches_every_root(tree_catalog: Catalog) -> None:
    rows = tree_catalog.query(
        "SELECT ?d ?b WHERE { ?d a <https://w3id.org/ngff-kg/vocab#OmeZarrDataset> ; "
        "<http://www.w3.org/ns/dcat#byteSize> ?b }"
    ).values()
    assert sum(r["b"] for r in rows) == 1_753_088
    assert "https://tree.example.org/zarr-v2/old%20image.zarr/" in {r["d"] for r in rows}


def test_reharvest_replaces_a_dataset_graph(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE / "lab-b", tree / "lab-b")
    store = tmp_path / "store"
    with Catalog(store) as catalog:
        catalog.harvest([tree], base_url="https://tree.example.org/")
        graph = ox.NamedNode("https://tree.example.org/lab-b/img-two.ome.zarr/")
        first = list(catalog.store.oxigraph.quads_for_pattern(None, None, None, graph))
        crate = tree / "lab-b" / "img-two.ome.zarr" / "ro-crate-metadata.json"
        doc = json.loads(crate.read_text())
        text = json.dumps(doc).replace("NCBI:txid9606", "NCBI:txid10090")
        crate.write_text(text)
        catalog.harvest([tree], base_url="https://tree.example.org/")
        organisms = [r["organism"] for r in values(catalog, "datasets-by-organism")]
        assert organisms == [taxon(10090)]
        runs = catalog.query("SELECT ?r WHERE { ?r a <http://www.w3.org/ns/prov#Activity> }").rows
        assert len(runs) == 2
        # the graph was replaced, not added to: same shape, the old organism gone
        second = list(catalog.store.oxigraph.quads_for_pattern(None, None, None, graph))
        assert len(second) == len(first)
        assert "9606" not in " ".join(str(q) for q in second)
    # the store on disk is readable afterwards
    with Catalog(store, read_only=True) as again:
        assert [r["datasets"] for r in values(again, "datasets-by-organism")] == [1]


def test_missing_source_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError):
        Catalog(None).harvest([tmp_path / "nope"])
    with pytest.raises(UsageError, match="base-url"):
        Catalog(None).harvest([TREE], base_url="tree.example.org")


def test_file_iris_without_base_url(tmp_path: Path) -> None:
    shutil.copytree(TREE / "plain-group", tmp_path / "with space")
    catalog = Catalog(None)
    catalog.harvest([tmp_path])
    datasets = [r["dataset"] for r in values(catalog, "find-datasets")]
    assert datasets == [(tmp_path / "with space" / "inner.ome.zarr").as_uri() + "/"]


def test_examples_unchanged_by_harvest() -> None:
    # harvesting never writes beside the data
    before = sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*"))
    Catalog(None).harvest([EXAMPLES], base_url="https://")
    assert sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*")) == before


def test_examples_images(examples_catalog: Catalog) -> None:
    """The nested images, labels, plate field and OME-XML of the examples show up."""
    images = {r["image"]: r for r in values(examples_catalog, "image-summary")}
    spim = EX + "collections/zebrafish-spim.zarr/0/"
    field = EX + "screens/plate-1.ome.zarr/A/1/0/"
    assert set(images) == {
        MOUSE_BRAIN,
        spim,
        field,
        "https://s3.example.net/ngff-public/v0.4/yeast-cells.zarr/",
        "https://s3.example.net/ngff-public/v0.5/em-volume.ome.zarr/",
    }
    assert images[MOUSE_BRAIN]["scale"] == "1.0,1.0,0.5,0.2,0.2"
    assert images[MOUSE_BRAIN]["shape"] == "1,2,64,2048,2048"
    assert images[spim]["channel_labels"] == "GFP|mCherry"
    assert images[field]["channel_labels"] == "Hoechst 33342|Alexa Fluor 488"
    assert values(examples_catalog, "plate-summary") == [
        {
            "plate": EX + "screens/plate-1.ome.zarr/",
            "rows": 2,
            "columns": 3,
            "wells": 4,
            "fields": 2,
        }
    ]
    assert values(examples_catalog, "objectives") == [
        {"magnification": 20.0, "na": 1.0, "immersion": "Water", "count": 1}
    ]
    vendor = values(examples_catalog, "vendor-metadata", key="laserpower")
    assert vendor == [
        {
            "image": spim,
            "dataset": EX + "collections/zebrafish-spim.zarr/",
            "key": "Information|Image|Channel|LaserPower #1",
            "value": "2.5",
        }
    ]
    labels = examples_catalog.query(
        f"SELECT ?l WHERE {{ <{MOUSE_BRAIN}> <{NKG}labelImage> ?l }}"
    ).column("l")
    assert labels == [MOUSE_BRAIN + "labels/nuclei/"]


def test_a_crate_with_an_unknown_context_keeps_the_dataset(tmp_path: Path) -> None:
    """A crate naming a context ngff-kg does not ship is read with the contexts it knows; the
    terms only the unknown one defines are recorded, with a warning; nothing is dropped."""
    root = tmp_path / "lab" / "mouse-brain.ome.zarr"
    shutil.copytree(EXAMPLES / "data.example.org" / "Example Lab" / "images" / root.name, root)
    crate_file = root / "ro-crate-metadata.json"
    crate = json.loads(crate_file.read_text())
    unknown = "https://example.org/lab-terms/context.jsonld"
    crate["@context"].insert(1, unknown)
    crate["@graph"][0]["labNotebookPage"] = "p. 42"  # defined by no known context
    crate_file.write_text(json.dumps(crate))
    with Catalog(None) as catalog:
        report = catalog.harvest([tmp_path / "lab"], base_url="https://lab.example/")
        assert report.ok and report.datasets_harvested == 1, report.failed
        assert any(unknown in w.reason for w in report.warnings), report.warnings
        ds = ox.NamedNode("https://lab.example/mouse-brain.ome.zarr/")
        store = catalog.store.oxigraph
        facts = {
            (q.predicate.value, q.object.value) for q in store.quads_for_pattern(ds, None, None)
        }
    # the crate's facts from the known contexts, and the image's NGFF facts
    assert ("http://schema.org/name", crate["@graph"][0]["name"]) in facts
    assert ("http://schema.org/taxonomicRange", taxon(10090)) in facts
    assert any(p == NKG + "image" for p, _ in facts)
    assert (NKG + "undefinedTerm", "labNotebookPage") in facts


@pytest.mark.parametrize(
    "files",
    [
        [("zarr.json", 194, 1796530344492827149), ("ro-crate-metadata.json", -1, 0)],
        [("Zürich/zarr.json", 10, 1), ("a b/.zattrs", 2, 3)],  # non-ASCII: escaped
        [(".zattrs", 5, '"etag-with-quotes"'), ("tab\there/zarr.json", 1, 2)],
        [("zarr.json", 2**70, 0)],  # beyond 64 bits
    ],
)
def test_source_files_are_written_as_the_standard_library_writes_them(files: list) -> None:
    assert _files_json(files) == json.dumps(files, separators=(",", ":"))


def test_full_collections_are_rare_during_a_harvest_only(monkeypatch, tmp_path: Path) -> None:
    """The collector's third threshold is raised while datasets are read and written, and
    given back afterwards, also when the run ends in an error."""
    import gc

    from ngff_kg.harvest import jobs, run

    seen: list[tuple[int, int, int]] = []
    add = jobs.Extraction.add

    def spied(self, found, iri):  # type: ignore[no-untyped-def]
        seen.append(gc.get_threshold())
        return add(self, found, iri)

    monkeypatch.setattr(jobs.Extraction, "add", spied)
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], 7)
    try:
        Catalog(None).harvest([TREE / "lab-b"], base_url="https://tree.example.org/")
        assert seen and all(t == (before[0], before[1], run.FULL_COLLECTION_EVERY) for t in seen)
        assert gc.get_threshold() == (before[0], before[1], 7)

        def failing(self, found, iri):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

        monkeypatch.setattr(jobs.Extraction, "add", failing)
        with pytest.raises(KeyboardInterrupt):
            Catalog(tmp_path / "store").harvest([TREE / "lab-b"])
        assert gc.get_threshold() == (before[0], before[1], 7)
    finally:
        gc.set_threshold(*before)


def test_overlapping_harvests_give_the_thresholds_back_once_both_end() -> None:
    """Harvests in two threads overlap: the thresholds stay raised until the last ends,
    then are those of before the first, whichever ends first."""
    import gc

    from ngff_kg.harvest.run import FULL_COLLECTION_EVERY, fewer_full_collections

    before = gc.get_threshold()
    raised = (before[0], before[1], max(before[2], FULL_COLLECTION_EVERY))
    first, second = fewer_full_collections(), fewer_full_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == raised
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before

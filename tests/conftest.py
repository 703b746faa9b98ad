"""Shared fixtures: paths, the real corpus (skipped where absent), harvested stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from ngff_kg import Catalog

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CRATES = DATA / "crates"
TREE = DATA / "tree"
EXAMPLES = ROOT / "examples" / "metadata"
CORPUS = ROOT.parent / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"

OBO = "http://purl.obolibrary.org/obo/"
SCHEMA = "http://schema.org/"
NKG = "https://w3id.org/ngff-kg/vocab#"


def taxon(n: int) -> str:
    return f"{OBO}NCBITaxon_{n}"


def fbbi(n: int) -> str:
    return f"{OBO}FBbi_{n:08d}"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"challenge corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def corpus_catalog(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The whole corpus harvested once for the session (read by several tests)."""
    store = tmp_path_factory.mktemp("corpus-store")
    catalog = Catalog(store)
    report = catalog.harvest([corpus], base_url="https://")
    assert report.ok, report.failed[:5]
    catalog.report = report  # type: ignore[attr-defined]
    return catalog


@pytest.fixture(scope="session")
def examples_catalog() -> Catalog:
    catalog = Catalog(None)
    report = catalog.harvest([EXAMPLES], base_url="https://")
    assert report.ok, report.failed
    catalog.report = report  # type: ignore[attr-defined]
    return catalog


@pytest.fixture(scope="session")
def tree_catalog() -> Catalog:
    catalog = Catalog(None)
    catalog.report = catalog.harvest(  # type: ignore[attr-defined]
        [TREE], base_url="https://tree.example.org/"
    )
    return catalog

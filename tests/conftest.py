"""Shared fixtures: paths, the real corpus (skipped where absent), harvested stores."""

from __future__ import annotations

import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ngff_kg import Catalog

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "support" / "data"
CRATES = DATA / "crates"
TREE = DATA / "tree"
EXAMPLES = ROOT / "examples" / "metadata"
CORPUS = ROOT.parent / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"

OBO = "http://purl.obolibrary.org/obo/"
SCHEMA = "http://schema.org/"
NKG = "https://w3id.org/ngff-kg/vocab#"


#: Datasets whose organism and imaging method fall under the given terms, by rdfs:subClassOf*
#: in SPARQL: a reference that shares no code with the Python facets.
BY_HIERARCHY = """# param: organism (iri): the broader organism
# param: modality (iri): the broader imaging method
PREFIX schema: <http://schema.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>
PREFIX param: <https://w3id.org/ngff-kg/param#>
SELECT DISTINCT ?dataset WHERE {
  ?dataset a nkg:OmeZarrDataset ;
           schema:taxonomicRange/rdfs:subClassOf* ?organism ;
           schema:measurementTechnique/rdfs:subClassOf* ?modality .
  FILTER(?organism = param:organism() && ?modality = param:modality())
}
"""


#: Modules whose every test is slow: a real browser driving the served catalogue, harvests on
#: a Dask cluster of worker processes, harvests from loopback HTTP and S3 servers, the example
#: scripts (each a harvest in a subprocess).
SLOW_MODULES = {"test_browser.py", "test_distributed.py", "test_remote.py", "test_examples.py"}
#: Single slow tests elsewhere: a second RDF parser (rdflib) reading whole dumps.
SLOW_TESTS = {"test_another_parser_reads_the_dumps"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that reads the 15K-dataset corpus (it asks for the ``corpus``
    fixture, directly or through ``corpus_catalog``) and those of :data:`SLOW_MODULES` and
    :data:`SLOW_TESTS`; ``python -m pytest -m "not slow"`` is then the quick subset
    (docs/development.md)."""
    for item in items:
        name = getattr(item, "originalname", item.name)
        if (
            "corpus" in getattr(item, "fixturenames", ())
            or item.path.name in SLOW_MODULES
            or name in SLOW_TESTS
        ):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def ontology_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store with the ontologies, to copy for each generated example (loading them
    takes seconds)."""
    path = tmp_path_factory.mktemp("ontologies") / "store"
    with Catalog(path) as catalog:
        catalog.store.ensure_ontologies()
    return path


@pytest.fixture(scope="session")
def examples_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples harvested into a store on disk (for servers and exports)."""
    path = tmp_path_factory.mktemp("examples-store") / "store"
    with Catalog(path) as catalog:
        assert catalog.harvest([EXAMPLES], base_url="https://").ok
    return path


@pytest.fixture(scope="session")
def live_server(examples_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``ngff-kg serve`` on 127.0.0.1 (a free port) for the examples store, as a user runs it:
    query timeout 5 s, at most 5000 rows. Stopped after the session; ``timeout`` bounds it to
    CI's 90 minutes (a loaded machine took 18 minutes to reach the last test that uses it)."""
    for module in ("starlette", "uvicorn"):
        pytest.importorskip(module, reason=f"{module} (the serve extra) is not installed")
    command = [sys.executable, "-m", "ngff_kg.cli", "serve", "--store", str(examples_store)]
    command += ["--port", "0", "--timeout", "5", "--limit", "5000", "--workers", "2"]
    if shutil.which("timeout"):
        command = ["timeout", "-k", "10", "5400", *command]
    log = tmp_path_factory.mktemp("server") / "stderr.txt"
    errors = log.open("w")
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=errors, text=True, start_new_session=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout],
        daemon=True,  # type: ignore[union-attr]
    ).start()
    url = None
    deadline = time.monotonic() + 180
    try:
        while url is None and time.monotonic() < deadline and process.poll() is None:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            match = re.search(r"catalogue: (http://127\.0\.0\.1:\d+/)", line)
            url = match.group(1) if match else None
        if url is None:
            process.kill()
            pytest.fail(f"ngff-kg serve did not start: {log.read_text()}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stdout.close()  # type: ignore[union-attr]
        errors.close()

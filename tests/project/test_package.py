"""Packaging: queries, ontologies and contexts ship inside the wheel; docs stay honest."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pyoxigraph as ox
from conftest import ROOT

import ngff_kg
from ngff_kg.queries import library
from ngff_kg.store.knowledge import resource_dir


def test_wheel_contains_package_data(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("ngff_kg-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for query in (ROOT / "queries").glob("*.rq"):
        assert f"ngff_kg/queries/{query.name}" in names
    for ttl in (ROOT / "ontologies").glob("*.ttl"):
        assert f"ngff_kg/ontologies/{ttl.name}" in names
    for context in (ROOT / "src" / "ngff_kg" / "contexts").glob("*.jsonld"):
        assert f"ngff_kg/contexts/{context.name}" in names
    static = ROOT / "src" / "ngff_kg" / "web" / "static"
    for asset in static.rglob("*"):  # vendored YASGUI files included
        if asset.is_file():
            assert f"ngff_kg/web/static/{asset.relative_to(static).as_posix()}" in names
    assert "ngff_kg/py.typed" in names  # PEP 561: users' type checkers read the annotations


def test_resources_are_found() -> None:
    assert {p.name for p in resource_dir("queries").iterdir()} >= {"find-datasets.rq"}
    assert len(library()) >= 11


def test_vocabulary_defines_every_term_used() -> None:
    vocab = ox.Store()
    vocab.load(path=str(ROOT / "ontologies" / "ngff-kg.ttl"), format=ox.RdfFormat.TURTLE)
    defined = {
        str(q.subject.value)
        for q in vocab.quads_for_pattern(
            None, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), None
        )
    }
    texts = [p.read_text("utf-8") for p in (ROOT / "src" / "ngff_kg").rglob("*.py")]
    texts += [p.read_text("utf-8") for p in (ROOT / "queries").glob("*.rq")]
    used = set()
    for text in texts:
        used.update(re.findall(r"nkg:([A-Za-z][A-Za-z0-9]*)", text))
        used.update(re.findall(r'_p\("([A-Za-z][A-Za-z0-9]*)"\)', text))
        used.update(re.findall(r"\{NKG\}([A-Za-z][A-Za-z0-9]*)", text))
    from ngff_kg.normalize.repairs import KINDS

    used.update(local for local, _ in KINDS.values())
    missing = sorted(t for t in used if "https://w3id.org/ngff-kg/vocab#" + t not in defined)
    assert not missing, f"terms used but not defined in ontologies/ngff-kg.ttl: {missing}"


def test_public_names_have_docstrings() -> None:
    for name in ngff_kg.__all__:
        obj = getattr(ngff_kg, name)
        if callable(obj):
            assert obj.__doc__, name

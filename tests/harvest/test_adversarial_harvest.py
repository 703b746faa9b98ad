"""A harvest of ≥ 500 adversarial roots and ≥ 300 real ones: no traceback, bad roots become
reports, and every real dataset's graph is the same as in a harvest of the real roots alone."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from adversarial import KINDS, generate
from conftest import CORPUS
from test_crash_safety import dataset_graphs

from ngff_kg.catalog import Catalog
from ngff_kg.sources.walk import FoundRoot, walk

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")


def _real_roots(count: int) -> list[Path]:
    """The first ``count`` roots of the corpus, as the harvest's walk finds them."""
    roots = (Path(f.path) for f in walk(CORPUS) if isinstance(f, FoundRoot))
    return list(itertools.islice(roots, count))


def test_adversarial_and_real_roots_in_one_harvest(tmp_path: Path) -> None:
    copies = -(-500 // len(KINDS))
    bad = tmp_path / "tree" / "0-adversarial"  # walked first: bad roots come first
    generate(bad, seed=11, copies=copies)
    real = tmp_path / "tree" / "1-real"
    roots = _real_roots(300)
    assert len(roots) >= 300
    for number, root in enumerate(roots):
        shutil.copytree(root, real / f"{number:04d}" / root.name, symlinks=True)

    alone = tmp_path / "alone"
    report = Catalog(alone).harvest([real])
    expected = dataset_graphs(alone)
    assert len(expected) >= 300

    mixed = tmp_path / "mixed"
    report = Catalog(mixed).harvest([tmp_path / "tree"])  # must not raise
    problems = [str(p) for p in report.failed]
    assert not any("Traceback" in p for p in problems)
    graphs = dataset_graphs(mixed)
    for iri, quads in expected.items():
        assert graphs.get(iri) == quads, iri

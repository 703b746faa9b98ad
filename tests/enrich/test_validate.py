"""roc-validator, offline: the original challenge crates fail RO-Crate 1.1, enriched ones pass.

Skipped where roc-validator (the ``validate`` extra) is not installed. Each validation takes
about a second, so the corpus part runs on a few crates; ``benchmarks/enrich.py --validate``
measures more.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES

from ngff_kg.enrich import enrich_targets
from ngff_kg.errors import MissingDependencyError

CRATE = "ro-crate-metadata.json"
SPIM = "data.example.org/Example Lab/collections/zebrafish-spim.zarr"
EM = "s3.example.net/ngff-public/v0.5/em-volume.ome.zarr"


def test_missing_dependency_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ngff_kg.enrich.validate import CrateValidator

    monkeypatch.setitem(sys.modules, "rocrate_validator", None)
    with pytest.raises(MissingDependencyError, match=r"ngff-kg\[validate\]"):
        CrateValidator()


@pytest.fixture(scope="module")
def validator():
    pytest.importorskip("rocrate_validator")
    from ngff_kg.enrich.validate import CrateValidator

    with CrateValidator() as v:
        yield v


def checks(outcome) -> set[str]:
    return {issue.check for issue in outcome.issues}


def test_examples_before_and_after(validator, tmp_path: Path) -> None:
    # roc-validator turns a path with spaces into a broken base IRI: copy to plain names
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES / SPIM, copy / "spim")
    shutil.copytree(EXAMPLES / EM, copy / "em")
    before = validator.validate(copy / "spim")
    assert not before.passed
    messages = " ".join(issue.message for issue in before.issues)
    assert "fbbi_id" in messages and "resultOf" in messages  # undefined terms (check 3.1)
    assert "ro-crate-1.1_8.4" in checks(before)  # no datePublished
    license = "https://creativecommons.org/licenses/by/4.0/"
    report = enrich_targets([copy], create_license=license)
    after = validator.validate(copy / "spim")  # datePublished: its OME-XML AcquisitionDate
    assert after.passed, after.issues
    # nothing says when the EM volume was published: no date is made up, the report says so
    # and the validator finds that one requirement missing
    assert [Path(p.path).name for p in report.warnings] == ["em"]
    assert checks(validator.validate(copy / "em")) == {"ro-crate-1.1_8.4"}
    enrich_targets([copy / "em"], date_published="2024-01-01")
    created = validator.validate(copy / "em")
    assert created.passed, created.issues


def test_the_context_comes_from_the_filled_cache(validator, tmp_path: Path) -> None:
    """Without the bundled contexts in its cache, the offline validator cannot read one."""
    from ngff_kg.enrich.validate import CrateValidator
    from ngff_kg.normalize.jsonld import ContextRegistry

    copy = tmp_path / "spim"
    shutil.copytree(EXAMPLES / SPIM, copy)
    enrich_targets([copy])
    with CrateValidator(registry=ContextRegistry()) as fresh:
        fresh._requester.session.cache.clear()
        outcome = fresh.validate(copy)
    assert not outcome.passed
    assert "ro-crate-1.1_3.2" in checks(outcome)  # the JSON-LD context cannot be retrieved
    assert validator.validate(copy).passed  # the shared validator filled its cache again


def test_corpus_sample(validator, corpus: Path, tmp_path: Path) -> None:
    crates = sorted(corpus.rglob(CRATE))
    for index, path in enumerate(random.Random(11).sample(crates, 3)):
        copy = tmp_path / str(index)
        shutil.copytree(path.parent, copy)
        assert not validator.validate(copy).passed
        report = enrich_targets([copy])
        if report.warnings:  # no date in its metadata: the one requirement left, reported
            assert checks(validator.validate(copy)) <= {"ro-crate-1.1_8.4"}
            enrich_targets([copy], date_published="2024-01-01")
        outcome = validator.validate(copy)
        assert outcome.passed, (path, outcome.issues)

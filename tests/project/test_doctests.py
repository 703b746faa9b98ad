"""Every module's docstring examples run, from the ngff_kg that is imported.

The examples are found in the package as installed (an editable install: the source tree; CI's
``pip install '.[test]'``: site-packages), so they run against the same code the other tests
use; collecting ``src/`` with ``--doctest-modules`` would import a second copy beside the
installed one.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ngff_kg

MODULES = sorted(info.name for info in pkgutil.walk_packages(ngff_kg.__path__, prefix="ngff_kg."))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_every_module_is_found() -> None:
    assert {"ngff_kg.catalog", "ngff_kg.rdf", "ngff_kg.harvest.run", "ngff_kg.web.app"} <= set(
        MODULES
    )


@pytest.mark.parametrize("name", ["ngff_kg", *MODULES])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed"

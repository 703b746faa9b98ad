"""Local datasets read by worker processes: the same graphs and reports as in the harvesting
process, and a worker that dies takes no other dataset with it."""

from __future__ import annotations

import shutil
from pathlib import Path

import dying_workers
import pytest
from adversarial import generate
from conftest import TREE
from test_crash_safety import dataset_graphs

from ngff_kg import Catalog
from ngff_kg.errors import UsageError
from ngff_kg.harvest import HarvestOptions, HarvestReport
from ngff_kg.harvest import jobs as jobs_module
from ngff_kg.harvest.dataset import DatasetOutcome
from ngff_kg.harvest.jobs import JobSettings
from ngff_kg.harvest.processes import LocalWorkers, WorkersUnavailable
from ngff_kg.normalize.jsonld import ContextRegistry
from ngff_kg.sources.remote import RemoteOptions
from ngff_kg.sources.walk import FoundRoot, walk

RUN = "<https://w3id.org/ngff-kg/run/test>"


@pytest.fixture(scope="module")
def mixed_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test tree (good and broken roots, a CSV list) and one copy of every adversarial
    kind: enough roots that several jobs of several roots each go to the workers."""
    tree = tmp_path_factory.mktemp("processes") / "tree"
    shutil.copytree(TREE, tree / "fixtures", symlinks=True)
    generate(tree / "adversarial", seed=5, copies=1)
    return tree


def _harvest(store: Path, tree: Path, processes: int) -> HarvestReport:
    with Catalog(store) as catalog:
        return catalog.harvest([tree], processes=processes)


def _failed(report: object) -> list[tuple[str, str, str]]:
    return sorted((p.path, p.stage, p.reason) for p in report.failed)  # type: ignore[attr-defined]


def test_workers_give_the_graphs_and_reports_of_one_process(
    mixed_tree: Path, tmp_path: Path
) -> None:
    one = _harvest(tmp_path / "one", mixed_tree, 1)
    two = _harvest(tmp_path / "two", mixed_tree, 2)
    assert one.datasets_found == two.datasets_found > 40
    assert _failed(one) == _failed(two)
    assert _failed(one), "the tree holds broken roots"
    assert sorted(map(str, one.warnings)) == sorted(map(str, two.warnings))
    assert (one.datasets_harvested, one.crates, one.repairs) == (
        two.datasets_harvested,
        two.crates,
        two.repairs,
    )
    graphs = dataset_graphs(tmp_path / "one")
    assert len(graphs) >= one.datasets_found  # and the sample lists
    assert dataset_graphs(tmp_path / "two") == graphs


def _settings() -> JobSettings:
    return JobSettings(RUN, 10_000, ContextRegistry(), RemoteOptions())


def _roots(tree: Path) -> list[tuple[FoundRoot, str]]:
    found = [f for f in walk(tree) if isinstance(f, FoundRoot)]
    return [(f, f"https://example.org/{i}/") for i, f in enumerate(found)]


def _copies(tmp_path: Path, count: int, marked: int | None) -> Path:
    tree = tmp_path / "copies"
    for number in range(count):
        name = f"{number:02d}-{dying_workers.MARK if number == marked else 'img'}.ome.zarr"
        shutil.copytree(TREE / "Lab A" / "img one.ome.zarr", tree / name)
    return tree


@pytest.mark.parametrize("marked", [0, 21])  # in the first job, or a later one
def test_a_dying_worker_takes_only_its_own_dataset(tmp_path: Path, marked: int) -> None:
    roots = _roots(_copies(tmp_path, 40, marked=marked))
    outcomes: list[DatasetOutcome] = []
    workers = LocalWorkers(_settings(), 2, outcomes.append, extract=dying_workers.exit_on_mark)
    try:
        for found, iri in roots:
            workers.add(found, iri)
        workers.finish()
    finally:
        workers.close()
    assert [o.path for o in outcomes] == [f.path for f, _ in roots]  # all, in order
    failed = [o for o in outcomes if o.errors]
    assert [o.path for o in failed] == [roots[marked][0].path]
    assert "ended abruptly" in failed[0].errors[0].message
    assert all(o.graph.trig.count("\n") > 20 for o in outcomes if not o.errors)


def test_workers_that_cannot_start_are_reported_before_any_root_is_sent() -> None:
    with pytest.raises(WorkersUnavailable, match="could not start"):
        LocalWorkers(_settings(), 2, print, probe=dying_workers.exit_at_once)


class _NeverStarting(LocalWorkers):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, probe=dying_workers.exit_at_once)  # type: ignore[arg-type]


def test_a_harvest_reads_the_datasets_itself_when_workers_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _copies(tmp_path, 40, marked=None)
    expected = _harvest(tmp_path / "one", tree, 1)
    monkeypatch.setattr(jobs_module, "LocalWorkers", _NeverStarting)
    report = _harvest(tmp_path / "two", tree, 2)
    assert report.ok and report.datasets_harvested == expected.datasets_harvested == 40
    assert any("could not start" in w.reason for w in report.warnings)
    assert dataset_graphs(tmp_path / "two") == dataset_graphs(tmp_path / "one")


def test_processes_must_be_positive() -> None:
    with pytest.raises(UsageError, match="processes must be at least 1"):
        HarvestOptions(processes=0)
    assert HarvestOptions(processes=3).local_processes() == (3, 0)

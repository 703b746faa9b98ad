"""The command line: commands, output formats, exit codes, clean errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, TREE
from rdflib.plugins.sparql import prepareQuery
from rich.console import Console
from typer.testing import CliRunner

from ngff_kg import cli
from ngff_kg.catalog import Catalog
from ngff_kg.cli import app
from ngff_kg.queries import library

runner = CliRunner()


def _flat(output: str) -> str:
    """An error message without the box and line breaks rich draws around it."""
    return " ".join(output.replace("│", " ").split())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "kg"
    result = runner.invoke(
        app, ["harvest", str(EXAMPLES), "--store", str(path), "--base-url", "https://"]
    )
    assert result.exit_code == 0, result.output
    return path


def test_harvest_summary(store: Path) -> None:
    result = runner.invoke(
        app, ["harvest", str(EXAMPLES), "--store", str(store), "--base-url", "https://"]
    )
    assert result.exit_code == 0
    assert "datasets found" in result.output and "5" in result.output


def test_failures_exit_1_and_are_listed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["harvest", str(TREE), "--store", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "bad-crate.ome.zarr" in result.output and "invalid JSON" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["harvest", "does-not-exist", "--store", "x"],
        ["harvest", str(TREE), "--store", "x", "--base-url", "no-scheme"],
        ["query", "no-such-query", "--store", "x"],
        ["query", "find-datasets", "--store", "x", "--param", "organism"],
    ],
)
def test_usage_errors_exit_2_without_traceback(
    args: list[str], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (["query", "find-datasets", "--store", "x", "--format", "yaml"], "'table', 'csv', 'tsv'"),
        (["terms", "mouse", "--format", "yaml"], "'table', 'csv', 'json'"),
        (["check", "--store", "x", "--format", "yaml"], "'table', 'csv', 'json'"),
        (["export", "--store", "x", "--format", "yaml"], "'nquads', 'trig', 'turtle'"),
    ],
)
def test_unknown_formats_are_refused_with_the_choices(args: list[str], choices: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    message = _flat(result.output)
    assert "'yaml' is not one of" in message and choices in message
    assert "Traceback" not in result.output


def test_every_command_closes_its_store(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each catalog a command opens is closed, whether the command succeeds or fails."""
    from ngff_kg.catalog import Catalog

    opened: list[Catalog] = []
    closed: list[Catalog] = []
    real_init, real_close = Catalog.__init__, Catalog.close

    def init(self: Catalog, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    def close(self: Catalog) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Catalog, "__init__", init)
    monkeypatch.setattr(Catalog, "close", close)
    commands = [
        (["query", "datasets-by-license", "--store", str(store)], 0),
        (["query", "datasets-by-license", "--store", str(store), "-f", "csv"], 0),
        (["query", "find-datasets", "--store", str(store), "-p", "organism=no such"], 2),
        (["terms", "mouse", "--store", str(store)], 0),
        (["terms", "mouse"], 0),
        (["terms", "mouse", "--limit", "0"], 2),
        (["check", "--store", str(store), "-f", "json"], 0),
        (["export", "--store", str(store), "-f", "turtle"], 0),
    ]
    for args, code in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
    assert len(opened) == len(commands)
    assert [id(c) for c in closed] == [id(c) for c in opened]


def test_query_on_missing_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "datasets-by-license", "--store", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no store at" in result.output


def test_query_formats(store: Path) -> None:
    args = ["query", "datasets-by-organism", "--store", str(store)]
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "NCBITaxon" in table.output
    as_json = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert as_json["head"]["vars"] == ["organism", "label", "datasets"]
    assert len(as_json["results"]["bindings"]) == 4
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*args, "-f", "csv"]).stdout)))
    assert {r["datasets"] for r in rows} == {"1"}
    tsv = runner.invoke(app, [*args, "-f", "tsv"]).stdout.splitlines()
    assert tsv[0] == "?organism\t?label\t?datasets"


def test_query_with_params_and_sparql_text(store: Path) -> None:
    result = runner.invoke(
        app,
        ["query", "find-datasets", "-s", str(store), "-p", "organism=NCBI:txid7955", "-f", "csv"],
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].endswith("zebrafish-spim.zarr/")
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?d a <https://w3id.org/ngff-kg/vocab#OmeZarrDataset> }"
    assert runner.invoke(app, ["query", text, "-s", str(store), "-f", "csv"]).stdout.split() == [
        "n",
        "5",
    ]


def test_queries_lists_the_library() -> None:
    result = runner.invoke(app, ["queries"])
    assert result.exit_code == 0
    assert "datasets-by-organism" in result.output and "find-datasets" in result.output


def test_every_command_has_help() -> None:
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert command.help, f"command {name} has no help"
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0


def test_version() -> None:
    from ngff_kg import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_queries_prints_the_query_file_as_it_is(tmp_path: Path) -> None:
    """`ngff-kg queries NAME > q.rq` gives the library file byte for byte: a query that
    parses and runs (long lines are not wrapped at the terminal width)."""
    catalog = Catalog(None)
    for name, named in library().items():
        assert named.path is not None
        original = Path(named.path).read_bytes()
        result = runner.invoke(app, ["queries", name], terminal_width=80)
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == original, name
        copy = tmp_path / f"{name}.rq"
        copy.write_bytes(result.stdout_bytes)
        catalog.query(str(copy))  # Oxigraph parses and runs it, parameters bound
        if "LATERAL" not in named.text:  # an Oxigraph extension, not SPARQL 1.1
            prepareQuery(copy.read_text("utf-8"))  # rdflib's SPARQL 1.1 parser
    widest = max(len(line) for q in library().values() for line in q.text.splitlines())
    assert widest > 80  # the check above would have seen wrapping
    assert runner.invoke(app, ["queries", "nope"]).exit_code == 2


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["queries", "datasets-by-organsim"], "Did you mean 'datasets-by-organism'"),
        (["query", "kindz", "--store", "x"], "Did you mean 'kinds'?"),
        (["query", "kinds", "--store", "x", "--format", "jsn"], "Did you mean 'json'?"),
        (["export", "--store", "x", "--format", "turtel"], "Did you mean 'turtle'?"),
        (["terms", "mouse", "--format", "cvs"], "Did you mean 'csv'?"),
        (["terms", "mouse", "--ontology", "ncbitaxo"], "Did you mean 'ncbitaxon'?"),
    ],
)
def test_mistyped_names_get_the_closest(args: list[str], suggestion: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert suggestion in _flat(result.output)


def test_max_nodes_per_dataset_option(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "harvest",
            str(EXAMPLES),
            "--store",
            str(tmp_path / "s"),
            "--max-nodes-per-dataset",
            "1",
            "--show",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output  # a guard is a warning, not a failure
    assert "--max-nodes-per-dataset 1" in result.output and "not read" in result.output
    bad = runner.invoke(
        app,
        ["harvest", str(EXAMPLES), "--store", str(tmp_path / "t"), "--max-nodes-per-dataset", "0"],
    )
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_identifiers_are_never_wrapped_on_80_columns(store: Path) -> None:
    """Every identifier of the results appears whole on one line of an 80-column table (or
    of the row-per-block layout when they do not fit side by side)."""
    terms = runner.invoke(app, ["terms", "mouse", "-n", "5", "-f", "csv"])
    ids = [row["id"] for row in csv.DictReader(io.StringIO(terms.stdout))]
    table = runner.invoke(app, ["terms", "mouse", "-n", "5"], terminal_width=80)
    assert table.exit_code == 0 and "┃ id" in table.stdout  # still a table
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    for identifier in ids:
        assert any(identifier in line for line in table.stdout.splitlines()), identifier
    rows = runner.invoke(app, ["query", "dataset-axes", "-s", str(store), "-f", "csv"])
    datasets = {row["dataset"] for row in csv.DictReader(io.StringIO(rows.stdout))}
    assert datasets and max(len(d) for d in datasets) > 60
    shown = runner.invoke(app, ["query", "dataset-axes", "-s", str(store)], terminal_width=80)
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    for dataset in datasets:
        assert any(dataset in line for line in lines), dataset


def test_harvest_progress_shows_the_total_once_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library announces the total once the sources are walked; the bar shows the count
    out of it and an ETA."""
    seen: list[tuple[str, int]] = []
    with Catalog(None) as catalog:
        report = catalog.harvest(
            [EXAMPLES],
            base_url="https://",
            progress=lambda done: seen.append(("done", done)),
            total=lambda total: seen.append(("total", total)),
        )
    totals = [n for kind, n in seen if kind == "total"]
    done = [n for kind, n in seen if kind == "done"]
    assert totals == [report.datasets_found] and done[-1] == report.datasets_found
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=150))
    result = runner.invoke(app, ["harvest", str(EXAMPLES), "-s", str(tmp_path / "kg")])
    assert result.exit_code == 0, result.output
    shown = screen.getvalue()
    found = report.datasets_found
    assert f"{found}/{found} datasets" in shown and "ETA" in shown

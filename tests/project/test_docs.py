"""README.md stays short and docs/ stays complete: every command and option of ``ngff-kg`` is
documented in the reference file README.md points to, every link resolves, the layout tree
names every stage folder, every benchmark table says its command and date."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import typer.main
from conftest import ROOT

from ngff_kg.cli import app
from ngff_kg.queries import library

README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: README's command table: | `ngff-kg NAME …` | what | [title](docs/FILE.md) |
COMMAND_ROW = re.compile(
    r"^\| `ngff-kg ([a-z-]+)[^`]*` \|[^|]*\| \[[^]]*\]\((docs/[a-z-]+\.md)\) \|$"
)
LINK = re.compile(r"\[[^]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text("utf-8"), flags=re.S)
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def commands() -> dict[str, list[str]]:
    """Each ``ngff-kg`` command and its long options, from the Typer app itself."""
    group = typer.main.get_command(app)
    found = {}
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        names = [o for p in command.params for o in (*p.opts, *p.secondary_opts)]
        options = [o for o in names if o.startswith("--")]
        found[name] = [o for o in options if o != "--help"]
    return found


def test_readme_is_short() -> None:
    assert README.stat().st_size <= 8 * 1024


def test_reference_files_exist() -> None:
    names = {p.name for p in DOCS.glob("*.md")}
    expected = {"harvest.md", "queries.md", "ontologies.md", "graph-model.md", "explore.md"}
    expected |= {"enrich.md", "python-api.md", "development.md", "performance.md"}
    assert expected <= names


def test_readme_links_every_reference_file() -> None:
    linked = set(LINK.findall(README.read_text("utf-8")))
    for path in DOCS.glob("*.md"):
        assert f"docs/{path.name}" in linked, f"README.md does not link docs/{path.name}"


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.name)
def test_local_links_and_anchors_resolve(document: Path) -> None:
    for target in LINK.findall(document.read_text("utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # a web address: not checked offline
        file, _, anchor = target.partition("#")
        path = (document.parent / file).resolve() if file else document
        assert path.exists(), f"{document.name}: {target} does not exist"
        if anchor:
            assert anchor in anchors(path), f"{document.name}: no heading for #{anchor}"


def test_every_command_and_option_is_documented() -> None:
    rows = {}
    for line in README.read_text("utf-8").splitlines():
        match = COMMAND_ROW.match(line)
        if match:
            rows[match.group(1)] = ROOT / match.group(2)
    found = commands()
    assert {"harvest", "query", "serve", "enrich"} <= set(found)
    for name, options in found.items():
        assert name in rows, f"README.md's command table lacks ngff-kg {name}"
        text = rows[name].read_text("utf-8")
        assert f"ngff-kg {name}" in text, f"{rows[name].name} never shows ngff-kg {name}"
        missing = [o for o in options if not re.search(re.escape(o) + r"(?![\w-])", text)]
        assert not missing, f"{rows[name].name} does not document {name} {missing}"


def test_global_options_are_documented() -> None:
    group = typer.main.get_command(app)
    options = [o for p in group.params for o in p.opts if o.startswith("--")]
    assert "--version" in options
    text = README.read_text("utf-8")
    assert all(f"ngff-kg {o}" in text for o in options), options


def test_layout_names_every_stage_folder() -> None:
    text = README.read_text("utf-8")
    tree = text[text.index("```text\nsrc/ngff_kg/") :]
    stages = sorted(p.parent.name for p in (ROOT / "src" / "ngff_kg").glob("*/__init__.py"))
    assert stages, "no stage folder found"
    for stage in stages:
        assert re.search(rf"^  {stage}/ ", tree, flags=re.M), f"layout lacks {stage}/"


def test_every_benchmark_table_has_its_command_and_date() -> None:
    text = (DOCS / "performance.md").read_text("utf-8")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    assert len(sections) >= 5
    benchmarks = {p.name for p in (ROOT / "benchmarks").glob("*.py")}
    for section in sections:
        title = section.splitlines()[0]
        assert re.search(r"^Command: ", section, flags=re.M), f"{title}: no command"
        assert re.search(r"Date: \d{4}-\d{2}-\d{2}\.", section), f"{title}: no date"
        assert re.search(r"^\|---\|", section, flags=re.M), f"{title}: no table"
        for script in re.findall(r"benchmarks/([a-z_]+\.py)", section):
            assert script in benchmarks, f"{title}: benchmarks/{script} does not exist"


def test_markers_used_in_the_docs_are_registered() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    pytest_config = config["tool"]["pytest"]["ini_options"]
    registered = {m.split(":")[0] for m in pytest_config["markers"]}
    text = (DOCS / "development.md").read_text("utf-8") + README.read_text("utf-8")
    used = set(re.findall(r"-m \"(?:not )?([a-z_]+)\"", text))
    assert used and used <= registered
    # every module's docstring examples run (tests/project/test_doctests.py)
    assert (ROOT / "tests" / "project" / "test_doctests.py").is_file()


def test_named_queries_in_examples_exist() -> None:
    names = set(library())
    for document in documents():
        text = document.read_text("utf-8")
        for name in re.findall(r"ngff-kg query ([a-z][a-z0-9-]+)", text):
            assert name in names, f"{document.name} runs ngff-kg query {name}: no such query"
        for name in re.findall(r"\.(?:query|dataframe)\(\"([a-z][a-z0-9-]+)\"", text):
            assert name in names, f"{document.name} runs the query {name}: no such query"


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README's Python block, run as written from a directory holding the examples."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), flags=re.S)
    assert blocks
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    printed: list[str] = []
    exec(blocks[0], {"print": lambda *a: printed.append(" ".join(map(str, a)))})
    assert (tmp_path / "kg-store").is_dir()
    # Mammalia, from the crates' raw JSON: house mouse (10090) and human (9606) are mammals,
    # zebrafish (7955) and baker's yeast (4932) are not (NCBI Taxonomy)
    mammals, others = set(), set()
    for crate in (ROOT / "examples" / "metadata").rglob("ro-crate-metadata.json"):
        text = crate.read_text("utf-8")
        is_mammal = "txid10090" in text or "txid9606" in text
        (mammals if is_mammal else others).add(crate.parent.name)
    assert mammals and others
    assert all(f"/{name}/" in printed[0] for name in mammals), printed
    assert not any(f"/{name}/" in printed[0] for name in others), printed

"""README.md's two commands stay true: CI runs the test command, and the main command works
after a non-editable install into a fresh virtual environment, from any directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")
COMMANDS = re.findall(r"```sh\n(pip install [^\n]+)\n```", README)


def test_readme_has_the_two_commands_near_the_top() -> None:
    assert len(COMMANDS) >= 2
    main, tests = COMMANDS[:2]
    assert main.startswith("pip install . && ngff-kg harvest examples/")
    assert tests == "pip install '.[test]' && python -m pytest -n auto"
    assert README.index(main) < 1500


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text("utf-8")
    tests = COMMANDS[1]
    install, _, run = tests.partition(" && ")
    assert install in script and run in script


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("NGFF_KG_SKIP_INSTALL_TEST") == "1", reason="NGFF_KG_SKIP_INSTALL_TEST=1"
)
def test_main_command_in_a_fresh_venv(tmp_path: Path) -> None:
    """Copy the project, create a venv (reusing the installed dependencies), run the main
    command there, then query from another directory: package data come from the wheel."""
    project = tmp_path / "project"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if files.returncode != 0:
        shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".git", "kg-store"))
    else:
        for name in files.stdout.splitlines():
            source = ROOT / name
            if source.is_file():
                (project / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, project / name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    bindir = env_dir / "bin"
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(env_dir),
    }
    env.pop("PYTHONPATH", None)
    main = COMMANDS[0]
    done = subprocess.run(main, shell=True, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Mus musculus" in done.stdout and "NCBITaxon:10090" in done.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = subprocess.run(
        [
            str(bindir / "ngff-kg"),
            "query",
            "datasets-by-modality",
            "--store",
            str(project / "kg-store"),
            "--format",
            "csv",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert "confocal microscopy" in again.stdout
    # the installed package is the wheel in the venv, not the source tree
    where = subprocess.run(
        [str(bindir / "python"), "-c", "import ngff_kg; print(ngff_kg.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in where.stdout, where.stdout
    assert sys.prefix not in where.stdout

"""The scripts in examples/ run on the bundled example metadata and write what they say."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

SCRIPTS = sorted((ROOT / "examples").glob("*.py"))


def run(script: Path, out: Path) -> subprocess.CompletedProcess[str]:
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)  # absolute: cwd changes
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(str(Path(p).resolve()) for p in paths if p),
    }
    return subprocess.run(
        [sys.executable, str(script), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=out,
        env=env,
        check=False,
    )


def test_there_are_examples() -> None:
    assert {p.name for p in SCRIPTS} >= {
        "hackathon_starter.py",
        "hierarchy_search.py",
        "enrichment_dry_run.py",
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    for module in ("pandas", "matplotlib"):
        pytest.importorskip(module, reason=f"{module} (the notebook extra) is not installed")
    result = run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    if result.stdout.startswith("skipped:"):
        pytest.skip(f"{script.name}: {result.stdout.strip()}")
    assert result.stdout.strip()
    if script.name == "hackathon_starter.py":
        assert "Mus musculus" in result.stdout and "bright-field microscopy" in result.stdout
        chart = tmp_path / "datasets-by-organism-and-modality.png"
        header = chart.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", header[16:24])
        assert width > 500 and height > 200
    if script.name == "hierarchy_search.py":
        assert "2 datasets of a mammal by fluorescence microscopy" in result.stdout
        assert "mouse-brain.ome.zarr" in result.stdout and "plate-1.ome.zarr" in result.stdout

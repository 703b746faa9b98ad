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


def test_starter_chart_is_readable_on_skewed_counts(tmp_path: Path) -> None:
    """Counts as skewed as the corpus's (13,375 mice, then hundreds, then ones) and names as
    long as FBbi's: log scale, each count written, no two labels overlapping, all inside."""
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    import importlib.util

    spec = importlib.util.spec_from_file_location("starter", ROOT / "examples/hackathon_starter.py")
    assert spec is not None and spec.loader is not None
    starter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(starter)
    plt = starter.plt
    long = "focussed ion beam scanning electron microscopy (FIB-SEM)"
    table = pandas.DataFrame(
        {"term": ["a", "b", "c", "d"], "label": ["Mus musculus", long, None, "SPIM"]}
        | {"datasets": [13_375, 307, 2, 1]}
    )
    shown: list = []
    original = plt.Figure.savefig

    def keep(figure, *args, **kwargs):  # look at the figure as it is saved
        shown.append(figure)
        return original(figure, *args, **kwargs)

    plt.Figure.savefig = keep
    try:
        starter.draw_chart([("organism", table), ("imaging method", table)], tmp_path / "c.png")
    finally:
        plt.Figure.savefig = original
    [figure] = shown
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figure).get_renderer()
    frame = figure.bbox
    for axes in figure.axes:
        assert axes.get_xscale() == "log"
        assert [t.get_text() for t in axes.texts] == ["1", "2", "307", "13,375"]  # bottom up
        labels = [t for t in axes.get_yticklabels() if t.get_text()]
        assert "c" in [t.get_text() for t in labels]  # the IRI where there is no label
        boxes = [t.get_window_extent(renderer) for t in labels]
        for i, box in enumerate(boxes):
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, labels[i].get_text()
            assert not any(box.overlaps(other) for other in boxes[i + 1 :])

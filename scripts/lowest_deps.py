"""Run the quick tests against the lowest versions of the runtime dependencies that
pyproject.toml allows.

    python scripts/lowest_deps.py [--target DIR] [-- PYTEST ARGS]

Every runtime dependency is installed at its lower bound (``name==X`` for ``name>=X``, with
whatever those releases need) into a folder of its own, which is put first on the module
path of a pytest run of this checkout (default: ``-m "not slow" -n 2``). Needs PyPI.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lowest_pins() -> list[str]:
    """``name==lower`` for every runtime dependency with a lower bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = []
    for requirement in project["dependencies"]:
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,;\s]*)", requirement)
        if match is None:
            sys.exit(f"no lower bound in {requirement!r}")
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=Path, help="install here (default: a temporary folder)")
    parser.add_argument("pytest", nargs="*", default=["-m", "not slow", "-n", "2"])
    args = parser.parse_args()
    pins = lowest_pins()
    with tempfile.TemporaryDirectory(prefix="ngff-kg-lowest-") as tmp:
        target = args.target or Path(tmp)
        print("installing", " ".join(pins), flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(target), *pins],
            check=True,
        )
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT / "src")])}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.pytest],
            cwd=ROOT,
            env=env,
        )
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())

"""Scale benchmark: synthetic datasets made from corpus crates, harvest time, memory, queries.

    python benchmarks/scale.py [--datasets 100000] [--workdir DIR] [--keep]

Datasets are copies of corpus roots (their ``zarr.json`` and crate) with fresh entity ids,
written under ``WORKDIR/tree/host<k>.example.org/...``. The harvest runs as a separate
process (``ngff-kg harvest``), so its wall time and peak resident memory are the whole
command's. Then every named query runs against the store; the time of each is printed.
Targets (issue #6): 1M datasets harvested in at most 15 min with peak RSS at most 1.5 GB,
each catalogue query at most 2 s. Nothing here is asserted; run by hand.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"
)
_FRAGMENT = re.compile(rb'"#([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')


def templates(corpus: Path) -> list[tuple[bytes, bytes | None]]:
    """(zarr.json, crate) of every corpus root that has a crate."""
    found = []
    for directory, dirs, files in os.walk(corpus):
        if "zarr.json" in files and "ro-crate-metadata.json" in files:
            base = Path(directory)
            found.append(
                ((base / "zarr.json").read_bytes(), (base / "ro-crate-metadata.json").read_bytes())
            )
            dirs[:] = []
    return found


def generate(tree: Path, count: int, sources: list[tuple[bytes, bytes | None]]) -> None:
    for index in range(count):
        zarr_json, crate = sources[index % len(sources)]
        directory = (
            tree / f"host{index % 7}.example.org" / f"set{index // 1000}" / f"ds{index}.ome.zarr"
        )
        directory.mkdir(parents=True)
        (directory / "zarr.json").write_bytes(zarr_json)
        if crate is not None:
            ids: dict[bytes, bytes] = {}

            def fresh(match: re.Match[bytes], ids: dict[bytes, bytes] = ids) -> bytes:
                old = match.group(1)
                new = ids.setdefault(old, str(uuid.uuid4()).encode())
                return b'"#' + new + b'"'

            (directory / "ro-crate-metadata.json").write_bytes(_FRAGMENT.sub(fresh, crate))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated tree and store")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ngff-kg-scale-"))
    tree, store = workdir / "tree", workdir / "store"
    try:
        if not tree.exists():
            started = time.perf_counter()
            generate(tree, args.datasets, templates(args.corpus))
            print(f"generated {args.datasets:,} datasets in {time.perf_counter() - started:.0f} s")
        shutil.rmtree(store, ignore_errors=True)
        started = time.perf_counter()
        command = [
            "ngff-kg",
            "harvest",
            str(tree),
            "--store",
            str(store),
            "--base-url",
            "https://",
            "-q",
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            return 1
        print(
            f"harvest: {args.datasets:,} datasets in {elapsed:.1f} s "
            f"({args.datasets / elapsed:,.0f} datasets/s), peak RSS {peak:,.0f} MiB"
        )
        from ngff_kg import Catalog

        catalog = Catalog(store, read_only=True)
        for name in sorted(catalog.queries()):
            params = {"organism": "NCBI:txid10090"} if name == "find-datasets" else {}
            started = time.perf_counter()
            rows = len(catalog.query(name, **params).rows)
            print(f"query {name}: {time.perf_counter() - started:.2f} s ({rows} rows)")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

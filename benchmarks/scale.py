"""Scale benchmark: synthetic datasets made from corpus crates, harvest time, memory, queries.

    python benchmarks/scale.py [--datasets 100000] [--workdir DIR] [--keep] [--no-queries]
                               [--changed 0.01]

Datasets are copies of corpus roots (their ``zarr.json`` and crate) with fresh entity ids,
written under ``WORKDIR/tree/host<k>.example.org/...``. The harvest runs as a separate
process (``ngff-kg harvest`` of this checkout, with this interpreter), so its wall time and
peak resident memory are the whole command's. Then every named query runs against the store
with typical parameters (``CASES``); the time of each, rows included, is printed with its
ratio to the 2 s target. ``--no-harvest`` measures the queries of a store kept by an earlier
run (``--keep``) again; ``--query NAME`` narrows them; ``--no-queries`` skips them.

``--changed F`` then rewrites the crate of a fraction F of
the datasets (one in 1/F, a byte added) and times the re-harvest, which reads those again.
Targets (issue #6): 1M datasets harvested in at most 15 min with peak RSS at most 1.5 GB,
each catalogue query at most 2 s. Nothing here is asserted; run by hand.
"""

from __future__ import annotations

import argparse
import gc
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
QUERY_TARGET = 2.0  # seconds
#: A dataset IRI of the store stands for this in ``CASES`` (an image dataset, chosen at run time).
DATASET = "<dataset>"
#: Every library query with the parameters it is typically run with; a query may appear more
#: than once (one dataset before the bulk read: right after reading 5M rows, the same process
#: took 1 s for a lookup that takes 11 ms in a fresh one). The bulk forms of dataset-fields and
#: dataset-axes are what the web catalogue and the exports read; dataset-triples and
#: dataset-repairs are run for one dataset, as the dataset pages and ``ngff-kg check`` do.
CASES: list[tuple[str, dict[str, str]]] = [
    ("axes-units", {}),
    ("channels", {}),
    ("channels-by-wavelength", {}),
    ("channels-by-wavelength", {"min": "500", "max": "600"}),
    ("converters", {}),
    ("dataset-axes", {"dataset": DATASET}),
    ("dataset-axes", {}),
    ("dataset-descriptions", {}),
    ("dataset-fields", {"dataset": DATASET}),
    ("dataset-fields", {}),
    ("dataset-repairs", {"dataset": DATASET}),
    ("dataset-terms", {"dataset": DATASET, "field": "organism"}),
    (
        "dataset-terms",
        {"field": "organism", "term": "http://purl.obolibrary.org/obo/NCBITaxon_9606"},
    ),
    ("dataset-triples", {"dataset": DATASET}),
    ("datasets-by-license", {}),
    ("datasets-by-modality", {}),
    ("datasets-by-modality", {"modality": "FBbi:00000246"}),
    ("datasets-by-modality-branch", {}),
    ("datasets-by-modality-branch", {"ancestor": "FBbi:00000246"}),
    ("datasets-by-organism", {}),
    ("datasets-by-organism", {"organism": "NCBITaxon:40674"}),
    ("datasets-by-source", {}),
    ("datasets-by-taxon-rank", {}),
    ("datasets-by-taxon-rank", {"rank": "kingdom"}),
    ("datasets-missing-metadata", {}),
    ("datasets-missing-metadata", {"field": "organism"}),
    ("find-datasets", {}),
    ("find-datasets", {"organism": "NCBI:txid10090"}),
    ("find-datasets", {"organism": "NCBITaxon:40674"}),
    ("find-datasets", {"modality": "FBbi:00000246"}),
    ("find-datasets", {"organism": "NCBITaxon:9606", "modality": "FBbi:00000246"}),
    ("image-summary", {"dataset": DATASET}),
    ("image-summary", {}),
    ("images-by-pixel-size", {"axis": "x", "min": "0.1", "max": "1"}),
    ("kinds", {}),
    ("largest-images", {}),
    ("missing-metadata", {}),
    ("objectives", {}),
    ("plate-summary", {}),
    ("plates", {}),
    ("repairs", {}),
    ("repairs", {"kind": "TermIdentifierRepair"}),
    ("storage-layout", {}),
    ("term-hierarchy", {}),
    ("vendor-metadata", {}),
    ("vendor-metadata", {"key": "objective"}),
]
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


def measure_queries(store: Path, only: list[str]) -> None:
    """Run every case of ``CASES`` (or of the queries in ``only``) and print its time."""
    from ngff_kg import Catalog

    catalog = Catalog(store, read_only=True)
    dataset = catalog.query(
        'SELECT ?d WHERE { ?d <https://w3id.org/ngff-kg/vocab#kind> "image" } LIMIT 1'
    ).column("d")
    print(f"queries (dataset parameter: {dataset[0] if dataset else 'none'}):")
    missing = set(catalog.queries()) - {name for name, _ in CASES}
    for name, params in CASES + [(name, {}) for name in sorted(missing)]:
        if only and name not in only:
            continue
        if DATASET in params.values() and not dataset:
            continue
        values = {k: dataset[0] if v == DATASET else v for k, v in params.items()}
        gc.collect()  # not the previous result's garbage: millions of rows for the bulk reads
        started = time.perf_counter()
        rows = len(catalog.query(name, values).rows)
        elapsed = time.perf_counter() - started
        shown = " ".join(f"{k}={'DATASET' if v == DATASET else v}" for k, v in params.items())
        print(
            f"  {name}{' ' + shown if shown else ''}: {elapsed:.2f} s, "
            f"{elapsed / QUERY_TARGET:.2f}x target ({rows:,} rows)",
            flush=True,
        )
    catalog.close()


def timed_harvest(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a harvest command: (result, seconds)."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_package_env())
    return done, time.perf_counter() - started


def change(tree: Path, fraction: float) -> int:
    """Add a byte to the crate of one dataset in ``1 / fraction``; the number changed."""
    step = max(1, round(1 / fraction))
    changed = 0
    for index, crate in enumerate(sorted(tree.glob("*/*/*/ro-crate-metadata.json"))):
        if index % step == 0:
            with open(crate, "ab") as out:
                out.write(b"\n")
            changed += 1
    return changed


def _package_env() -> dict[str, str]:
    """The environment with the imported ``ngff_kg`` package first on the module path."""
    import ngff_kg

    source = str(Path(ngff_kg.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": source + (os.pathsep + path if path else "")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated tree and store")
    parser.add_argument(
        "--no-harvest",
        action="store_true",
        help="only run the queries, on the store of an earlier run in --workdir",
    )
    parser.add_argument(
        "--query", action="append", default=[], help="run only this query (repeatable)"
    )
    parser.add_argument("--no-queries", action="store_true", help="measure the harvest only")
    parser.add_argument(
        "--changed",
        type=float,
        default=0.0,
        help="then change this fraction of the datasets and time the re-harvest",
    )
    args = parser.parse_args()
    if args.no_harvest:
        if args.workdir is None or not (args.workdir / "store").is_dir():
            print("--no-harvest needs the --workdir of an earlier run", file=sys.stderr)
            return 2
        measure_queries(args.workdir / "store", args.query)
        return 0
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
        # this interpreter and this checkout's package, not whatever ``ngff-kg`` is on PATH
        command = [
            sys.executable,
            "-m",
            "ngff_kg.cli",
            "harvest",
            str(tree),
            "--store",
            str(store),
            "--base-url",
            "https://",
            "-q",
        ]
        done, elapsed = timed_harvest(command)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            return 1
        print(
            f"harvest: {args.datasets:,} datasets in {elapsed:.1f} s "
            f"({args.datasets / elapsed:,.0f} datasets/s), peak RSS {peak:,.0f} MiB",
            flush=True,
        )
        size = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
        print(f"store: {size / 2**30:.2f} GiB")
        if args.changed:
            changed = change(tree, args.changed)
            done, elapsed = timed_harvest(command)
            print(
                f"re-harvest, {changed:,} datasets changed: {elapsed:.1f} s "
                f"(exit {done.returncode})",
                flush=True,
            )
        if not args.no_queries:
            measure_queries(store, args.query)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

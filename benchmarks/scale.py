"""Scale benchmark: synthetic datasets made from corpus crates, harvest time, memory, queries.

    python benchmarks/scale.py [--datasets 100000] [--workdir DIR] [--keep] [--no-queries]
                               [--changed 0.01]

Datasets are copies of corpus roots (their ``zarr.json`` and crate) with fresh entity ids,
written under ``WORKDIR/tree/host<k>.example.org/...``. The harvest runs as a separate
process (``ngff-kg harvest`` of this checkout, with this interpreter), so its wall time and
peak resident memory are the whole command's. Then every named query runs against the store
with typical parameters (``CASES``); the time of each, rows included, is printed with its
ratio to the 2 s target. ``--no-harvest`` measures the queries of a store kept by an earlier
run (``--keep``) again (with ``--changed F``, after a re-harvest of that tree and store);
``--query NAME`` narrows them; ``--no-queries`` skips them.

``--changed F`` then rewrites the crate of a fraction F of
the datasets (one in 1/F, a byte added) and times the re-harvest, which reads those again.
Then ``ngff-kg serve`` is started on the store (``--no-serve`` skips it): the seconds until it
answers, and the median time of facet searches (``SEARCHES``) and of a dataset page, over
HTTP as the web catalogue asks them.

Every figure is printed with its target and their ratio. Targets, for 1M datasets (the
harvest and re-harvest times scale with ``--datasets``): harvest at most 10 min with peak RSS
at most 1.5 GB; re-harvest with 1 % changed at most 60 s; serve answering within 5 s of its
start; facet search at most 200 ms; dataset page at most 50 ms; each named query at most 2 s,
its first row within 1 s. A query that the catalogue index answers
(:mod:`ngff_kg.store.answers`) is also run by Oxigraph over the graph, and that time printed
as its reference. Nothing here is asserted; run by hand.
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
from typing import Any

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"
)
QUERY_TARGET = 2.0  # seconds
FIRST_ROW_TARGET = 1.0
HARVEST_TARGET = 600.0  # seconds for 1M datasets
REHARVEST_TARGET = 60.0  # seconds for 1M datasets, 1 % changed
RSS_TARGET = 1.5 * 1024  # MiB
SERVE_START_TARGET = 5.0
SEARCH_TARGET = 0.2
PAGE_TARGET = 0.05
#: Facet searches of the web catalogue (``/api/search`` query strings).
SEARCHES = [
    "",
    "organism=http%3A%2F%2Fpurl.obolibrary.org%2Fobo%2FNCBITaxon_40674",
    "modality=http%3A%2F%2Fpurl.obolibrary.org%2Fobo%2FFBbi_00000246&sort=-size",
    "q=mouse",
    "q=brain&organism=http%3A%2F%2Fpurl.obolibrary.org%2Fobo%2FNCBITaxon_9606",
    "sort=organism&offset=5000",
    "kind=image&sort=name",
]
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
    from ngff_kg.queries import bindings_for, resolve_query
    from ngff_kg.store.answers import answer

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
        query = resolve_query(name)
        bindings = bindings_for(query, values, lambda: catalog.ontology)
        indexed = answer(catalog.store, query, bindings.written, bindings.substitutions)
        elapsed, first_row, rows = run_query(catalog, name, values, indexed=True)
        shown = " ".join(f"{k}={'DATASET' if v == DATASET else v}" for k, v in params.items())
        where = " (from the catalogue index)" if indexed is not None else ""
        figure(f"query {name}{' ' + shown if shown else ''}{where}", elapsed, QUERY_TARGET, "s")
        figure(f"  first row ({rows:,} rows)", first_row, FIRST_ROW_TARGET, "s")
        if indexed is not None:  # the reference: the same query evaluated by Oxigraph
            graph, graph_first, graph_rows = run_query(catalog, name, values, indexed=False)
            print(
                f"  the graph: {graph:,.3f} s, first row {graph_first:,.3f} s ({graph_rows:,} "
                f"rows); the index takes {elapsed / graph:.2f}x of it",
                flush=True,
            )
    catalog.close()


def run_query(
    catalog: Any, name: str, values: dict[str, str], *, indexed: bool
) -> tuple[float, float, int]:
    """Seconds to read every row of a named query, seconds to its first row, its rows."""
    from ngff_kg.queries import resolve_query

    gc.collect()  # not the previous result's garbage: millions of rows for the bulk reads
    started = time.perf_counter()
    solutions = iter(catalog.raw_query(resolve_query(name), values, indexed=indexed))
    first = next(solutions, None)
    first_row = time.perf_counter() - started
    rows = (first is not None) + sum(1 for _ in solutions)
    return time.perf_counter() - started, first_row, rows


def figure(name: str, value: float, target: float, unit: str) -> None:
    """Print a measured figure with its target and their ratio."""
    verdict = "met" if value <= target else "NOT met"
    print(
        f"{name}: {value:,.3f} {unit} (target {target:,.3f} {unit}: "
        f"{value / target:.2f}x, {verdict})",
        flush=True,
    )


def measure_serve(store: Path) -> None:
    """Start ``ngff-kg serve`` on the store; time its start, facet searches, a dataset page."""
    import json
    import socket
    import statistics
    import urllib.parse
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "ngff_kg.cli", "serve", "--store", str(store)]
    started = time.perf_counter()
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=_package_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def get(path: str) -> bytes:
        with urllib.request.urlopen(base + path, timeout=600) as answer:
            return bytes(answer.read())

    try:
        while True:
            if server.poll() is not None:
                print(f"serve stopped: {server.stderr.read() if server.stderr else ''}")
                return
            try:
                status = json.loads(get("/api/status"))
                break
            except OSError:
                time.sleep(0.05)
        figure(
            f"serve start ({status['datasets']:,} datasets)",
            time.perf_counter() - started,
            SERVE_START_TARGET,
            "s",
        )

        def median(path: str, repeat: int = 5) -> tuple[float, bytes]:
            times = []
            body = b""
            for _ in range(repeat):
                begun = time.perf_counter()
                body = get(path)
                times.append(time.perf_counter() - begun)
            return statistics.median(times), body

        dataset = ""
        for search in SEARCHES:
            seconds, body = median(f"/api/search?{search}")
            found = json.loads(body)
            if not dataset and found["results"]:
                dataset = found["results"][0]["url"]
            figure(
                f"facet search ?{search} ({found['total']:,} found)", seconds, SEARCH_TARGET, "s"
            )
        if dataset:
            seconds, _ = median(f"/api/dataset?iri={urllib.parse.quote(dataset, safe='')}")
            figure("dataset page", seconds, PAGE_TARGET, "s")
    finally:
        server.terminate()
        server.wait(timeout=60)


def harvest_command(tree: Path, store: Path) -> list[str]:
    """The harvest of the tree into the store by this interpreter and this checkout's package,
    not whatever ``ngff-kg`` is on PATH."""
    return [
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


def timed_harvest(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a harvest command: (result, seconds). Prints what the command used besides its
    wall time: its CPU (user, system) and what it read from the disk and waited for (blocks
    read, major page faults), the load before it. The same harvest took 670-1,118 s at 1M
    from one run to the next: these tell a busy CPU from a tree read cold from the disk."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_package_env())
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"  command: {after.ru_utime - before.ru_utime:,.1f} s user, "
        f"{after.ru_stime - before.ru_stime:,.1f} s system CPU in {elapsed:,.1f} s; "
        f"{(after.ru_inblock - before.ru_inblock) * 512 / 2**30:,.2f} GiB read from the disk, "
        f"{after.ru_majflt - before.ru_majflt:,} major page faults; load before {load:.2f}",
        flush=True,
    )
    return done, elapsed


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
    parser.add_argument("--no-queries", action="store_true", help="skip the named queries")
    parser.add_argument("--no-serve", action="store_true", help="skip the web catalogue")
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
        if args.changed:  # the 1 % re-harvest again, on the kept tree and store
            command = harvest_command(args.workdir / "tree", args.workdir / "store")
            changed = change(args.workdir / "tree", args.changed)
            done, elapsed = timed_harvest(command)
            figure(
                f"re-harvest, {changed:,} datasets changed (exit {done.returncode})",
                elapsed,
                REHARVEST_TARGET * changed / 10_000,
                "s",
            )
        if not args.no_serve:
            measure_serve(args.workdir / "store")
        if not args.no_queries:
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
        command = harvest_command(tree, store)
        done, elapsed = timed_harvest(command)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            return 1
        scale = args.datasets / 1_000_000
        figure(
            f"harvest of {args.datasets:,} datasets ({args.datasets / elapsed:,.0f} datasets/s)",
            elapsed,
            HARVEST_TARGET * scale,
            "s",
        )
        figure("harvest peak RSS", peak, RSS_TARGET, "MiB")
        size = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
        index = sum(f.stat().st_size for f in store.glob("catalogue.sqlite*"))
        print(f"store: {size / 2**30:.2f} GiB, catalogue index {index / 2**30:.2f} GiB of it")
        if args.changed:
            changed = change(tree, args.changed)
            done, elapsed = timed_harvest(command)
            figure(
                f"re-harvest, {changed:,} datasets changed (exit {done.returncode})",
                elapsed,
                REHARVEST_TARGET * scale * args.changed / 0.01,
                "s",
            )
        if not args.no_serve:
            measure_serve(store)
        if not args.no_queries:
            measure_queries(store, args.query)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

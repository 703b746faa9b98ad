"""Remote harvest benchmark: corpus datasets served over loopback HTTP with added latency.

    python benchmarks/remote.py [--datasets 1000] [--latency 0.05] [--concurrency 64]

The tests' HTTP server (``tests/servers.py``) runs in a separate process and serves the
corpus directory, waiting ``--latency`` seconds before every answer. ``--datasets`` corpus roots
(an even spread over the sorted list of roots) are harvested by URL (``ngff-kg harvest URL…`` as
a separate process: the first figure is the whole command's, with start-up and loading the
ontologies into the new store; the second is the harvest's own time, from its summary) into a
fresh store; then again
into the same store (nothing changed: conditional requests only). For reference, in the same
run: the same roots harvested from the local directories, and a sequential remote harvest
(``--concurrency 1``) of a few of them. Prints datasets/s, requests per dataset, and the ratio
to the target of issue 6 (>= 200 datasets/s, 1,000 datasets <= 5 s). Nothing is asserted; run
by hand.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"
TARGET = 200.0  # datasets/s


def roots(corpus: Path) -> list[str]:
    """Relative paths of the OME-Zarr roots of the corpus (directories with a root zarr.json
    or .zattrs that no root above holds), sorted."""
    sys.path.insert(0, str(ROOT / "src"))
    from ngff_kg.sources.walk import FoundRoot, walk

    return sorted(
        os.path.relpath(found.path, corpus)
        for found in walk(corpus)
        if isinstance(found, FoundRoot)
    )


def serve(corpus: str, latency: float, pipe: object) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "support"))
    from servers import FixtureHttpServer

    with FixtureHttpServer(Path(corpus), latency=latency) as server:
        pipe.send(server.url)  # type: ignore[attr-defined]
        pipe.recv()  # type: ignore[attr-defined]  # until told to stop
        pipe.send(len(server.requests))  # type: ignore[attr-defined]


def harvest(sources: list[str], store: Path, *options: str) -> tuple[float, str]:
    command = ["ngff-kg", "harvest", *sources, "--store", str(store), "-q", *options]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"harvest failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def line(stdout: str, key: str) -> str:
    for text in stdout.splitlines():
        if text.startswith(key):
            return " ".join(text.split()[len(key.split()) :])
    return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--sequential", type=int, default=20, help="datasets read one by one")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    every = roots(args.corpus)
    step = max(len(every) // args.datasets, 1)
    chosen = every[::step][: args.datasets]
    work = Path(tempfile.mkdtemp(prefix="ngff-kg-remote-"))
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=serve, args=(str(args.corpus), args.latency, child), daemon=True
    )
    process.start()
    try:
        url = parent.recv()
        urls = [url + quote(path) for path in chosen]
        n = len(urls)
        print(
            f"{n:,} corpus datasets over loopback HTTP, {args.latency * 1000:.0f} ms per request, "
            f"--concurrency {args.concurrency}, {os.cpu_count()} CPUs"
        )
        local, _ = harvest([str(args.corpus / p) for p in chosen], work / "local")
        print(f"  local directories (reference): {local:6.2f} s  {n / local:8,.0f} datasets/s")
        options = ("--concurrency", str(args.concurrency))
        first, stdout = harvest(urls, work / "remote", *options)
        failed = line(stdout, "failed")
        inside = float(line(stdout, "time").split()[0])
        rate = n / inside
        print(
            f"  remote, fresh store:           {first:6.2f} s  {n / first:8,.0f} datasets/s  "
            f"(the harvest itself: {inside:.2f} s, {rate:,.0f} datasets/s, "
            f"{rate / TARGET:.2f}x the target of {TARGET:.0f}/s; failed: {failed})"
        )
        again, stdout = harvest(urls, work / "remote", *options)
        inside = float(line(stdout, "time").split()[0])
        print(
            f"  remote, nothing changed:       {again:6.2f} s  {n / again:8,.0f} datasets/s  "
            f"(the harvest itself: {inside:.2f} s; unchanged: {line(stdout, 'unchanged')})"
        )
        few = urls[: args.sequential]
        one, _ = harvest(few, work / "sequential", "--concurrency", "1")
        print(
            f"  remote, --concurrency 1 ({len(few)}):   {one:6.2f} s  {len(few) / one:8,.1f} "
            f"datasets/s  (concurrent is {rate / (len(few) / one):.0f}x faster)"
        )
        parent.send("stop")
        requests = parent.recv()
        print(f"  requests served in all: {requests:,}")
    finally:
        process.terminate()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

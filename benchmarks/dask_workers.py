"""Dask benchmark: the corpus harvest on a local Dask cluster of 1, 2, 4 workers, against
the local executor measured in the same run.

    python benchmarks/dask_workers.py [CORPUS] [--workers 1 2 4] [--repeat 3] [--shards]

Each run is a fresh ``ngff-kg harvest CORPUS --base-url https:// -q`` of this checkout (this
interpreter, this checkout's package first on ``PYTHONPATH``) into a fresh store: with the
default local executor, then with ``--executor dask --workers N`` (a ``distributed.LocalCluster``
of N worker processes, one thread each, started by the command). The variants are interleaved
``--repeat`` times so that all see the same machine. ``--shards`` adds the same runs with
``--output DIR`` (N-Quads shards, no store) instead of ``--store``.

For every run: wall seconds of the whole command (start-up and cluster start included), the
harvest's own seconds (from its summary), datasets/s, CPU seconds of the command and all its
processes (the client, and the Dask workers, which it reaps), the client's own CPU seconds, the
client's peak RSS and the largest worker's, and the client's CPU seconds by thread (where its
time goes: the walk, results and store writes in the main thread, Dask's scheduler and comms
in its event-loop thread, Oxigraph's own threads); then the number of datasets found and
failed, and the quads written (``len`` of the store, or the quads of the shards' manifest).
The medians (and ranges) are printed with their ratio to the local executor of the same kind
(store or shards). The load average is printed before every run. Nothing is asserted; run by
hand and record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"
)

#: Runs the ``ngff-kg`` command in this process, then prints its own resource use (the
#: client's) and that of the processes it reaped (the Dask workers) as the last line.
_ONE_RUN = """
import json, os, resource, sys, threading, time
from ngff_kg.cli import app
TICK = os.sysconf("SC_CLK_TCK")
threads = {}  # thread id -> [name, CPU seconds], last seen (threads that end keep their last)
def sample():
    names = {t.native_id: t.name for t in threading.enumerate()}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/self/task/{tid}/comm") as fh:
                comm = fh.read().strip()
        except OSError:
            continue
        name = names.get(int(tid), comm)
        threads[tid] = [name, (int(fields[11]) + int(fields[12])) / TICK]
def sampler():
    while True:
        sample()
        time.sleep(0.1)
threading.Thread(target=sampler, name="bench-sampler", daemon=True).start()
code = 0
try:
    app(args=sys.argv[1:], prog_name="ngff-kg")
except SystemExit as exc:
    code = exc.code or 0
sample()
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print("RUSAGE " + json.dumps({
    "code": code,
    "client_cpu": me.ru_utime + me.ru_stime,
    "client_rss": me.ru_maxrss / 1024,
    "worker_rss": kids.ru_maxrss / 1024,
    "threads": list(threads.values()),
}), flush=True)
"""
_ROW = re.compile(r"^(datasets found|failed|time)\s+([0-9.]+)", re.MULTILINE)


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _package_env() -> dict[str, str]:
    """The environment with this checkout's ``src`` first on the module path."""
    source = str(Path(__file__).resolve().parents[1] / "src")
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": source + (os.pathsep + path if path else "")}


def quads(target: Path, shards: bool) -> int:
    if shards:
        manifest = json.loads((target / "manifest.json").read_text())
        return sum(int(entry["quads"]) for entry in manifest["files"])
    import pyoxigraph as ox

    return len(ox.Store.read_only(str(target)))


def one_run(corpus: Path, workers: int, shards: bool) -> dict[str, Any]:
    """One harvest command: ``workers`` 0 is the local executor."""
    with tempfile.TemporaryDirectory(prefix="ngff-kg-dask-") as tmp:
        target = Path(tmp) / ("shards" if shards else "store")
        command = [sys.executable, "-c", _ONE_RUN, "harvest", str(corpus)]
        command += ["--output" if shards else "--store", str(target), "--base-url", "https://"]
        command += ["-q"]
        if workers:
            command += ["--executor", "dask", "--workers", str(workers)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=_package_env())
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        lines = done.stdout.strip().splitlines()
        if not lines or not lines[-1].startswith("RUSAGE "):
            sys.exit(f"harvest did not finish:\n{done.stdout}\n{done.stderr}")
        usage = json.loads(lines[-1][len("RUSAGE ") :])
        rows = dict(_ROW.findall(done.stdout))
        return {
            "wall": wall,
            "harvest": float(rows["time"]),
            "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "client_cpu": usage["client_cpu"],
            "client_rss": usage["client_rss"],
            "worker_rss": usage["worker_rss"] if workers else 0.0,
            "datasets": int(rows["datasets found"]),
            "failed": int(rows["failed"]),
            "quads": quads(target, shards),
            "threads": thread_groups(usage["threads"]),
        }


def thread_groups(threads: list[tuple[str, float]]) -> dict[str, float]:
    """CPU seconds of the client's threads, by name with numbers left out (a pool's threads
    together)."""
    groups: dict[str, float] = {}
    for name, seconds in threads:
        group = re.sub(r"[-_]?\d+", "", name) or name
        groups[group] = groups.get(group, 0.0) + seconds
    return groups


def name_of(workers: int, shards: bool) -> str:
    executor = f"dask, {workers} worker{'s' if workers > 1 else ''}" if workers else "local"
    return f"{executor}{', shards' if shards else ''}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant (medians)")
    parser.add_argument(
        "--shards", action="store_true", help="also harvest into N-Quads shards (--output)"
    )
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    kinds = [False, True] if args.shards else [False]
    variants = [(w, s) for s in kinds for w in [0, *args.workers]]
    runs: dict[tuple[int, bool], list[dict[str, Any]]] = {v: [] for v in variants}
    print(f"corpus: {args.corpus}; cpus: {os.cpu_count()}")
    for round_ in range(1, args.repeat + 1):
        for workers, shards in variants:
            before = load()
            run = one_run(args.corpus, workers, shards)
            runs[workers, shards].append(run)
            print(
                f"  [{round_}] {name_of(workers, shards)}: {run['wall']:.2f} s wall "
                f"(harvest {run['harvest']:.2f} s), {run['cpu']:.2f} s CPU "
                f"(client {run['client_cpu']:.2f} s), client RSS {run['client_rss']:.0f} MiB, "
                f"{run['datasets']:.0f} datasets, {run['failed']:.0f} failed, "
                f"{run['quads']:.0f} quads; load before {before}",
                flush=True,
            )
    print(f"load after: {load()}")
    figures = [
        ("wall", "s wall"),
        ("harvest", "s harvest"),
        ("cpu", "s CPU (all processes)"),
        ("client_cpu", "s CPU (client)"),
        ("client_rss", "MiB client peak RSS"),
        ("worker_rss", "MiB largest worker peak RSS"),
    ]
    for workers, shards in variants:
        done = runs[workers, shards]
        reference = runs[0, shards]
        print(f"{name_of(workers, shards)}:")
        for key, unit in figures:
            values = [r[key] for r in done]
            if not any(values):
                continue
            median = statistics.median(values)
            base = statistics.median(r[key] for r in reference)
            ratio = f"{median / base:.2f}x local" if base else ""
            print(f"  {median:,.2f} {unit} (range {min(values):,.2f}-{max(values):,.2f}) {ratio}")
        rate = statistics.median(r["datasets"] / r["wall"] for r in done)
        base_rate = statistics.median(r["datasets"] / r["wall"] for r in reference)
        print(f"  {rate:,.0f} datasets/s (whole command) {rate / base_rate:.2f}x local")
        counts = {(r["datasets"], r["failed"], r["quads"]) for r in done}
        same = counts == {(r["datasets"], r["failed"], r["quads"]) for r in reference}
        shown = ", ".join(f"{d:.0f} datasets, {f:.0f} failed, {q:.0f} quads" for d, f, q in counts)
        print(f"  {shown} ({'same as' if same else 'DIFFERENT from'} local)")
        names = sorted({n for r in done for n in r["threads"]})
        spent = {n: statistics.median(r["threads"].get(n, 0.0) for r in done) for n in names}
        shown = ", ".join(f"{n} {s:.2f}" for n, s in sorted(spent.items(), key=lambda i: -i[1]))
        print(f"  client CPU seconds by thread (medians): {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

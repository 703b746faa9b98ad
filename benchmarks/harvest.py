"""Harvest benchmark: ngff-kg against the pyld reference path, measured in one run.

    python benchmarks/harvest.py [CORPUS] [--repeat 3] [--pyld-limit N]

* **ngff-kg**: ``Catalog.harvest(CORPUS, base_url="https://")`` into a fresh on-disk store
  (discovery, NGFF and RO-Crate extraction, profile repair, ontology slims, CSV lists, store).
* **pyld path**: the same crates through pyld's standard ``to_rdf``, one named graph per
  crate, bulk-loaded into a fresh on-disk Oxigraph store in batches of 1,000 crates. Two
  variants of "a cached context":

  - *document cache*: the document loader serves the RO-Crate context from memory (no
    network), as a pyld user usually sets it up; pyld still processes the context for every
    crate. Slow, so by default it runs on the first ``--loader-limit`` crates (1,000) and is
    projected to all crates per crate.
  - *processed-context cache*: the loader tags the context ``static``, so pyld keeps the
    processed context in its shared cache and reuses it.
* **JSON-LD only**: the conversion alone (no store, no NGFF, no repair) with our fast path
  and with pyld's processed-context cache, to show where the time goes.

* **NGFF validation** (``--validation``): the CPU time spent validating NGFF documents in a
  corpus harvest (thread CPU time around each document's validation), as a share of the
  harvest's wall and CPU time, ``--repeat`` fresh processes.

* **against an earlier version** (``--against SRC``, the ``src`` folder of another checkout,
  e.g. ``git worktree add /tmp/old <commit>``): the corpus harvest of this version and of that
  one, each in a fresh process, alternated ``--repeat`` times so that both see the same
  machine; prints both medians and their ratio (the cost of what this version adds): wall
  seconds, and CPU seconds of the harvesting process with its threads.

Everything is timed as wall-clock seconds in this process. Targets (issue #2): full corpus
in at most 10 s, at least 10 times faster than the pyld path. Timings are not asserted
anywhere: run this by hand and record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pyoxigraph as ox
from pyld import jsonld

from ngff_kg import Catalog
from ngff_kg.normalize.jsonld import ContextRegistry, JsonLdConverter
from ngff_kg.urls import UrlMapper

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"
)


def ngff_kg_run(corpus: Path) -> tuple[float, int, float]:
    """(seconds of a harvest into a fresh store, datasets, seconds of a second harvest of the
    unchanged corpus into the same store)."""
    with tempfile.TemporaryDirectory(prefix="ngff-kg-bench-") as tmp:
        started = time.perf_counter()
        catalog = Catalog(Path(tmp) / "store")
        report = catalog.harvest([corpus], base_url="https://")
        catalog.close()
        elapsed = time.perf_counter() - started
        if not report.ok:
            sys.exit(f"harvest failed for {len(report.failed)} datasets")
        started = time.perf_counter()
        catalog = Catalog(Path(tmp) / "store")
        again = catalog.harvest([corpus], base_url="https://")
        catalog.close()
        unchanged = time.perf_counter() - started
        if again.datasets_unchanged != report.datasets_found:
            sys.exit(f"re-harvest read {again.datasets_harvested} datasets again")
    return elapsed, report.datasets_found, unchanged


def crate_files(corpus: Path) -> list[str]:
    found = []
    for directory, _dirs, files in os.walk(corpus):
        if "ro-crate-metadata.json" in files:
            found.append(os.path.join(directory, "ro-crate-metadata.json"))
    return sorted(found)


def pyld_run(corpus: Path, crates: list[str], *, static: bool) -> float:
    """Seconds for the pyld path over ``crates``, into a fresh store."""
    registry = ContextRegistry()
    cached = registry.pyld_loader()

    def document_cache(url: str, options: object = None) -> dict:
        response = dict(cached(url, options))
        response.pop("tag", None)  # plain document cache: pyld reprocesses the context
        return response

    loader = cached if static else document_cache
    mapper = UrlMapper(corpus, "https://")
    with tempfile.TemporaryDirectory(prefix="ngff-kg-bench-pyld-") as tmp:
        started = time.perf_counter()
        store = ox.Store(str(Path(tmp) / "store"))
        batch: list[str] = []
        for number, path in enumerate(crates, start=1):
            with open(path, "rb") as fh:
                doc = json.load(fh)
            dataset = mapper.url(os.path.dirname(path), directory=True)
            options = {
                "base": dataset + "ro-crate-metadata.json",
                "format": "application/n-quads",
                "documentLoader": loader,
            }
            text = jsonld.to_rdf(doc, options)
            batch.append(f"<{dataset}> {{\n{text}}}\n")
            if number % 1000 == 0 or number == len(crates):
                store.bulk_load("".join(batch).encode(), format=ox.RdfFormat.TRIG)
                batch = []
        store.flush()
        del store
        return time.perf_counter() - started


def jsonld_only(corpus: Path, crates: list[str]) -> tuple[float, float]:
    """Seconds to convert every crate to triples: (our fast path, pyld processed cache)."""
    docs = []
    mapper = UrlMapper(corpus, "https://")
    for path in crates:
        with open(path, "rb") as fh:
            base = mapper.url(os.path.dirname(path), directory=True) + "ro-crate-metadata.json"
            docs.append((json.load(fh), base))
    converter = JsonLdConverter()
    started = time.perf_counter()
    for doc, base in docs:
        converter.to_triples(doc, base)
    ours = time.perf_counter() - started
    loader = converter.registry.pyld_loader()
    started = time.perf_counter()
    for doc, base in docs:
        jsonld.to_rdf(
            doc, {"base": base, "format": "application/n-quads", "documentLoader": loader}
        )
    return ours, time.perf_counter() - started


#: One corpus harvest into a fresh store, timed inside the process (start-up left out): wall
#: seconds, and CPU seconds of all its threads and of any child process (less sensitive to
#: other work on the machine).
_ONE_RUN = """
import resource, sys, tempfile, time, warnings
warnings.filterwarnings("ignore")
from ngff_kg import Catalog
def cpu():
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime
if __name__ == "__main__":
    corpus = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        started, used = time.perf_counter(), cpu()
        with Catalog(tmp + "/store") as catalog:
            report = catalog.harvest([corpus], base_url="https://")
        wall = time.perf_counter() - started
        print(wall, cpu() - used, report.datasets_found, len(report.failed))
"""


def timed_in(src: Path, corpus: Path) -> tuple[float, float, int, int]:
    """A corpus harvest by the ngff-kg found in ``src``, in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", _ONE_RUN, str(corpus)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, cpu, found, failed = done.stdout.split()
    return float(seconds), float(cpu), int(found), int(failed)


def alternate(corpus: Path, variants: dict[str, Path], repeat: int) -> int:
    """Corpus harvests by the ngff-kg of each ``src`` folder, alternated ``repeat``
    times; prints the medians of the other variants against the first."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, src in variants.items():
            seconds, cpu, found, failed = timed_in(src, corpus)
            runs[name].append((seconds, cpu))
            print(
                f"  {name}: {seconds:.2f} s wall, {cpu:.2f} s CPU, {found} datasets, "
                f"{failed} failed",
                flush=True,
            )
    first = next(iter(variants))
    for index, what in ((0, "wall"), (1, "CPU")):
        b = statistics.median(r[index] for r in runs[first])
        for name in list(variants)[1:]:
            a = statistics.median(r[index] for r in runs[name])
            print(
                f"{what}: {name} median {a:.2f} s, {first} {b:.2f} s; "
                f"ratio {a / b:.3f} ({(a / b - 1) * 100:+.1f} %)"
            )
    return 0


#: A corpus harvest that counts the CPU time of the harvesting thread inside NGFF validation
#: (thread CPU time around every document's validation).
_VALIDATION_RUN = """
import resource, sys, tempfile, time, warnings
warnings.filterwarnings("ignore")
from ngff_kg import Catalog
from ngff_kg.sources.hierarchy import HierarchyReader
spent = [0.0, 0]
validate = HierarchyReader._validate
def timed(self, *args, **kwargs):
    started = time.thread_time()
    try:
        return validate(self, *args, **kwargs)
    finally:
        spent[0] += time.thread_time() - started
        spent[1] += 1
HierarchyReader._validate = timed
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
with tempfile.TemporaryDirectory() as tmp:
    started, used = time.perf_counter(), cpu()
    with Catalog(tmp + "/store") as catalog:
        catalog.harvest([sys.argv[1]], base_url="https://")
    print(time.perf_counter() - started, cpu() - used, spent[0], spent[1])
"""


def validation_share(corpus: Path, repeat: int) -> int:
    """The CPU time NGFF validation takes in corpus harvests, against their wall and CPU time
    (fresh processes, ``repeat`` times)."""
    shares: list[tuple[float, float]] = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", _VALIDATION_RUN, str(corpus)],
            capture_output=True,
            text=True,
            check=True,
        )
        wall, cpu, spent, documents = (float(v) for v in done.stdout.split())
        shares.append((spent / wall, spent / cpu))
        print(
            f"  harvest {wall:.2f} s wall, {cpu:.2f} s CPU; NGFF validation {spent:.2f} s CPU "
            f"for {documents:.0f} documents",
            flush=True,
        )
    wall_share = statistics.median(s[0] for s in shares)
    cpu_share = statistics.median(s[1] for s in shares)
    print(
        f"NGFF validation, median: {wall_share * 100:.1f} % of the harvest's wall time, "
        f"{cpu_share * 100:.1f} % of its CPU time"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3, help="ngff-kg runs (median reported)")
    parser.add_argument(
        "--loader-limit", type=int, default=1000, help="crates for the document-cache variant"
    )
    parser.add_argument(
        "--ngff-kg-only", action="store_true", help="time the ngff-kg harvest only (no pyld)"
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="SRC",
        help="compare with the ngff-kg in this src folder (another checkout), alternating runs",
    )
    parser.add_argument(
        "--validation",
        action="store_true",
        help="the share of NGFF validation in the corpus harvest's time",
    )
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    here = Path(__file__).resolve().parents[1] / "src"
    if args.against is not None:
        variants = {
            f"earlier ({args.against})": args.against.resolve(),
            "this": here,
        }
        return alternate(args.corpus, variants, args.repeat)
    if args.validation:
        return validation_share(args.corpus, args.repeat)
    warnings.filterwarnings("ignore", category=SyntaxWarning)

    crates = crate_files(args.corpus)
    times = []
    again = []
    datasets = 0
    for _ in range(args.repeat):
        elapsed, datasets, unchanged = ngff_kg_run(args.corpus)
        times.append(elapsed)
        again.append(unchanged)
    ours = statistics.median(times)
    rerun = statistics.median(again)
    rerun_line = (
        f"re-harvest, nothing changed (same store, opened again): median {rerun:.2f} s "
        f"({', '.join(f'{t:.2f}' for t in again)}); target <= 1 s: "
        f"{'met' if rerun <= 1 else 'NOT met'}"
    )
    if args.ngff_kg_only:
        print(
            f"ngff-kg harvest: median {ours:.2f} s of {len(times)} runs "
            f"({', '.join(f'{t:.2f}' for t in times)}), {datasets / ours:,.0f} datasets/s"
        )
        print(rerun_line)
        return 0
    sample = crates[: args.loader_limit] if args.loader_limit else crates
    document = pyld_run(args.corpus, sample, static=False) / len(sample) * len(crates)
    processed = pyld_run(args.corpus, crates, static=True)
    fast, slow = jsonld_only(args.corpus, crates)

    print(f"corpus: {args.corpus}")
    print(f"datasets: {datasets} roots, {len(crates)} crates; cpus: {os.cpu_count()}")
    print(
        f"ngff-kg harvest: median {ours:.2f} s of {len(times)} runs "
        f"({', '.join(f'{t:.2f}' for t in times)}), {datasets / ours:,.0f} datasets/s"
    )
    print(
        f"pyld path, document cache: {document:.1f} s for all crates "
        f"(measured on {len(sample)} crates, {document / len(crates) * 1000:.2f} ms per crate)"
        f"  ratio {document / ours:.1f}x"
    )
    print(
        f"pyld path, processed-context cache: {processed:.2f} s "
        f"({processed / len(crates) * 1000:.2f} ms per crate)  ratio {processed / ours:.1f}x"
    )
    print(
        f"JSON-LD to triples only: ngff-kg {fast:.2f} s, pyld (processed cache) {slow:.2f} s"
        f"  ratio {slow / fast:.1f}x"
    )
    print(rerun_line)
    print(f"target <= 10 s: {'met' if ours <= 10 else 'NOT met'}")
    print(
        f"target >= 10x pyld path (document cache): {'met' if document / ours >= 10 else 'NOT met'}"
    )
    print(
        f"target >= 10x pyld path (processed-context cache): "
        f"{'met' if processed / ours >= 10 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

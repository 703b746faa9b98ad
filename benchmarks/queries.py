"""Named-query benchmark: every library query on a harvested store, against the 50 ms target.

    python benchmarks/queries.py [CORPUS] [--repeat 5] [--store DIR]

Harvests the corpus into a temporary store (or opens ``--store``, harvested earlier), then
runs every case of ``benchmarks/scale.py``'s ``CASES`` (every library query, some with
typical parameters) in process through ``Catalog.raw_query``, rows included, and prints the
median of ``--repeat`` runs against the target. The queries that read the catalogue summary
(``docs/queries.md``) are run again with the summary graph taken away, so that they count
over the datasets: the reference path, measured in the same run, and their rows compared.
The queries that the catalogue index answers (``docs/queries.md``) are run in Oxigraph too,
as their reference, and their rows compared.

No timing is asserted anywhere: run it by hand and record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ngff_kg import Catalog
from ngff_kg.queries import resolve_query
from ngff_kg.store.answers import ANSWERS
from ngff_kg.store.summary import SUMMARY_GRAPH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import CASES, DATASET

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"
)
TARGET = 0.050


def timed(
    catalog: Catalog, name: str, params: dict[str, str], repeat: int, *, indexed: bool = True
) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs, every row read (as ``ngff-kg query`` would), and
    the number of rows."""
    times = []
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = sum(1 for _ in catalog.raw_query(resolve_query(name), params, indexed=indexed))
        times.append(time.perf_counter() - started)
    return statistics.median(times), rows


def text_rows(
    catalog: Catalog, name: str, params: dict[str, str], *, indexed: bool = True
) -> list[Any]:
    """The rows of a query as text, sorted (to compare two ways of answering)."""
    found = [
        tuple(None if t is None else str(t) for t in row)
        for row in catalog.raw_query(resolve_query(name), params, indexed=indexed)
    ]
    return sorted(found, key=repr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--store", type=Path, help="a store harvested earlier (harvested now when missing)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        store = args.store or Path(scratch) / "store"
        if not store.exists():
            started = time.perf_counter()
            with Catalog(store) as catalog:
                catalog.harvest([args.corpus], base_url="https://")
            print(f"harvested {args.corpus} in {time.perf_counter() - started:.1f} s")
        with Catalog(store) as catalog:
            catalog.store.flush()  # a store of an earlier version gets its summary
            run(catalog, args.repeat)
    return 0


def run(catalog: Catalog, repeat: int) -> None:
    db = catalog.store.oxigraph
    summary = ox.NamedNode(SUMMARY_GRAPH)
    dataset = catalog.query(
        'SELECT ?d WHERE { ?d <https://w3id.org/ngff-kg/vocab#kind> "image" } LIMIT 1'
    ).column("d")
    missing = set(catalog.queries()) - {name for name, _ in CASES}
    over = 0
    cases = CASES + [(name, {}) for name in sorted(missing)]
    for name, params in cases:
        if DATASET in params.values() and not dataset:
            continue
        values = {k: dataset[0] if v == DATASET else v for k, v in params.items()}
        median, found = timed(catalog, name, values, repeat)
        shown = " ".join(f"{k}={'DATASET' if v == DATASET else v}" for k, v in params.items())
        verdict = "met" if median <= TARGET else "NOT met"
        over += median > TARGET
        line = (
            f"{name}{' ' + shown if shown else ''}: {median * 1000:.1f} ms, {found:,} rows "
            f"(target {TARGET * 1000:.0f} ms: {median / TARGET:.2f}x, {verdict})"
        )
        text = resolve_query(name).text
        if name in ANSWERS:
            rows = text_rows(catalog, name, values)
            reference, _ = timed(catalog, name, values, repeat, indexed=False)
            other = text_rows(catalog, name, values, indexed=False)
            if "SAMPLE(" in text:  # one value of several each: an engine may give any
                rows, other = [row[0] for row in rows], [row[0] for row in other]
            same = "same" if rows == other else "DIFFER"
            line += (
                f"; from the catalogue index; in Oxigraph: {reference * 1000:.1f} ms "
                f"({reference / median:.1f}x the index's time; rows {same})"
            )
        elif "nkg:CatalogueSummary" in text or "nkg:exactBytes" in text:
            rows = text_rows(catalog, name, values)
            saved = list(db.quads_for_pattern(None, None, None, summary))
            db.remove_graph(summary)
            try:
                reference, _ = timed(catalog, name, values, repeat)
                counted = text_rows(catalog, name, values)
            finally:
                db.extend(saved)
            same = "same" if rows == counted else "DIFFER"
            line += (
                f"; counted over the datasets: {reference * 1000:.1f} ms "
                f"({reference / median:.1f}x the summary's time; rows {same})"
            )
        print(line, flush=True)
    print(f"{len(cases) - over} of {len(cases)} cases within {TARGET * 1000:.0f} ms")


if __name__ == "__main__":
    raise SystemExit(main())

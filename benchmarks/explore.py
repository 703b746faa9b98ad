"""Explore benchmark: catalogue index, faceted search, dataset pages, SPARQL and exports.

    python benchmarks/explore.py [CORPUS] [--repeat 20]

Harvests the corpus into a temporary store, then measures (wall-clock seconds, this process):

* **index**: what ``ngff-kg serve`` does before it answers: read one record per dataset
  (``dataset-fields``, ``dataset-axes``) and the ontology hierarchies, build the facet index;
* **search**: faceted searches as the web page sends them (no choice; Mammalia and
  fluorescence microscopy; a text search), median of ``--repeat``;
* **dataset page**: every triple and repair of one dataset (direct index lookups);
* **SPARQL**: a named query through a worker of the query pool (process round trip);
* **exports**: Parquet, CSV, N-Quads and TriG of the whole store.

No timing is asserted anywhere: run it by hand and record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ngff_kg import Catalog, library
from ngff_kg.views.export import export
from ngff_kg.views.facets import FacetIndex
from ngff_kg.views.records import dataset_detail, read_hierarchies, read_records
from ngff_kg.web.sparql import QueryPool, QueryRequest

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"
)
MAMMALIA = "http://purl.obolibrary.org/obo/NCBITaxon_40674"
FLUORESCENCE = "http://purl.obolibrary.org/obo/FBbi_00000246"


def timed(function, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ngff-kg-explore-") as tmp:
        store = Path(tmp) / "store"
        with Catalog(store) as catalog:
            seconds, report = timed(lambda: catalog.harvest([args.corpus], base_url="https://"))
        print(f"harvest: {report.datasets_harvested} datasets in {seconds:.2f} s")
        rows: list[tuple[str, str]] = []
        with Catalog(store, read_only=True) as catalog:
            t_records, records = timed(lambda: read_records(catalog))
            t_terms, hierarchies = timed(lambda: read_hierarchies(catalog))
            t_index, index = timed(lambda: FacetIndex(records, hierarchies))
            rows.append(("index: records (dataset-fields, dataset-axes)", f"{t_records:.2f} s"))
            rows.append(("index: hierarchies (term-hierarchy)", f"{t_terms:.2f} s"))
            rows.append(("index: facet index", f"{t_index:.2f} s"))
            for name, kwargs in (
                ("search, no choice", {}),
                (
                    "search, Mammalia + fluorescence",
                    {"selected": {"organism": [MAMMALIA], "modality": [FLUORESCENCE]}},
                ),
                ("search, text 'idr0044'", {"text": "idr0044"}),
            ):
                t, result = timed(lambda kwargs=kwargs: index.search(**kwargs), args.repeat)
                rows.append((f"{name} ({result.total} datasets)", f"{t * 1000:.0f} ms"))
            url = next(r.url for r in records if r.axes)
            t, detail = timed(lambda: dataset_detail(catalog.store.oxigraph, url), args.repeat)
            rows.append((f"dataset page ({len(detail.statements)} triples)", f"{t * 1000:.1f} ms"))
            for fmt in ("parquet", "csv", "nquads", "trig"):
                out = Path(tmp) / f"export.{fmt}"
                t, _ = timed(lambda fmt=fmt, out=out: export(catalog, fmt, out))
                size = out.stat().st_size / 1e6
                rows.append((f"export {fmt} ({size:.1f} MB)", f"{t:.2f} s"))
        pool = QueryPool(str(store), workers=1, timeout=120)
        try:
            pool.check()
            text = library()["datasets-by-organism"].text
            t, response = timed(lambda: pool.run(QueryRequest(text)), args.repeat)
            rows.append(
                (
                    f"SPARQL datasets-by-organism via a worker ({response.status})",
                    f"{t * 1000:.0f} ms",
                )
            )
        finally:
            pool.close()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()

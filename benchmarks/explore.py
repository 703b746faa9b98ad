"""Explore benchmark: catalogue index, faceted search, dataset pages, SPARQL and exports.

    python benchmarks/explore.py [CORPUS] [--repeat 20]

Harvests the corpus into a temporary store, then measures (wall-clock seconds, this process):

* **index**: what ``ngff-kg serve`` does before it answers: count the groups of datasets of
  the catalogue index, look up the hierarchies of their terms, prepare the facet search
  (:class:`~ngff_kg.views.facets.CatalogueFacets`); against the reference path measured in
  the same run: one record per dataset read with the named queries (``dataset-fields``,
  ``dataset-axes``), the hierarchies with ``term-hierarchy``, an in-memory
  :class:`~ngff_kg.views.facets.FacetIndex`;
* **search**: faceted searches as the web page sends them (no choice; Mammalia and
  fluorescence microscopy; a text search; a sort), median of ``--repeat``, both ways;
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

from ngff_kg import Catalog
from ngff_kg.queries import library
from ngff_kg.views.facets import CatalogueFacets, FacetIndex, group_counts, term_names, used_terms
from ngff_kg.views.records import read_hierarchies, read_records, term_hierarchies
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
            names = term_names(catalog.ontology)
            t_records, records = timed(lambda: read_records(catalog))
            t_terms, hierarchies = timed(lambda: read_hierarchies(catalog))
            t_index, memory = timed(lambda: FacetIndex(records, hierarchies, names))
            rows.append(("reference: records (dataset-fields, dataset-axes)", f"{t_records:.2f} s"))
            rows.append(("reference: hierarchies (term-hierarchy)", f"{t_terms:.2f} s"))
            rows.append(("reference: facet index in memory", f"{t_index:.2f} s"))
            catalogue = catalog.store.catalogue
            t_groups, groups = timed(lambda: group_counts(catalogue))
            t_lookups, looked_up = timed(
                lambda: term_hierarchies(catalog.store, used_terms(groups))
            )
            t_facets, indexed = timed(lambda: CatalogueFacets(catalogue, looked_up, names, groups))
            rows.append((f"index: groups ({len(groups)})", f"{t_groups * 1000:.1f} ms"))
            rows.append(("index: hierarchies by lookups", f"{t_lookups * 1000:.1f} ms"))
            rows.append(("index: facet search ready", f"{t_facets * 1000:.1f} ms"))
            for name, kwargs in (
                ("search, no choice", {}),
                (
                    "search, Mammalia + fluorescence",
                    {"selected": {"organism": [MAMMALIA], "modality": [FLUORESCENCE]}},
                ),
                ("search, text 'idr0044'", {"text": "idr0044"}),
                ("search, by organism from 5000", {"sort": "organism", "offset": 5000}),
            ):
                for way, engine in (("reference", memory), ("index", indexed)):
                    t, result = timed(
                        lambda kwargs=kwargs, e=engine: e.search(**kwargs), args.repeat
                    )
                    rows.append((f"{way}: {name} ({result.total} datasets)", f"{t * 1000:.1f} ms"))
            url = next(r.url for r in records if r.axes)

            def page() -> object:
                return catalog.store.dataset_detail(url), indexed.record(url)

            t, (detail, _record) = timed(page, args.repeat)
            rows.append((f"dataset page ({len(detail.statements)} triples)", f"{t * 1000:.1f} ms"))
            for fmt in ("parquet", "csv", "nquads", "trig"):
                out = Path(tmp) / f"export.{fmt}"
                t, _ = timed(lambda fmt=fmt, out=out: catalog.export(fmt, out))
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

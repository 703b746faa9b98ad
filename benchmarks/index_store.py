"""Side-store benchmark: SQLite against DuckDB for what the catalogue index does.

    python benchmarks/index_store.py [--rows 200000] [--duckdb-rows 20000]

Synthetic records (URL, facet-group key, text, size), upserted in batches of 5,000 as a
harvest writes them (one transaction per batch, ``INSERT ... ON CONFLICT DO UPDATE`` through
the DB-API ``executemany``), then: the group counts that the web catalogue reads at start-up,
one page by URL within three groups, and an upsert of 100 rows (a small re-harvest). DuckDB
gets fewer rows by default: its ``executemany`` upserts take milliseconds a row. Needs
``duckdb`` (in the test extra). Run by hand; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = tuple[str, str, str, int]


def records(count: int) -> list[Row]:
    return [
        (
            f"https://host{k % 7}.example.org/set{k // 1000}/ds{k}.ome.zarr/",
            json.dumps([[f"NCBITaxon_{k % 40}"], [f"FBbi_{k % 9}"], [], f"host{k % 7}", "image"]),
            f"dataset {k} brain mouse " * 3,
            k * 10,
        )
        for k in range(count)
    ]


_UPSERT = (
    "INSERT INTO r (url, grp, text, bytes) VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE "
    "SET grp = excluded.grp, text = excluded.text, bytes = excluded.bytes"
)
_GROUPS = "SELECT grp, count(*) FROM r GROUP BY grp"
_PAGE = (
    "SELECT url FROM r WHERE grp IN (SELECT DISTINCT grp FROM r ORDER BY grp LIMIT 3) "
    "ORDER BY url LIMIT 50 OFFSET 1000"
)


def sqlite_db(path: Path) -> Any:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE r (id INTEGER PRIMARY KEY, url TEXT UNIQUE, grp TEXT, text TEXT, "
        "bytes INTEGER)"
    )
    db.execute("CREATE INDEX r_grp ON r (grp, url)")
    return db


def duckdb_db(path: Path) -> Any:
    import duckdb

    db = duckdb.connect(str(path))
    db.execute("CREATE TABLE r (url TEXT PRIMARY KEY, grp TEXT, text TEXT, bytes BIGINT)")
    return db


def measure(name: str, connect: Callable[[Path], Any], rows: list[Row], folder: Path) -> None:
    db = connect(folder / f"{name}.db")

    def upsert(batch: list[Row]) -> None:
        db.execute("BEGIN")
        db.executemany(_UPSERT, batch)
        db.execute("COMMIT")

    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(rows), 5000):
        upsert(rows[start : start + 5000])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    started = time.perf_counter()
    groups = len(db.execute(_GROUPS).fetchall())
    counts = time.perf_counter() - started
    started = time.perf_counter()
    db.execute(_PAGE).fetchall()
    page = time.perf_counter() - started
    started = time.perf_counter()
    upsert(rows[1000:1100])
    small = time.perf_counter() - started
    print(
        f"{name}: {len(rows):,} rows upserted in batches of 5,000: {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU ({cpu / len(rows) * 1e6:.0f} us a row); group counts "
        f"{counts * 1000:.1f} ms ({groups:,} groups); a page by URL {page * 1000:.1f} ms; "
        f"100 rows upserted {small * 1000:.1f} ms"
    )
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--duckdb-rows", type=int, default=20_000)
    args = parser.parse_args()
    rows = records(max(args.rows, args.duckdb_rows))
    with tempfile.TemporaryDirectory(prefix="ngff-kg-index-store-") as tmp:
        measure("sqlite", sqlite_db, rows[: args.rows], Path(tmp))
        measure("duckdb", duckdb_db, rows[: args.duckdb_rows], Path(tmp))


if __name__ == "__main__":
    main()

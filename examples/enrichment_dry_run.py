"""Enrichment dry run: what 'ngff-kg enrich' would add to the example datasets, changing nothing.

Needs the enrichment stage (module ngff_kg.enrich, the 'enrich' command). Where this
installation does not have it yet, the script says so and stops without error.

    python examples/enrichment_dry_run.py
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

from ngff_kg import Catalog

EXAMPLES = Path(__file__).resolve().parent / "metadata"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an existing store (default: the examples)")
    parser.add_argument("--out", type=Path, help="unused; accepted like the other examples")
    args = parser.parse_args()
    if importlib.util.find_spec("ngff_kg.enrich") is None:
        print("skipped: this ngff-kg has no enrichment stage yet (module ngff_kg.enrich)")
        return 0
    diffs: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        store = args.store or Path(scratch) / "store"
        with Catalog(store) as catalog:
            if args.store is None:
                catalog.harvest([EXAMPLES], base_url="https://")
            report = catalog.enrich(
                [EXAMPLES],
                base_url="https://",
                dry_run=True,
                on_diff=lambda _path, diff: diffs.append(diff),
            )
    for diff in diffs[:1]:
        print(diff)
    print(
        f"{len(diffs)} of {report.datasets_found} crates would change, "
        f"{len(report.missing)} datasets have no crate, {len(report.failed)} failed; "
        "nothing was written"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

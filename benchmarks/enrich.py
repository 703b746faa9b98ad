"""Enrich benchmark: all corpus crates enriched in a temporary copy, and roc-validator before/after.

    python benchmarks/enrich.py [CORPUS] [--validate N|all] [--seed S]

* **enrich**: the corpus is copied to a temporary directory, then ``enrich_targets`` (facts
  read from the datasets, no store) rewrites every crate in place with its backup; the second
  run must change nothing. Wall-clock seconds of each run (target: the first in at most 30 s).
* **validation** (``--validate``, needs ``pip install 'ngff-kg[validate]'``): roc-validator's
  RO-Crate 1.1 checks at REQUIRED severity, offline
  (:class:`ngff_kg.enrich.validate.CrateValidator`),
  on the original and on the enriched crate of ``N`` datasets drawn at random (seeded), or of
  all of them. Prints how many pass before and after and which checks fail. Each validation
  takes about a second here, so ``all`` means hours.
* **datePublished**: the number of original crates whose root has one, counted on the raw
  JSON of every crate (a root without it fails the REQUIRED check 8.4).

Timings are not asserted anywhere: run this by hand and record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ngff_kg.enrich import enrich_targets

CRATE = "ro-crate-metadata.json"
DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[1].parent / "shared/corpus/ome2024-ngff-challenge-metadata"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--validate", default="0", help="number of crates to validate, or all")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    crates = sorted(args.corpus.rglob(CRATE))
    dated = sum(
        1
        for path in crates
        for node in json.loads(path.read_text("utf-8"))["@graph"]
        if node.get("@id") == "./" and "datePublished" in node
    )
    print(f"crates: {len(crates)}, with a root datePublished: {dated}")
    with tempfile.TemporaryDirectory(prefix="ngff-kg-enrich-bench-") as tmp:
        copy = Path(tmp) / "corpus"
        shutil.copytree(args.corpus, copy)
        started = time.perf_counter()
        first = enrich_targets([copy])
        seconds = time.perf_counter() - started
        print(
            f"first run: {seconds:.2f} s, {first.enriched} enriched, {first.backups} backups, "
            f"{len(first.missing)} without crate, {len(first.failed)} failed"
        )
        started = time.perf_counter()
        second = enrich_targets([copy])
        seconds = time.perf_counter() - started
        print(
            f"second run: {seconds:.2f} s, {second.enriched} changed, {second.unchanged} unchanged"
        )
        if args.validate != "0":
            validate(args.corpus, copy, crates, args.validate, args.seed)
    return 0


def validate(corpus: Path, copy: Path, crates: list[Path], how_many: str, seed: int) -> None:
    from ngff_kg.enrich.validate import CrateValidator

    chosen = crates if how_many == "all" else random.Random(seed).sample(crates, int(how_many))
    counts = {"before": 0, "after": 0}
    failures: dict[str, collections.Counter[str]] = {
        "before": collections.Counter(),
        "after": collections.Counter(),
    }
    started = time.perf_counter()
    with CrateValidator() as validator, tempfile.TemporaryDirectory() as plain:
        for index, path in enumerate(chosen):
            enriched = copy / path.parent.relative_to(corpus)
            for label, root in (("before", path.parent), ("after", enriched)):
                # roc-validator makes a broken base IRI of a path with spaces: use plain names
                target = Path(plain) / f"{label}-{index}"
                shutil.copytree(root, target)
                outcome = validator.validate(target)
                counts[label] += outcome.passed
                failures[label].update({issue.check for issue in outcome.issues})
                shutil.rmtree(target)
    seconds = time.perf_counter() - started
    print(
        f"roc-validator ro-crate-1.1 REQUIRED, offline, {len(chosen)} crates (seed {seed}), "
        f"{seconds:.0f} s:"
    )
    for label in ("before", "after"):
        print(f"  {label}: {counts[label]} of {len(chosen)} pass")
        print(f"    crates failing each check: {dict(sorted(failures[label].items()))}")


if __name__ == "__main__":
    sys.exit(main())

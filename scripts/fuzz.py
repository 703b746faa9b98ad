"""Fuzz the extractors (and a whole harvest) with mutated and generated documents, by hand.

    python scripts/fuzz.py --minutes 2 [--seed N] [--harvest-every 200]

Mutation: valid crates, ``zarr.json`` and OME-XML documents (and the adversarial kit's
inputs) are mutated byte- and JSON-wise; Hypothesis generates JSON values at random places.
Each input goes through the reading functions the harvest uses; a clean report is an
``ExtractionError``/``ValueError``; anything else is a traceback, and a run over 10 s a hang.
Every ``--harvest-every`` runs, the documents written so far are harvested as a whole into a
store. Prints counts of runs, clean reports, tracebacks and hangs, and the first tracebacks.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from adversarial import _XXE, CRATE, crate, generate, image

from ngff_kg import jsonio, rdf
from ngff_kg.catalog import Catalog
from ngff_kg.errors import NgffKgError
from ngff_kg.extract.ngff import ome_group_v3
from ngff_kg.extract.omexml import parse_omexml
from ngff_kg.extract.rocrate import extract_crate
from ngff_kg.normalize.jsonld import JsonLdConverter

HANG_SECONDS = 10


class Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        pos = rng.randrange(len(data) + 1)
        if op < 0.3 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op < 0.5:
            data[pos:pos] = rng.choice([b"\x00", b"\xff", b"NaN", b"1e999", b"[", b"{", b'"', b"&"])
        elif op < 0.7 and data:
            del data[pos : pos + rng.randint(1, 16)]
        else:
            data = data[:pos]
    return bytes(data)


_VALUES = [
    None,
    True,
    1,
    -1,
    2**70,
    1.5e308,
    "",
    "http://[::1",
    "http://%zz",
    "a\ud800",
    {"@id": "http://a b"},
    {"@value": "x", "@language": "en--us"},
    [],
    {},
    [[[]]],
]


def mutate_json(doc: Any, rng: random.Random) -> Any:
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randint(1, 4)):
        target, key = None, None
        node = doc
        while isinstance(node, dict | list) and node and rng.random() < 0.8:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            target, node = node, node[key]
        if target is not None:
            target[key] = copy.deepcopy(rng.choice(_VALUES))
    return doc


def check_triples(triples: list[rdf.Triple]) -> None:
    import pyoxigraph as ox

    text = "".join(f"{s} {p} {o} .\n" for s, p, o in triples).encode("utf-8")
    list(ox.parse(text, format=ox.RdfFormat.N_TRIPLES))  # only valid RDF may leave extraction


def run_one(kind: str, data: bytes, converter: JsonLdConverter) -> None:
    if kind == "zarr":
        doc = jsonio.loads(data)
        ome_group_v3(doc)
    elif kind == "crate":
        doc = jsonio.loads(data)
        extracted = extract_crate(doc, "https://example.org/ds/", converter)
        check_triples(getattr(extracted, "triples", []) or [])
    else:
        parse_omexml(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--harvest-every", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    converter = JsonLdConverter()
    seeds = {
        "zarr": [json.dumps(image()).encode()],
        "crate": [
            json.dumps(crate(license={"@id": "https://spdx.org/licenses/CC-BY-4.0"})).encode()
        ],
        "omexml": [_XXE.replace(b"&xxe;", b"name")],
    }
    counts: Counter[str] = Counter()
    tracebacks: Counter[str] = Counter()
    examples: dict[str, str] = {}
    signal.signal(signal.SIGALRM, _alarm)
    deadline = time.monotonic() + args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="ngff-kg-fuzz-") as tmp:
        tree = Path(tmp) / "tree"
        generate(tree / "kit", seed=args.seed)
        written = 0
        while time.monotonic() < deadline:
            kind = rng.choice(list(seeds))
            base = rng.choice(seeds[kind])
            if kind != "omexml" and rng.random() < 0.5:
                data = json.dumps(mutate_json(json.loads(base), rng)).encode(
                    "utf-8", "surrogatepass"
                )
            else:
                data = mutate_bytes(base, rng)
            counts["runs"] += 1
            signal.alarm(HANG_SECONDS)
            try:
                run_one(kind, data, converter)
                counts["accepted"] += 1
            except (NgffKgError, ValueError):
                counts["clean reports"] += 1
            except Hang:
                counts["hangs"] += 1
            except Exception as exc:
                counts["tracebacks"] += 1
                key = f"{kind}: {type(exc).__name__}"
                tracebacks[key] += 1
                examples.setdefault(key, traceback.format_exc(limit=4))
            finally:
                signal.alarm(0)
            # keep one input in 20 for the next whole harvest
            if counts["runs"] % 20:
                continue
            root = tree / "mutants" / f"{written:06d}" / "image.zarr"
            root.mkdir(parents=True)
            if kind == "zarr":
                (root / "zarr.json").write_bytes(data)
            else:
                (root / "zarr.json").write_bytes(seeds["zarr"][0])
                if kind == "crate":
                    (root / CRATE).write_bytes(data)
            written += 1
            if counts["runs"] % args.harvest_every == 0 or time.monotonic() + 1 >= deadline:
                counts["harvests"] += 1
                print(f"harvest of {written} mutants and the kit ...", flush=True)
                signal.alarm(HANG_SECONDS * 30)
                try:
                    store = Path(tmp) / f"store{counts['harvests']}"
                    Catalog(store).harvest([tree])
                    counts["harvests without traceback"] += 1
                except Hang:
                    counts["harvest hangs"] += 1
                except Exception as exc:
                    key = f"harvest: {type(exc).__name__}"
                    tracebacks[key] += 1
                    examples.setdefault(key, traceback.format_exc(limit=6))
                finally:
                    signal.alarm(0)
                    shutil.rmtree(tree / "mutants", ignore_errors=True)  # the next one is new
    for name in (
        "runs",
        "accepted",
        "clean reports",
        "tracebacks",
        "hangs",
        "harvests",
        "harvests without traceback",
        "harvest hangs",
    ):
        print(f"{name:28} {counts[name]}")
    for key, number in tracebacks.most_common():
        print(f"\n{number} x {key}\n{examples[key]}")
    return 1 if counts["tracebacks"] or counts["hangs"] or tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())

"""A generator of bad OME-Zarr roots: every kind of broken or hostile input a harvest meets.

``generate(directory, seed=0)`` writes one directory per kind (``<kind>/``), each holding an
OME-Zarr root (``image.zarr``) or a CSV list, deterministic from ``seed``. The kinds follow
the specifications they break: JSON (RFC 8259), Zarr v3 / NGFF 0.4-0.5, JSON-LD 1.1 and
RO-Crate 1.1, OME-XML, CSV lists, and the file system. Run as a script to write them::

    python tests/adversarial.py OUT_DIR [--seed N] [--copies N]
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ZARR = "zarr.json"
CRATE = "ro-crate-metadata.json"
CONTEXT = "https://w3id.org/ro/crate/1.1/context"


def image(axes: int = 3) -> dict[str, Any]:
    """A valid NGFF 0.5 image group (Zarr v3)."""
    names = ["c", "z", "y", "x"][-axes:]
    return {
        "zarr_format": 3,
        "node_type": "group",
        "attributes": {
            "ome": {
                "version": "0.5",
                "multiscales": [
                    {
                        "name": "adversarial",
                        "axes": [
                            {"name": n, "type": "channel" if n == "c" else "space"}
                            | ({} if n == "c" else {"unit": "micrometer"})
                            for n in names
                        ],
                        "datasets": [
                            {
                                "path": "0",
                                "coordinateTransformations": [
                                    {"type": "scale", "scale": [1.0] * axes}
                                ],
                            }
                        ],
                    }
                ],
            }
        },
    }


def crate(**root: Any) -> dict[str, Any]:
    """A valid RO-Crate 1.1 with ``root`` properties on the root dataset."""
    return {
        "@context": CONTEXT,
        "@graph": [
            {
                "@id": CRATE,
                "@type": "CreativeWork",
                "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"},
                "about": {"@id": "./"},
            },
            {"@id": "./", "@type": "Dataset", "name": "adversarial", **root},
        ],
    }


def _root(base: Path) -> Path:
    root = base / "image.zarr"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _write(base: Path, zarr: Any = None, crate_doc: Any = None, raw: bytes | None = None) -> Path:
    root = _root(base)
    data = raw if raw is not None else json.dumps(zarr if zarr is not None else image()).encode()
    (root / ZARR).write_bytes(data)
    if crate_doc is not None:
        text = crate_doc if isinstance(crate_doc, bytes) else json.dumps(crate_doc).encode()
        (root / CRATE).write_bytes(text)
    return root


def _random_path(doc: Any, rng: random.Random) -> list[Any]:
    path: list[Any] = []
    while isinstance(doc, dict | list) and doc and rng.random() < 0.8:
        key = rng.choice(list(doc)) if isinstance(doc, dict) else rng.randrange(len(doc))
        path.append(key)
        doc = doc[key]
    return path


def _set(doc: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


_WRONG_VALUES = [None, True, 0, -1, 1.5, "", "x", [], {}, [None], {"": None}, 2**70]

_XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE OME [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
  <Image ID="Image:0" Name="&xxe;"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8"
   SizeX="1" SizeY="1" SizeZ="1" SizeC="1" SizeT="1"/></Image>
</OME>
"""
_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE OME [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"><!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
  <Image ID="Image:0" Name="&i;"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8"
   SizeX="1" SizeY="1" SizeZ="1" SizeC="1" SizeT="1"/></Image>
</OME>
"""


def _omexml(base: Path, data: bytes) -> None:
    root = _write(base)
    (root / "OME").mkdir()
    (root / "OME" / ZARR).write_text(
        json.dumps(
            {
                "zarr_format": 3,
                "node_type": "group",
                "attributes": {"ome": {"version": "0.5", "series": ["0"]}},
            }
        )
    )
    (root / "OME" / "METADATA.ome.xml").write_bytes(data)


def _csv(base: Path, text: bytes) -> None:
    base.mkdir(parents=True, exist_ok=True)
    (base / "samples.csv").write_bytes(text)


def _fifo(path: Path) -> None:
    if hasattr(os, "mkfifo"):
        os.mkfifo(path)
    else:  # pragma: no cover - no FIFOs: the closest a file system offers
        path.mkdir()


Kind = Callable[[Path, random.Random], None]


def _all(*_: object) -> None:
    """Used by kinds that do several things (their values are evaluated in order)."""


def _wrong_type(base: Path, rng: random.Random) -> None:
    doc = image()
    _write(base, _set(doc, _random_path(doc, rng), rng.choice(_WRONG_VALUES)))


def _crate_wrong_type(base: Path, rng: random.Random) -> None:
    doc = crate(license="https://spdx.org/licenses/CC-BY-4.0")
    _write(base, crate_doc=_set(doc, _random_path(doc, rng), rng.choice(_WRONG_VALUES)))


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, len(data) - 1)]


KINDS: dict[str, Kind] = {
    # -- JSON text (RFC 8259)
    "zarr-truncated": lambda b, r: _write(b, raw=_truncate(json.dumps(image()).encode(), r)),
    "zarr-empty": lambda b, r: _write(b, raw=b""),
    "zarr-utf16": lambda b, r: _write(b, raw=json.dumps(image()).encode("utf-16")),
    "zarr-bom": lambda b, r: _write(b, raw=b"\xef\xbb\xbf" + json.dumps(image()).encode()),
    "zarr-invalid-utf8": lambda b, r: _write(
        b, raw=json.dumps(image()).encode().replace(b"adversarial", b"adv\xff\xfe")
    ),
    "zarr-nan": lambda b, r: _write(b, raw=json.dumps(image()).encode().replace(b"1.0", b"NaN")),
    "zarr-infinity": lambda b, r: _write(
        b, raw=json.dumps(image()).encode().replace(b"1.0", b"Infinity", 1)
    ),
    "zarr-1e999": lambda b, r: _write(
        b, raw=json.dumps(image()).encode().replace(b"1.0", b"1e999")
    ),
    "zarr-deep": lambda b, r: _write(
        b,
        raw=json.dumps(image()).encode()[:-2]
        + b', "deep": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
    ),
    "zarr-big-integer": lambda b, r: _write(
        b, raw=json.dumps(image()).encode().replace(b"1.0", b"1" + b"0" * 5000, 1)
    ),
    "zarr-top-level-array": lambda b, r: _write(b, [image()]),
    "zarr-duplicate-keys": lambda b, r: _write(
        b,
        raw=b'{"zarr_format": 3, "node_type": "group", "attributes": {"ome": 1}, '
        + json.dumps({"attributes": image()["attributes"]}).encode()[1:],
    ),
    "zarr-large": lambda b, r: _write(
        b, _set(image(), ["attributes", "padding"], "x" * (3 * 1024 * 1024))
    ),
    # -- Zarr / NGFF structure
    "zarr-wrong-type": _wrong_type,
    "ngff-100000-axes": lambda b, r: _write(
        b,
        _set(
            image(),
            ["attributes", "ome", "multiscales", 0, "axes"],
            [{"name": f"a{i}", "type": "space"} for i in range(100_000)],
        ),
    ),
    "ngff-path-escapes-root": lambda b, r: _write(
        b,
        _set(image(), ["attributes", "ome", "multiscales", 0, "datasets", 0, "path"], "../../etc"),
    ),
    "ngff-absolute-path": lambda b, r: _write(
        b, _set(image(), ["attributes", "ome", "multiscales", 0, "datasets", 0, "path"], "/etc")
    ),
    "ngff-control-characters": lambda b, r: _write(
        b, _set(image(), ["attributes", "ome", "multiscales", 0, "name"], "a\x00b\x1b[31m\u202e")
    ),
    "ngff-plate-100000-wells": lambda b, r: _write(
        b,
        {
            "zarr_format": 3,
            "node_type": "group",
            "attributes": {
                "ome": {
                    "version": "0.5",
                    "plate": {
                        "rows": [{"name": "A"}],
                        "columns": [{"name": str(i)} for i in range(1000)],
                        "wells": [
                            {"path": f"A/{i}", "rowIndex": 0, "columnIndex": i % 1000}
                            for i in range(100_000)
                        ],
                    },
                }
            },
        },
    ),
    "ngff-labels-escape-root": lambda b, r: _write(
        b,
        _set(
            image(),
            ["attributes", "ome"],
            {"version": "0.5", "labels": ["../../etc", "/abs", "ok"]},
        ),
    ),
    "zattrs-v2-wrong-types": lambda b, r: _all(
        (
            _root(b).joinpath(".zgroup").write_text('{"zarr_format": 2}'),
            _root(b)
            .joinpath(".zattrs")
            .write_text(json.dumps({"multiscales": "not a list", "omero": {"channels": 5}})),
        )
    ),
    # -- RO-Crate / JSON-LD
    "crate-wrong-type": _crate_wrong_type,
    "crate-truncated": lambda b, r: _write(b, crate_doc=_truncate(json.dumps(crate()).encode(), r)),
    "crate-invalid-iri-ipv6": lambda b, r: _write(
        b, crate_doc=crate(license={"@id": "http://[::1"})
    ),
    "crate-invalid-iri-percent": lambda b, r: _write(
        b, crate_doc=crate(license={"@id": "http://%zz/x"}, url="http://a b/{c}")
    ),
    "crate-lone-surrogate": lambda b, r: _write(
        b,
        crate_doc=json.dumps(crate(description="X", license={"@id": "http://e.org/Y"}))
        .replace('"X"', '"a\\ud800b"')
        .replace("http://e.org/Y", "http://e.org/\\udfff")
        .encode(),
    ),
    "crate-invalid-language-tag": lambda b, r: _write(
        b,
        crate_doc=crate(
            description={"@value": "x", "@language": r.choice(["en--us", "a", "en-us-x", "12"])}
        ),
    ),
    "crate-nonfinite-number": lambda b, r: _write(
        b,
        crate_doc=json.dumps(crate(size=1.5))
        .replace("1.5", r.choice(["1e999", "-1e999"]))
        .encode(),
    ),
    "crate-nan-constant": lambda b, r: _write(
        b, crate_doc=json.dumps(crate(size=1.5)).replace("1.5", "NaN").encode()
    ),
    "crate-remote-context": lambda b, r: _write(
        b, crate_doc={**crate(), "@context": "https://adversarial.invalid/context.jsonld"}
    ),
    "crate-import": lambda b, r: _write(
        b,
        crate_doc={
            **crate(),
            "@context": [CONTEXT, {"@import": "https://adversarial.invalid/imported.jsonld"}],
        },
    ),
    "crate-scoped-context": lambda b, r: _write(
        b,
        crate_doc={
            **crate(),
            "@context": [
                CONTEXT,
                {
                    "Dataset": {
                        "@id": "http://schema.org/Dataset",
                        "@context": {"name": "http://example.org/other#name"},
                    }
                },
            ],
        },
    ),
    "crate-no-context": lambda b, r: _write(
        b, crate_doc={k: v for k, v in crate().items() if k != "@context"}
    ),
    "crate-graph-not-list": lambda b, r: _write(b, crate_doc={**crate(), "@graph": {"@id": "./"}}),
    "crate-deep": lambda b, r: _write(
        b,
        crate_doc=crate(description=_nested(900))
        if False
        else json.dumps(crate()).encode().replace(b'"adversarial"', b"[" * 50_000 + b"]" * 50_000),
    ),
    "crate-huge-string": lambda b, r: _write(b, crate_doc=crate(description="d" * 2_000_000)),
    "crate-embedded-context": lambda b, r: _write(
        b, crate_doc=crate(author={"@context": {"x": "http://e.org/"}, "x": "y"})
    ),
    "crate-bad-date": lambda b, r: _write(
        b,
        crate_doc=crate(
            datePublished={"@value": "not a date", "@type": "http://www.w3.org/2001/XMLSchema#date"}
        ),
    ),
    "crate-utf16": lambda b, r: _write(b, crate_doc=json.dumps(crate()).encode("utf-16")),
    # -- file system
    "crate-fifo": lambda b, r: _all(_write(b), _fifo(_root(b) / CRATE)),
    "zarr-fifo": lambda b, r: _fifo(_root(b) / ZARR),
    "crate-link-to-dev-zero": lambda b, r: _all(
        (_write(b), (_root(b) / CRATE).symlink_to("/dev/zero"))
    ),
    "zarr-link-to-dev-zero": lambda b, r: (_root(b) / ZARR).symlink_to("/dev/zero"),
    "crate-is-directory": lambda b, r: _all(_write(b), (_root(b) / CRATE).mkdir()),
    "zarr-link-loop": lambda b, r: (_root(b) / ZARR).symlink_to(_root(b) / ZARR),
    "directory-link-loop": lambda b, r: _all(
        (
            _write(b / "inner"),
            (b / "loop").symlink_to(b, target_is_directory=True),
            (b / "inner" / "image.zarr" / "up").symlink_to(b, target_is_directory=True),
        )
    ),
    "crate-link-outside-root": lambda b, r: _all(
        (
            _write(b),
            (_root(b) / CRATE).symlink_to("/etc/passwd"),
        )
    ),
    # -- OME-XML
    "omexml-xxe": lambda b, r: _omexml(b, _XXE),
    "omexml-entity-expansion": lambda b, r: _omexml(b, _LAUGHS),
    "omexml-truncated": lambda b, r: _omexml(b, _truncate(_XXE.replace(b"&xxe;", b"x"), r)),
    "omexml-invalid-utf8": lambda b, r: _omexml(b, _XXE.replace(b"&xxe;", b"\xff\xfe")),
    # -- CSV lists
    "csv-huge-field": lambda b, r: _csv(b, b'url,written\n"' + b"h" * 1_200_000 + b'",1\n'),
    "csv-bad-url": lambda b, r: _csv(
        b, b"url,written,origin\nhttp://[::1,1,x\nhttp://%zz/a,2,://y\nno scheme,3,\n"
    ),
    "csv-nul-bytes": lambda b, r: _csv(b, b"url,written\nhttps://e.org/a\x00b.zarr,1\x00\n"),
    "csv-invalid-utf8": lambda b, r: _csv(b, b"url\nhttps://e.org/\xff.zarr\n"),
    "csv-nonfinite-size": lambda b, r: _csv(
        b, b"url,written\nhttps://e.org/a.zarr,1e999\nhttps://e.org/b.zarr,nan\n"
    ),
}


def generate(directory: str | os.PathLike[str], seed: int = 0, copies: int = 1) -> dict[str, Path]:
    """Write every kind ``copies`` times below ``directory``; returns kind directory by name
    (``<kind>`` or ``<kind>-<n>``). The same seed writes the same bytes."""
    out: dict[str, Path] = {}
    base = Path(directory)
    for copy in range(copies):
        for name, make in KINDS.items():
            label = name if copies == 1 else f"{name}-{copy}"
            target = base / label
            target.mkdir(parents=True, exist_ok=False)
            make(target, random.Random(f"{seed}:{label}"))
            out[label] = target
    return out


if __name__ == "__main__":  # pragma: no cover - by hand
    args = sys.argv[1:]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    copies = int(args[args.index("--copies") + 1]) if "--copies" in args else 1
    made = generate(args[0], seed, copies)
    print(f"{len(made)} adversarial inputs ({len(KINDS)} kinds) in {args[0]}")

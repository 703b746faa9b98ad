"""Zarr array metadata (v3 ``zarr.json``, v2 ``.zarray``) → array facts and their triples.

Only the metadata document is read, never a chunk. For a sharded v3 array the chunk grid
gives the shard shape and the ``sharding_indexed`` codec the (inner) chunk shape.

>>> info = parse_array_v2({"shape": [1, 64, 64], "chunks": [1, 32, 32], "dtype": "<u2",
...                        "compressor": {"id": "blosc", "cname": "lz4"}, "fill_value": 0})
>>> info.dtype, info.pixel_count, info.uncompressed_bytes, info.compressor
('uint16', 4096, 8192, 'blosc/lz4')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from ngff_kg import rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.vocab import NKG


@dataclass(frozen=True, slots=True)
class ArrayInfo:
    """What the metadata of one Zarr array says."""

    zarr_format: int
    shape: tuple[int, ...]
    dtype: str | None  # numpy-style name: uint16, float32; None when not a plain number type
    itemsize: int | None
    chunk_shape: tuple[int, ...] | None
    shard_shape: tuple[int, ...] | None
    codecs: str  # the codec chain as written: "sharding_indexed(bytes,blosc)", "blosc", ""
    compressor: str | None  # the compression step: "blosc/zstd", "zstd", "gzip"
    fill_value: str | None  # JSON text
    dimension_names: tuple[str | None, ...] | None

    @property
    def pixel_count(self) -> int:
        return math.prod(self.shape)

    @property
    def uncompressed_bytes(self) -> int | None:
        return self.pixel_count * self.itemsize if self.itemsize is not None else None


_V2_KINDS = {"u": "uint", "i": "int", "f": "float", "c": "complex"}
_V2_DTYPE = re.compile(r"^[<>|=]?([uifcb])(\d+)$")
_V3_DTYPE = re.compile(r"^(u?int|float|complex)(\d+)$")


#: Most dimensions read of an array (NumPy's own bound): the pixel count of more would be a
#: number too long to write, and NGFF images have at most 5.
MAX_DIMENSIONS = 64


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ExtractionError(f"{what} must be a list of non-negative integers")
    if len(value) > MAX_DIMENSIONS:
        raise ExtractionError(f"{what} has {len(value)} dimensions, more than {MAX_DIMENSIONS}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64 for v in value):
        raise ExtractionError(f"{what} must be a list of non-negative integers, got {value!r:.60}")
    return tuple(value)


def _fill(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits
        return None


def _dtype_v3(value: Any) -> tuple[str | None, int | None]:
    if not isinstance(value, str):
        name = value.get("name") if isinstance(value, dict) else None
        return (name if isinstance(name, str) else None), None
    if value == "bool":
        return value, 1
    match = _V3_DTYPE.match(value)
    if match:
        return value, int(match.group(2)) // 8
    if value.startswith("r") and value[1:].isdigit():  # raw bits
        return value, int(value[1:]) // 8
    return value, None


def _dtype_v2(value: Any) -> tuple[str | None, int | None]:
    if not isinstance(value, str):
        return None, None  # structured dtype
    match = _V2_DTYPE.match(value)
    if not match:
        return value, None
    kind, size = match.group(1), int(match.group(2))
    if kind == "b":
        return "bool", size
    return f"{_V2_KINDS[kind]}{size * 8}", size


def _codec_name(codec: Any) -> str:
    if isinstance(codec, str):
        return codec
    if isinstance(codec, dict) and isinstance(codec.get("name"), str):
        return codec["name"]
    raise ExtractionError(f"a codec must be a name or an object with a name, got {codec!r:.60}")


def _compression(codec: dict[str, Any]) -> str | None:
    name = _codec_name(codec)
    if name in ("bytes", "transpose", "crc32c", "endian", "sharding_indexed"):
        return None
    config = codec.get("configuration") if isinstance(codec, dict) else None
    if name == "blosc" and isinstance(config, dict) and isinstance(config.get("cname"), str):
        return f"blosc/{config['cname']}"
    return name


def _chain(codecs: Any, what: str) -> tuple[str, list[str]]:
    """The chain as text, and the compression steps in it (nested sharding included)."""
    if not isinstance(codecs, list):
        raise ExtractionError(f"{what} must be a list")
    parts: list[str] = []
    compression: list[str] = []
    for codec in codecs:
        name = _codec_name(codec)
        if name == "sharding_indexed":
            config = codec.get("configuration") if isinstance(codec, dict) else None
            inner, inner_compression = _chain(
                (config or {}).get("codecs", []), "sharding_indexed codecs"
            )
            parts.append(f"{name}({inner})")
            compression.extend(inner_compression)
            continue
        parts.append(name)
        step = _compression(codec) if isinstance(codec, dict) else _compression({"name": name})
        if step:
            compression.append(step)
    return ",".join(parts), compression


def parse_array_v3(doc: dict[str, Any]) -> ArrayInfo:
    """Facts of a Zarr v3 array ``zarr.json``.

    :raises ExtractionError: a field has the wrong JSON type.
    """
    shape = _ints(doc.get("shape"), "shape")
    dtype, itemsize = _dtype_v3(doc.get("data_type"))
    grid = doc.get("chunk_grid")
    config = grid.get("configuration") if isinstance(grid, dict) else None
    grid_shape = None
    if isinstance(config, dict) and "chunk_shape" in config:
        grid_shape = _ints(config["chunk_shape"], "chunk_grid chunk_shape")
    codecs = doc.get("codecs", [])
    text, compression = _chain(codecs, "codecs")
    chunk_shape, shard_shape = grid_shape, None
    for codec in codecs:
        if isinstance(codec, dict) and codec.get("name") == "sharding_indexed":
            config = codec.get("configuration")
            inner = config.get("chunk_shape") if isinstance(config, dict) else None
            chunk_shape = _ints(inner, "sharding_indexed chunk_shape")
            shard_shape = grid_shape
            break
    names = doc.get("dimension_names")
    dimension_names = None
    if isinstance(names, list):
        dimension_names = tuple(n if isinstance(n, str) else None for n in names)
    return ArrayInfo(
        3,
        shape,
        dtype,
        itemsize,
        chunk_shape,
        shard_shape,
        text,
        ",".join(compression) or None,
        _fill(doc.get("fill_value")),
        dimension_names,
    )


def parse_array_v2(doc: dict[str, Any]) -> ArrayInfo:
    """Facts of a Zarr v2 ``.zarray``.

    :raises ExtractionError: a field has the wrong JSON type.
    """
    shape = _ints(doc.get("shape"), "shape")
    chunks = _ints(doc["chunks"], "chunks") if "chunks" in doc else None
    dtype, itemsize = _dtype_v2(doc.get("dtype"))
    filters = doc.get("filters") or []
    if not isinstance(filters, list):
        raise ExtractionError("filters must be a list or null")
    chain = [f.get("id") if isinstance(f, dict) else None for f in filters]
    compressor = doc.get("compressor")
    step = None
    if isinstance(compressor, dict) and isinstance(compressor.get("id"), str):
        step = compressor["id"]
        if step == "blosc" and isinstance(compressor.get("cname"), str):
            step = f"blosc/{compressor['cname']}"
        chain.append(compressor["id"])
    elif compressor is not None:
        raise ExtractionError("compressor must be an object with an id, or null")
    return ArrayInfo(
        2,
        shape,
        dtype,
        itemsize,
        chunks,
        None,
        ",".join(c for c in chain if isinstance(c, str)),
        step,
        _fill(doc.get("fill_value")),
        None,
    )


def _p(name: str) -> str:
    return f"<{NKG}{name}>"


def _joined(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values)


def array_triples(node: str, info: ArrayInfo) -> list[rdf.Triple]:
    """Triples stating ``info`` about ``node`` (a resolution level)."""
    out = [
        (node, _p("shape"), rdf.literal(_joined(info.shape))),
        (node, _p("pixelCount"), rdf.integer(info.pixel_count)),
        (node, _p("sharded"), rdf.boolean(info.shard_shape is not None)),
        (node, _p("codecs"), rdf.literal(info.codecs)),
        (node, _p("arrayZarrFormat"), rdf.integer(info.zarr_format)),
    ]
    if info.dtype:
        out.append((node, _p("dataType"), rdf.literal(info.dtype)))
    if info.uncompressed_bytes is not None:
        out.append((node, _p("uncompressedBytes"), rdf.integer(info.uncompressed_bytes)))
    if info.chunk_shape is not None:
        out.append((node, _p("chunkShape"), rdf.literal(_joined(info.chunk_shape))))
    if info.shard_shape is not None:
        out.append((node, _p("shardShape"), rdf.literal(_joined(info.shard_shape))))
    if info.compressor:
        out.append((node, _p("compressor"), rdf.literal(info.compressor)))
    if info.fill_value is not None:
        out.append((node, _p("fillValue"), rdf.literal(info.fill_value)))
    if info.dimension_names is not None:
        names = ",".join(n or "" for n in info.dimension_names)
        out.append((node, _p("dimensionNames"), rdf.literal(names)))
    return out

"""JSON parsing: orjson for speed, the standard library for error messages.

A document orjson refuses is parsed again with :mod:`json`, which either reads it (some
versions of orjson refuse integers beyond 64 bits) or gives the usual error message.
Depending on its version, orjson may instead read such an integer as a float: for JSON-LD
that only matters between 2**64 and 10**21 (larger numbers are doubles anyway).

Whatever the input, the only error is :class:`ValueError`: ``NaN``, ``Infinity`` and numbers
beyond the range of a double (``1e999``) are not JSON numbers and are refused, as orjson does;
nesting deeper than orjson's limit of 1024 is refused with a clear message rather than the
standard library's ``RecursionError``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

#: orjson's nesting limit (not configurable); ``Limits.max_json_depth`` documents it.
MAX_DEPTH = 1024


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is beyond the range of a double")
    return value


def loads(data: bytes | str) -> Any:
    """Parse JSON text; :class:`ValueError` (``json.JSONDecodeError``) when it is invalid."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
        if "infinity" in str(exc):
            raise ValueError(f"invalid JSON: {exc}") from None
    try:
        return json.loads(data, parse_constant=_constant, parse_float=_float)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None

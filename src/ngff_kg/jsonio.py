"""JSON parsing: orjson for speed, the standard library for error messages.

A document orjson refuses is parsed again with :mod:`json`, which either reads it (some
versions of orjson refuse integers beyond 64 bits) or gives the usual error message.
Depending on its version, orjson may instead read such an integer as a float: for JSON-LD
that only matters between 2**64 and 10**21 (larger numbers are doubles anyway).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    """Parse JSON text; :class:`ValueError` (``json.JSONDecodeError``) when it is invalid."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)

"""JSON parsing: orjson for speed, the standard library for error messages.

A document orjson refuses is parsed again with :mod:`json`, which either reads it (some
versions of orjson refuse integers beyond 64 bits) or gives the usual error message.
Depending on its version, orjson may instead read such an integer as a float: for JSON-LD
that only matters between 2**64 and 10**21 (larger numbers are doubles anyway).

Whatever the input, the only error is :class:`ValueError`. ``NaN``, ``Infinity`` and numbers
beyond the range of a double (``1e999``) are not JSON, but metadata writers produce them (a
Zarr v2 ``fill_value``, a scale computed as 0/0): they are read, as the standard library
reads them, as non-finite floats, and the extractors report and drop them, so the rest of
the document is not lost. Nesting deeper than orjson's limit of 1024 is refused with a clear
message rather than the standard library's ``RecursionError``.

>>> loads(b'{"scale": [NaN, 1e999]}')
{'scale': [nan, inf]}

:func:`loads_checked` also tells whether the text may hold such numbers, so that nobody has
to look for them in a document that cannot have any:

>>> loads_checked(b'[1.5, 2]'), loads_checked(b'[NaN]')
(([1.5, 2], True), ([nan], False))
"""

from __future__ import annotations

import json
from typing import Any

import orjson

#: orjson's nesting limit (not configurable); ``Limits.max_json_depth`` documents it.
MAX_DEPTH = 1024


def _orjson_bounds_depth() -> bool:
    """Whether this orjson refuses nesting deeper than :data:`MAX_DEPTH` (older ones do not)."""
    try:
        orjson.loads(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    except orjson.JSONDecodeError:
        return True
    return False


_BOUNDED = _orjson_bounds_depth()


def _check_depth(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))


def loads(data: bytes | str) -> Any:
    """Parse JSON text; :class:`ValueError` (``json.JSONDecodeError``) when it is invalid."""
    return loads_checked(data)[0]


def loads_checked(data: bytes | str) -> tuple[Any, bool]:
    """The value of the JSON text ``data`` (as :func:`loads`) and whether the text is plain
    JSON: ``True`` when orjson read it, which refuses NaN, Infinity and numbers beyond a
    double, so the value holds no non-finite float; ``False`` when it may hold one."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    else:
        if not _BOUNDED:  # an orjson without the limit: the same bound, checked here
            _check_depth(value)
        return value, True
    try:
        value = json.loads(data)
        _check_depth(value)
        return value, False
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None

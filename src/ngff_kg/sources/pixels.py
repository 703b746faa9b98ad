"""Pixels: one plane of an OME-Zarr image, read with zarr-python from the smallest level that
fits a byte budget.

The image is the root's first multiscales (or, in a ``bioformats2raw.layout`` root, that of
series ``0``). The plane is the middle z-plane of the first time point, every channel. Only the
chunks the plane touches are read; :func:`plane_cost` says how many bytes that is before
anything is read, and a level whose cost exceeds the budget is never opened for reading.
Zarr v2 and v3 arrays (sharded or not) are read through zarr's own stores: a local directory,
or an ``http(s)://`` URL through obstore.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field
from typing import Any

from ngff_kg.errors import require

#: Default budget of pixel bytes read per dataset.
MAX_BYTES = 64 * 1024 * 1024


class PixelError(Exception):
    """The image cannot be read within the rules (no image, too big, missing chunks...)."""


@dataclass(frozen=True, slots=True)
class Plane:
    """Channels of one plane (``pixels``: channels × y × x) and the OMERO rendering settings."""

    pixels: Any
    level: str
    omero: dict[str, Any] = field(default_factory=dict)
    bytes_read: int = 0


def open_group(location: str | os.PathLike[str]) -> Any:
    """The zarr group at a local directory or an ``http(s)://`` URL (read-only).

    :raises PixelError: no group there.
    """
    zarr: Any = require("zarr", "thumbnails")
    text = os.fspath(location)
    if text.startswith(("http://", "https://")):
        from obstore.store import HTTPStore

        client: Any = {"allow_http": True} if text.startswith("http://") else {}
        remote = HTTPStore.from_url(text.rstrip("/"), client_options=client)
        store: Any = zarr.storage.ObjectStore(remote, read_only=True)
    elif text.startswith("file://"):
        raise PixelError("give a local path, not a file:// URL")
    else:
        store = zarr.storage.LocalStore(text, read_only=True)
    try:
        return zarr.open_group(store, mode="r")
    except Exception as exc:  # zarr raises several kinds (missing, invalid metadata)
        raise PixelError(f"no zarr group at {text}: {exc}") from exc


def ngff_attributes(group: Any) -> dict[str, Any]:
    """The NGFF attributes of a group: ``attributes.ome`` (v0.5+) or the v2 attributes."""
    attrs = dict(group.attrs)
    ome = attrs.get("ome")
    return dict(ome) if isinstance(ome, dict) else attrs


def image_group(root: Any) -> tuple[Any, dict[str, Any]]:
    """The group holding the image and its NGFF attributes (the root, or series ``0`` of a
    ``bioformats2raw.layout`` root).

    :raises PixelError: no multiscales image (a plate, a metadata-only tree...).
    """
    attrs = ngff_attributes(root)
    if attrs.get("multiscales"):
        return root, attrs
    if "bioformats2raw.layout" in attrs:
        try:
            series = root["0"]
        except KeyError:
            raise PixelError("no bioformats2raw series 0 (a metadata-only copy?)") from None
        except Exception as exc:
            raise PixelError(f"bioformats2raw series 0 cannot be opened: {exc}") from exc
        series_attrs = ngff_attributes(series)
        if series_attrs.get("multiscales"):
            return series, series_attrs
    if attrs.get("plate"):
        raise PixelError("a plate: no image at the root")
    raise PixelError("no multiscales image at the root")


def axis_names(multiscale: dict[str, Any], ndim: int) -> list[str]:
    """Axis names of a multiscale (v0.4+ objects, v0.3 strings; ``tczyx`` before that).

    >>> axis_names({"axes": [{"name": "c"}, {"name": "y"}, {"name": "x"}]}, 3)
    ['c', 'y', 'x']
    >>> axis_names({}, 5)
    ['t', 'c', 'z', 'y', 'x']
    """
    axes = multiscale.get("axes")
    if isinstance(axes, list) and len(axes) == ndim:
        names = [a.get("name") if isinstance(a, dict) else a for a in axes]
        return [str(n).lower() for n in names]
    if ndim <= 5:
        return list("tczyx"[5 - ndim :])
    raise PixelError(f"{ndim} dimensions without axes")


def plane_selection(names: list[str], shape: tuple[int, ...]) -> tuple[Any, ...]:
    """The index of the plane: first t, middle z, every c, y, x (other axes: first).

    >>> plane_selection(["t", "c", "z", "y", "x"], (3, 2, 5, 8, 8))
    (0, slice(None, None, None), 2, slice(None, None, None), slice(None, None, None))
    """
    index: list[Any] = []
    for name, size in zip(names, shape, strict=True):
        if name in ("c", "y", "x"):
            index.append(slice(None))
        elif name == "z":
            index.append(size // 2)
        else:
            index.append(0)
    return tuple(index)


def plane_cost(shape: tuple[int, ...], chunks: tuple[int, ...], itemsize: int, sel: Any) -> int:
    """Bytes of the (decoded) chunks a selection touches: whole chunks along the full axes,
    one chunk along the others.

    >>> plane_cost((1, 2, 10, 100, 100), (1, 1, 4, 64, 64), 2, (0, slice(None), 5, slice(None),
    ...     slice(None)))
    262144
    """
    total = itemsize
    for size, chunk, index in zip(shape, chunks, sel, strict=True):
        chunk = max(1, min(chunk, size))
        total *= math.ceil(size / chunk) * chunk if isinstance(index, slice) else chunk
    return total


def read_plane(
    location: str | os.PathLike[str], max_bytes: int = MAX_BYTES, size: int = 256
) -> Plane:
    """The plane of the image at ``location`` from the smallest level at least ``size`` pixels
    wide or high whose chunks fit ``max_bytes`` (else the largest level that fits).

    :raises PixelError: no image, no level fits the budget, chunks missing or unreadable.
    """
    np: Any = require("numpy", "thumbnails")
    group, attrs = image_group(open_group(location))
    multiscale = attrs["multiscales"][0]
    paths = [d.get("path") for d in multiscale.get("datasets", []) if isinstance(d, dict)]
    if not paths:
        raise PixelError("the multiscales has no datasets")
    fitting: list[tuple[str, Any, tuple[Any, ...], list[str], int]] = []
    smallest_cost = None
    for path in reversed(paths):  # lowest resolution first
        try:
            array = group[str(path)]
        except KeyError:
            raise PixelError(f"no array at level {path!r} (a metadata-only copy?)") from None
        except Exception as exc:
            raise PixelError(f"level {path!r} cannot be opened: {exc}") from exc
        names = axis_names(multiscale, array.ndim)
        sel = plane_selection(names, array.shape)
        cost = plane_cost(array.shape, array.chunks, array.dtype.itemsize, sel)
        if smallest_cost is None:
            smallest_cost = cost
        if cost > max_bytes:
            break  # higher levels cost more still
        fitting.append((str(path), array, sel, names, cost))
        yx = [n for name, n in zip(names, array.shape, strict=True) if name in ("y", "x")]
        if yx and max(yx) >= size:
            break
    if not fitting:
        raise PixelError(
            f"even the smallest level needs {smallest_cost} bytes of chunks, "
            f"more than the {max_bytes} allowed"
        )
    path, array, sel, names, cost = fitting[-1]
    if not _any_chunk_stored(array, sel):
        raise PixelError(f"no pixel chunks stored for level {path!r} (a metadata-only copy?)")
    try:
        data = np.asarray(array[sel])
    except Exception as exc:
        raise PixelError(f"level {path!r} cannot be read: {type(exc).__name__}: {exc}") from exc
    kept = [n for n, index in zip(names, sel, strict=True) if isinstance(index, slice)]
    if "y" not in kept or "x" not in kept:
        raise PixelError(f"the image has no y and x axes ({','.join(names)})")
    order = [kept.index("c")] if "c" in kept else []
    order += [kept.index("y"), kept.index("x")]
    data = data.transpose(order)
    if "c" not in kept:
        data = data[np.newaxis]
    omero = attrs.get("omero")
    return Plane(data, path, dict(omero) if isinstance(omero, dict) else {}, cost)


def _any_chunk_stored(array: Any, sel: tuple[Any, ...]) -> bool:
    """Whether any stored chunk (shard, for sharded arrays) holds part of the selection.

    Zarr reads a missing chunk as the fill value, which is right for a few chunks left out as
    empty, but an image none of whose chunks are stored has no pixels to show.
    """
    from zarr.core.sync import sync

    grid = getattr(array, "shards", None) or array.chunks
    ranges = []
    for size, chunk, index in zip(array.shape, grid, sel, strict=True):
        chunk = max(1, chunk)
        ranges.append(
            range(math.ceil(size / chunk)) if isinstance(index, slice) else [index // chunk]
        )
    prefix = f"{array.path}/" if array.path else ""

    async def look() -> bool:
        for coords in itertools.product(*ranges):
            key = prefix + array.metadata.encode_chunk_key(coords)
            if await array.store.exists(key):
                return True
        return False

    return bool(sync(look()))


__all__ = [
    "MAX_BYTES",
    "PixelError",
    "Plane",
    "axis_names",
    "image_group",
    "ngff_attributes",
    "open_group",
    "plane_cost",
    "plane_selection",
    "read_plane",
]

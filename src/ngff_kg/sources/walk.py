"""Local discovery: walk directories for OME-Zarr roots and CSV sample lists.

A root is a group whose metadata carries NGFF attributes (``zarr.json`` with
``attributes.ome``, or a v2 ``.zattrs`` with NGFF keys) and that has no such group above it in
the walk. The walk does not descend into a root (nested groups belong to it) nor into arrays,
so chunk files are never listed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ngff_kg import jsonio
from ngff_kg.extract.ngff import OmeGroup, ome_group_v2, ome_group_v3
from ngff_kg.limits import read_regular

ZARR_JSON = "zarr.json"
ZATTRS = ".zattrs"
CRATE = "ro-crate-metadata.json"


@dataclass(frozen=True, slots=True)
class FoundRoot:
    path: str
    group: OmeGroup
    metadata_file: str  # "zarr.json" or ".zattrs"
    metadata_bytes: bytes
    has_crate: bool
    #: entries of the root directory (lets extraction skip documents that cannot exist)
    names: frozenset[str] | None = None
    #: (name, size, validator) of the metadata document, when discovery has it already
    record: tuple[str, int, int | str] | None = None
    #: the metadata document is plain JSON (:func:`ngff_kg.jsonio.loads_checked`): it holds
    #: no NaN nor infinite number (False: it may)
    metadata_finite: bool = False


@dataclass(frozen=True, slots=True)
class FoundCsv:
    path: Path


@dataclass(frozen=True, slots=True)
class WalkError:
    path: Path | str
    reason: str


@dataclass(frozen=True, slots=True)
class KnownRoot:
    """A root recorded by an earlier harvest whose root metadata document keeps its size and
    modification time (found with ``stat``, nothing read)."""

    path: str
    records: list[list[object]]
    #: entries of the root directory (documents recorded missing need no ``stat`` when their
    #: first path component is not among them)
    names: Collection[str] | None = None


Found = FoundRoot | FoundCsv | WalkError | KnownRoot


def classify_document(name: str, data: bytes) -> tuple[OmeGroup | str | None, bool]:
    """What a ``zarr.json`` or ``.zattrs`` document makes its directory: a root (its NGFF
    group), ``"skip"`` (an array: not entered), or ``None`` (walk on below it); and whether
    the document is plain JSON (no NaN nor infinite number: :func:`jsonio.loads_checked`).

    :raises ValueError: the document is not JSON.
    """
    doc, finite = jsonio.loads_checked(data)
    return _classify_value(name, doc), finite


def _classify_value(name: str, doc: Any) -> OmeGroup | str | None:
    if name == ZARR_JSON:
        group = ome_group_v3(doc)
        if group is not None:
            return group
        if isinstance(doc, dict) and doc.get("node_type") == "array":
            return "skip"
        return None
    return ome_group_v2(doc)


def classify(directory: str, names: set[str]) -> FoundRoot | WalkError | str | None:
    """What ``directory`` (holding ``names``) is: a root, ``"skip"`` (an array), or ``None``."""
    for name in (ZARR_JSON, ZATTRS):
        if name not in names:
            continue
        path = os.path.join(directory, name)
        try:
            data, stat = read_regular(path)  # regular files only, bounded
            kind, finite = classify_document(name, data)
        except (OSError, ValueError) as exc:
            return WalkError(Path(path), f"unreadable {name}: {exc}")
        if isinstance(kind, OmeGroup):
            record = (name, stat.st_size, stat.st_mtime_ns)
            return FoundRoot(
                directory, kind, name, data, CRATE in names, frozenset(names), record, finite
            )
        if kind is not None or name == ZARR_JSON:
            return kind
    if ".zarray" in names:
        return "skip"
    return None


def _known(directory: str, names: set[str], known: Callable[[str], Any]) -> KnownRoot | None:
    name = ZARR_JSON if ZARR_JSON in names else ZATTRS if ZATTRS in names else None
    if name is None:
        return None
    records = known(directory)
    if not records or records[0][0] != name:
        return None
    try:
        stat = os.stat(os.path.join(directory, name))
    except OSError:
        return None
    if (stat.st_size, stat.st_mtime_ns) != (records[0][1], records[0][2]):
        return None
    return KnownRoot(directory, records, names)


def walk(
    source: str | os.PathLike[str], known: Callable[[str], Any] | None = None
) -> Iterator[Found]:
    """Roots, CSV files and unreadable metadata below ``source``, in sorted path order.

    ``known(directory)`` gives the documents recorded for a root by an earlier harvest (or
    None); a root whose metadata document is unchanged is yielded as :class:`KnownRoot`
    without reading it.
    """
    stack = [os.fspath(source)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield WalkError(Path(directory), f"cannot list directory: {exc.strerror or exc}")
            continue
        names = {e.name for e in entries}
        if known is not None:
            recorded = _known(directory, names, known)
            if recorded is not None:
                yield recorded
                continue
        found = classify(directory, names)
        if isinstance(found, FoundRoot):
            yield found
            continue
        if found == "skip":
            continue
        if isinstance(found, WalkError):
            yield found
        subdirs = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.path)
            elif name.endswith(".csv") and entry.is_file():
                yield FoundCsv(Path(entry.path))
        stack.extend(reversed(subdirs))


def root_at(directory: str | os.PathLike[str]) -> FoundRoot | None:
    """The root at ``directory`` itself, if it is one."""
    directory = os.fspath(directory)
    found = classify(directory, set(os.listdir(directory)))
    return found if isinstance(found, FoundRoot) else None

"""Local discovery: walk directories for OME-Zarr roots and CSV sample lists.

A root is a group whose metadata carries NGFF attributes (``zarr.json`` with
``attributes.ome``, or a v2 ``.zattrs`` with NGFF keys) and that has no such group above it in
the walk. The walk does not descend into a root (nested groups belong to it) nor into arrays,
so chunk files are never listed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import jsonio
from .extract.ngff import OmeGroup, ome_group_v2, ome_group_v3

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


@dataclass(frozen=True, slots=True)
class FoundCsv:
    path: Path


@dataclass(frozen=True, slots=True)
class WalkError:
    path: Path
    reason: str


Found = FoundRoot | FoundCsv | WalkError


def _read_json(path: str) -> tuple[bytes, object]:
    with open(path, "rb") as fh:
        data = fh.read()
    return data, jsonio.loads(data)


def classify(directory: str, names: set[str]) -> FoundRoot | WalkError | str | None:
    """What ``directory`` (holding ``names``) is: a root, ``"skip"`` (an array), or ``None``."""
    if ZARR_JSON in names:
        path = os.path.join(directory, ZARR_JSON)
        try:
            data, doc = _read_json(path)
        except (OSError, ValueError) as exc:
            return WalkError(Path(path), f"unreadable zarr.json: {exc}")
        group = ome_group_v3(doc)
        if group is not None:
            return FoundRoot(directory, group, ZARR_JSON, data, CRATE in names, frozenset(names))
        if isinstance(doc, dict) and doc.get("node_type") == "array":
            return "skip"
        return None
    if ZATTRS in names:
        path = os.path.join(directory, ZATTRS)
        try:
            data, doc = _read_json(path)
        except (OSError, ValueError) as exc:
            return WalkError(Path(path), f"unreadable .zattrs: {exc}")
        group = ome_group_v2(doc)
        if group is not None:
            return FoundRoot(directory, group, ZATTRS, data, CRATE in names, frozenset(names))
    if ".zarray" in names:
        return "skip"
    return None


def walk(source: str | os.PathLike[str]) -> Iterator[Found]:
    """Roots, CSV files and unreadable metadata below ``source``, in sorted path order."""
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

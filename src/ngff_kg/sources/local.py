"""Metadata sources: where the documents of one OME-Zarr root are read from.

Extraction asks a source for documents by their path relative to the root
(``"A/1/zarr.json"``) and gets their bytes, or ``None`` when there is no such document. Only
metadata documents can be asked for: the names are checked, so a chunk is never read.
:class:`LocalSource` reads a directory; a source for HTTP or S3 implements the same
:class:`MetadataSource` protocol.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Collection
from typing import Protocol
from urllib.parse import quote

from ngff_kg.errors import ExtractionError
from ngff_kg.limits import DEFAULT_LIMITS, Limits, read_regular
from ngff_kg.urls import PATH_SAFE

#: The only file names a source hands out: Zarr v3/v2 metadata, consolidated metadata, OME-XML,
#: the RO-Crate metadata file.
METADATA_NAMES = frozenset(
    {
        "zarr.json",
        ".zattrs",
        ".zgroup",
        ".zarray",
        ".zmetadata",
        "METADATA.ome.xml",
        "ro-crate-metadata.json",
    }
)


class MetadataSource(Protocol):
    """Documents of one root, by relative path."""

    #: every document read or looked for: (path, size or -1 when missing, mtime or validator)
    accessed: list[tuple[str, int, int | str]]
    #: whether a read failed (then the dataset is read again next time)
    failed: bool

    def get(self, path: str) -> bytes | None:
        """The bytes of the document at ``path`` (relative, ``/``-separated), or ``None``.

        :raises ExtractionError: the path is not a metadata document, or it exists but cannot
            be read.
        """
        ...

    def might_have(self, path: str) -> bool:
        """``False`` when the document surely does not exist (answered without I/O)."""
        ...

    def url(self, path: str) -> str:
        """The URL of a document (``file://`` for local sources)."""
        ...


def check_path(path: str) -> str:
    """``path`` normalized; it must stay inside the root and name a metadata document."""
    normal = posixpath.normpath(path)
    if normal.startswith(("../", "/")) or normal == "..":
        raise ExtractionError(f"metadata path {path!r} leaves the dataset root")
    if posixpath.basename(normal) not in METADATA_NAMES:
        raise ExtractionError(f"{path!r} is not a metadata document; only metadata is read")
    return normal


class LocalSource:
    """A root directory on the local file system.

    ``names`` (the entries of the root directory, when the caller listed it already) lets
    documents below a missing top-level entry be answered without a system call: plates
    list thousands of wells whose directories a metadata mirror leaves out.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        names: Collection[str] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.root = os.fspath(root)
        self.limits = limits
        self._names = frozenset(names) if names is not None else None
        #: Every document asked for: (path, size, mtime in ns), size -1 where it was missing.
        self.accessed: list[tuple[str, int, int | str]] = []
        self.failed = False  # local reads that fail are reported, and not retried

    def url(self, path: str) -> str:
        full = os.path.abspath(os.path.join(self.root, *path.split("/")))
        return "file://" + quote(full, safe=PATH_SAFE)

    def might_have(self, path: str) -> bool:
        return self._names is None or path.split("/", 1)[0] in self._names

    def get(self, path: str) -> bytes | None:
        path = check_path(path)
        if not self.might_have(path):
            self.accessed.append((path, -1, 0))
            return None
        full = os.path.join(self.root, *path.split("/"))
        try:
            # only regular files, at most limits.max_document_bytes: a FIFO or a link to
            # /dev/zero named like a metadata document is reported, never read
            data, stat = read_regular(full, self.limits)
        except (FileNotFoundError, NotADirectoryError):
            self.accessed.append((path, -1, 0))
            return None
        except ExtractionError as exc:
            raise ExtractionError(f"cannot read {path}: {exc}") from exc
        self.accessed.append((path, stat.st_size, stat.st_mtime_ns))
        return data


#: Path components that name a directory that is always there.
_SELF = frozenset({"", ".", ".."})


def file_state(root: str, path: str) -> tuple[str, int, int]:
    """(path, size, mtime in ns) of a file below ``root``; size -1 when it does not exist."""
    try:
        stat = os.stat(os.path.join(root, *path.split("/")))
    except (FileNotFoundError, NotADirectoryError):
        return (path, -1, 0)
    return (path, stat.st_size, stat.st_mtime_ns)


def unchanged(
    root: str,
    files: list[list[object]] | list[tuple[str, int, int]],
    names: Collection[str] | None = None,
    metadata: str | None = None,
) -> bool:
    """Whether every file recorded by a harvest still has its size and modification time
    (and every file missing then is still missing), checked with ``stat`` only.

    ``names`` (the entries of ``root``, when the caller listed it) answers for a file
    recorded missing below an entry that is not there, as :meth:`LocalSource.might_have`
    does when the file is read: no ``stat`` that fails (most roots have no ``OME/``).
    ``metadata``: the root metadata document the root has now (``zarr.json`` or
    ``.zattrs``); the record must be of it (a Zarr v2 root that gained a ``zarr.json`` is
    read again, though its ``.zattrs`` did not change)."""
    if metadata is not None and (not files or files[0][0] != metadata):
        return False
    for path, size, mtime in files:
        if size == -1 and names is not None and isinstance(path, str):
            first = path.split("/", 1)[0]
            if first not in names and first not in _SELF:
                continue
        if file_state(root, str(path)) != (path, size, mtime if size != -1 else 0):
            return False
    return True

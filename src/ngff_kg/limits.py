"""Limits on what a harvest reads: one place, with defaults far above real metadata.

Metadata documents of real OME-Zarr roots are kilobytes (the largest of the 15,241 roots of
the OME 2024 NGFF challenge is a few megabytes: plates with thousands of wells). The limits
protect a harvest from hostile or broken input (an endless file, a FIFO, a CSV field of
gigabytes) without ever touching real metadata. Exceeding one is reported for the document,
never a crash.

==========================  ==========  ==================================================
limit                       default     what happens beyond it
==========================  ==========  ==================================================
``max_document_bytes``      64 MiB      the document is reported and not parsed (at most
                                        ``max_document_bytes + 1`` bytes are ever read)
``max_json_depth``          1024        fixed by orjson; deeper JSON is reported invalid
``max_csv_field_chars``     131,072     the CSV row is reported and skipped (the standard
                                        library's default field limit, never raised)
``max_csv_rows``            1,000,000   the rest of the CSV list is reported and skipped
==========================  ==========  ==================================================

Only regular files are opened: FIFOs, sockets, devices and directories named like a metadata
document are reported without being opened for reading (a FIFO would block forever, a device
such as ``/dev/zero`` would never end). Symbolic links are followed to regular files only.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from ngff_kg.errors import ExtractionError


@dataclass(frozen=True, slots=True)
class Limits:
    max_document_bytes: int = 64 * 1024 * 1024
    max_json_depth: int = 1024
    max_csv_field_chars: int = 131_072
    max_csv_rows: int = 1_000_000


DEFAULT_LIMITS = Limits()

#: Bytes read at a time from a file that is longer than its ``fstat`` said (it grew).
_CHUNK = 1 << 16

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of the regular file at ``path``, read with a bound (see :func:`read_regular`)."""
    return read_regular(path, limits)[0]


def read_regular(
    path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS
) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file at ``path``, read with a bound, and its ``fstat``.

    :raises FileNotFoundError: there is nothing at ``path`` (or a component is not a directory).
    :raises ExtractionError: ``path`` is not a regular file (FIFO, device, socket, directory,
        symbolic link loop), is larger than ``limits.max_document_bytes``, or cannot be read.
    """
    name = os.fspath(path)
    try:
        before = os.stat(name)
        if not stat.S_ISREG(before.st_mode):
            raise ExtractionError(f"{name} is {_kind(before.st_mode)}, not a regular file")
        # O_NONBLOCK: should the file be swapped for a FIFO after the stat, open does not block
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ExtractionError(f"{name}: symbolic link loop") from exc
        raise ExtractionError(f"cannot read {name}: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ExtractionError(f"{name} is {_kind(st.st_mode)}, not a regular file")
        limit = limits.max_document_bytes
        if st.st_size > limit:
            raise ExtractionError(f"{name} is {st.st_size} bytes, more than the limit of {limit}")
        chunks: list[bytes] = []
        size = 0
        # the whole file in the first read (one byte more: a file that grew since the fstat is
        # read on, in chunks, up to the bound), not a buffer of fixed size for each file.
        # Fewer bytes than asked once the fstat size is reached is the end: no read more to
        # see it. Before it (network and FUSE file systems may give less), read on.
        want = st.st_size + 1
        while size <= limit:
            asked = min(limit + 1 - size, want)
            chunk = os.read(fd, asked)
            chunks.append(chunk)
            size += len(chunk)
            if not chunk or (len(chunk) < asked and size >= st.st_size):
                break
            want = _CHUNK
        if size > limit:
            raise ExtractionError(f"{name} grew beyond the limit of {limit} bytes while read")
        return b"".join(chunks), st
    except OSError as exc:
        raise ExtractionError(f"cannot read {name}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)

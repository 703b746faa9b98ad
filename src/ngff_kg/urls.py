"""Dataset IRIs: local paths and URLs → one normalized, percent-encoded form.

A dataset IRI is the URL of its root with exactly one trailing ``/``. Paths are
percent-encoded (``The Rockefeller University`` → ``The%20Rockefeller%20University``); a URL
that is already encoded is not encoded twice.

>>> normalize_url("HTTPS://Example.org/a b/x.zarr//", directory=True)
'https://example.org/a%20b/x.zarr/'
>>> normalize_url("https://example.org/a%20b/x.zarr", directory=True)
'https://example.org/a%20b/x.zarr/'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ngff_kg.errors import UsageError

#: Characters left as they are in a path (RFC 3986 pchar plus "/").
PATH_SAFE = "/:@!$&'()*+,;=-._~"


_PLAIN_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://[a-z0-9.\-:]+/[A-Za-z0-9/:@!$&'()*+,;=\-._~]*$")
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9/:@!$&'()*+,;=\-._~]")
#: a path segment that is the same in a URL, and no dot segment nor hidden name
_SEGMENT = re.compile(r"[A-Za-z0-9\-_~][A-Za-z0-9\-._~]*")


def normalize_url(url: str, *, directory: bool) -> str:
    """Lower-case scheme and host, path percent-encoded once, no fragment.

    ``directory=True`` gives exactly one trailing slash (dataset roots); otherwise trailing
    slashes are kept as they are (files such as CSV lists).
    """
    url = url.strip()
    if _PLAIN_URL.match(url):  # already normal: lower-case host, nothing to encode
        if directory:
            return url.rstrip("/") + "/"
        return url
    parts = urlsplit(url)
    path = parts.path
    if _NEEDS_QUOTING.search(path):
        path = quote(unquote(path), safe=PATH_SAFE)
    if directory:
        path = path.rstrip("/") + "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def file_url(path: Path, *, directory: bool) -> str:
    text = quote(Path(os.path.abspath(path)).as_posix(), safe=PATH_SAFE)
    if directory:
        text = text.rstrip("/") + "/"
    return "file://" + text


@dataclass(frozen=True)
class UrlMapper:
    """Maps paths below a walked directory to URLs: ``base_url`` + relative path.

    With ``base_url="https://"`` the first path component is the host, as in the challenge
    metadata repository. Without a base URL, paths become ``file://`` IRIs.
    """

    root: Path
    base_url: str | None = None
    _prefix: str = field(init=False, repr=False, compare=False)  # the root, ending in os.sep
    #: the URL of each directory whose subdirectories were mapped ("": not to be extended)
    _parents: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.base_url is not None:
            scheme = urlsplit(self.base_url).scheme
            if not scheme or "://" not in self.base_url:
                raise UsageError(
                    f"--base-url must be an absolute URL prefix such as https:// or "
                    f"https://example.org/data/, got {self.base_url!r}"
                )
            if not self.base_url.endswith("/"):
                object.__setattr__(self, "base_url", self.base_url + "/")
        object.__setattr__(self, "_prefix", os.fspath(self.root).rstrip(os.sep) + os.sep)

    def url(self, path: str | Path, *, directory: bool) -> str:
        """The URL of ``path`` (a directory's with one trailing ``/``)."""
        if directory and isinstance(path, str):
            # a directory named with unreserved characters only: its parent's URL and its
            # name (a re-harvest maps a million roots, a few hundred parents)
            parent, sep, name = path.rpartition(os.sep)
            if sep and parent and _SEGMENT.fullmatch(name):
                base = self._parents.get(parent)
                if base is None:
                    base = self._parent_url(parent)
                if base:
                    return base + name + "/"
        return self._url(path, directory=directory)

    def _parent_url(self, parent: str) -> str:
        """The URL of ``parent`` when a subdirectory's is that URL and its name, else ``""``:
        not when the name would end up in the host (the root under ``https://``), a query
        or a fragment."""
        try:
            base = self._url(parent, directory=True)
        except UsageError:
            base = ""
        parts = urlsplit(base)
        if (
            any(c in (self.base_url or "") + base for c in "?#")  # a query or a fragment
            or not parts.path.startswith("/")
            or not (parts.netloc or parts.scheme == "file")
        ):
            base = ""
        if len(self._parents) >= 4096:
            self._parents.clear()
        self._parents[parent] = base
        return base

    def _url(self, path: str | Path, *, directory: bool) -> str:
        if self.base_url is None:
            return file_url(Path(path), directory=directory)
        prefix = self._prefix
        if (
            isinstance(path, str)
            and path.startswith(prefix)
            and "/." not in "/" + path[len(prefix) :].replace(os.sep, "/")
        ):
            # a path the walk joined below the root (nothing to normalize): the fast way
            rel = path[len(prefix) :].replace(os.sep, "/")
            return normalize_url(self.base_url + quote(rel, safe=PATH_SAFE), directory=directory)
        root = os.path.abspath(self.root)
        full = os.path.abspath(path)
        if full == root:
            rel = ""
        elif full.startswith(root.rstrip(os.sep) + os.sep):
            rel = full[len(root.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
        else:
            raise UsageError(f"{path} is outside the walked directory {self.root}")
        return normalize_url(self.base_url + quote(rel, safe=PATH_SAFE), directory=directory)

    def path(self, url: str) -> Path | None:
        """The local path of a URL below the base URL, if it maps into the walked directory."""
        url = normalize_url(url, directory=False)
        if self.base_url is None:
            if not url.startswith("file://"):
                return None
            return Path(unquote(urlsplit(url).path))
        base = normalize_url(self.base_url, directory=False)
        if not url.startswith(base):
            return None
        candidate = self.root / unquote(url[len(base) :].split("?", 1)[0])
        try:
            candidate.resolve().relative_to(self.root.resolve())
        except ValueError:
            return None
        return candidate


def host_of(iri: str) -> str:
    """The host of an IRI (empty for ``file://``)."""
    return urlsplit(iri).netloc

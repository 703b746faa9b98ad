"""The state of one harvest run: datasets seen, what earlier harvests recorded (incremental
harvests: what is unchanged), and pruning what is gone."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ngff_kg.errors import SourceNotFoundError
from ngff_kg.harvest.options import HarvestReport
from ngff_kg.normalize.repairs import Repair
from ngff_kg.reports import Problem
from ngff_kg.sources.remote import is_remote
from ngff_kg.store.knowledge import KnowledgeStore
from ngff_kg.urls import UrlMapper, normalize_url


@dataclass
class Source:
    """One harvest source, classified."""

    kind: str  # "dir", "csv", "omexml", "url", "remote-csv", "s3"
    location: str
    path: Path | None = None  # local sources
    mapper: UrlMapper | None = None  # local sources
    base_url: str | None = None  # remote walked prefixes: URL the prefix maps to

    def iri(self, url: str, *, directory: bool = True) -> str:
        """The IRI of a remote document found below this source."""
        if self.base_url is not None and url.startswith(self.location):
            return normalize_url(self.base_url + url[len(self.location) :], directory=directory)
        return normalize_url(url, directory=directory)


def classify(source: str | os.PathLike[str], base_url: str | None) -> Source:
    """What kind of source ``source`` is.

    :raises SourceNotFoundError: a local source does not exist.
    :raises UsageError: ``base_url`` is not an absolute URL prefix.
    """
    text = os.fspath(source)
    if is_remote(text):
        lowered = text.lower()
        if lowered.endswith(".csv"):
            return Source("remote-csv", normalize_url(text, directory=False))
        if lowered.startswith("s3://"):
            if base_url is not None:
                UrlMapper(Path("."), base_url)  # checks the base URL
                base_url = base_url if base_url.endswith("/") else base_url + "/"
            return Source("s3", normalize_url(text, directory=True), base_url=base_url)
        return Source("url", normalize_url(text, directory=True))
    path = Path(text)
    if not path.exists():
        raise SourceNotFoundError(f"source {path} does not exist")
    mapper = UrlMapper(path.parent if path.is_file() else path, base_url)
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return Source("csv", str(path), path, mapper)
        if path.name.lower().endswith(".ome.xml"):
            return Source("omexml", str(path), path, mapper)
        path = path.parent
    return Source("dir", str(path), path, mapper)


@dataclass
class RunState:
    """What one run has seen so far."""

    report: HarvestReport
    run: str
    datasets: dict[str, str] = field(default_factory=dict)  # IRI → where it was found
    lists: set[str] = field(default_factory=set)
    repair_sets: set[frozenset[Repair]] = field(default_factory=set)
    organisms: set[str] = field(default_factory=set)
    done: int = 0
    #: per dataset or list IRI, the files its last harvest read (empty with ``force``)
    known: Mapping[str, list[list[object]]] = field(default_factory=dict)
    list_iris: set[str] = field(default_factory=set)
    listed_before: set[str] = field(default_factory=set)
    failed_iris: set[str] = field(default_factory=set)

    @property
    def run_term(self) -> str:
        return f"<{self.run}>"

    def new_dataset(self, iri: str, where: str) -> bool:
        """Count a found dataset; False (with a warning) when its IRI was seen already."""
        self.report.datasets_found += 1
        if iri in self.datasets:
            self.report.warnings.append(Problem(where, f"same dataset IRI as {self.datasets[iri]}"))
            return False
        self.datasets[iri] = where
        return True

    def forget(self, iri: str) -> None:
        """A dataset counted by :meth:`new_dataset` that turned out not to be one."""
        del self.datasets[iri]
        self.report.datasets_found -= 1


def prune(store: KnowledgeStore, sources: list[Source], state: RunState) -> int:
    """Remove the graphs of datasets below the walked directories and prefixes that were
    not found, and of datasets that a list named as a source no longer names. Returns how
    many were removed."""
    prefixes: list[str] = []
    for source in sources:
        if source.kind == "dir":
            assert source.path is not None and source.mapper is not None
            mapper = source.mapper
            # a walked directory's own URL is the base URL (with "https://", the scheme)
            prefixes.append(
                mapper.base_url
                if mapper.base_url is not None
                else mapper.url(source.path, directory=True)
            )
        elif source.kind == "s3":
            prefixes.append(source.base_url or source.location)
    stored = store.source_files()
    gone = [
        iri
        for iri in stored
        if ((prefixes and iri.startswith(tuple(prefixes))) or iri in state.listed_before)
        and iri not in state.datasets
        and iri not in state.list_iris
    ]
    for iri in gone:
        store.remove_graph(iri)
    return len(gone)

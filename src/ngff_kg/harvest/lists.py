"""CSV sample lists in a harvest: each list's graph is written, the datasets of a list named
as a source are harvested, and the lists it lists are followed.

A row that cannot be used (a URL that cannot be parsed or stored, bytes that are not UTF-8)
is reported and left out; the other rows of the list are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ngff_kg import rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.extract.samples import SampleList, SampleRow, parse_sample_list, sample_list_triples
from ngff_kg.harvest.dataset import P_FILES, describe
from ngff_kg.harvest.jobs import Extraction
from ngff_kg.harvest.state import RunState, Source
from ngff_kg.limits import read_regular_file
from ngff_kg.reports import Problem
from ngff_kg.sources.local import file_state, unchanged
from ngff_kg.sources.remote import Fetcher, Unchanged, is_remote
from ngff_kg.sources.walk import root_at
from ngff_kg.store.knowledge import GraphData, KnowledgeStore
from ngff_kg.store.writer import valid_iri
from ngff_kg.urls import normalize_url


@dataclass(frozen=True, slots=True)
class Csv:
    """A sample list to read: where, from which source, whether named as a source itself,
    and its (size, validator) when a listing showed them."""

    source: Source
    location: str
    explicit: bool
    listed: tuple[int, str] | None = None


def _usable(url: str) -> bool:
    """Whether a row's URL can name a dataset in the store (no lone surrogate, a valid IRI)."""
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return valid_iri(url)


class SampleLists:
    """Reads the sample lists of one harvest (``read`` one, following the lists it names)."""

    def __init__(
        self,
        store: KnowledgeStore | None,
        fetcher: Any,
        state: RunState,
        extraction: Extraction,
    ) -> None:
        self.store = store
        self._fetcher = fetcher  # a Fetcher, or a callable giving one (made when first used)
        self.state = state
        self.extraction = extraction
        self.queue: list[Csv] = []

    @property
    def fetcher(self) -> Fetcher:
        if not isinstance(self._fetcher, Fetcher):
            self._fetcher = self._fetcher()
        return self._fetcher

    def run(self) -> None:
        """Read every queued list (and those they list); a list that fails is reported."""
        while self.queue:
            csv = self.queue.pop(0)
            try:
                self.read(csv)
            except Exception as exc:  # one list never ends the run
                self.state.report.failed.append(Problem(csv.location, describe(exc), "read"))

    def read(self, csv: Csv) -> None:
        """One CSV list: its graph (sizes and origins of the datasets it lists) is written;
        the datasets of a list named as a source are harvested from their URLs, and the lists
        it lists are followed.

        A remote list is asked for with a conditional request (or not at all, when an S3
        listing shows its ETag unchanged, ``listed``); when unchanged, the datasets and lists
        it names are taken from its graph in the store.
        """
        source, location, explicit, listed = csv.source, csv.location, csv.explicit, csv.listed
        state = self.state
        remote = is_remote(location)
        key = location if remote else str(Path(location).resolve())
        if key in state.lists:
            return
        state.lists.add(key)
        report = state.report
        mapper = source.mapper
        if remote:
            list_iri = source.iri(location, directory=False) if source.kind == "s3" else location
        else:
            assert mapper is not None
            list_iri = mapper.url(Path(location), directory=False)
        known = state.known.get(list_iri)
        files: list[Any] = []
        parsed: SampleList | None = None
        try:
            if remote:
                recorded = str(known[0][2]) if known and isinstance(known[0][2], str) else ""
                name = location.rsplit("/", 1)[-1]
                if listed is not None and recorded and listed[1] == recorded:
                    parsed = self._stored_list(list_iri)
                else:
                    fetched = self.fetcher.call(self.fetcher.aget(location, recorded))
                    if fetched.status == "not-modified":
                        parsed = self._stored_list(list_iri)
                    elif fetched.data is None:
                        raise ExtractionError(f"no CSV at {location} (404)")
                    else:
                        text = fetched.data.decode("utf-8", "surrogateescape")
                        files = [[name, fetched.size, fetched.validator]]
            else:
                path = Path(location)
                if known is not None and unchanged(str(path.parent), known):
                    parsed = self._stored_list(list_iri)  # the graph in the store is current
                else:
                    files = [file_state(str(path.parent), path.name)]
                    try:  # a regular file of bounded size (a FIFO is never opened)
                        data = read_regular_file(path)
                    except ExtractionError as exc:
                        report.failed.append(Problem(location, str(exc), "read"))
                        return
                    # bytes that are not UTF-8 spoil their rows only (see _usable)
                    text = data.decode("utf-8", "surrogateescape")
            if parsed is None:
                parsed = parse_sample_list(text)
        except OSError as exc:
            report.failed.append(Problem(location, f"cannot read CSV: {exc}", "read"))
            return
        except ExtractionError as exc:
            if explicit:
                report.failed.append(Problem(location, str(exc), "parse"))
            return
        for message in parsed.errors:
            report.failed.append(Problem(location, message, "parse"))
        bad = [row for row in parsed.rows if not _usable(row.url)]
        if bad:
            for row in bad:
                url = row.url.encode("utf-8", "backslashreplace").decode("utf-8")
                report.failed.append(Problem(location, f"url {url!r} is not a valid IRI", "parse"))
            parsed.rows = [row for row in parsed.rows if _usable(row.url)]
            parsed.lists = [entry for entry in parsed.lists if _usable(entry[1])]
        state.list_iris.add(list_iri)
        if files:
            if explicit:
                # datasets this list named before: pruned (with --prune) unless found again
                state.listed_before.update(row.url for row in self._stored_list(list_iri).rows)
            triples = sample_list_triples(list_iri, parsed)
            if files[0][2]:  # a validator to ask with next time
                triples.append((rdf.iri(list_iri), P_FILES, rdf.literal(json.dumps(files))))
            self.extraction.sink.add(GraphData.from_triples(list_iri, triples))
        report.sample_lists += 1
        report.sample_rows += len(parsed.rows)
        for message in parsed.warnings:
            report.warnings.append(Problem(location, message))
        if explicit:
            for row in parsed.rows:
                try:
                    self._listed_dataset(row.url, source)
                except Exception as exc:  # one row never ends the list
                    report.failed.append(Problem(row.url, describe(exc), "read"))
        for _name, url in parsed.lists:
            local = mapper.path(url) if mapper is not None and not remote else None
            if local is not None and local.is_file():
                self.queue.append(Csv(source, str(local), True))
            elif explicit and is_remote(url):
                self.queue.append(Csv(Source("remote-csv", url), url, True))
            elif not remote:
                report.warnings.append(
                    Problem(location, f"listed sample list {url} is not available locally")
                )

    def _stored_list(self, list_iri: str) -> SampleList:
        """The datasets and lists a sample list named when it was harvested (its graph)."""
        parsed = SampleList()
        if self.store is None:
            return parsed
        rows, lists = self.store.list_members(list_iri)
        parsed.rows = [SampleRow(url, None, None, None) for url in rows]
        parsed.lists = [(None, url) for url in lists]
        return parsed

    def _listed_dataset(self, url: str, source: Source) -> None:
        """A dataset listed by a sample list named as a source: read from the local copy
        when its URL maps into the list's directory, else fetched from its URL."""
        state, extraction = self.state, self.extraction
        mapper = source.mapper
        local = mapper.path(url) if mapper is not None else None
        if mapper is not None and local is not None and local.is_dir():
            found = root_at(local)
            if found is not None:
                iri = mapper.url(local, directory=True)
                if iri in state.datasets:
                    return
                if state.new_dataset(iri, found.path):
                    files = state.known.get(iri)
                    metadata = found.metadata_file
                    if files is not None and unchanged(found.path, files, metadata=metadata):
                        extraction.done(Unchanged(found.path))
                    else:
                        extraction.add(found, iri)
                return
        if not is_remote(url):
            state.report.failed.append(
                Problem(url, "listed dataset is neither local nor a URL", "read")
            )
            return
        iri = normalize_url(url, directory=True)
        if iri in state.datasets:
            return  # found through another source of this run already
        if state.new_dataset(iri, url):
            extraction.add_url(iri, iri, state.known.get(iri))

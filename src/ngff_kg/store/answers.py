"""Named queries answered from the catalogue index.

A listing of close to every dataset cannot come quickly out of Oxigraph at a million datasets:
the simplest, ``SELECT ?d WHERE { ?d a nkg:OmeZarrDataset }`` over the union graph, takes
some 3 s to evaluate on our 2-CPU machine, whatever the query around it. The catalogue index
(:mod:`ngff_kg.store.catalogue`) holds one row per dataset, with the groups of terms it is
counted by (:func:`~ngff_kg.store.catalogue.tally`): the same answers are a scan of an
SQLite table.

So when ngff-kg itself runs one of the queries of :data:`ANSWERS`, in the text it ships
(not a file of the same name that says something else), on a store whose index follows it
(:meth:`~ngff_kg.store.knowledge.KnowledgeStore.following_catalogue`) and whose summary
graph counts the datasets the index holds, the rows come from the index. They are written
as SPARQL TSV results and parsed back by pyoxigraph as they are read
(:func:`pyoxigraph.parse_query_results`), so the caller gets the same kind of object
as from Oxigraph (``QuerySolutions``: the rows stream, serialize the same). The query text
stays the definition: the same ``.rq`` file gives the same rows in any SPARQL engine, and
the tests compare both ways on the examples, the test tree, the corpus and generated
stores (``tests/store/test_answers.py``).

What the index holds is what the summary counts by: datasets with an IRI, and of a
dataset's own graph what it says of the dataset and of other subjects that could be datasets
(:func:`~ngff_kg.store.catalogue.kept`: an RO-Crate can type another IRI a dataset, or give
the dataset beside it an organism). When a graph types a blank node a dataset, or a dataset's
IRI has a fragment, the index is not :meth:`~ngff_kg.store.catalogue.CatalogueIndex.faithful`
and answers nothing.
"""

from __future__ import annotations

import io
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pyoxigraph as ox

from ngff_kg.queries import NamedQuery, library
from ngff_kg.store.catalogue import LACKABLE, CatalogueIndex, TallyKey
from ngff_kg.store.knowledge import KnowledgeStore
from ngff_kg.store.summary import SUMMARY_GRAPH
from ngff_kg.vocab import NKG, XSD_STRING

#: rows read from the index at a time (each page its own statement: other threads may use
#: an index in memory meanwhile)
PAGE = 5000
_STRING = ox.NamedNode(XSD_STRING)
_DESCENDANTS = f"SELECT ?term WHERE {{{{ ?term <{NKG}subClassOfOrSelf> {{}} }}}}"

#: a query's TSV lines from the index, given the store, the index and the written
#: parameter values (by variable name); ``None``: this case is left to SPARQL
Answer = Callable[
    [KnowledgeStore, CatalogueIndex, Mapping[str, ox.NamedNode | ox.Literal]],
    Iterator[bytes] | None,
]


def answer(
    store: KnowledgeStore,
    query: NamedQuery,
    written: Mapping[str, ox.NamedNode | ox.Literal],
    substitutions: Mapping[ox.Variable, Any],
) -> ox.QuerySolutions | None:
    """The solutions of ``query`` read from the catalogue index, or ``None`` when it cannot
    give them (another query or text, a variable given a value, an index that does not
    follow the store)."""
    make = ANSWERS.get(query.name)
    if make is None or substitutions:
        return None
    shipped = library().get(query.name)
    if shipped is None or shipped.text != query.text:
        return None
    index = store.following_catalogue()
    if index is None:
        return None
    try:
        if not index.faithful() or not _summarized(store, index):
            return None
        lines = make(store, index, written)
    except sqlite3.Error:  # an index that cannot be read now: the graph answers
        return None
    if lines is None:
        return None
    stream = io.BufferedReader(_Lines(lines), buffer_size=1 << 16)
    solutions = ox.parse_query_results(stream, ox.QueryResultsFormat.TSV)
    assert isinstance(solutions, ox.QuerySolutions)  # TSV holds no boolean here
    return solutions


def _summarized(store: KnowledgeStore, index: CatalogueIndex) -> bool:
    """Whether the store's summary (written from the index at the last flush) counts as many
    datasets as the index holds: not so when graphs reached the store by other means than
    its writer (loaded into the Oxigraph store directly), or while a change is not flushed."""
    counts = [
        solution["n"].value
        for solution in store.query(
            f"SELECT ?n WHERE {{ GRAPH <{SUMMARY_GRAPH}> {{ ?s <{NKG}datasets> ?n }} }}"
        )
    ]
    return counts == [str(index.count())]


class _Lines(io.RawIOBase):
    """A binary stream of the lines an iterator gives, read as the parser asks."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            line = next(self._lines, None)
            if line is None:
                return 0
            self._buffer = memoryview(line)
        taken = min(len(target), len(self._buffer))
        target[:taken] = self._buffer[:taken]
        self._buffer = self._buffer[taken:]
        return taken


def _terms(store: KnowledgeStore, term: ox.NamedNode | ox.Literal) -> set[str] | None:
    """The N-Triples terms of ``term`` and its descendants (``nkg:subClassOfOrSelf``), as the
    index writes a dataset's terms; ``None`` when the hierarchy names a node that is no IRI."""
    if not isinstance(term, ox.NamedNode):
        return None
    found = {str(term)}
    for solution in store.query(_DESCENDANTS.format(term)):
        node = solution["term"]
        if not isinstance(node, ox.NamedNode):
            return None
        found.add(str(node))
    return found


def _text_pages(
    index: CatalogueIndex, line: str, tally_ids: Iterable[int] | None, condition: str = ""
) -> Iterator[bytes]:
    """The TSV lines of every dataset of the index (of these groups only, when given; only
    those the SQL ``condition`` holds for, when given), made
    by SQLite from the SQL expression ``line`` of each row of ``records`` and joined a page
    at a time (a million rows read into Python as tuples would take longer than the rest of
    the answer)."""
    where = ""
    if tally_ids is not None:
        listed = ",".join(str(int(i)) for i in tally_ids)
        if not listed:
            return
        where = f"AND tally_id IN ({listed})"
    if condition:
        where += f" AND ({condition})"
    last = -1
    while True:
        [(end, text)] = index.execute(
            f"SELECT max(id), group_concat(line, '') FROM (SELECT id, {line} AS line "
            f"FROM records WHERE id > ? {where} ORDER BY id LIMIT {PAGE})",
            (last,),
        )
        if end is None:
            return
        yield text.encode()
        last = end


def _tallies(index: CatalogueIndex) -> Iterator[tuple[int, TallyKey]]:
    """Each group of datasets the summary counts alike, by id, with its key."""
    for tally_id, text in index.execute("SELECT id, text FROM tallies"):
        yield tally_id, TallyKey.parse(text)


def _find_datasets(
    store: KnowledgeStore,
    index: CatalogueIndex,
    written: Mapping[str, ox.NamedNode | ox.Literal],
) -> Iterator[bytes] | None:
    """``find-datasets``: the datasets whose organisms and methods hold the given term or
    one of its descendants."""
    wanted: list[tuple[str, set[str]]] = []
    for field, variable in (("organisms", "param_organism"), ("modalities", "param_modality")):
        term = written.get(variable)
        if term is not None:
            terms = _terms(store, term)
            if terms is None:
                return None
            wanted.append((field, terms))
    tally_ids: list[int] | None = None
    if wanted:
        tally_ids = []
        for tally_id, key in _tallies(index):
            if all(not terms.isdisjoint(getattr(key, field)) for field, terms in wanted):
                tally_ids.append(tally_id)

    lines = _text_pages(index, "'<' || url || '>' || char(10)", tally_ids)
    return itertools.chain([b"?dataset\n"], lines)


def _datasets_missing_metadata(
    store: KnowledgeStore,
    index: CatalogueIndex,
    written: Mapping[str, ox.NamedNode | ox.Literal],
) -> Iterator[bytes] | None:
    """``datasets-missing-metadata``: each dataset with each field its group lacks (no
    value at all; for the name, none with a visible character), once per graph that types
    it, as the query joins the type statements."""
    fields = set(LACKABLE)
    asked = written.get("param_field")
    if asked is not None:
        if not isinstance(asked, ox.Literal) or asked.datatype != _STRING or asked.language:
            return None
        fields &= {asked.value}
    # the groups by the rows a dataset of theirs gives: the fields it lacks, each on a line
    # that starts with the dataset ("|" stands for it: no field name holds one)
    templates: dict[str, list[int]] = {}
    for tally_id, key in _tallies(index):
        missing = [field for field in key.lacks() if field in fields]
        if missing:
            template = "".join(f'|\t"{field}"\n' for field in missing)
            templates.setdefault(template, []).append(tally_id)
    if not templates:
        return iter([b"?dataset\t?field\n"])
    # as many rows per field as graphs type the dataset: hex(zeroblob(n)) is "00" n times,
    # each replaced by the template
    choice = " ".join(
        f"WHEN tally_id IN ({','.join(map(str, ids))}) THEN '{template}'"
        for template, ids in templates.items()
    )
    rows = (
        f"CASE typings WHEN 1 THEN CASE {choice} END "
        f"ELSE replace(hex(zeroblob(typings)), '00', CASE {choice} END) END"
    )
    line = f"replace({rows}, '|', '<' || url || '>')"
    groups = [tally_id for ids in templates.values() for tally_id in ids]
    return itertools.chain([b"?dataset\t?field\n"], _text_pages(index, line, groups))


def _dataset_descriptions(
    store: KnowledgeStore,
    index: CatalogueIndex,
    written: Mapping[str, ox.NamedNode | ox.Literal],
) -> Iterator[bytes] | None:
    """``dataset-descriptions``: each dataset with a name or a description, with one of each
    (the query samples them; the index keeps the least term of each)."""
    line = (
        "'<' || url || '>' || char(9) || coalesce(name_term, '') || char(9) "
        "|| coalesce(description_term, '') || char(10)"
    )
    return itertools.chain(
        [b"?dataset\t?name\t?description\n"],
        _text_pages(index, line, None, "name_term IS NOT NULL OR description_term IS NOT NULL"),
    )


#: the named queries the index answers, by name
ANSWERS: dict[str, Answer] = {
    "find-datasets": _find_datasets,
    "datasets-missing-metadata": _datasets_missing_metadata,
    "dataset-descriptions": _dataset_descriptions,
}

"""The catalogue index: the catalogue facts of every dataset, kept beside the store.

Reading one record per dataset from the graph (the named queries ``dataset-fields`` and
``dataset-axes``) costs some 140 µs a dataset: minutes for a million. So every write of a
named graph also records, in an SQLite file in the store's directory (:data:`FILE_NAME`),
the rows those two queries give for the datasets the graph describes (:func:`graph_rows`,
computed from the triples as they are written), and one record per dataset folded from the
rows of every graph that describes it (:func:`fold`: the dataset's own graph, and sample
lists that give its size and origin). The web catalogue, its facet counts and the catalogue
export read these records.

Consistency: the index is written by the one process that has the store open for writing
(Oxigraph locks it). Its ``state`` is ``writing`` from the first change until the store is
flushed; a reader that finds the index missing, of another format, or not ``clean`` (a
harvest running, or one that stopped midway) builds it from the store itself
(:meth:`CatalogueIndex.rebuild`, in memory for a reader), and the next writer rebuilds the
file. Every named graph written through :class:`~ngff_kg.store.knowledge.KnowledgeStore`
counts but the ontology graphs; graphs loaded by other means (N-Quads shards) need
:meth:`~ngff_kg.store.knowledge.KnowledgeStore.rebuild_catalogue`. Of a dataset's own graph
what it says about that dataset and about subjects that could be datasets is kept
(:func:`kept`); :meth:`CatalogueIndex.faithful` says when that is less than the graph says.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

import orjson

from ngff_kg import jsonio, rdf
from ngff_kg.vocab import DCAT, NKG, RDF_TYPE, SCHEMA, XSD, XSD_INTEGER, XSD_STRING

#: The index file, in the store's directory (RocksDB leaves files it did not name alone).
FILE_NAME = "catalogue.sqlite"
#: Changes when what the index holds changes: an index of another format is rebuilt.
FORMAT = "9"

_DCTERMS = "http://purl.org/dc/terms/"
_QUDT = "http://qudt.org/schema/qudt/"
#: dataset-fields: predicate term → field name
FIELD_PREDICATES = {
    f"<{SCHEMA}name>": "name",
    f"<{SCHEMA}description>": "description",
    f"<{NKG}kind>": "kind",
    f"<{NKG}ngffVersion>": "version",
    f"<{SCHEMA}taxonomicRange>": "organism",
    f"<{SCHEMA}measurementTechnique>": "modality",
    f"<{SCHEMA}license>": "license",
    f"<{NKG}axes>": "axes",
    f"<{DCAT}byteSize>": "bytes",
    f"<{_DCTERMS}source>": "origin",
}
#: what only the summary counts (converters, repairs): predicate term → name of the row
COUNTED_PREDICATES = {
    f"<{NKG}converterName>": "converter",
    f"<{NKG}converterVersion>": "converterVersion",
    f"<{NKG}repairSet>": "repairSet",
}
_TYPE = f"<{RDF_TYPE}>"
_DATASET = f"<{NKG}OmeZarrDataset>"
_IMAGE_CLASS = f"<{NKG}Image>"
_IMAGE = f"<{NKG}image>"
_LEVEL = f"<{NKG}level>"
_LEVEL_INDEX = f"<{NKG}levelIndex>"
_SHAPE = f"<{NKG}shape>"
_AXIS = f"<{NKG}axis>"
_AXIS_INDEX = f"<{NKG}axisIndex>"
_AXIS_NAME = f"<{NKG}axisName>"
_AXIS_TYPE = f"<{NKG}axisType>"
_AXIS_UNIT = f"<{NKG}axisUnit>"
_PIXEL_SIZE = f"<{NKG}pixelSize>"
_NUMERIC_VALUE = f"<{_QUDT}numericValue>"
_CHANNEL = f"<{NKG}channel>"
_NAME = f"<{SCHEMA}name>"
_ZERO = f'"0"^^<{XSD}integer>'
#: the predicates of the first image's structure (dataset-fields' shape, dataset-axes)
_STRUCTURE = frozenset(
    {
        _IMAGE,
        _LEVEL,
        _LEVEL_INDEX,
        _SHAPE,
        _AXIS,
        _AXIS_INDEX,
        _AXIS_NAME,
        _AXIS_TYPE,
        _AXIS_UNIT,
        _PIXEL_SIZE,
        _NUMERIC_VALUE,
        _CHANNEL,
    }
)


# ---------------------------------------------------------------------------- terms
def term_value(term: str) -> tuple[str, str, str | None]:
    """An N-Triples term as (kind, value, datatype): kind ``i`` (IRI), ``b`` (blank node)
    or ``l`` (literal, escapes undone; datatype ``None`` for a language-tagged string).

    >>> term_value('"a\\\\nb"^^<http://www.w3.org/2001/XMLSchema#string>')
    ('l', 'a\\nb', 'http://www.w3.org/2001/XMLSchema#string')
    """
    if term.startswith("<"):
        return "i", term[1:-1], None
    if term.startswith("_:"):
        return "b", term[2:], None
    lexical, datatype = rdf.literal_parts(term)
    return "l", lexical, datatype


def python_value(term: str) -> Any:
    """What a query result gives for ``term`` in Python (:func:`ngff_kg.queries.to_python`)."""
    kind, value, datatype = term_value(term)
    return rdf.typed_value(value, datatype) if kind == "l" else value


# ---------------------------------------------------------------------------- source records
class SourceRecords(Mapping[str, list[list[object]]]):
    """Per graph, what it records of the files its harvest read: ``[path, size, mtime ns or
    validator]`` lists. The records are kept as their JSON text and parsed when looked up: 1M
    parsed records held about 1 GB, their texts a third of that. A record that is not such a
    list is not there for a lookup (its dataset is read again), but its graph is a key."""

    __slots__ = ("_texts",)

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = texts

    def __getitem__(self, graph: str) -> list[list[object]]:
        value = self.get(graph)
        if value is None:
            raise KeyError(graph)
        return value

    def get(self, graph: str, default: Any = None) -> Any:
        """The record of ``graph``, or ``default`` (without the exception ``Mapping.get``
        catches: a re-harvest looks up every known root)."""
        text = self._texts.get(graph)
        if text is None:
            return default
        try:
            value = jsonio.loads(text)
        except ValueError:
            return default
        if not isinstance(value, list) or not all(
            isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) for r in value
        ):
            return default
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def readable(self) -> dict[str, list[list[object]]]:
        """Every record that can be read, parsed."""
        found = {}
        for graph in self._texts:
            with contextlib.suppress(KeyError):
                found[graph] = self[graph]
        return found


# ---------------------------------------------------------------------------- rows of a graph
#: The predicate of a graph's record of the files its harvest read (``<graph> nkg:sourceFiles``).
SOURCE_FILES = f"<{NKG}sourceFiles>"


def graph_files(iri: str, triples: Iterable[rdf.Triple]) -> str | None:
    """What the graph ``iri`` records of the files its harvest read: the lexical form of its
    ``<iri> nkg:sourceFiles`` literal (the first one), or ``None``."""
    subject = f"<{iri}>"
    for s, p, o in triples:
        if p == SOURCE_FILES and s == subject and o.startswith('"'):
            return term_value(o)[1]
    return None


def graph_rows(triples: Iterable[rdf.Triple]) -> dict[str, dict[str, Any]]:
    """What one graph gives ``dataset-fields`` and ``dataset-axes``, per subject it describes
    (an IRI; of blank nodes only those typed ``nkg:OmeZarrDataset``, under their label
    ``_:…``, which :func:`kept` leaves out): ``f`` the field rows ``[field, kind, value]``; ``t``
    (1) when the graph types it ``nkg:OmeZarrDataset``; ``i`` when it has images, ``[first
    image, level-0 shapes, axis rows]``: the first image by IRI among those typed
    ``nkg:Image`` in this graph, an axis row being ``[index, name, type, unit, scale]``.
    A field row of a typed or language-tagged literal ends with the term itself, which the
    summary counts by (:func:`tally`); what only the summary counts is in ``c``: rows
    ``[name, term]`` of :data:`COUNTED_PREDICATES`, ``["axis", [name, type, unit]]`` for
    each combination of the subject's own axes (N-Triples terms; ``None`` for no type or
    unit), as ``axes-units`` joins them, and ``["channel", name]`` for each name of each of
    its channels."""
    out: dict[str, dict[str, Any]] = {}
    image_classed: set[str] = set()
    structure: dict[str, dict[str, list[str]]] = {}
    for s, p, o in triples:
        name = FIELD_PREDICATES.get(p)
        if name is not None:
            if p == _NAME:  # also of channels (channels counts their names)
                structure.setdefault(p, {}).setdefault(s, []).append(o)
            if s.startswith("<"):
                kind, value, datatype = term_value(o)
                part = out.get(s[1:-1])
                if part is None:
                    part = out[s[1:-1]] = {"f": []}
                if kind == "l" and datatype != XSD_STRING:
                    part["f"].append([name, kind, value, o])
                else:
                    part["f"].append([name, kind, value])
        elif p in COUNTED_PREDICATES:
            if s.startswith("<"):
                part = out.setdefault(s[1:-1], {"f": []})
                part.setdefault("c", []).append([COUNTED_PREDICATES[p], _canonical(o)])
        elif p == _TYPE:
            if o == _DATASET:
                # a blank node under its label (no IRI starts with "_:"), for kept()
                subject = s[1:-1] if s.startswith("<") else s
                out.setdefault(subject, {"f": []})["t"] = 1
            elif o == _IMAGE_CLASS:
                image_classed.add(s)
        elif p in _STRUCTURE:
            structure.setdefault(p, {}).setdefault(s, []).append(o)
    axes = structure.get(_AXIS)
    channels = structure.get(_CHANNEL)
    if axes or channels:
        names = structure.get(_NAME, {})
        for subject, part in out.items():
            own = axes.get(f"<{subject}>") if axes else None
            if own:
                part.setdefault("c", []).extend(_axis_combinations(own, structure))
            for channel in channels.get(f"<{subject}>", ()) if channels else ():
                part.setdefault("c", []).extend(
                    ["channel", _canonical(label)] for label in names.get(channel, ())
                )
    images = structure.get(_IMAGE)
    if images:
        for subject, candidates in images.items():
            named = [c for c in candidates if c in image_classed and c.startswith("<")]
            if subject.startswith("<") and named:
                image = min(named, key=lambda c: c[1:-1])
                part = out.setdefault(subject[1:-1], {"f": []})
                part["i"] = [image[1:-1], *_image_rows(image, structure)]
    return out


def _canonical(term: str) -> str:
    """``term`` as Oxigraph gives it back: a literal typed ``xsd:string`` written plain."""
    if term.startswith('"') and term.endswith(f"^^<{XSD_STRING}>"):
        return term[: -len(XSD_STRING) - 4]
    return term


def _axis_combinations(
    nodes: list[str], structure: dict[str, dict[str, list[str]]]
) -> list[list[Any]]:
    """``["axis", [name, type, unit]]`` for each axis node of a subject and each name, type
    (or none) and unit (or none) it has."""

    def objects(predicate: str, node: str) -> list[str]:
        return [_canonical(o) for o in structure.get(predicate, {}).get(node, [])]

    found: list[list[Any]] = []
    for node in nodes:
        types: list[str | None] = [*objects(_AXIS_TYPE, node)] or [None]
        units: list[str | None] = [*objects(_AXIS_UNIT, node)] or [None]
        for name, kind, unit in itertools.product(objects(_AXIS_NAME, node), types, units):
            found.append(["axis", [name, kind, unit]])
    return found


def _image_rows(image: str, structure: dict[str, dict[str, list[str]]]) -> list[Any]:
    """The level-0 shapes and the axis rows of ``image`` (as the two queries join them)."""

    def objects(predicate: str, subject: str) -> list[str]:
        return structure.get(predicate, {}).get(subject, [])

    levels0 = [level for level in objects(_LEVEL, image) if _ZERO in objects(_LEVEL_INDEX, level)]
    shapes = [term_value(v)[1] for level in levels0 for v in objects(_SHAPE, level)]
    scales: dict[str, list[Any]] = {}
    for level in levels0:
        for size in objects(_PIXEL_SIZE, level):
            for axis in objects(_AXIS, size):
                for value in objects(_NUMERIC_VALUE, size):
                    scales.setdefault(axis, []).append(python_value(value))
    rows = []
    for axis in objects(_AXIS, image):
        indexes = objects(_AXIS_INDEX, axis)
        names = objects(_AXIS_NAME, axis)
        types: list[str | None] = [*objects(_AXIS_TYPE, axis)] or [None]
        units: list[str | None] = [*objects(_AXIS_UNIT, axis)] or [None]
        for index, name, kind, unit, scale in itertools.product(
            indexes, names, types, units, scales.get(axis) or [None]
        ):
            rows.append(
                [
                    python_value(index),
                    python_value(name),
                    python_value(kind) if kind is not None else None,
                    python_value(unit) if unit is not None else None,
                    scale,
                ]
            )
    rows.sort(key=_axis_order)
    return [shapes, rows]


def _axis_order(row: list[Any]) -> tuple[int, Any]:
    index = row[0]
    return (0, index) if isinstance(index, int | float) else (1, str(index))


# ---------------------------------------------------------------------------- records
_MULTI = {"organism": "organisms", "modality": "modalities", "license": "licenses"}


def new_record(url: str) -> dict[str, Any]:
    """An empty record, for :func:`set_field` and :func:`set_axes`, then :func:`finish`:
    what :class:`~ngff_kg.views.records.DatasetRecord` holds."""
    return {
        "url": url,
        "name": None,
        "description": None,
        "kind": None,
        "version": None,
        "organisms": set(),
        "modalities": set(),
        "licenses": set(),
        "axes": [],
        "axes_text": None,
        "shape": None,
        "bytes": None,
        "origin": None,
    }


def set_field(record: dict[str, Any], name: str, iri: bool, value: str) -> None:
    """Fold one ``dataset-fields`` row into ``record``: several values of a single-valued
    field resolve the same way whatever order the rows come in."""
    multi = _MULTI.get(name)
    if multi is not None:
        if iri or name == "license":
            record[multi].add(value)
    elif name == "bytes":
        try:
            size = int(float(value))
        except (ValueError, OverflowError):
            return
        record["bytes"] = size if record["bytes"] is None else max(record["bytes"], size)
    elif name == "shape":
        try:
            record["shape"] = [int(n) for n in value.split(",")]
        except ValueError:
            return
    elif name == "axes":
        record["axes_text"] = value
    elif name == "origin":
        if record["origin"] is None or value < record["origin"]:
            record["origin"] = value
    else:  # name, description, kind, version: the first in lexical order, to be deterministic
        current = record[name]
        if current is None or value < current:
            record[name] = value


def set_axes(record: dict[str, Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """The axes of ``record`` from its ``dataset-axes`` rows (in axis order): each with its
    level-0 extent when the shape has one number per axis."""
    shape = record["shape"]
    shape = shape if shape and len(shape) == len(rows) else None
    record["axes"] = [
        [
            row["name"],
            row["type"],
            row["unit"],
            shape[index] if shape else None,
            float(row["scale"]) if isinstance(row["scale"], int | float) else None,
        ]
        for index, row in enumerate(rows)
    ]


def finish(record: dict[str, Any]) -> dict[str, Any]:
    """The record once every row is folded in: its organisms, methods and licenses sorted."""
    for key in _MULTI.values():
        record[key] = sorted(record[key])
    return record


def host(url: str) -> str:
    """The host of a dataset URL; ``(local files)`` for ``file:`` IRIs."""
    if url.startswith("file:"):
        return "(local files)"
    return url.partition("://")[2].partition("/")[0]


def described_text(record: Mapping[str, Any]) -> str:
    """What free-text search looks at in a record's name and description (often shared by
    many datasets: a collection's description, which the index keeps once); the other
    part is the decoded URL (``DatasetRecord.text`` is both)."""
    return " ".join(p for p in (record["name"], record["description"]) if p).lower()


def kept(
    graph: str, rows: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """What the index keeps of a graph's rows, and the blank nodes the graph types
    ``nkg:OmeZarrDataset``, which it cannot keep (records are of IRIs; see
    :meth:`CatalogueIndex.faithful`).

    Of a dataset's own graph (one that types its own IRI ``nkg:OmeZarrDataset``) the index
    keeps the dataset's part, and the parts of the other subjects that could be datasets:
    those the graph types a dataset, and those whose IRI has no fragment (an RO-Crate may
    name the dataset beside it, ``../b.zarr/``). It leaves out the subjects with a fragment,
    the dataset's own entities and channels (2.1 per dataset at 1M), which no dataset of the
    index is (:meth:`CatalogueIndex.faithful` checks). Of any other graph (a sample list) it
    keeps everything."""
    blank = [s for s, part in rows.items() if s.startswith("_:") and "t" in part]
    if blank:
        rows = {s: part for s, part in rows.items() if not s.startswith("_:")}
    own = rows.get(graph)
    if own is not None and "t" in own and len(rows) > 1:
        rows = {s: part for s, part in rows.items() if s == graph or "t" in part or "#" not in s}
    return rows, blank


def fold(url: str, parts: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The record of the dataset ``url`` from what each graph that describes it gives
    (:func:`graph_rows`), or ``None`` when none types it ``nkg:OmeZarrDataset``."""
    parts = list(parts)
    if not any("t" in part for part in parts):
        return None
    record = new_record(url)
    for part in parts:
        for row in part["f"]:
            set_field(record, row[0], row[1] == "i", row[2])
    images = [part["i"] for part in parts if "i" in part]
    if images:
        _image, shapes, axes = min(images, key=lambda found: found[0])
        for shape in shapes:
            set_field(record, "shape", False, shape)
        keys = ("index", "name", "type", "unit", "scale")
        set_axes(record, [dict(zip(keys, row, strict=True)) for row in axes])
    return finish(record)


def group_key(record: Mapping[str, Any]) -> str:
    """The record's facet values (organisms, methods, licenses, host, kind), as one string:
    records with the same key count alike in every facet."""
    values = [
        record["organisms"],
        record["modalities"],
        record["licenses"],
        host(record["url"]),
        record["kind"],
    ]
    return orjson.dumps(values).decode()


#: Unicode White_Space: what ``REGEX(?text, "\\S")`` of SPARQL (Rust's regex) does not
#: match (Python's ``\\s`` also takes U+001C-U+001F)
_VISIBLE = re.compile("[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
#: the fields whose values the summary groups datasets by
_TALLIED = ("organism", "modality", "license", "kind", "version")
_COUNTED = ("converter", "converterVersion", "repairSet", "axis", "channel")
_INT64 = 2**63


class TallyKey(NamedTuple):
    """The key of a group of datasets that the summary counts alike (:func:`tally`)."""

    organisms: list[str]
    modalities: list[str]
    licenses: list[str]
    kinds: list[str]
    versions: list[str]
    source: str
    named: bool
    exact_bytes: bool
    converters: list[str]
    converter_versions: list[str]
    repair_sets: list[str]
    axes: list[tuple[str, str | None, str | None]]  # name, type, unit (JSON lists)
    channels: list[str]

    @classmethod
    def parse(cls, text: str) -> TallyKey:
        return cls(*orjson.loads(text))

    def lacks(self) -> list[str]:
        """What the group's datasets lack, as ``missing-metadata`` counts it: no organism,
        method or license at all; no name with a visible character."""
        given = (self.organisms, self.modalities, self.licenses, self.named)
        return [field for field, value in zip(LACKABLE, given, strict=True) if not value]


#: the fields ``missing-metadata`` counts datasets without, in its order
LACKABLE = ("organism", "modality", "license", "name")


def tally(url: str, parts: Sequence[Mapping[str, Any]]) -> tuple[str, int, int] | None:
    """What the catalogue summary (:mod:`ngff_kg.store.summary`) counts of the dataset
    ``url`` from what each graph gives it, as the count queries read the graph: ``(key,
    typings, listed bytes)``, ``None`` when no graph types it. ``key``: its organisms,
    methods, licenses, kinds and versions (each an N-Triples term, so that the summary holds
    the very terms), its source (``datasets-by-source``), whether it has a name with a
    visible character, whether its listed sizes are all integers. ``typings``: how many
    graphs type it (the rows it gives a join with its type). ``listed bytes``: its largest
    listed size, times ``typings``. The key ends with its converter names and versions,
    repair sets, axis combinations and channel names (:func:`graph_rows`)."""
    typings = sum(1 for part in parts if "t" in part)
    if not typings:
        return None
    terms: dict[str, set[str]] = {field: set() for field in _TALLIED}
    counted: dict[str, set[Any]] = {field: set() for field in _COUNTED}
    named = False
    exact = True
    largest = 0
    for part in parts:
        for row in part["f"]:
            field, kind = row[0], row[1]
            values = terms.get(field)
            if values is not None:
                values.add(_term(row))
            elif field == "name":
                named = named or kind == "i" or (kind == "l" and bool(_VISIBLE.search(row[2])))
            elif field == "bytes":
                size = _listed_integer(row)
                if size is None:
                    exact = False
                else:
                    largest = max(largest, size)
        for field, value in part.get("c", ()):
            counted[field].add(value if isinstance(value, str) else tuple(value))
    key: list[Any] = [sorted(terms[field]) for field in _TALLIED]
    key += [source(url), named, exact]
    key += [sorted(counted[field], key=repr) for field in _COUNTED]
    return orjson.dumps(key).decode(), typings, typings * largest if exact else 0


def tsv_term(subject: str, row: Sequence[str]) -> str:
    """The value of a field row (:func:`graph_rows`) as a term of SPARQL TSV results: an
    IRI, a literal (no raw tab), or a blank node labelled after the dataset and the field
    (a label of the results, no node of the store)."""
    if row[1] == "b":
        return f"_:d{hashlib.sha1(subject.encode()).hexdigest()[:20]}{row[0]}"
    return _term(row).replace("\t", "\\t")


def described_terms(subject: str, parts: Sequence[Mapping[str, Any]]) -> tuple[str | None, ...]:
    """A name and a description of the dataset ``subject`` as TSV terms (``None``: it has
    none): of its names the least term, as of its descriptions, for ``dataset-descriptions``,
    which samples one of each."""
    found: dict[str, str] = {}
    for part in parts:
        for row in part["f"]:
            if row[0] in ("name", "description"):
                term = tsv_term(subject, row)
                if row[0] not in found or term < found[row[0]]:
                    found[row[0]] = term
    return found.get("name"), found.get("description")


def _term(row: Sequence[str]) -> str:
    """The N-Triples term of a field row."""
    if len(row) > 3:
        return row[3]
    if row[1] == "i":
        return f"<{row[2]}>"
    if row[1] == "b":
        return f"_:{row[2]}"
    return rdf.literal(row[2])


def _listed_integer(row: Sequence[str]) -> int | None:
    """A listed size that SPARQL reads as the same integer as Python (``None``: another)."""
    if row[1] != "l" or len(row) < 4 or not row[3].endswith(f"^^<{XSD_INTEGER}>"):
        return None
    try:
        size = int(row[2])
    except ValueError:
        return None
    return size if 0 <= size < _INT64 else None


def source(url: str) -> str:
    """The source of a dataset as ``datasets-by-source`` writes it: the host of its URL, the
    empty string when no ``/`` follows the host, ``(local files)`` for ``file:`` IRIs."""
    if url.startswith("file:"):
        return "(local files)"
    after = url.partition("://")[2]
    host, slash, _ = after.partition("/")
    return host if slash else ""


def pixels(record: Mapping[str, Any]) -> int | None:
    return math.prod(record["shape"]) if record["shape"] else None


# ---------------------------------------------------------------------------- the index
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS graphs (
    graph TEXT PRIMARY KEY, subjects BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parts (
    subject TEXT NOT NULL, graph TEXT NOT NULL, rows BLOB NOT NULL, counted INTEGER,
    PRIMARY KEY (subject, graph)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    grp TEXT NOT NULL,
    text_id INTEGER NOT NULL,
    url_text TEXT NOT NULL,
    name TEXT,
    bytes INTEGER,
    pixels INTEGER,
    kind TEXT,
    version TEXT,
    tally_id INTEGER NOT NULL,
    typings INTEGER NOT NULL,
    listed_bytes INTEGER NOT NULL,
    name_term TEXT,
    description_term TEXT
);
CREATE INDEX IF NOT EXISTS records_grp ON records (grp, url);
CREATE INDEX IF NOT EXISTS records_text ON records (url_text, text_id);
CREATE TABLE IF NOT EXISTS texts (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS tallies (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS counted (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS sources (graph TEXT PRIMARY KEY, files TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blank_datasets (
    node TEXT NOT NULL, graph TEXT NOT NULL, PRIMARY KEY (graph, node)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_fragment ON records (url) WHERE instr(url, '#') > 0;
"""

#: Called with the triples of every named graph of a store, for :meth:`CatalogueIndex.rebuild`.
GraphScan = Callable[[], Iterator[tuple[str, list[rdf.Triple]]]]


class CatalogueIndex:
    """The index of one store: an SQLite database (``path``) or one in memory (``None``).

    Writes (:meth:`replace`, :meth:`remove`) come from the store's writer; reads from any
    thread (each thread has its own connection to a file; an index in memory is shared,
    behind a lock).
    """

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._local = threading.local()
        self._lock = threading.RLock()
        self._shared: sqlite3.Connection | None = None
        if path is None:
            self._shared = self._connect(":memory:")
        self._writing = False
        #: marked stale by this process: nothing it writes makes the index whole again
        #: before a :meth:`rebuild`
        self._stale = False
        if not read_only:
            with self._lock:
                self._db.executescript(_SCHEMA)

    def _connect(self, target: str) -> sqlite3.Connection:
        if target != ":memory:" and self.read_only:
            uri = Path(target).resolve().as_uri() + "?mode=ro"
            db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        else:
            db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
            if target != ":memory:":
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA cache_size=-65536")  # KiB: the B-trees of a large index
        return db

    @property
    def _db(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        db = getattr(self._local, "db", None)
        if db is None:
            assert self.path is not None
            db = self._local.db = self._connect(str(self.path))
        return db

    # -------------------------------------------------------------- state
    def meta(self, key: str) -> str | None:
        try:
            with self._lock:
                row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def usable(self) -> bool:
        """Whether the index is complete and of this format (else it needs :meth:`rebuild`)."""
        return self.meta("format") == FORMAT and self.meta("state") == "clean"

    def follows_store(self) -> bool:
        """Whether the index holds what the store does, as far as its writer knows: of this
        format, and clean or being written by this process (not marked stale)."""
        if self.meta("format") != FORMAT:
            return False
        state = self.meta("state")
        return state == "clean" or (state == "writing" and self._writing)

    def begin_writing(self) -> None:
        """Mark the index as being changed (before the store is): a crash leaves it so."""
        if not self._writing and not self._stale:
            with self._lock:
                self._set_meta("state", "writing")
            self._writing = True

    def mark_clean(self) -> None:
        """The store is flushed and the index says what it holds."""
        if self._writing:
            with self._lock:
                self._set_meta("format", FORMAT)
                self._set_meta("state", "clean")
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)") if self.path else None
            self._writing = False

    def invalidate(self) -> None:
        """Something the index cannot follow changed the store: rebuild it before use."""
        self._stale = True
        with self._lock:
            self._set_meta("state", "stale")
        self._writing = False

    # -------------------------------------------------------------- writing
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's connection (the whole of it or nothing)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def replace(
        self, graphs: Sequence[tuple[str, dict[str, dict[str, Any]]]], *, new: bool = False
    ) -> None:
        """Record what these graphs give (each replacing what it gave before) and refold the
        records of every subject they describe, now or before; ``new``: the graphs were not
        in the store (nothing to forget)."""
        if not graphs or self._stale:
            return
        self.begin_writing()
        blank: list[tuple[str, str]] = []
        keeping = []
        for iri, rows in graphs:
            rows, typed = kept(iri, rows)
            keeping.append((iri, rows))
            blank.extend((node, iri) for node in typed)
        graphs = keeping
        with self._transaction() as db:
            touched = {} if new else self._forget([iri for iri, _ in graphs])
            db.executemany("INSERT OR REPLACE INTO blank_datasets VALUES (?, ?)", blank)
            for _iri, rows in graphs:
                touched.update(dict.fromkeys(rows))
            db.executemany(  # a graph describing only itself needs no row
                "INSERT INTO graphs VALUES (?, ?)",
                [(iri, orjson.dumps(list(rows))) for iri, rows in graphs if list(rows) != [iri]],
            )
            # what only the summary counts (``c``) is much the same from dataset to dataset:
            # kept once, in the table ``counted``
            stored: list[tuple[str, str, bytes, str | None]] = []
            for iri, rows in graphs:
                for subject, part in rows.items():
                    counted = part.get("c")
                    if counted is None:
                        stored.append((subject, iri, orjson.dumps(part), None))
                    else:
                        rest = {k: v for k, v in part.items() if k != "c"}
                        text = orjson.dumps(counted).decode()
                        stored.append((subject, iri, orjson.dumps(rest), text))
            ids = self._text_ids({row[3] for row in stored if row[3] is not None}, "counted")
            db.executemany(
                "INSERT INTO parts VALUES (?, ?, ?, ?)",
                [(*row[:3], None if row[3] is None else ids[row[3]]) for row in stored],
            )
            self._refold(touched, dict(graphs))

    def remove(self, iris: Iterable[str]) -> None:
        """Forget these graphs and refold the records of the subjects they described."""
        if self._stale:
            return
        self.begin_writing()
        with self._transaction():
            self._refold(self._forget(list(iris)), {})

    def _forget(self, iris: Sequence[str]) -> dict[str, None]:
        """The subjects that the graphs ``iris`` described (ordered; a graph without a row in
        ``graphs`` described at most itself); what they gave removed."""
        db = self._db
        touched: dict[str, None] = {}
        for chunk in _chunks(iris):
            marks = ",".join("?" * len(chunk))
            found = db.execute(
                f"SELECT graph, subjects FROM graphs WHERE graph IN ({marks})",
                chunk,
            ).fetchall()
            described = {graph: orjson.loads(blob) for graph, blob in found}
            stale: list[tuple[str, str]] = []
            for graph in chunk:
                subjects = described.get(graph, [graph])
                touched.update(dict.fromkeys(subjects))
                stale.extend((s, graph) for s in subjects)
            if described:
                db.executemany("DELETE FROM graphs WHERE graph = ?", [(g,) for g in described])
            db.executemany("DELETE FROM parts WHERE subject = ? AND graph = ?", stale)
            db.executemany("DELETE FROM sources WHERE graph = ?", [(g,) for g in chunk])
            db.executemany("DELETE FROM blank_datasets WHERE graph = ?", [(g,) for g in chunk])
        return touched

    def _refold(
        self, subjects: Iterable[str], fresh: Mapping[str, Mapping[str, dict[str, Any]]]
    ) -> None:
        """Fold the records of ``subjects`` again; ``fresh``: the rows of the graphs just
        written (not decoded again)."""
        db = self._db
        upserts: list[tuple[Any, ...]] = []
        gone = []
        typed = {s for rows in fresh.values() for s, part in rows.items() if "t" in part}
        for chunk in _chunks(list(subjects)):
            marks = ",".join("?" * len(chunk))
            # only a subject with a record, or typed now, has one after (sample lists name
            # many URLs that are no dataset of the store)
            recorded = {
                url
                for (url,) in db.execute(f"SELECT url FROM records WHERE url IN ({marks})", chunk)
            }
            chunk = [s for s in chunk if s in typed or s in recorded]
            if not chunk:
                continue
            parts = self._parts(chunk, fresh)
            for subject in chunk:
                found = parts.get(subject, ())
                record = fold(subject, found)
                counted = tally(subject, found)
                if record is None or counted is None:
                    gone.append((subject,))
                    continue
                upserts.append(
                    (
                        subject,
                        group_key(record),
                        described_text(record),
                        unquote(subject).lower(),
                        (record["name"] or "").lower() or None,
                        _sql_number(record["bytes"]),
                        _sql_number(pixels(record)),
                        record["kind"].lower() if record["kind"] else None,
                        record["version"].lower() if record["version"] else None,
                        *counted,
                        *described_terms(subject, found),
                    )
                )
        if gone:
            db.executemany("DELETE FROM records WHERE url = ?", gone)
        ids = self._text_ids({row[2] for row in upserts})
        tally_ids = self._text_ids({row[9] for row in upserts}, "tallies")
        db.executemany(
            "INSERT INTO records (url, grp, text_id, url_text, name, bytes, pixels, kind, "
            "version, tally_id, typings, listed_bytes, name_term, description_term) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET "
            "grp = excluded.grp, text_id = excluded.text_id, url_text = excluded.url_text, "
            "name = excluded.name, "
            "bytes = excluded.bytes, pixels = excluded.pixels, kind = excluded.kind, "
            "version = excluded.version, tally_id = excluded.tally_id, typings = excluded.typings, "
            "listed_bytes = excluded.listed_bytes, name_term = excluded.name_term, "
            "description_term = excluded.description_term",
            [(*row[:2], ids[row[2]], *row[3:9], tally_ids[row[9]], *row[10:]) for row in upserts],
        )

    def _parts(
        self,
        subjects: Sequence[str],
        fresh: Mapping[str, Mapping[str, dict[str, Any]]],
        *,
        counted: bool = True,
    ) -> dict[str, list[Any]]:
        """What each graph gives each of these subjects (at most :func:`_chunks` of them);
        ``fresh``: graphs just written, whose rows are not decoded again; ``counted``: with
        what only the summary counts (``c``)."""
        parts: dict[str, list[Any]] = {}
        marks = ",".join("?" * len(subjects))
        if counted:
            sql = (
                "SELECT subject, graph, rows, counted.text FROM parts LEFT JOIN counted ON "
                f"counted.id = parts.counted WHERE subject IN ({marks})"
            )
        else:
            sql = f"SELECT subject, graph, rows, NULL FROM parts WHERE subject IN ({marks})"
        decoded: dict[str, Any] = {}
        for subject, graph, blob, text in self._db.execute(sql, subjects):
            given = fresh.get(graph)
            if given is not None:
                part = given[subject]
            else:
                part = orjson.loads(blob)
                if text is not None:
                    if text not in decoded:
                        decoded[text] = orjson.loads(text)
                    part["c"] = decoded[text]
            parts.setdefault(subject, []).append(part)
        return parts

    def _text_ids(self, texts: Iterable[str], table: str = "texts") -> dict[str, int]:
        """The row of each text in ``texts`` (added when new) of the table ``texts`` (names
        and descriptions) or ``tallies`` (the keys of :func:`tally`)."""
        db = self._db
        wanted = list(texts)
        ids: dict[str, int] = {}
        for _ in range(2):
            for chunk in _chunks([t for t in wanted if t not in ids]):
                marks = ",".join("?" * len(chunk))
                ids.update(
                    (text, id_)
                    for id_, text in db.execute(
                        f"SELECT id, text FROM {table} WHERE text IN ({marks})", chunk
                    )
                )
            missing = [(t,) for t in wanted if t not in ids]
            if not missing:
                break
            db.executemany(f"INSERT INTO {table} (text) VALUES (?)", missing)
        return ids

    def rebuild(self, scan: GraphScan, *, batch: int = 2000) -> None:
        """Build the index anew from every named graph of the store (``scan``)."""
        with self._transaction() as db:
            self._set_meta("state", "writing")
            tables = (
                "graphs",
                "parts",
                "records",
                "texts",
                "tallies",
                "counted",
                "sources",
                "blank_datasets",
            )
            for table in tables:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
        self._writing = True
        self._stale = False
        pending: list[tuple[str, dict[str, Any]]] = []
        files: list[tuple[str, str | None]] = []
        for iri, triples in scan():
            rows = graph_rows(triples)
            if rows:
                pending.append((iri, rows))
            recorded = graph_files(iri, triples)
            if recorded is not None:
                files.append((iri, recorded))
            if len(pending) >= batch or len(files) >= batch:
                self.replace(pending, new=True)
                self.set_sources(files)
                pending, files = [], []
        self.replace(pending, new=True)
        self.set_sources(files, complete=True)
        self.mark_clean()

    def set_sources(
        self, graphs: Sequence[tuple[str, str | None]], *, complete: bool = False
    ) -> None:
        """Record what these graphs record of the files their harvest read (``None``:
        nothing); ``complete``: the table now holds the record of every graph of the store
        (it is read instead of the store from then on, :meth:`sources`)."""
        if (not graphs and not complete) or self._stale:
            return
        self.begin_writing()
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM sources WHERE graph = ?", [(g,) for g, f in graphs if f is None]
            )
            db.executemany(
                "INSERT OR REPLACE INTO sources VALUES (?, ?)",
                [(g, f) for g, f in graphs if f is not None],
            )
            if complete:
                self._set_meta("sources", "complete")

    def has_sources(self) -> bool:
        """Whether :meth:`sources` says what the store does (an index of an earlier version
        made no record of them until :meth:`set_sources` completes it)."""
        return self.meta("sources") == "complete" and self.follows_store()

    def sources(self) -> SourceRecords:
        """Per graph, the files its harvest read (what :meth:`set_sources` recorded)."""
        with self._reading():
            return SourceRecords(dict(self._db.execute("SELECT graph, files FROM sources")))

    # -------------------------------------------------------------- reading
    def _reading(self) -> contextlib.AbstractContextManager[Any]:
        """What a read holds: the lock of an index in memory (one connection for every
        thread); nothing for a file, which each thread reads through its own connection."""
        return self._lock if self._shared is not None else contextlib.nullcontext()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of a read-only statement on the index (for the catalogue views)."""
        with self._reading():
            return self._db.execute(sql, params).fetchall()

    def count(self) -> int:
        return int(self.execute("SELECT count(*) FROM records")[0][0])

    def faithful(self) -> bool:
        """Whether each record holds all the store says of its dataset, as the named queries
        read the union of the graphs: no graph types a blank node a dataset (the records
        are of IRIs), and no dataset's IRI has a fragment (what a dataset's own graph says
        of subjects with one is not kept, :func:`kept`). Else the summary is not written
        and the index answers no named query (both would differ from what SPARQL gives):
        the store is counted and listed the slow way."""
        [(unfaithful,)] = self.execute(
            "SELECT EXISTS (SELECT 1 FROM blank_datasets) "
            "OR EXISTS (SELECT 1 FROM records WHERE instr(url, '#') > 0)"
        )
        return not unfaithful

    def tallies(self) -> list[tuple[str, int, int, int]]:
        """The datasets grouped by what the summary counts them by (:func:`tally`): ``(key,
        datasets, typings, listed bytes)`` per group."""
        try:
            rows = self.execute(
                "SELECT tallies.text, members, typings, listed FROM tallies JOIN ("
                "SELECT tally_id, count(*) AS members, sum(typings) AS typings, "
                "sum(listed_bytes) AS listed FROM records GROUP BY tally_id) ON id = tally_id"
            )
        except sqlite3.OperationalError:  # a sum beyond 64 bits: added up in Python
            sums: dict[str, list[int]] = {}
            for key, typings, listed in self.execute(
                "SELECT tallies.text, typings, listed_bytes FROM records "
                "JOIN tallies ON tallies.id = tally_id"
            ):
                found = sums.setdefault(key, [0, 0, 0])
                found[0] += 1
                found[1] += typings
                found[2] += listed
            return [(key, *found) for key, found in sums.items()]  # type: ignore[misc]
        return [(key, members, typings, listed) for key, members, typings, listed in rows]

    def record(self, url: str) -> dict[str, Any] | None:
        """The record of the dataset ``url`` (``None``: no such dataset)."""
        return next(iter(self.folded([url])), None)

    def folded(self, urls: Sequence[str]) -> list[dict[str, Any]]:
        """The records of these datasets, in this order (those that are no dataset left out):
        folded again from their parts, which is cheaper than keeping each record twice."""
        out = []
        for chunk in _chunks(urls):
            with self._reading():
                parts = self._parts(chunk, {}, counted=False)
            for url in chunk:
                record = fold(url, parts.get(url, ()))
                if record is not None:
                    out.append(record)
        return out

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record, by URL (read in pages: other threads may use the index meanwhile)."""
        last = ""
        while True:
            urls = [
                url
                for (url,) in self.execute(
                    "SELECT url FROM records WHERE url > ? ORDER BY url LIMIT 2000", (last,)
                )
            ]
            if not urls:
                return
            yield from self.folded(urls)
            last = urls[-1]

    def close(self) -> None:
        with self._lock:
            if self._shared is not None:
                self._shared.close()
                self._shared = None
            db = getattr(self._local, "db", None)
            if db is not None:
                db.close()
                self._local.db = None


def being_written(store: Path) -> bool:
    """Whether the catalogue index of the store at ``store`` is being written (a harvest is
    running, or stopped midway): a reader would have to build its own from the store."""
    file = store / FILE_NAME
    if not file.is_file():
        return False
    index = CatalogueIndex(file, read_only=True)
    try:
        return index.meta("state") == "writing"
    finally:
        index.close()


def _sql_number(value: int | None) -> int | float | None:
    """An integer SQLite can hold (beyond 64 bits, as a float: close enough to sort by)."""
    if value is not None and not -(2**63) <= value < 2**63:
        return float(value)
    return value


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    """``items`` in slices small enough for one statement's parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = [
    "FILE_NAME",
    "CatalogueIndex",
    "being_written",
    "described_text",
    "finish",
    "fold",
    "graph_rows",
    "group_key",
    "host",
    "new_record",
    "python_value",
    "set_axes",
    "set_field",
    "source",
    "tally",
    "term_value",
]

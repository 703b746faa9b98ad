"""Exports: the whole graph as RDF, and a one-row-per-dataset catalogue as Parquet or CSV.

N-Quads and TriG keep every named graph (one per dataset, plus the shared graphs) and load
as they are into Oxigraph, QLever, Fuseki or any quad store. Turtle has no named graphs: it
holds the union of all graphs, each triple once.

The catalogue table has one row per dataset root (see :data:`COLUMNS`). Multi-valued cells
(organisms, imaging methods, licenses) and per-axis cells (shape, pixel size) are joined by
commas in both formats, so DuckDB, pandas and BioFile Finder read the same text; the
``size_*`` and ``physical_size_*`` columns give the usual axes as numbers. ``File Path`` repeats
the URL under the column name BioFile Finder looks for; ``Thumbnail`` (BioFile Finder's name
too) is the path of the dataset's PNG thumbnail (see :mod:`ngff_kg.views.thumbnails`), empty
when it has none.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol

from ngff_kg.errors import UsageError, require
from ngff_kg.queries import QuerySource
from ngff_kg.store.knowledge import PREFIXES, KnowledgeStore, RdfFormat
from ngff_kg.suggest import did_you_mean
from ngff_kg.views.facets import group_counts, license_label, used_terms
from ngff_kg.views.records import (
    DatasetRecord,
    Hierarchy,
    indexed_records,
    read_hierarchies,
    read_records,
    term_hierarchies,
)
from ngff_kg.views.thumbnails import recorded_thumbnails


class ExportFormat(StrEnum):
    """The formats of :func:`export`: the graph (RDF) or the catalogue table."""

    NQUADS = "nquads"
    TRIG = "trig"
    TURTLE = "turtle"
    PARQUET = "parquet"
    CSV = "csv"


RDF_FORMATS = tuple(f.value for f in RdfFormat)
TABLE_FORMATS = ("parquet", "csv")
FORMATS = tuple(f.value for f in ExportFormat)


class ExportSource(QuerySource, Protocol):
    """What an export reads: named queries (the catalogue) and the whole graph."""

    def dump(self, fmt: RdfFormat | str, output: IO[bytes]) -> None: ...


#: The catalogue columns and their types (``string``, ``int64``, ``double``).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("url", "string"),
    ("name", "string"),
    ("description", "string"),
    ("organism", "string"),
    ("organism_label", "string"),
    ("modality", "string"),
    ("modality_label", "string"),
    ("license", "string"),
    ("license_label", "string"),
    ("kind", "string"),
    ("ngff_version", "string"),
    ("host", "string"),
    ("axes", "string"),
    ("shape", "string"),
    ("pixel_size", "string"),
    ("size_t", "int64"),
    ("size_c", "int64"),
    ("size_z", "int64"),
    ("size_y", "int64"),
    ("size_x", "int64"),
    ("physical_size_z", "double"),
    ("physical_size_y", "double"),
    ("physical_size_x", "double"),
    ("physical_size_unit", "string"),
    ("bytes", "int64"),
    ("origin", "string"),
    ("File Path", "string"),
    ("Thumbnail", "string"),
)


def export_rdf(source: ExportSource, fmt: str, output: IO[bytes]) -> None:
    """Write the whole store as N-Quads, TriG (all named graphs) or Turtle (their union).

    :raises UsageError: an unknown format.
    """
    if fmt not in RDF_FORMATS:
        raise UsageError(f"unknown RDF format {fmt!r}; use one of {', '.join(RDF_FORMATS)}")
    source.dump(fmt, output)


def catalogue_rows(source: QuerySource) -> list[dict[str, Any]]:
    """The catalogue: one dict per dataset with the keys of :data:`COLUMNS`, sorted by URL."""
    store = getattr(source, "store", None)
    index = getattr(store, "catalogue", None)
    if isinstance(store, KnowledgeStore) and index is not None:
        hierarchies = term_hierarchies(store, used_terms(group_counts(index)))
        records: Iterable[DatasetRecord] = indexed_records(index)
    else:
        hierarchies = read_hierarchies(source)
        records = read_records(source)
    rows = [catalogue_row(r, hierarchies) for r in records]
    thumbnails = recorded_thumbnails(source)
    if thumbnails:
        # the files are beside the store: absolute paths when it is on disk
        store = getattr(getattr(source, "store", None), "path", None)
        for row in rows:
            name = thumbnails.get(row["url"])
            if name is not None:
                row["Thumbnail"] = str(Path(store, name).absolute()) if store else name
    return rows


def catalogue_row(record: DatasetRecord, hierarchies: dict[str, Hierarchy]) -> dict[str, Any]:
    """One dataset as a table row (see :data:`COLUMNS`)."""

    def labels(terms: Iterable[str], facet: str) -> str | None:
        found = [hierarchies[facet].label(t) or "" for t in terms]
        return _join(found) if any(found) else None

    row: dict[str, Any] = {
        "url": record.url,
        "name": record.name,
        "description": record.description,
        "organism": _join(record.organisms),
        "organism_label": labels(record.organisms, "organism"),
        "modality": _join(record.modalities),
        "modality_label": labels(record.modalities, "modality"),
        "license": _join(record.licenses),
        "license_label": _join(license_label(x) for x in record.licenses),
        "kind": record.kind,
        "ngff_version": record.version,
        "host": record.host,
        "axes": record.axis_names,
        "shape": _join(str(n) for n in record.shape) if record.shape else None,
        "pixel_size": None,
        "physical_size_unit": None,
        "bytes": record.bytes,
        "origin": record.origin,
        "File Path": record.url,
        "Thumbnail": None,
    }
    for letter in "tczyx":
        row[f"size_{letter}"] = None
        if letter in "zyx":
            row[f"physical_size_{letter}"] = None
    if record.axes and any(a.scale is not None for a in record.axes):
        row["pixel_size"] = _join("" if a.scale is None else repr(a.scale) for a in record.axes)
    units = []
    for index, axis in enumerate(record.axes):
        letter = axis.name.lower()
        if letter not in ("t", "c", "z", "y", "x"):
            continue
        size = axis.size
        if size is None and record.shape and len(record.shape) == len(record.axes):
            size = record.shape[index]
        row[f"size_{letter}"] = size
        if letter in "zyx":
            row[f"physical_size_{letter}"] = axis.scale
            if axis.unit:
                units.append(axis.unit)
    if units and all(u == units[0] for u in units):
        row["physical_size_unit"] = units[0]
    return row


def _join(values: Iterable[str]) -> str | None:
    text = ",".join(values)
    return text or None


def write_csv(rows: Iterable[dict[str, Any]], output: IO[str]) -> None:
    """The catalogue as CSV (RFC 4180, header row, empty cells for missing values)."""
    writer = csv.writer(output, lineterminator="\n")
    names = [name for name, _ in COLUMNS]
    writer.writerow(names)
    for row in rows:
        writer.writerow(["" if row[n] is None else row[n] for n in names])


def write_parquet(rows: list[dict[str, Any]], output: str | os.PathLike[str] | IO[bytes]) -> None:
    """The catalogue as a Parquet file with typed columns (needs ``pyarrow``).

    :raises MissingDependencyError: pyarrow is not installed.
    """
    pa: Any = require("pyarrow", "notebook")
    pq: Any = require("pyarrow.parquet", "notebook")
    types = {"string": pa.string(), "int64": pa.int64(), "double": pa.float64()}
    schema = pa.schema([(name, types[kind]) for name, kind in COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, output)


def export(source: ExportSource, fmt: str, output: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write an export to a file path (written whole or not at all) or a binary stream.

    :raises UsageError: an unknown format.
    :raises MissingDependencyError: Parquet without pyarrow.
    :raises OSError: the file cannot be written.
    """
    if fmt not in FORMATS:
        hint = did_you_mean(str(fmt), FORMATS)
        raise UsageError(f"unknown export format {fmt!r};{hint} use one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        require("pyarrow.parquet", "notebook")  # fail before any work
    if not isinstance(output, str | os.PathLike):
        _write(source, fmt, output)
        return
    path = Path(output)
    partial = path.with_name(path.name + ".part")
    try:
        with open(partial, "wb") as handle:
            _write(source, fmt, handle)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _write(source: ExportSource, fmt: str, output: IO[bytes]) -> None:
    if fmt in RDF_FORMATS:
        export_rdf(source, fmt, output)
    elif fmt == "csv":
        text = io.TextIOWrapper(output, encoding="utf-8", newline="", write_through=True)
        write_csv(catalogue_rows(source), text)
        text.flush()
        text.detach()
    else:
        write_parquet(catalogue_rows(source), output)


__all__ = [
    "COLUMNS",
    "FORMATS",
    "PREFIXES",
    "ExportFormat",
    "ExportSource",
    "catalogue_row",
    "catalogue_rows",
    "export",
    "export_rdf",
    "write_csv",
    "write_parquet",
]

"""CSV sample lists: dataset URL → size in bytes and origin link.

Two shapes are read, as used by the OME 2024 NGFF challenge:

* ``url, written, written_human_readable, origin`` (columns in any order, ``written`` and
  ``origin`` optional): one dataset per row, ``written`` its size in bytes;
* ``source, url``: a list of other CSV lists with the name of the source that publishes each.

Rows whose ``url`` ends in ``.csv`` are list entries in either shape.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ngff_kg import rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.limits import DEFAULT_LIMITS, Limits, read_regular_file
from ngff_kg.urls import normalize_url
from ngff_kg.vocab import DCAT, DCT, NKG, RDF_TYPE, SCHEMA

_LISTED_IN = f"<{NKG}listedIn>"
_BYTE_SIZE = f"<{DCAT}byteSize>"
_SOURCE = f"<{DCT}source>"
_SAMPLE_SOURCE = f"<{NKG}sampleSource>"


@dataclass(frozen=True, slots=True)
class SampleRow:
    url: str  # normalized dataset IRI, one trailing slash
    size: int | None
    origin: str | None
    source: str | None


@dataclass
class SampleList:
    rows: list[SampleRow] = field(default_factory=list)
    lists: list[tuple[str | None, str]] = field(default_factory=list)  # (source name, CSV URL)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # rows left out: their URL is unusable


def read_sample_list(path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> str:
    """The text of a local CSV list: a regular file, at most ``limits.max_document_bytes``.

    :raises FileNotFoundError: there is no such file.
    :raises ExtractionError: not a regular file, too large, unreadable or not UTF-8.
    """
    data = read_regular_file(path, limits)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"{os.fspath(path)} is not UTF-8 text: {exc}") from exc


def _rows(
    reader: csv.DictReader[str], limits: Limits, warnings: list[str]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows of ``reader``; a row the csv module refuses (a field beyond its limit, a NUL
    byte) or with a field beyond ``limits.max_csv_field_chars`` is reported and skipped."""
    count = 0
    # the csv module refuses fields beyond its own limit: look at the fields only if ours is lower
    check_fields = limits.max_csv_field_chars < csv.field_size_limit()
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            warnings.append(f"line {line}: skipped, {exc}")
            continue
        count += 1
        if count > limits.max_csv_rows:
            warnings.append(f"line {line}: stopped, more than {limits.max_csv_rows} rows")
            return
        if check_fields and any(
            len(v) > limits.max_csv_field_chars for v in row.values() if isinstance(v, str)
        ):
            warnings.append(
                f"line {line}: skipped, a field is longer than {limits.max_csv_field_chars} "
                "characters"
            )
            continue
        yield line, row


def _dataset_url(url: str, *, directory: bool) -> str | None:
    """The normalized URL of a row, or ``None`` when it is no valid IRI even normalized (a
    broken authority such as ``http://[::1``, a bad escape such as ``%zz``, a lone
    surrogate): such a row names no dataset that can be found, so it is not guessed at."""
    try:
        normal = normalize_url(url, directory=directory)
    except (ValueError, UnicodeError):  # urlsplit refuses some authorities ("http://[::1")
        return None
    return normal if rdf.iri_is_valid(normal) else None


def parse_sample_list(text: str, limits: Limits = DEFAULT_LIMITS) -> SampleList:
    """Rows and nested lists of one CSV sample list.

    Rows that cannot be read (see :data:`ngff_kg.limits.Limits`) are skipped with a warning,
    rows whose URL is no valid IRI with an error (``errors``); the rest of the list is read.

    :raises ExtractionError: the CSV has no ``url`` column.
    """
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    out = SampleList()
    try:
        names = reader.fieldnames or []
    except csv.Error as exc:
        raise ExtractionError(f"not a sample list: unreadable header ({exc})") from exc
    fields = [f.strip().lower() for f in names]
    if "url" not in fields:
        raise ExtractionError(f"not a sample list: no 'url' column (columns: {fields[:20]})")
    reader.fieldnames = fields
    for number, row in _rows(reader, limits, out.warnings):
        url = (row.get("url") or "").strip()
        if not url:
            if any((v or "").strip() for v in row.values() if isinstance(v, str)):
                out.warnings.append(f"line {number}: no url")
            continue
        source = (row.get("source") or "").strip() or None
        is_list = url.lower().endswith(".csv")
        normal = _dataset_url(url, directory=not is_list)
        if normal is None:
            out.errors.append(f"line {number}: url {rdf.clean_text(url)[:200]!r} is not a URL")
            continue
        if is_list:
            out.lists.append((source, normal))
            continue
        size = None
        written = (row.get("written") or "").strip()
        if written:
            try:
                size = round(float(written))
            except (ValueError, OverflowError):
                out.warnings.append(f"line {number}: written={written[:40]!r} is not a number")
        origin = (row.get("origin") or "").strip() or None
        out.rows.append(SampleRow(normal, size, origin, source))
    return out


def sample_list_triples(list_iri: str, parsed: SampleList) -> list[rdf.Triple]:
    """Triples of the sample list's own graph: sizes and origins of the datasets it lists."""
    node = rdf.iri(list_iri)
    out: list[rdf.Triple] = [(node, f"<{RDF_TYPE}>", f"<{NKG}SampleList>")]
    append = out.append
    for row in parsed.rows:
        ds = rdf.iri(row.url)
        append((ds, _LISTED_IN, node))
        if row.size is not None:
            append((ds, _BYTE_SIZE, rdf.integer(row.size)))
        if row.origin:
            origin_iri = rdf.repair_iri(row.origin) if "://" in row.origin else None
            origin = f"<{origin_iri}>" if origin_iri else rdf.literal(row.origin)
            append((ds, _SOURCE, origin))
        if row.source:
            append((ds, _SAMPLE_SOURCE, rdf.literal(row.source)))
    for source, url in parsed.lists:
        out.append((node, f"<{NKG}includesList>", rdf.iri(url)))
        if source:
            out.append((rdf.iri(url), f"<{SCHEMA}publisher>", rdf.literal(source)))
    return out

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
from dataclasses import dataclass, field

from ngff_kg import rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.urls import normalize_url
from ngff_kg.vocab import DCAT, DCT, NKG, RDF_TYPE, SCHEMA


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


def parse_sample_list(text: str) -> SampleList:
    """Rows and nested lists of one CSV sample list. A row whose URL cannot be read is
    left out with an error (``errors``); the other rows are kept.

    :raises ExtractionError: the CSV has no ``url`` column.
    """
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "url" not in fields:
        raise ExtractionError(f"not a sample list: no 'url' column (columns: {fields})")
    reader.fieldnames = fields
    out = SampleList()
    for number, row in enumerate(reader, start=2):
        url = (row.get("url") or "").strip()
        if not url:
            if any((v or "").strip() for v in row.values() if isinstance(v, str)):
                out.warnings.append(f"line {number}: no url")
            continue
        source = (row.get("source") or "").strip() or None
        try:
            normal = normalize_url(url, directory=not url.lower().endswith(".csv"))
        except ValueError as exc:
            out.errors.append(f"line {number}: url {url!r} cannot be read: {exc}")
            continue
        if url.lower().endswith(".csv"):
            out.lists.append((source, normal))
            continue
        size = None
        written = (row.get("written") or "").strip()
        if written:
            try:
                size = round(float(written))
            except ValueError:
                out.warnings.append(f"line {number}: written={written!r} is not a number")
        origin = (row.get("origin") or "").strip() or None
        out.rows.append(SampleRow(normal, size, origin, source))
    return out


def sample_list_triples(list_iri: str, parsed: SampleList) -> list[rdf.Triple]:
    """Triples of the sample list's own graph: sizes and origins of the datasets it lists."""
    node = rdf.iri(list_iri)
    out: list[rdf.Triple] = [(node, f"<{RDF_TYPE}>", f"<{NKG}SampleList>")]
    for row in parsed.rows:
        ds = rdf.iri(row.url)
        out.append((ds, f"<{NKG}listedIn>", node))
        if row.size is not None:
            out.append((ds, f"<{DCAT}byteSize>", rdf.integer(row.size)))
        if row.origin:
            origin = rdf.iri(row.origin) if "://" in row.origin else rdf.literal(row.origin)
            out.append((ds, f"<{DCT}source>", origin))
        if row.source:
            out.append((ds, f"<{NKG}sampleSource>", rdf.literal(row.source)))
    for source, url in parsed.lists:
        out.append((node, f"<{NKG}includesList>", rdf.iri(url)))
        if source:
            out.append((rdf.iri(url), f"<{SCHEMA}publisher>", rdf.literal(source)))
    return out

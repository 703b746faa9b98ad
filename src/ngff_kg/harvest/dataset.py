"""One dataset's graph: its NGFF hierarchy, OME-XML, RO-Crate, repairs, errors, provenance.

Every part is extracted on its own: whatever one part raises (any exception type) becomes an
error of that dataset, with the stage it happened in, and the other parts are kept. A
dataset with errors carries them as ``nkg:extractionError``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import orjson

from ngff_kg import jsonio, rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.extract.ngff import ngff_triples
from ngff_kg.extract.omexml import omexml_triples, parse_omexml
from ngff_kg.extract.rocrate import CRATE_FILE, extract_crate
from ngff_kg.limits import read_regular_file
from ngff_kg.normalize.jsonld import JsonLdConverter
from ngff_kg.normalize.repairs import Repair, repair_set_iri
from ngff_kg.sources.hierarchy import MAX_NODES, OME_XML, DeepRead, read_hierarchy
from ngff_kg.sources.local import LocalSource, MetadataSource, file_state
from ngff_kg.sources.walk import FoundRoot
from ngff_kg.store.knowledge import GraphData
from ngff_kg.urls import PATH_SAFE
from ngff_kg.vocab import NKG, PROV, RDF_TYPE, SCHEMA

P_REPAIR_SET = f"<{NKG}repairSet>"
P_ERROR = f"<{NKG}extractionError>"
P_UNDEFINED = f"<{NKG}undefinedTerm>"
P_SOURCE = f"<{NKG}metadataSource>"
P_HASH = f"<{NKG}contentHash>"
P_GENERATED = f"<{PROV}wasGeneratedBy>"
P_ENGINE = f"<{NKG}jsonldEngine>"
P_FILES = f"<{NKG}sourceFiles>"

#: The stages a dataset goes through, as named in reports.
STAGES = ("read", "parse", "jsonld", "ngff", "omexml", "rdf", "write")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StageError:
    """Something that went wrong in one stage of one dataset."""

    stage: str
    message: str


@dataclass(slots=True)
class DatasetOutcome:
    """The graph of one dataset and what happened while reading it."""

    path: str
    graph: GraphData
    repairs: frozenset[Repair]
    errors: list[StageError]
    warnings: list[str]
    has_crate: bool
    organisms: frozenset[str] = frozenset()  # N-Triples IRI terms


def describe(exc: BaseException) -> str:
    """An exception as a report reason: its message, with its type unless it is ours."""
    if isinstance(exc, ExtractionError):
        return str(exc)
    text = str(exc)
    if len(text) > 500:
        text = text[:500] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def guarded(
    errors: list[StageError], stage: str, where: str, fn: Callable[..., T], *args: Any
) -> T | None:
    """``fn(*args)``, or ``None`` with the exception recorded as an error of ``stage``."""
    try:
        return fn(*args)
    except Exception as exc:  # one part of one dataset never ends its extraction
        reason = describe(exc)
        errors.append(StageError(stage, f"{where}: {reason}" if where else reason))
        return None


def failed_outcome(
    path: str, iri: str, run_term: str, stage: str, exc: BaseException
) -> DatasetOutcome:
    """A dataset whose extraction failed as a whole: a minimal graph saying so (it records no
    source files, so the next harvest reads it again)."""
    error = StageError(stage, describe(exc))
    ds = rdf.iri(iri)
    triples = [
        (ds, f"<{RDF_TYPE}>", f"<{SCHEMA}Dataset>"),
        (ds, P_ERROR, rdf.literal(error.message)),
        (ds, P_GENERATED, run_term),
    ]
    graph = GraphData.from_triples(iri, triples)
    return DatasetOutcome(path, graph, frozenset(), [error], [], False)


def process_root(
    found: FoundRoot,
    iri: str,
    converter: JsonLdConverter,
    run_term: str,
    *,
    source: MetadataSource | None = None,
    max_nodes: int = MAX_NODES,
    executor: Executor | None = None,
) -> DatasetOutcome:
    """The complete graph of one dataset: NGFF facts of the whole hierarchy, OME-XML, crate,
    repairs, provenance. Documents are read from ``source`` (default: the local directory
    ``found.path``). Each part is extracted apart from the others (:func:`guarded`). Values
    the term builders had to repair (:func:`ngff_kg.rdf.collect_repairs`) are recorded as
    repairs of the dataset."""
    with rdf.collect_repairs() as noted:
        return _process_root(found, iri, converter, run_term, source, max_nodes, executor, noted)


def _process_root(
    found: FoundRoot,
    iri: str,
    converter: JsonLdConverter,
    run_term: str,
    source: MetadataSource | None,
    max_nodes: int,
    executor: Executor | None,
    noted: list[rdf.TermRepair],
) -> DatasetOutcome:
    if source is None:
        source = LocalSource(found.path, found.names)
    ds = f"<{iri}>"
    errors: list[StageError] = []
    warnings: list[str] = []
    hasher = hashlib.sha256(found.metadata_bytes)
    triples: list[rdf.Triple] = []
    notes: list[str] = []
    ngff = guarded(errors, "ngff", found.metadata_file, ngff_triples, iri, found.group, notes)
    if ngff is not None:
        _kind, facts, ngff_errors = ngff
        triples.extend(facts)
        errors.extend(StageError("ngff", f"{found.metadata_file}: {m}") for m in ngff_errors)
    warnings.extend(f"{found.metadata_file}: {message}" for message in notes)
    prefetch = getattr(source, "prefetch", None)
    if prefetch is not None:
        # a remote crate arrives while the hierarchy is read, with a bioformats2raw layout's
        # first documents in the same batch
        first = [CRATE_FILE] if found.has_crate else []
        if "bioformats2raw.layout" in found.group.attributes:
            document = "zarr.json" if found.group.zarr_format == 3 else ".zattrs"
            first += [OME_XML, f"OME/{document}", f"0/{document}"]
        guarded(errors, "read", "prefetch", prefetch, *first)
    deep: DeepRead | None = guarded(
        errors, "ngff", "hierarchy", read_hierarchy, found, iri, source, max_nodes, executor
    )
    data: bytes | None = None
    if found.has_crate:
        data = guarded(errors, "read", CRATE_FILE, source.get, CRATE_FILE)
    else:
        source.accessed.append((CRATE_FILE, -1, 0))
    has_crate = data is not None
    repairs: frozenset[Repair] = frozenset()
    organisms: frozenset[str] = frozenset()
    if data is not None:
        hasher.update(data)
        crate_triples = _crate(data, iri, converter, errors, warnings)
        if crate_triples is not None:
            triples.extend(crate_triples[0])
            repairs, organisms = crate_triples[1], crate_triples[2]
    if deep is not None:
        triples.extend(deep.triples)
        for message in deep.errors:
            stage = "omexml" if message.startswith(OME_XML) else "ngff"
            errors.append(StageError(stage, message))
        warnings.extend(deep.warnings)
        for read in deep.documents:
            hasher.update(read)
    if not source.failed and deep is not None and not errors:
        # a dataset whose documents could not all be read, or that has errors, is read (and
        # reported) again next time
        # crate first, then by name: the same list whatever order threads read them in
        accessed = sorted(source.accessed, key=lambda r: (r[0] != CRATE_FILE, r[0]))
        files = [found.record or file_state(found.path, found.metadata_file), *accessed]
        triples.append((ds, P_FILES, rdf.literal(_files_json(files))))
    triples.append((ds, P_SOURCE, rdf.iri(source.url(found.metadata_file))))
    triples.append((ds, P_HASH, rdf.literal("sha256:" + hasher.hexdigest())))
    triples.append((ds, P_GENERATED, run_term))
    repairs = _with_term_repairs(repairs, noted, warnings)
    if repairs:
        triples.append((ds, P_REPAIR_SET, f"<{repair_set_iri(repairs)}>"))
    graph = _graph(iri, triples, errors)
    return DatasetOutcome(found.path, graph, repairs, errors, warnings, has_crate, organisms)


def _files_json(files: list[Any]) -> str:
    """``json.dumps(files, separators=(",", ":"))`` for [path, size, mtime or validator]
    records (strings and 64-bit integers): orjson writes the same text when it is ASCII
    and escapes nothing (the standard library escapes non-ASCII characters as ``\\uXXXX``)."""
    try:
        text = orjson.dumps(files)
    except orjson.JSONEncodeError:  # not such records after all
        pass
    else:
        if text.isascii() and b"\\" not in text:
            return text.decode("ascii")
    return json.dumps(files, separators=(",", ":"))


def _with_term_repairs(
    repairs: frozenset[Repair], noted: list[rdf.TermRepair], warnings: list[str]
) -> frozenset[Repair]:
    """``repairs`` and the repairs the term builders noted (each also a warning)."""
    if not noted:
        return repairs
    extra = {Repair(kind, original, repaired) for kind, original, repaired in noted}
    for repair in sorted(extra):
        warnings.append(f"{repair.kind}: {repair.original[:200]!r} written as {repair.repaired}")
    return repairs | extra


def _crate(
    data: bytes,
    iri: str,
    converter: JsonLdConverter,
    errors: list[StageError],
    warnings: list[str],
) -> tuple[list[rdf.Triple], frozenset[Repair], frozenset[str]] | None:
    """The crate's triples, repairs and organisms; ``None`` (with an error) when it cannot be
    parsed (stage ``parse``) or converted (stage ``jsonld``)."""
    try:
        doc = jsonio.loads(data)
    except Exception as exc:
        reason = f"invalid JSON: {exc}" if isinstance(exc, ValueError) else describe(exc)
        errors.append(StageError("parse", f"{CRATE_FILE}: {reason}"))
        return None
    bnode_prefix = "b" + hashlib.sha1(iri.encode()).hexdigest()[:12]
    crate = guarded(errors, "jsonld", CRATE_FILE, extract_crate, doc, iri, converter, bnode_prefix)
    if crate is None:
        return None
    ds = f"<{iri}>"
    triples = list(crate.triples)
    repairs = frozenset(crate.repairs)
    for term in sorted(crate.dropped_terms):
        triples.append((ds, P_UNDEFINED, rdf.literal(term)))
        warnings.append(f"{CRATE_FILE}: term {term!r} is not defined by any context; ignored")
    for value in sorted(crate.dropped_iris):
        warnings.append(f"{CRATE_FILE}: {value!r} cannot be made an absolute IRI; ignored")
    warnings.extend(f"{CRATE_FILE}: {message}" for message in crate.warnings)
    if crate.engine != "fast":
        triples.append((ds, P_ENGINE, rdf.literal(crate.engine)))
    return triples, repairs, frozenset(crate.organisms)


def _graph(iri: str, triples: list[rdf.Triple], errors: list[StageError]) -> GraphData:
    """The dataset's graph with its errors (stage ``rdf`` when the triples cannot be
    serialized: then only the errors and provenance are kept)."""
    ds = f"<{iri}>"
    try:
        error_triples = [(ds, P_ERROR, rdf.literal(e.message)) for e in errors]
        return GraphData.from_triples(iri, triples + error_triples)
    except Exception as exc:
        errors.append(StageError("rdf", describe(exc)))
        kept = [t for t in triples if t[1] in (P_SOURCE, P_HASH, P_GENERATED)]
        kept += [(ds, P_ERROR, rdf.literal(e.message)) for e in errors]
        return GraphData.from_triples(iri, kept)


def process_omexml_file(path: Path, iri: str, run_term: str) -> DatasetOutcome:
    """A ``.ome.xml`` file as a dataset of its own (IRI: the file's URL)."""
    with rdf.collect_repairs() as noted:
        return _process_omexml_file(path, iri, run_term, noted)


def _process_omexml_file(
    path: Path, iri: str, run_term: str, noted: list[rdf.TermRepair]
) -> DatasetOutcome:
    ds = f"<{iri}>"
    errors: list[StageError] = []
    warnings: list[str] = []
    triples: list[rdf.Triple] = [
        (ds, f"<{RDF_TYPE}>", f"<{NKG}OmeXmlDataset>"),
        (ds, f"<{RDF_TYPE}>", f"<{SCHEMA}Dataset>"),
    ]
    data: bytes | None = None
    try:
        data = read_regular_file(path)
    except OSError as exc:
        errors.append(StageError("read", f"cannot read: {exc.strerror or exc}"))
    except ExtractionError as exc:  # not a regular file, or too large
        errors.append(StageError("read", str(exc)))
    if data is not None:
        doc = guarded(errors, "parse", "", parse_omexml, data)
        if doc is not None:
            warnings.extend(doc.warnings)

            def names(_i: object, ident: str) -> str:
                return f"{iri}#ome-{quote(ident, safe=':')}"

            facts = guarded(errors, "omexml", "", omexml_triples, doc, iri, names)
            triples.extend(facts or ())
    source = "file://" + quote(os.path.abspath(path), safe=PATH_SAFE)
    triples.append((ds, P_SOURCE, rdf.iri(source)))
    triples.append((ds, P_HASH, rdf.literal("sha256:" + hashlib.sha256(data or b"").hexdigest())))
    triples.append((ds, P_GENERATED, run_term))
    repairs = _with_term_repairs(frozenset(), noted, warnings)
    if repairs:
        triples.append((ds, P_REPAIR_SET, f"<{repair_set_iri(repairs)}>"))
    graph = _graph(iri, triples, errors)
    return DatasetOutcome(str(path), graph, repairs, errors, warnings, False)

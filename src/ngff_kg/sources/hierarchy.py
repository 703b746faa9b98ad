"""The whole NGFF hierarchy below a root, read by following its metadata.

Directories are never walked: the reader goes where the metadata points (multiscales
dataset paths, plate wells, well images, ``labels`` lists, bioformats2raw series from
``OME/zarr.json`` or ``0/``, ``1/``… until one is missing) and reads only metadata documents
through a :class:`~ngff_kg.sources.local.MetadataSource`. Consolidated metadata (v3
``consolidated_metadata``, v2 ``.zmetadata``) is used where a root has it.

Work proceeds in rounds: every document one round needs is read together (on a thread pool
when there are many, as for a plate's wells), then the next round is planned from what was
read. ``max_nodes`` bounds the number of node documents per dataset.

Node IRIs: an image, well or label image is the URL of its group (``<dataset>A/1/0/``), so a
root image is the dataset node itself; its parts are fragments of it (``#level-0``,
``#level-0-axis-4``, ``#axis-2``, ``#channel-1``).
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ngff_kg import jsonio, rdf
from ngff_kg.errors import ExtractionError, FetchError
from ngff_kg.extract.ngff import MAX_LEVELS, OmeGroup, image_triples, ome_group_v2
from ngff_kg.extract.omexml import omexml_triples, parse_omexml
from ngff_kg.extract.validate_ngff import (
    Validation,
    validate_group,
    violation_triples,
)
from ngff_kg.extract.zarr_array import array_triples, parse_array_v2, parse_array_v3
from ngff_kg.sources.local import LocalSource, MetadataSource
from ngff_kg.sources.walk import FoundRoot
from ngff_kg.urls import PATH_SAFE
from ngff_kg.vocab import NKG, PROV, RDF_TYPE, SCHEMA, XSD_DATETIME

#: Default bound on the node documents read for one dataset.
MAX_NODES = 100_000
#: Reads in one round from which the thread pool is used.
PARALLEL_FROM = 16
OME_XML = "OME/METADATA.ome.xml"

_TYPE = f"<{RDF_TYPE}>"


def _p(name: str) -> str:
    return f"<{NKG}{name}>"


def _join(base: str, name: str) -> str:
    """``base/name`` for a node path ``base`` ("" = root) and a relative ``name``."""
    name = name.strip("/")
    if not base:
        return name
    return f"{base}/{name}" if name else base


@dataclass
class _Task:
    path: str  # node path relative to the root ("" = root)
    array: bool
    #: called with the task and its document; the task is an argument, not a variable the
    #: handler closes over, so that no task is part of a reference cycle (a cycle would keep
    #: the reader and all it read alive until the garbage collector runs)
    handle: Callable[[_Task, dict[str, Any] | None], None]
    named: bool = True  # named by the metadata (missing = a gap); False for optional groups
    file: str = ""
    suspect: bool = True  # its text may hold NaN or infinite numbers


@dataclass
class Hierarchy:
    """What the reader found below one root."""

    triples: list[rdf.Triple] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    documents: list[bytes] = field(default_factory=list)
    nodes_read: int = 0  # node documents found and read
    nodes_missing: int = 0  # nodes the metadata names whose document does not exist
    ome_xml: bytes | None = None
    #: OME-XML Image index → image IRI (bioformats2raw series in order)
    series: list[str] = field(default_factory=list)
    #: well path → field image paths in order, for the wells that were read
    fields: dict[str, list[str]] = field(default_factory=dict)
    #: (document, its validation) for every NGFF group document read
    validations: list[tuple[str, Validation]] = field(default_factory=list)


class HierarchyReader:
    """Reads the metadata below one root; :meth:`read` returns a :class:`Hierarchy`."""

    def __init__(
        self,
        source: MetadataSource,
        dataset_iri: str,
        group: OmeGroup,
        *,
        root_doc: dict[str, Any] | None = None,
        max_nodes: int = MAX_NODES,
        executor: Executor | None = None,
        root_finite: bool = False,
    ) -> None:
        self.source = source
        self.iri = dataset_iri
        self.ds = f"<{dataset_iri}>"
        self.group = group
        self.v3 = group.zarr_format == 3
        self.max_nodes = max_nodes
        self.executor = executor
        self.out = Hierarchy()
        self.pending: list[_Task] = []
        self.dropped = 0
        self.attempts = 0
        self.consolidated: dict[str, Any] = {}
        # the root document may hold NaN or infinite numbers unless it is plain JSON
        self.root_suspect = not root_finite
        self.consolidated_suspect = self.root_suspect  # v2: set from .zmetadata
        self.field_count = 0  # the plate's field_count: a well listing fewer fields is listed
        if self.v3 and isinstance(root_doc, dict):
            meta = root_doc.get("consolidated_metadata")
            if isinstance(meta, dict) and isinstance(meta.get("metadata"), dict):
                self.consolidated = meta["metadata"]

    # ------------------------------------------------------------------ public
    def read(self) -> Hierarchy:
        attrs = self.group.attributes
        self._validate("zarr.json" if self.v3 else ".zattrs", attrs, self.root_suspect)
        if not self.v3:
            self._load_zmetadata()
        if isinstance(attrs.get("multiscales"), list):
            self._image("", attrs, kind="image")
        if isinstance(attrs.get("plate"), dict):
            self._plate(attrs["plate"])
        elif "bioformats2raw.layout" in attrs:
            self._series()
        if "bioformats2raw.layout" in attrs:
            self.out.ome_xml = self._get(OME_XML)
            if self.out.ome_xml is not None:
                self.out.documents.append(self.out.ome_xml)
        if isinstance(attrs.get("well"), dict):
            self._well("", attrs["well"], None)
        if isinstance(attrs.get("labels"), list) and "multiscales" not in attrs:
            self._labels_list("", attrs["labels"], None)
        while self.pending:
            self._round()
        out = self.out
        if self.dropped:
            out.warnings.append(
                f"stopped after {self.max_nodes} metadata nodes (--max-nodes-per-dataset "
                f"{self.max_nodes}); {self.dropped} more nodes named by the metadata were "
                "not read"
            )
            out.triples.append((self.ds, _p("nodesNotRead"), rdf.integer(self.dropped)))
        if out.nodes_read:
            out.triples.append((self.ds, _p("nodesRead"), rdf.integer(out.nodes_read)))
        if out.nodes_missing:
            out.triples.append((self.ds, _p("nodesMissing"), rdf.integer(out.nodes_missing)))
        return out

    def image_iri(self, path: str) -> str:
        """The IRI of the group at ``path`` (the dataset IRI for the root)."""
        if not path:
            return self.iri
        return self.iri + quote(path, safe=PATH_SAFE) + "/"

    # ------------------------------------------------------------------ reading
    def _load_zmetadata(self) -> None:
        data = self._get(".zmetadata")
        if data is None:
            return
        try:
            doc, finite = jsonio.loads_checked(data)
        except ValueError as exc:
            self.out.errors.append(f".zmetadata: invalid JSON: {exc}")
            return
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        if isinstance(meta, dict):
            self.out.documents.append(data)
            self.consolidated = meta
            self.consolidated_suspect = not finite

    def _get(self, path: str) -> bytes | None:
        try:
            return self.source.get(path)
        except ExtractionError as exc:
            self._problem(exc)
            return None

    def _problem(self, exc: ExtractionError) -> None:
        """A document that could not be fetched is an error of the dataset; a path the
        source refuses (not a metadata document) is a warning."""
        if isinstance(exc, FetchError):
            self.out.errors.append(str(exc))
        else:
            self.out.warnings.append(str(exc))

    def _get_all(self, files: list[str]) -> list[bytes | None]:
        get_many = getattr(self.source, "get_many", None)
        if get_many is not None and len(files) > 1:
            datas = []
            for result in get_many(files):
                if isinstance(result, ExtractionError):
                    self._problem(result)
                    result = None
                datas.append(result)
            return datas
        if self.executor is not None and len(files) >= PARALLEL_FROM:
            return list(self.executor.map(self._get, files))
        return [self._get(f) for f in files]

    def _file(self, task: _Task) -> str:
        if self.v3:
            return _join(task.path, "zarr.json")
        return _join(task.path, ".zarray" if task.array else ".zattrs")

    def _from_consolidated(self, task: _Task) -> tuple[bool, Any]:
        if not self.consolidated:
            return False, None
        key = task.path if self.v3 else task.file
        if key in self.consolidated:
            return True, self.consolidated[key]
        return False, None

    def _round(self) -> None:
        tasks, self.pending = self.pending, []
        room = max(self.max_nodes - self.attempts, 0)
        if len(tasks) > room:
            self.dropped += len(tasks) - room
            tasks = tasks[:room]
        self.attempts += len(tasks)
        docs: list[Any] = []
        to_read: list[int] = []
        for index, task in enumerate(tasks):
            hit, doc = self._from_consolidated(task)
            task.suspect = self.consolidated_suspect
            docs.append(doc)
            if not hit:
                to_read.append(index)
        datas = self._get_all([tasks[i].file for i in to_read])
        for index, data in zip(to_read, datas, strict=True):
            if data is None:
                continue
            self.out.documents.append(data)
            try:
                docs[index], finite = jsonio.loads_checked(data)
            except ValueError as exc:
                self.out.errors.append(f"{tasks[index].file}: invalid JSON: {exc}")
            else:
                tasks[index].suspect = not finite  # its own text, not the consolidated one
        for task, doc in zip(tasks, docs, strict=True):
            if doc is None:
                self.out.nodes_missing += task.named
            else:
                self.out.nodes_read += 1
            try:
                task.handle(task, doc)
            except ExtractionError as exc:
                self.out.errors.append(f"{task.file}: {exc}")
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                # metadata of an unexpected shape: reported with the dataset, the rest is read
                self.out.errors.append(f"{task.file}: unexpected metadata ({exc!r:.120})")

    def _attrs(self, doc: Any) -> dict[str, Any] | None:
        """The NGFF attributes of a group document (None: no group)."""
        if not isinstance(doc, dict):
            return None
        if not self.v3:
            return doc
        if doc.get("node_type") != "group":
            return None
        attrs = doc.get("attributes")
        if not isinstance(attrs, dict):
            return {}
        ome = attrs.get("ome")
        return ome if isinstance(ome, dict) else attrs

    def _validate(self, document: str, attrs: dict[str, Any], suspect: bool) -> None:
        """Validate a group's NGFF attributes for its version (the root's when it has none)."""
        if self.v3:
            if not attrs:
                return
            version = attrs.get("version")
            version = str(version) if version is not None else None
        else:
            group = ome_group_v2(attrs)
            if group is None:
                return
            version = group.version
        validation = validate_group(
            attrs, version or self.group.version, document, non_finite=suspect
        )
        self.out.validations.append((document, validation))

    def _enqueue(self, task: _Task) -> None:
        """Plan reading a node, unless the source knows it cannot exist."""
        task.file = self._file(task)
        key = task.path if self.v3 else task.file
        if key in self.consolidated or self.source.might_have(task.file):
            self.pending.append(task)
        elif task.named:
            self.out.nodes_missing += 1

    def _group(
        self,
        path: str,
        handle: Callable[[dict[str, Any]], None],
        *,
        named: bool = True,
        missing: Callable[[], None] | None = None,
    ) -> None:
        def on_doc(task: _Task, doc: dict[str, Any] | None) -> None:
            if doc is None and missing is not None:
                missing()
            attrs = self._attrs(doc)
            if attrs is not None:
                assert doc is not None  # attributes come from a document
                if not self.v3 or attrs is not doc.get("attributes"):  # v3: an "ome" object
                    self._validate(task.file, attrs, task.suspect)
                handle(attrs)

        self._enqueue(_Task(path, False, on_doc, named))

    # ------------------------------------------------------------------ images
    def _image(
        self,
        path: str,
        attrs: dict[str, Any],
        *,
        kind: str,
        parent: str | None = None,
        series: int | None = None,
        well: str | None = None,
        acquisition: Any = None,
    ) -> None:
        iri = self.image_iri(path)
        node = f"<{iri}>"
        out = self.out.triples
        if path:
            triples, errors = image_triples(iri, attrs, self.out.warnings)
            out.extend(triples)
            file = _join(path, "zarr.json" if self.v3 else ".zattrs")
            self.out.errors.extend(f"{file}: {message}" for message in errors)
        label = kind == "label"
        out.append((self.ds, _p("image"), node))
        out.append((node, _TYPE, _p("LabelImage" if label else "Image")))
        out.append((node, _p("imagePath"), rdf.literal(path)))
        if series is not None:
            out.append((node, _p("seriesIndex"), rdf.integer(series)))
        if well is not None:
            out.append((f"<{self.image_iri(well)}>", _p("field"), node))
            if isinstance(acquisition, int) and not isinstance(acquisition, bool):
                out.append((node, _p("acquisition"), f"<{self.iri}#acquisition-{acquisition}>"))
        if label:
            source = parent
            image_label = attrs.get("image-label")
            if isinstance(image_label, dict) and isinstance(image_label.get("source"), dict):
                link = image_label["source"].get("image")
                if isinstance(link, str):
                    resolved = posixpath.normpath(posixpath.join(path, link))
                    source = "" if resolved == "." else resolved
                    if source.startswith(".."):
                        source = None
            if source is not None:
                out.append((node, _p("labelSource"), f"<{self.image_iri(source)}>"))
            if parent is not None:
                out.append((f"<{self.image_iri(parent)}>", _p("labelImage"), node))
        multiscales = attrs.get("multiscales")
        if isinstance(multiscales, list) and multiscales and isinstance(multiscales[0], dict):
            levels = multiscales[0].get("datasets")
            for index, level in enumerate(levels[:MAX_LEVELS] if isinstance(levels, list) else []):
                if isinstance(level, dict) and isinstance(level.get("path"), str):
                    self._array(_join(path, level["path"]), f"<{iri}#level-{index}>")
        if not label:
            labels_path = _join(path, "labels")
            self._group(
                labels_path, lambda a: self._labels_group(labels_path, a, path), named=False
            )

    def _array(self, path: str, level: str) -> None:
        def on_doc(_task: _Task, doc: dict[str, Any] | None) -> None:
            if not isinstance(doc, dict):
                return
            if self.v3:
                if doc.get("node_type") != "array":
                    raise ExtractionError("a multiscales level must be an array")
                info = parse_array_v3(doc)
            else:
                info = parse_array_v2(doc)
            self.out.triples.extend(array_triples(level, info))

        self._enqueue(_Task(path, True, on_doc))

    def _labels_group(self, path: str, attrs: dict[str, Any], parent: str | None) -> None:
        labels = attrs.get("labels")
        if isinstance(labels, list):
            self._labels_list(path, labels, parent)

    def _labels_list(self, path: str, labels: list[Any], parent: str | None) -> None:
        for name in labels:
            if not isinstance(name, str):
                self.out.warnings.append(f"{path or '.'}: labels entry {name!r} is not a path")
                continue
            label_path = _join(path, name)

            def on_label(attrs: dict[str, Any], label_path: str = label_path) -> None:
                self._image(label_path, attrs, kind="label", parent=parent)

            self._group(label_path, on_label)

    # ------------------------------------------------------------------ bioformats2raw
    def _series(self) -> None:
        def on_ome(_task: _Task, doc: dict[str, Any] | None) -> None:
            attrs = self._attrs(doc)
            series = attrs.get("series") if attrs is not None else None
            if isinstance(series, list) and all(isinstance(s, str) for s in series):
                for index, path in enumerate(series):
                    self.out.series.append(self.image_iri(path.strip("/")))
                    self._series_image(path.strip("/"), index)
            else:
                self._probe(0)

        task = _Task("OME", False, on_ome, named=False)
        task.file = self._file(task)
        if "OME" in self.consolidated or self.source.might_have(task.file):
            self.pending.append(task)
        else:  # no OME group (nor OME-XML): the series are 0/, 1/, … until one is missing
            self._probe(0)

    def _series_image(self, path: str, index: int, *, probing: bool = False) -> None:
        """Series ``index``; when probing (no series list), series after the first may be
        missing: that ends the series."""

        def on_attrs(attrs: dict[str, Any]) -> None:
            self._image(path, attrs, kind="image", series=index)
            if probing:
                self.out.series.append(self.image_iri(path))
                self._probe(index + 1)

        self._group(path, on_attrs, named=not probing or index == 0)

    def _probe(self, index: int) -> None:
        self._series_image(str(index), index, probing=True)

    # ------------------------------------------------------------------ plates and wells
    def _plate(self, plate: dict[str, Any]) -> None:
        out = self.out.triples
        rows_value, columns_value = plate.get("rows"), plate.get("columns")
        rows: list[Any] = rows_value if isinstance(rows_value, list) else []
        columns: list[Any] = columns_value if isinstance(columns_value, list) else []
        acquisitions = plate.get("acquisitions")
        for acquisition in acquisitions if isinstance(acquisitions, list) else []:
            if not isinstance(acquisition, dict):
                continue
            ident = acquisition.get("id")
            if not isinstance(ident, int) or isinstance(ident, bool):
                continue
            node = f"<{self.iri}#acquisition-{ident}>"
            out.append((self.ds, _p("acquisition"), node))
            out.append((node, _p("acquisitionId"), rdf.integer(ident)))
            if isinstance(acquisition.get("name"), str):
                out.append((node, f"<{SCHEMA}name>", rdf.literal(acquisition["name"])))
            count = acquisition.get("maximumfieldcount")
            if isinstance(count, int) and not isinstance(count, bool):
                out.append((node, _p("maximumFieldCount"), rdf.integer(count)))
            for key, prop in (("starttime", "startedAtTime"), ("endtime", "endedAtTime")):
                stamp = acquisition.get(key)
                if isinstance(stamp, int) and not isinstance(stamp, bool):
                    try:
                        when = dt.datetime.fromtimestamp(stamp / 1000, dt.UTC)
                    except (OverflowError, OSError, ValueError):
                        continue
                    text = when.isoformat().replace("+00:00", "Z")
                    out.append((node, f"<{PROV}{prop}>", rdf.literal(text, XSD_DATETIME)))
        count = plate.get("field_count")
        if isinstance(count, int) and not isinstance(count, bool):
            self.field_count = count
        wells = plate.get("wells")
        document = "zarr.json" if self.v3 else ".zattrs"
        present: dict[str, bool] = {}  # first path component → might exist (one check per row)
        for well in wells if isinstance(wells, list) else []:
            path = well.get("path") if isinstance(well, dict) else None
            if not isinstance(path, str):
                continue
            path = path.strip("/")
            if not self.consolidated:
                head = path.split("/", 1)[0]
                known = present.get(head)
                if known is None:
                    known = present[head] = self.source.might_have(f"{head}/{document}")
                if not known:  # plates list thousands of wells: keep this loop lean
                    self.out.nodes_missing += 1
                    continue

            def on_attrs(attrs: dict[str, Any], path: str = path, info: Any = well) -> None:
                well_attrs = attrs.get("well")
                if not isinstance(well_attrs, dict):  # no well metadata: fields from the tree
                    self.out.warnings.append(f"{path}: the well group has no well metadata")
                    well_attrs = {}
                self._well(path, well_attrs, info, rows=rows, columns=columns)

            def on_missing(path: str = path) -> None:
                self._unlisted_fields(path, [])

            self._group(path, on_attrs, missing=on_missing)

    def _well(
        self,
        path: str,
        well: dict[str, Any],
        info: dict[str, Any] | None,
        *,
        rows: Sequence[Any] = (),
        columns: Sequence[Any] = (),
    ) -> None:
        node = f"<{self.image_iri(path)}>"
        out = self.out.triples
        if path:
            out.append((self.ds, _p("well"), node))
        out.append((node, _TYPE, _p("Well")))
        out.append((node, _p("wellPath"), rdf.literal(path)))
        for key, prop, names in (
            ("rowIndex", "rowIndex", rows),
            ("columnIndex", "columnIndex", columns),
        ):
            index = (info or {}).get(key)
            if isinstance(index, int) and not isinstance(index, bool):
                out.append((node, _p(prop), rdf.integer(index)))
                if 0 <= index < len(names) and isinstance(names[index], dict):
                    name = names[index].get("name")
                    if isinstance(name, str):
                        prop_name = "rowName" if key == "rowIndex" else "columnName"
                        out.append((node, _p(prop_name), rdf.literal(name)))
        images = well.get("images")
        if isinstance(images, list):
            out.append((node, _p("fieldCount"), rdf.integer(len(images))))
        fields: list[str] = []
        for image in images if isinstance(images, list) else []:
            if not isinstance(image, dict) or not isinstance(image.get("path"), str):
                continue
            image_path = _join(path, image["path"])
            fields.append(image_path)
            acquisition = image.get("acquisition")

            def on_attrs(attrs: dict[str, Any], p: str = image_path, a: Any = acquisition) -> None:
                self._image(p, attrs, kind="image", well=path, acquisition=a)

            self._group(image_path, on_attrs)
        self.out.fields[path] = fields
        if path and (not isinstance(images, list) or len(fields) < self.field_count):
            self._unlisted_fields(path, fields)

    def _unlisted_fields(self, well: str, listed: list[str]) -> None:
        """Fields in the well's directory that its metadata does not list (read when the well
        lists fewer fields than the plate's field_count, or has no well metadata)."""
        names = self._list_dir(well)
        known = set(listed)
        for name in names:
            field_path = _join(well, name)
            if field_path in known:
                continue

            def on_attrs(attrs: dict[str, Any], p: str = field_path) -> None:
                if not isinstance(attrs.get("multiscales"), list):
                    return
                self.out.warnings.append(
                    f"{well}: field {p.rsplit('/', 1)[-1]} is in the tree, not in the well metadata"
                )
                self.out.fields.setdefault(well, []).append(p)
                self._image(p, attrs, kind="image", well=well)
                self.out.triples.append(
                    (f"<{self.image_iri(p)}>", _p("unlistedField"), rdf.boolean(True))
                )

            self._group(field_path, on_attrs, named=False)

    def _list_dir(self, path: str) -> list[str]:
        """The subdirectories of ``path`` in the source, sorted (none for a source that
        cannot list, such as HTTP)."""
        lister = getattr(self.source, "list_dir", None)
        if lister is not None:
            return sorted(lister(path))
        if not isinstance(self.source, LocalSource):
            return []
        try:
            with os.scandir(os.path.join(self.source.root, *path.split("/"))) as it:
                return sorted(
                    e.name
                    for e in it
                    if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
                )
        except OSError:
            return []


def ome_image_iris(
    reader: HierarchyReader, found: Hierarchy, plates: Sequence[Any]
) -> Callable[[int, str], str]:
    """Names for the Images of the root's OME-XML: the NGFF group each one was written to.

    A plate field is found through its OME Well (row, column) and WellSample order; a
    bioformats2raw series through ``OME/zarr.json`` ``series`` or its index (``0/``, ``1/``…).
    Images with no NGFF group get a fragment of the dataset IRI.
    """
    by_id: dict[str, str] = {}
    wells: dict[tuple[Any, Any], str] = {}
    if plates:
        ngff_plate = reader.group.attributes.get("plate")
        listed = ngff_plate.get("wells") if isinstance(ngff_plate, dict) else None
        for well in listed if isinstance(listed, list) else []:
            if isinstance(well, dict) and isinstance(well.get("path"), str):
                wells[(well.get("rowIndex"), well.get("columnIndex"))] = well["path"].strip("/")
    for plate in plates:
        for well in plate.wells:
            path = wells.get((well.row, well.column))
            if path is None:
                continue
            fields = found.fields.get(path, [])
            for index, sample in enumerate(well.well_samples):
                if sample.image_ref is None:
                    continue
                field_path = fields[index] if index < len(fields) else _join(path, str(index))
                by_id[sample.image_ref.id] = reader.image_iri(field_path)
    layout = "bioformats2raw.layout" in reader.group.attributes

    def image_iri(index: int, ident: str) -> str:
        if ident in by_id:
            return by_id[ident]
        if not plates and index < len(found.series):
            return found.series[index]
        if layout and not plates:
            return reader.image_iri(str(index))
        return f"{reader.iri}#ome-{quote(ident, safe=':')}"

    return image_iri


@dataclass(slots=True)
class DeepRead:
    triples: list[rdf.Triple]
    errors: list[str]
    warnings: list[str]
    documents: list[bytes]


def read_hierarchy(
    found: FoundRoot,
    iri: str,
    source: MetadataSource | None = None,
    max_nodes: int = MAX_NODES,
    executor: Executor | None = None,
) -> DeepRead:
    """The nodes below the root, and the root's OME-XML (bioformats2raw layouts), read from
    ``source`` (default: the local directory ``found.path``)."""
    if source is None:
        source = LocalSource(found.path, found.names)
    root_doc = None
    if found.group.zarr_format == 3 and b"consolidated_metadata" in found.metadata_bytes:
        root_doc = jsonio.loads(found.metadata_bytes)
    reader = HierarchyReader(
        source,
        iri,
        found.group,
        root_doc=root_doc,
        max_nodes=max_nodes,
        executor=executor,
        root_finite=found.metadata_finite,
    )
    hierarchy = reader.read()
    deep = DeepRead(hierarchy.triples, hierarchy.errors, hierarchy.warnings, hierarchy.documents)
    deep.triples.extend(violation_triples(iri, hierarchy.validations))
    if hierarchy.ome_xml is not None:
        try:
            doc = parse_omexml(hierarchy.ome_xml)
        except ExtractionError as exc:
            deep.errors.append(f"{OME_XML}: {exc}")
        else:
            deep.warnings.extend(f"{OME_XML}: {message}" for message in doc.warnings)
            names = ome_image_iris(reader, hierarchy, doc.ome.plates)
            deep.triples.extend(omexml_triples(doc, iri, names))
            deep.triples.append((f"<{iri}>", f"<{NKG}omeXmlSource>", rdf.iri(iri + OME_XML)))
    return deep

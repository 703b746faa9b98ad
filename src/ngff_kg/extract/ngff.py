"""OME-Zarr (NGFF) root metadata → triples: kind, version, converter, axes, levels, channels, plate.

Input is the parsed group metadata of a root: the ``attributes.ome`` object of a Zarr v3
``zarr.json`` (NGFF 0.5) or the ``.zattrs`` object of a Zarr v2 group (NGFF ≤ 0.4).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .. import jsonio, rdf
from ..errors import ExtractionError
from ..vocab import NKG, RDF_TYPE, SCHEMA

#: Keys whose presence makes a Zarr v2 group an NGFF group.
NGFF_KEYS = (
    "multiscales",
    "plate",
    "well",
    "bioformats2raw.layout",
    "labels",
    "image-label",
    "omero",
)
KINDS = ("plate", "bioformats2raw", "image", "labels", "well", "other")

_TYPE = f"<{RDF_TYPE}>"


def _p(name: str) -> str:
    return f"<{NKG}{name}>"


@dataclass(frozen=True, slots=True)
class OmeGroup:
    """The NGFF attributes of a group, with the Zarr format they came from."""

    attributes: dict[str, Any]
    zarr_format: int
    version: str | None


def ome_group_v3(doc: Any) -> OmeGroup | None:
    """The NGFF attributes of a Zarr v3 ``zarr.json``, or ``None`` when it is no OME group."""
    if not isinstance(doc, dict) or doc.get("node_type") != "group":
        return None
    attrs = doc.get("attributes")
    if not isinstance(attrs, dict):
        return None
    ome = attrs.get("ome")
    if not isinstance(ome, dict):
        return None
    version = ome.get("version")
    return OmeGroup(ome, 3, str(version) if version is not None else None)


def ome_group_v2(attrs: Any) -> OmeGroup | None:
    """The NGFF attributes of a Zarr v2 ``.zattrs``, or ``None`` without NGFF keys."""
    if not isinstance(attrs, dict) or not any(k in attrs for k in NGFF_KEYS):
        return None
    version = None
    for key in ("multiscales", "plate", "well", "image-label"):
        value = attrs.get(key)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = value[0]
        if isinstance(value, dict) and "version" in value:
            version = str(value["version"])
            break
    return OmeGroup(attrs, 2, version)


def kind_of(attrs: dict[str, Any]) -> str:
    """The dataset kind; a plate written in the bioformats2raw layout is a plate."""
    if "plate" in attrs:
        return "plate"
    if "bioformats2raw.layout" in attrs:
        return "bioformats2raw"
    if "multiscales" in attrs:
        return "image"
    if "labels" in attrs or "image-label" in attrs:
        return "labels"
    if "well" in attrs:
        return "well"
    return "other"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return None


def ngff_triples(dataset_iri: str, group: OmeGroup) -> tuple[str, list[rdf.Triple], list[str]]:
    """The kind of the dataset, its NGFF triples, and what could not be read.

    Each NGFF section (multiscales, omero, plate, well, labels) is read on its own: one with
    values of the wrong JSON type is reported and the others are still read.
    """
    ds = f"<{dataset_iri}>"
    attrs = group.attributes
    kind = kind_of(attrs)
    out: list[rdf.Triple] = [
        (ds, _TYPE, f"<{NKG}OmeZarrDataset>"),
        (ds, _p("kind"), rdf.literal(kind)),
    ]
    errors: list[str] = []
    if group.version:
        out.append((ds, _p("ngffVersion"), rdf.literal(group.version)))
    else:  # the NGFF version implies the Zarr format; say it only when the version is missing
        out.append((ds, _p("zarrFormat"), rdf.integer(group.zarr_format)))
    creator = attrs.get("_creator")
    if isinstance(creator, dict):
        name, version = _text(creator.get("name")), _text(creator.get("version"))
        if name:
            out.append((ds, _p("converterName"), rdf.literal(name)))
        if version:
            out.append((ds, _p("converterVersion"), rdf.literal(version)))
    sections = (
        ("bioformats2raw.layout", _layout),
        ("multiscales", _multiscales),
        ("omero", _omero),
        ("plate", _plate),
        ("well", _well),
        ("labels", _labels),
    )
    for key, reader in sections:
        if key not in attrs:
            continue
        part: list[rdf.Triple] = []
        try:
            reader(ds, dataset_iri, attrs[key], part)
        except ExtractionError as exc:
            errors.append(str(exc))
        else:
            out.extend(part)
    return kind, out, errors


def _layout(ds: str, iri: str, value: Any, out: list[rdf.Triple]) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ExtractionError(f"bioformats2raw.layout must be an integer, got {value!r}")
    out.append((ds, _p("bioformats2rawLayout"), rdf.integer(value)))


def _well(ds: str, iri: str, value: Any, out: list[rdf.Triple]) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("images", []), list):
        raise ExtractionError("well must be an object with an images list")
    out.append((ds, _p("fieldCount"), rdf.integer(len(value.get("images", [])))))


def _labels(ds: str, iri: str, value: Any, out: list[rdf.Triple]) -> None:
    if not isinstance(value, list):
        raise ExtractionError(f"labels must be a list, got {type(value).__name__}")
    out.append((ds, _p("labelsCount"), rdf.integer(len(value))))


def _multiscales(ds: str, iri: str, value: Any, out: list[rdf.Triple]) -> None:
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        raise ExtractionError(f"multiscales must be a non-empty list of objects, got {value!r:.60}")
    first = value[0]
    axes = first.get("axes", [])
    if not isinstance(axes, list):
        raise ExtractionError("multiscales[0].axes must be a list")
    names: list[str] = []
    scale = _level0_scale(first, len(axes))
    for index, axis in enumerate(axes):
        node = f"<{iri}#axis-{index}>"
        if isinstance(axis, str):  # NGFF 0.3: axis names only
            axis = {"name": axis}
        if not isinstance(axis, dict) or not isinstance(axis.get("name"), str):
            raise ExtractionError(f"multiscales[0].axes[{index}] must have a string name")
        names.append(axis["name"])
        out.append((ds, _p("axis"), node))
        out.append((node, _p("axisIndex"), rdf.integer(index)))
        out.append((node, _p("axisName"), rdf.literal(axis["name"])))
        for key, prop in (("type", "axisType"), ("unit", "axisUnit")):
            text = _text(axis.get(key))
            if text:
                out.append((node, _p(prop), rdf.literal(text)))
        if scale is not None:
            out.append((node, _p("scale"), rdf.double(scale[index])))
    if names:
        out.append((ds, _p("axes"), rdf.literal(",".join(names))))
    datasets = first.get("datasets", [])
    if not isinstance(datasets, list):
        raise ExtractionError("multiscales[0].datasets must be a list")
    out.append((ds, _p("resolutionLevels"), rdf.integer(len(datasets))))
    if len(value) > 1:
        out.append((ds, _p("multiscalesCount"), rdf.integer(len(value))))


def _scale_of(transformations: Any, size: int) -> list[float] | None:
    """The ``scale`` of a list of NGFF coordinate transformations, if it has one of ``size``."""
    if not isinstance(transformations, list):
        return None
    for item in transformations:
        if isinstance(item, dict) and item.get("type") == "scale":
            values = item.get("scale")
            if (
                isinstance(values, list)
                and len(values) == size
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
            ):
                return [float(v) for v in values]
            return None
    return None


def _level0_scale(multiscale: dict[str, Any], size: int) -> list[float] | None:
    """Physical size of a level-0 pixel along each axis: the first dataset's scale times the
    multiscale's own scale (NGFF ≥ 0.4). ``None`` when it is not given as plain scales."""
    datasets = multiscale.get("datasets")
    if not size or not isinstance(datasets, list) or not datasets:
        return None
    first = datasets[0]
    if not isinstance(first, dict):
        return None
    scale = _scale_of(first.get("coordinateTransformations"), size)
    if scale is None:
        return None
    if "coordinateTransformations" in multiscale:
        overall = _scale_of(multiscale["coordinateTransformations"], size)
        if overall is None:
            return None
        scale = [a * b for a, b in zip(scale, overall, strict=True)]
    return scale


def level0_triples(dataset_iri: str, root: str, group: OmeGroup) -> list[rdf.Triple]:
    """The level-0 array shape of an image root (``nkg:shape``, ``nkg:size`` per axis).

    Read from the array metadata of the first dataset of the first multiscales (``zarr.json``
    or ``.zarray``) when it is present below ``root``; a path leading out of the root (``..``,
    a symlink) is not followed. Nothing is returned when the shape cannot be read.
    """
    multiscales = group.attributes.get("multiscales")
    if not isinstance(multiscales, list) or not multiscales or not isinstance(multiscales[0], dict):
        return []
    first = multiscales[0]
    datasets, axes = first.get("datasets"), first.get("axes")
    if not isinstance(datasets, list) or not datasets or not isinstance(datasets[0], dict):
        return []
    path = datasets[0].get("path")
    if not isinstance(path, str) or not path or not isinstance(axes, list):
        return []
    shape = _array_shape(root, path, "zarr.json" if group.zarr_format == 3 else ".zarray")
    if shape is None or len(shape) != len(axes):
        return []
    ds = f"<{dataset_iri}>"
    out = [(ds, _p("shape"), rdf.literal(",".join(map(str, shape))))]
    out.extend(
        (f"<{dataset_iri}#axis-{index}>", _p("size"), rdf.integer(size))
        for index, size in enumerate(shape)
    )
    return out


def _array_shape(root: str, path: str, name: str) -> list[int] | None:
    real_root = os.path.realpath(root)
    candidate = os.path.realpath(os.path.join(root, path, name))
    if not candidate.startswith(real_root.rstrip(os.sep) + os.sep):
        return None
    try:
        with open(candidate, "rb") as fh:
            doc = jsonio.loads(fh.read())
    except (OSError, ValueError):
        return None
    shape = doc.get("shape") if isinstance(doc, dict) else None
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        return None
    return shape


def _omero(ds: str, iri: str, value: Any, out: list[rdf.Triple]) -> None:
    if not isinstance(value, dict):
        raise ExtractionError("omero must be an object")
    channels = value.get("channels", [])
    if not isinstance(channels, list):
        raise ExtractionError("omero.channels must be a list")
    out.append((ds, _p("channelCount"), rdf.integer(len(channels))))
    for index, channel in enumerate(channels):
        if not isinstance(channel, dict):
            raise ExtractionError(f"omero.channels[{index}] must be an object")
        node = f"<{iri}#channel-{index}>"
        out.append((ds, _p("channel"), node))
        out.append((node, _p("channelIndex"), rdf.integer(index)))
        label = _text(channel.get("label"))
        if label:
            out.append((node, f"<{SCHEMA}name>", rdf.literal(label)))
        color = _text(channel.get("color"))
        if color:
            out.append((node, _p("color"), rdf.literal(color)))
        active = channel.get("active")
        if isinstance(active, bool):
            out.append((node, _p("active"), rdf.boolean(active)))


def _plate(ds: str, iri: str, value: Any, out: list[rdf.Triple]) -> None:
    if not isinstance(value, dict):
        raise ExtractionError("plate must be an object")
    for key, prop in (("rows", "plateRows"), ("columns", "plateColumns"), ("wells", "wellCount")):
        items = value.get(key, [])
        if not isinstance(items, list):
            raise ExtractionError(f"plate.{key} must be a list")
        out.append((ds, _p(prop), rdf.integer(len(items))))
    field_count = value.get("field_count")
    if isinstance(field_count, int) and not isinstance(field_count, bool):
        out.append((ds, _p("fieldCount"), rdf.integer(field_count)))
    acquisitions = value.get("acquisitions")
    if isinstance(acquisitions, list):
        out.append((ds, _p("acquisitionCount"), rdf.integer(len(acquisitions))))
    name = _text(value.get("name"))
    if name:
        out.append((ds, _p("plateName"), rdf.literal(name)))

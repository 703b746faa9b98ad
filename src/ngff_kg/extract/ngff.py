"""OME-Zarr (NGFF) root metadata → triples: kind, version, converter, axes, levels, channels, plate.

Input is the parsed group metadata of a root: the ``attributes.ome`` object of a Zarr v3
``zarr.json`` (NGFF 0.5) or the ``.zattrs`` object of a Zarr v2 group (NGFF ≤ 0.4).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import quote

import orjson

from ngff_kg import rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.normalize.units import QUDT, qudt_iri
from ngff_kg.vocab import NKG, RDF_TYPE, SCHEMA

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


def ngff_triples(
    dataset_iri: str, group: OmeGroup, warnings: list[str] | None = None
) -> tuple[str, list[rdf.Triple], list[str]]:
    """The kind of the dataset, its NGFF triples, and what could not be read.

    Each NGFF section (multiscales, omero, plate, well, labels) is read on its own: one with
    values of the wrong JSON type is reported and the others are still read. Problems that
    leave the section readable (a scale given as a file path) go to ``warnings``.
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
    _read_sections(ds, dataset_iri, attrs, _ROOT_SECTIONS, out, errors, warnings)
    return kind, out, errors


def image_triples(
    iri: str, attrs: dict[str, Any], warnings: list[str] | None = None
) -> tuple[list[rdf.Triple], list[str]]:
    """The image facts of a group that is not a root (multiscales, omero, image-label).

    Nodes of the image are ``iri#axis-N``, ``iri#level-N``, ``iri#channel-N``, as for a root.
    """
    out: list[rdf.Triple] = []
    errors: list[str] = []
    _read_sections(f"<{iri}>", iri, attrs, _IMAGE_SECTIONS, out, errors, warnings)
    return out, errors


def _read_sections(
    node: str,
    iri: str,
    attrs: dict[str, Any],
    sections: tuple[tuple[str, Any], ...],
    out: list[rdf.Triple],
    errors: list[str],
    warnings: list[str] | None,
) -> None:
    notes: list[str] = [] if warnings is None else warnings
    for key, reader in sections:
        if key not in attrs:
            continue
        part: list[rdf.Triple] = []
        try:
            reader(node, iri, attrs[key], part, notes)
        except ExtractionError as exc:
            errors.append(str(exc))
        else:
            out.extend(part)


def _layout(ds: str, iri: str, value: Any, out: list[rdf.Triple], notes: list[str]) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ExtractionError(f"bioformats2raw.layout must be an integer, got {value!r}")
    out.append((ds, _p("bioformats2rawLayout"), rdf.integer(value)))


def _well(ds: str, iri: str, value: Any, out: list[rdf.Triple], notes: list[str]) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("images", []), list):
        raise ExtractionError("well must be an object with an images list")
    out.append((ds, _p("fieldCount"), rdf.integer(len(value.get("images", [])))))


def _labels(ds: str, iri: str, value: Any, out: list[rdf.Triple], notes: list[str]) -> None:
    if not isinstance(value, list):
        raise ExtractionError(f"labels must be a list, got {type(value).__name__}")
    out.append((ds, _p("labelsCount"), rdf.integer(len(value))))


#: NGFF 0.1 and 0.2 have no ``axes``: their images are 5D in the order t, c, z, y, x.
DEFAULT_AXES = (
    {"name": "t", "type": "time"},
    {"name": "c", "type": "channel"},
    {"name": "z", "type": "space"},
    {"name": "y", "type": "space"},
    {"name": "x", "type": "space"},
)
_AXES_DEFAULTED = ("0.1", "0.2")
#: Bounds on what is read of one multiscales entry (NGFF allows 2 to 5 axes; a pyramid of 64
#: levels halves 2**64 pixels): beyond them the rest is reported, not read.
MAX_AXES = 64
MAX_LEVELS = 64


def _axes_of(first: dict[str, Any], notes: list[str]) -> list[Any]:
    """The axes of a multiscales entry: ``axes`` (0.3–0.5), the coordinate system its levels
    map to (0.6-dev ``coordinateSystems``) or the 0.1/0.2 default (t, c, z, y, x)."""
    if "axes" in first:
        axes = first["axes"]
        if not isinstance(axes, list):
            raise ExtractionError("multiscales[0].axes must be a list")
        return axes
    systems = first.get("coordinateSystems")
    if isinstance(systems, list) and systems:
        chosen = _output_system(first.get("datasets"))
        for system in systems:
            if isinstance(system, dict) and (chosen is None or system.get("name") == chosen):
                axes = system.get("axes")
                if not isinstance(axes, list):
                    raise ExtractionError("multiscales[0].coordinateSystems axes must be a list")
                return axes
        raise ExtractionError(f"multiscales[0]: no coordinate system named {chosen!r}")
    version = _text(first.get("version"))
    if version in _AXES_DEFAULTED:
        notes.append(f"multiscales[0]: NGFF {version} axes are t, c, z, y, x")
        return list(DEFAULT_AXES)
    notes.append("multiscales[0] has no axes")
    return []


def _output_system(datasets: Any) -> str | None:
    """The coordinate system the first level's first transformation maps to (0.6-dev)."""
    if isinstance(datasets, list) and datasets and isinstance(datasets[0], dict):
        transforms = datasets[0].get("coordinateTransformations")
        if isinstance(transforms, list) and transforms and isinstance(transforms[0], dict):
            output = transforms[0].get("output")
            if isinstance(output, str):
                return output
    return None


def _multiscales(ds: str, iri: str, value: Any, out: list[rdf.Triple], notes: list[str]) -> None:
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        raise ExtractionError(
            f"multiscales must be a non-empty list of objects, got {_short(value)}"
        )
    first = value[0]
    axes = _axes_of(first, notes)
    if len(axes) > MAX_AXES:
        notes.append(f"multiscales[0] has {len(axes)} axes; more than {MAX_AXES} are not read")
        axes = []
    names: list[str] = []
    units: list[str] = []
    kinds: list[str | None] = []
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
        kind, unit = _text(axis.get("type")), _text(axis.get("unit"))
        kinds.append(kind)
        units.append(unit or "")
        if kind:
            out.append((node, _p("axisType"), rdf.literal(kind)))
        if unit:
            out.append((node, _p("axisUnit"), rdf.literal(unit)))
            unit_iri = qudt_iri(unit)
            if unit_iri:
                out.append((node, _QUDT_UNIT, f"<{unit_iri}>"))
    if names:
        out.append((ds, _p("axes"), rdf.literal(",".join(names))))
        out.append((ds, _p("axisUnits"), rdf.literal(",".join(units))))
    systems = "coordinateSystems" in first  # 0.6-dev: systems and transformations kept as data
    if systems:
        for key in ("coordinateSystems", "coordinateTransformations"):
            if key in first:
                out.append((ds, _p(key), rdf.literal(_json_text(first[key]))))
    datasets = first.get("datasets", [])
    if not isinstance(datasets, list):
        raise ExtractionError("multiscales[0].datasets must be a list")
    out.append((ds, _p("resolutionLevels"), rdf.integer(len(datasets))))
    if len(datasets) > MAX_LEVELS:
        notes.append(
            f"multiscales[0] has {len(datasets)} levels; only the first {MAX_LEVELS} are read"
        )
        datasets = datasets[:MAX_LEVELS]
    if len(value) > 1:
        out.append((ds, _p("multiscalesCount"), rdf.integer(len(value))))
    name = _text(first.get("name"))
    if name:  # not schema:name: a root image is the dataset, which the crate names
        out.append((ds, _p("multiscalesName"), rdf.literal(name)))
    try:
        global_scale, global_shift = _transforms(first, len(names), "multiscales[0]", notes)
    except NonFiniteError as exc:
        notes.append(str(exc))
        global_scale = global_shift = None
    if systems:  # 0.6-dev: these map the image's coordinate system to other ones
        global_scale = global_shift = None
    for index, level in enumerate(datasets):
        if not isinstance(level, dict) or not isinstance(level.get("path"), str):
            raise ExtractionError(f"multiscales[0].datasets[{index}] must have a string path")
        node = f"<{iri}#level-{index}>"
        out.append((ds, _p("level"), node))
        out.append((node, _p("levelIndex"), rdf.integer(index)))
        out.append((node, _p("levelPath"), rdf.literal(level["path"])))
        where = f"multiscales[0].datasets[{index}]"
        try:
            scale, shift = _level_transforms(
                level, global_scale, global_shift, len(names), where, notes
            )
        except NonFiniteError as exc:
            notes.append(str(exc))
            continue
        if scale is None:
            continue
        if shift is not None:
            out.append((node, _p("translation"), rdf.literal(",".join(map(_number, shift)))))
        out.append((node, _p("scale"), rdf.literal(",".join(map(_number, scale)))))
        if index:  # typed sizes for the full resolution; other levels have the scale text
            continue
        for axis_index, size in enumerate(scale[: len(kinds)]):
            if kinds[axis_index] not in ("space", "time") and not units[axis_index]:
                continue  # channel and custom axes without a unit have no physical size
            size_node = f"<{iri}#level-{index}-axis-{axis_index}>"
            out.append((node, _p("pixelSize"), size_node))
            out.append((size_node, _p("axis"), f"<{iri}#axis-{axis_index}>"))
            out.append((size_node, _QUDT_VALUE, _double(size)))
            unit_iri = qudt_iri(units[axis_index])
            if unit_iri:
                out.append((size_node, _QUDT_UNIT, f"<{unit_iri}>"))


def _level_transforms(
    level: dict[str, Any],
    global_scale: list[Number] | None,
    global_shift: list[Number] | None,
    count: int,
    where: str,
    notes: list[str],
) -> tuple[list[Number] | None, list[Number] | None]:
    """The level's scale and translation composed with the multiscales-wide ones."""
    scale, shift = _transforms(level, count, where, notes)
    if scale is None:
        return None, None
    if global_scale is not None:
        scale = [_product(a, b) for a, b in _pairs(scale, global_scale, where)]
    if shift is not None or global_shift is not None:
        shift = shift or [0] * len(scale)
        if global_scale is not None:
            shift = [_product(a, b) for a, b in _pairs(shift, global_scale, where)]
        if global_shift is not None:
            shift = [_sum(a, b) for a, b in _pairs(shift, global_shift, where)]
    _finite(scale, f"{where} scale")
    if shift is not None:
        _finite(shift, f"{where} translation")
    return scale, shift


def _pairs(a: list[Number], b: list[Number], where: str) -> zip[tuple[Number, Number]]:
    if len(a) != len(b):
        raise ExtractionError(
            f"{where}: {len(a)} values against {len(b)} in multiscales[0].coordinateTransformations"
        )
    return zip(a, b, strict=True)


class NonFiniteError(ExtractionError):
    """A number that is not finite (NaN, Infinity, 1e999): reported, and the value dropped."""


def _finite(values: list[Number], what: str) -> None:
    for value in values:
        if isinstance(value, float) and not math.isfinite(value):
            raise NonFiniteError(f"{what}: {value!r} is not a finite number; not read")


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value, default=str)


def _short(value: Any) -> str:
    """A short description of a JSON value, computed in constant time."""
    if isinstance(value, list | dict):
        return f"{type(value).__name__} of {len(value)}"
    text = repr(value) if not isinstance(value, str) else repr(value[:60])
    return text[:60]


@functools.lru_cache(maxsize=4096)
def _double(value: float) -> str:
    """``rdf.double``, cached: pixel sizes repeat across levels and images."""
    return rdf.double(float(value))


_QUDT_UNIT = f"<{QUDT}unit>"
_QUDT_VALUE = f"<{QUDT}numericValue>"
Number = int | float


def _numbers(value: Any, count: int, what: str) -> list[Number]:
    if not isinstance(value, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        raise ExtractionError(f"{what} must be a list of numbers, got {_short(value)}")
    if count and len(value) != count:
        raise ExtractionError(f"{what} has {len(value)} values for {count} axes")
    _finite(value, what)
    return list(value)


def _transforms(
    holder: dict[str, Any], count: int, where: str, notes: list[str]
) -> tuple[list[Number] | None, list[Number] | None]:
    """The scale and translation of ``holder["coordinateTransformations"]`` (None: not given)."""
    transforms = holder.get("coordinateTransformations")
    if transforms is None:
        return None, None
    if not isinstance(transforms, list):
        raise ExtractionError(f"{where}.coordinateTransformations must be a list")
    scale: list[Number] | None = None
    shift: list[Number] | None = None
    for number, transform in enumerate(transforms):
        what = f"{where}.coordinateTransformations[{number}]"
        if not isinstance(transform, dict):
            raise ExtractionError(f"{what} must be an object")
        kind = transform.get("type")
        if kind in ("scale", "translation") and "path" in transform and kind not in transform:
            notes.append(f"{what}: {kind} stored in a file ({transform['path']!r}) is not read")
            return None, None
        if kind == "scale":
            scale = _numbers(transform.get("scale"), count, f"{what}.scale")
        elif kind == "translation":
            shift = _numbers(transform.get("translation"), count, f"{what}.translation")
        elif kind != "identity":
            notes.append(f"{what}: transformation type {kind!r} is not read")
            return None, None
    if scale is None and shift is not None:
        scale = [1] * len(shift)
    return scale, shift


def _clean(value: float) -> Number:
    """A computed value without float noise (0.1 * 3 → 0.3), an int when it is whole."""
    return float(f"{value:.15g}")


def _product(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if b == 1:
        return a
    if a == 1:
        return b
    return _clean(a * b)


def _sum(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if b == 0:
        return a
    if a == 0:
        return b
    return _clean(a + b)


def _number(value: Number) -> str:
    """The number as JSON writes it: ``1`` for an integer, ``0.5`` and ``1.0`` for floats."""
    return str(value) if isinstance(value, int) else repr(float(value))


def _omero(ds: str, iri: str, value: Any, out: list[rdf.Triple], notes: list[str]) -> None:
    if not isinstance(value, dict):
        raise ExtractionError("omero must be an object")
    channels = value.get("channels", [])
    if not isinstance(channels, list):
        raise ExtractionError("omero.channels must be a list")
    out.append((ds, _p("channelCount"), rdf.integer(len(channels))))
    labels: list[str] = []
    for index, channel in enumerate(channels):
        if not isinstance(channel, dict):
            raise ExtractionError(f"omero.channels[{index}] must be an object")
        node = f"<{iri}#channel-{index}>"
        out.append((ds, _p("channel"), node))
        out.append((node, _p("channelIndex"), rdf.integer(index)))
        label = _text(channel.get("label"))
        labels.append(label or "")
        if label:
            out.append((node, f"<{SCHEMA}name>", rdf.literal(label)))
        color = _text(channel.get("color"))
        if color:
            out.append((node, _p("color"), rdf.literal(color)))
        active = channel.get("active")
        if isinstance(active, bool):
            out.append((node, _p("active"), rdf.boolean(active)))
        window = channel.get("window")
        if isinstance(window, dict):
            for key, prop in _WINDOW:
                number = window.get(key)
                if _is_finite_number(number):
                    out.append((node, _p(prop), rdf.double(float(number))))
    if channels:
        out.append((ds, _p("channelLabels"), rdf.literal("|".join(labels))))


_WINDOW = (
    ("start", "windowStart"),
    ("end", "windowEnd"),
    ("min", "windowMin"),
    ("max", "windowMax"),
)


def _image_label(ds: str, iri: str, value: Any, out: list[rdf.Triple], notes: list[str]) -> None:
    """``image-label``: colors and properties per label value; the source image link is
    resolved by the hierarchy reader, which knows where the group is."""
    if not isinstance(value, dict):
        raise ExtractionError("image-label must be an object")
    for key, prefix in (("colors", "color"), ("properties", "property")):
        items = value.get(key, [])
        if not isinstance(items, list):
            raise ExtractionError(f"image-label.{key} must be a list")
        out.append((ds, _p(f"label{prefix.capitalize()}Count"), rdf.integer(len(items))))
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ExtractionError(f"image-label.{key}[{index}] must be an object")
            node = f"<{iri}#label-{prefix}-{index}>"
            out.append((ds, _p(f"label{prefix.capitalize()}"), node))
            label_value = item.get("label-value")
            if _is_finite_number(label_value):
                out.append((node, _p("labelValue"), rdf.literal(_number(label_value), _XSD_DEC)))
            if key == "colors":
                rgba = item.get("rgba")
                if isinstance(rgba, list) and all(isinstance(c, int) for c in rgba):
                    out.append((node, _p("rgba"), rdf.literal(",".join(map(str, rgba)))))
                continue
            for name, content in item.items():
                if name == "label-value":
                    continue
                text = _text(content)
                if text is None:
                    text = _json_text(content)
                pair = f"<{iri}#label-property-{index}-{_fragment(name)}>"
                out.append((node, f"<{SCHEMA}additionalProperty>", pair))
                out.append((pair, f"<{SCHEMA}name>", rdf.literal(name)))
                out.append((pair, f"<{SCHEMA}value>", rdf.literal(text)))


def _is_finite_number(value: Any) -> TypeGuard[int | float]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


_XSD_DEC = "http://www.w3.org/2001/XMLSchema#decimal"


def _fragment(text: str) -> str:
    return quote(text, safe="")


def _plate(ds: str, iri: str, value: Any, out: list[rdf.Triple], notes: list[str]) -> None:
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


_ROOT_SECTIONS: tuple[tuple[str, Any], ...] = (
    ("bioformats2raw.layout", _layout),
    ("multiscales", _multiscales),
    ("omero", _omero),
    ("image-label", _image_label),
    ("plate", _plate),
    ("well", _well),
    ("labels", _labels),
)
_IMAGE_SECTIONS: tuple[tuple[str, Any], ...] = (
    ("multiscales", _multiscales),
    ("omero", _omero),
    ("image-label", _image_label),
)

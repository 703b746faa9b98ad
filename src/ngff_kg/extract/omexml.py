"""OME-XML (``OME/METADATA.ome.xml``, ``.ome.xml`` files) → triples, with ome-types.

Every schema release ome-types reads is accepted (2008-09, 2009-09, 2010-04, 2010-06, 2011-06,
2012-06, 2013-06, 2015-01, 2016-06, and the older ones its transforms know): documents of an
older release are converted to 2016-06 by ome-types' XSLT transforms (lxml).

The document is parsed by lxml with external entities, DTD loading and network access all
off: an entity reference stays unresolved and is dropped, with a warning; libxml2's limits
(10 MB per value, 256 levels of nesting, entity amplification) bound the work. The tree is
then validated against the OME 2016-06 schema that ome-types ships. A value the schema
rejects (a word where a number belongs, an unknown enumeration value, a negative size, NaN)
and an element of another namespace where the schema allows none are left out, with a
warning, since ome-types would refuse the whole document for them; a document whose
structure does not validate (bioformats2raw output sometimes lacks ``MetadataOnly``) is still
read, leniently, and the failure is recorded as a warning. A number that is not finite
(``INF``) is never written: an ``xsd:double`` of the graph is always a finite number. What
ome-types still cannot read is an :class:`~ngff_kg.errors.ExtractionError`.

Per Image: name, acquisition date, Pixels (sizes, physical sizes with QUDT units, dimension
order, pixel type, significant bits), Channels (name, fluor, wavelengths in nanometres, colour
as hex ``RRGGBB`` or ``RRGGBBAA``, illumination type, contrast method, acquisition mode), the
instrument (microscope, objectives, detectors) and objective used, plate wells, and structured
annotations: MapAnnotation key–value pairs, and the vendor key–value pairs Bio-Formats keeps
as OriginalMetadata.
Annotations referenced by an image are linked to it; the others to the dataset.
"""

from __future__ import annotations

import enum
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from ngff_kg import rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.normalize.units import QUDT, ome_length_in, qudt_iri_for_symbol
from ngff_kg.vocab import NKG, RDF_TYPE, SCHEMA, XSD_DATETIME

OME_2016_06 = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
ORIGINAL_METADATA = "openmicroscopy.org/OriginalMetadata"
_TYPE = f"<{RDF_TYPE}>"
_NAME = f"<{SCHEMA}name>"
_VALUE = f"<{SCHEMA}value>"
_SAFE = ":@!$&'()*+,;=-._~"


def _p(name: str) -> str:
    return f"<{NKG}{name}>"


@dataclass
class OmeXml:
    """A parsed OME-XML document and what was noticed while reading it."""

    ome: Any  # ome_types.model.OME
    warnings: list[str] = field(default_factory=list)

    @property
    def image_ids(self) -> list[str]:
        return [image.id for image in self.ome.images]


@cache
def _schema() -> Any:
    from lxml import etree

    xsd = resources.files("ome_types") / "ome-2016-06.xsd"  # the schema ome-types ships
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    with resources.as_file(xsd) as path:
        return etree.XMLSchema(etree.parse(str(path), parser))


#: libxml2 schema errors about a value (not the document's structure): an attribute or a
#: leaf element whose text is not of its type, outside its range, or not in its enumeration.
_VALUE_ERRORS = frozenset(
    {
        "SCHEMAV_CVC_ATTRIBUTE_3",
        "SCHEMAV_CVC_DATATYPE_VALID_1_2_1",
        "SCHEMAV_CVC_ENUMERATION_VALID",
        "SCHEMAV_CVC_FACET_VALID",
        "SCHEMAV_CVC_LENGTH_VALID",
        "SCHEMAV_CVC_MAXEXCLUSIVE_VALID",
        "SCHEMAV_CVC_MAXINCLUSIVE_VALID",
        "SCHEMAV_CVC_MAXLENGTH_VALID",
        "SCHEMAV_CVC_MINEXCLUSIVE_VALID",
        "SCHEMAV_CVC_MININCLUSIVE_VALID",
        "SCHEMAV_CVC_MINLENGTH_VALID",
        "SCHEMAV_CVC_PATTERN_VALID",
        "SCHEMAV_CVC_TYPE_3_1_2",
        "SCHEMAV_CVC_ELT_1",
    }
)
#: a general entity reference, not one of XML's five predefined ones
_ENTITY_REFERENCE = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z_][\w.\-]*);")
_ATTRIBUTE = re.compile(r"attribute '([^']+)'")
_PASSES = 4  # each pass leaves out the invalid values libxml2 reported; a few always suffice
_SHOWN = 5  # values named in the warning; the rest are counted


def _to_2016(root: Any) -> Any:
    """The tree converted to OME 2016-06 by ome-types' XSLT transforms (lxml)."""
    from lxml import etree
    from ome_types._conversion import ensure_2016

    converted: Any = ensure_2016(etree.tostring(root), as_tree=True)
    return converted.getroot()


def _leave_out_invalid_values(root: Any, notes: list[str]) -> None:
    """Validate against OME 2016-06; leave out the values the schema rejects, with a warning.

    A value of the wrong type, out of range or not in its enumeration (``Immersion="Bogus"``,
    ``Color="red"``, ``PhysicalSizeX="-1"``) would make ome-types refuse the whole document:
    the attribute (or the leaf element) holding it is removed instead, and the document read.
    What the schema rejects for its structure (a missing ``MetadataOnly``) is read leniently.
    """
    schema = _schema()
    tree = root.getroottree()
    left_out: list[str] = []
    prefixes: dict[str, str] = {}
    # NaN passes the schema's ranges (no comparison holds for it) but not ome-types' ones
    for attribute in root.xpath("//@*[normalize-space(.) = 'NaN']"):
        element = attribute.getparent()
        local = element.tag.rsplit("}", 1)[-1]
        left_out.append(f"{local}/@{attribute.attrname}='NaN' (line {element.sourceline})")
        del element.attrib[attribute.attrname]
    first: Any = None
    for _ in range(_PASSES):
        if schema.validate(tree):
            break
        errors = list(schema.error_log)
        if first is None and errors:
            first = errors[0]
        removed = 0
        for error in errors:
            if not error.path or (
                error.type_name not in _VALUE_ERRORS
                and error.type_name != "SCHEMAV_ELEMENT_CONTENT"
            ):
                continue
            found = _at(tree, error.path, prefixes)
            if not found or not isinstance(found[0].tag, str):
                continue
            element = found[0]
            local = element.tag.rsplit("}", 1)[-1]
            if error.type_name == "SCHEMAV_ELEMENT_CONTENT":
                # an element of another namespace where the schema allows none (xi:include):
                # ome-types would refuse the whole document for it
                parent = element.getparent()
                if parent is not None and not element.tag.startswith(f"{{{OME_2016_06}}}"):
                    parent.remove(element)
                    left_out.append(f"element {element.tag} (line {error.line})")
                    removed += 1
                continue
            match = _ATTRIBUTE.search(error.message)
            if match:
                name = match.group(1)
                if name in element.attrib:
                    value = element.attrib.pop(name)
                    left_out.append(f"{local}/@{name}={_short(value)} (line {error.line})")
                    removed += 1
            elif len(element) == 0 and element is not root and element.getparent() is not None:
                value = element.text or ""
                element.getparent().remove(element)
                left_out.append(f"{local}={_short(value)} (line {error.line})")
                removed += 1
        if not removed:
            break
    if first is None and not left_out:
        return
    if first is None:
        message = "OME-XML has values that are not numbers; read leniently"
    else:
        message = (
            f"OME-XML does not validate against the OME 2016-06 schema: line {first.line}: "
            f"{_short(first.message, 300)}; read leniently"
        )
    if left_out:
        shown = ", ".join(left_out[:_SHOWN])
        more = f" and {len(left_out) - _SHOWN} more" if len(left_out) > _SHOWN else ""
        message += f", invalid values left out: {shown}{more}"
    notes.append(message)


def _at(tree: Any, path: str, prefixes: dict[str, str]) -> list[Any]:
    """The nodes at a schema error's XPath, which names elements by their prefixes."""
    from lxml import etree

    try:
        return tree.xpath(path, namespaces=prefixes)
    except etree.XPathError:
        if prefixes:
            return []
    for element in tree.getroot().iter(tag=etree.Element):
        for prefix, uri in element.nsmap.items():
            if prefix:
                prefixes.setdefault(prefix, uri)
    try:
        return tree.xpath(path, namespaces=prefixes)
    except etree.XPathError:
        return []


def _short(text: str, limit: int = 60, quoted: bool = True) -> str:
    """``text`` (quoted) cut to ``limit`` characters: warnings stay small for huge values."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return repr(cut) if quoted else cut


def parse_omexml(data: bytes) -> OmeXml:
    """Parse OME-XML of any schema release ome-types converts (2008-09 … 2016-06), safely.

    Older releases are converted to 2016-06 with ome-types' XSLT transforms; the result is
    validated, values the schema rejects are left out (with a warning), and the rest read
    leniently.

    :raises ExtractionError: the bytes are not well-formed XML, or not OME-XML ome-types reads.
    """
    from lxml import etree

    notes: list[str] = []
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(f"OME-XML is not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.internalDTD is not None:
        notes.append("the document type declaration is ignored (entities are never resolved)")
    entities = list(root.iter(etree.Entity))
    for entity in entities:
        parent = entity.getparent()
        tail = entity.tail or ""
        previous = entity.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        elif parent is not None:
            parent.text = (parent.text or "") + tail
        if parent is not None:
            parent.remove(entity)
    names = {e.name for e in entities}
    if root.getroottree().docinfo.internalDTD is not None:
        # lxml keeps a reference in an attribute value as its text (``&name;``) when it
        # serialises: the references are left out there too, and the rest parsed again
        text = etree.tostring(root, encoding="utf-8")
        found = _ENTITY_REFERENCE.findall(text)
        if found:
            names.update(name.decode("utf-8", "replace") for name in found)
            try:
                root = etree.fromstring(_ENTITY_REFERENCE.sub(b"", text), parser)
            except etree.XMLSyntaxError as exc:
                raise ExtractionError(f"OME-XML is not well-formed XML: {exc}") from exc
    if names:
        notes.append(f"entity references not resolved and left out: {', '.join(sorted(names))}")
    if not isinstance(root.tag, str) or not root.tag.startswith("{"):
        raise ExtractionError("not OME-XML: the root element has no namespace")
    namespace = root.tag[1:].split("}", 1)[0]
    if namespace != OME_2016_06:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                root = _to_2016(root)
        except Exception as exc:  # ValueError (unknown namespace), lxml XSLT errors
            raise ExtractionError(
                f"OME-XML in namespace {namespace} cannot be converted: "
                + _short(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200, False)
            ) from exc
        if root is None or root.tag != f"{{{OME_2016_06}}}OME":
            raise ExtractionError(f"OME-XML in namespace {namespace} cannot be converted")
        notes.append(f"OME-XML in namespace {namespace} is converted to 2016-06 by ome-types")
    try:
        _leave_out_invalid_values(root, notes)
    except Exception as exc:  # never expected; the document is then read as it is
        notes.append(f"OME-XML not checked against the schema: {type(exc).__name__}: {exc}")
    clean = etree.tostring(root, encoding="utf-8")
    from ome_types import from_xml

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ome = from_xml(clean, validate=False)
    except Exception as exc:  # ome-types raises pydantic, xsdata and ValueError errors
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExtractionError(
            f"OME-XML cannot be read: {_short(first, 300, quoted=False)}"
        ) from exc
    notes.extend(_non_finite(ome))
    return OmeXml(ome, notes)


def _non_finite(ome: Any) -> list[str]:
    """Warnings for the numbers written as triples that are not finite (``NaN``, ``INF``):
    they are left out, as an ``xsd:double`` of the graph is always a finite number."""
    found: list[str] = []
    for instrument in ome.instruments:
        for objective in instrument.objectives:
            for name in ("nominal_magnification", "calibrated_magnification", "lens_na"):
                found += _check(objective, objective.id, name)
    for image in ome.images:
        for axis in ("x", "y", "z"):
            found += _check(image.pixels, image.pixels.id, f"physical_size_{axis}")
        for channel in image.pixels.channels:
            for name in ("emission_wavelength", "excitation_wavelength"):
                found += _check(channel, channel.id, name)
    if not found:
        return []
    return [f"non-finite numbers left out: {', '.join(found[:_SHOWN])}"]


def _check(owner: Any, ident: str, name: str) -> list[str]:
    value = getattr(owner, name)
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{ident} {name}={value}"]
    return []


def _value(item: Any) -> Any:
    return item.value if isinstance(item, enum.Enum) else item


def _text(item: Any) -> str | None:
    item = _value(item)
    if item is None:
        return None
    text = str(item)
    return text or None


def _number(item: Any) -> float | None:
    item = _value(item)
    if isinstance(item, int | float) and not isinstance(item, bool):
        try:
            number = float(item)
        except OverflowError:  # an integer too large for a double
            return None
        return number if math.isfinite(number) else None
    return None


class _Writer:
    def __init__(self, dataset_iri: str, image_iri: Callable[[int, str], str]) -> None:
        self.iri = dataset_iri
        self.ds = f"<{dataset_iri}>"
        self.image_iri = image_iri
        self.out: list[rdf.Triple] = []

    def node(self, ident: str) -> str:
        return f"<{self.iri}#ome-{quote(ident, safe=_SAFE)}>"

    def add(self, s: str, prop: str, o: str | None) -> None:
        if o is not None:
            self.out.append((s, prop, o))

    def text(self, s: str, prop: str, item: Any) -> None:
        text = _text(item)
        if text is not None:
            self.out.append((s, prop, rdf.literal(text)))

    def double(self, s: str, prop: str, item: Any) -> None:
        number = _number(item)
        if number is not None:
            self.out.append((s, prop, rdf.double(number)))

    def integer(self, s: str, prop: str, item: Any) -> None:
        item = _value(item)
        if isinstance(item, int) and not isinstance(item, bool):
            self.out.append((s, prop, rdf.integer(item)))


def omexml_triples(
    doc: OmeXml, dataset_iri: str, image_iri: Callable[[int, str], str]
) -> list[rdf.Triple]:
    """Triples of an OME-XML document; ``image_iri(index, image_id)`` names each Image."""
    w = _Writer(dataset_iri, image_iri)
    ome = doc.ome
    images: dict[str, str] = {}
    targets: dict[str, list[str]] = {}
    for instrument in ome.instruments:
        _instrument(w, instrument)
    for index, image in enumerate(ome.images):
        node = f"<{image_iri(index, image.id)}>"
        images[image.id] = node
        _image(w, node, image)
        for ref in image.annotation_refs:
            targets.setdefault(ref.id, []).append(node)
    for plate in ome.plates:
        _plate(w, plate, images)
    annotations = ome.structured_annotations
    if annotations is not None:
        for annotation in annotations:
            _annotation(w, annotation, targets.get(annotation.id) or [w.ds])
    return w.out


def _instrument(w: _Writer, instrument: Any) -> None:
    node = w.node(instrument.id)
    w.add(node, _TYPE, _p("Instrument"))
    w.add(w.ds, _p("instrument"), node)
    microscope = instrument.microscope
    if microscope is not None:
        w.text(node, _p("microscopeManufacturer"), microscope.manufacturer)
        w.text(node, _p("microscopeModel"), microscope.model)
        w.text(node, _p("microscopeType"), microscope.type)
    for objective in instrument.objectives:
        obj = w.node(objective.id)
        w.add(node, _p("objective"), obj)
        w.add(obj, _TYPE, _p("Objective"))
        w.text(obj, f"<{SCHEMA}manufacturer>", objective.manufacturer)
        w.text(obj, f"<{SCHEMA}model>", objective.model)
        w.double(obj, _p("nominalMagnification"), objective.nominal_magnification)
        w.double(obj, _p("calibratedMagnification"), objective.calibrated_magnification)
        w.double(obj, _p("lensNA"), objective.lens_na)
        w.text(obj, _p("immersion"), objective.immersion)
        w.text(obj, _p("correction"), objective.correction)
    for detector in instrument.detectors:
        det = w.node(detector.id)
        w.add(node, _p("detector"), det)
        w.add(det, _TYPE, _p("Detector"))
        w.text(det, f"<{SCHEMA}manufacturer>", detector.manufacturer)
        w.text(det, f"<{SCHEMA}model>", detector.model)
        w.text(det, _p("detectorType"), detector.type)


def _part(base: str, name: str) -> str:
    """A node that is part of ``base``: a fragment, or a longer fragment if it has one."""
    return f"<{base}{'-' if '#' in base else '#'}{name}>"


def _image(w: _Writer, node: str, image: Any) -> None:
    w.add(w.ds, _p("image"), node)
    w.add(node, _TYPE, _p("Image"))
    w.text(node, _p("omeImageId"), image.id)
    w.text(node, _NAME, image.name)
    if image.acquisition_date is not None:
        stamp = image.acquisition_date.isoformat()
        w.add(node, f"<{SCHEMA}dateCreated>", rdf.literal(stamp, XSD_DATETIME))
    if image.instrument_ref is not None:
        w.add(node, _p("instrument"), w.node(image.instrument_ref.id))
    if image.objective_settings is not None:
        w.add(node, _p("objective"), w.node(image.objective_settings.id))
    pixels = image.pixels
    for axis in ("x", "y", "z", "c", "t"):
        w.integer(node, _p(f"size{axis.upper()}"), getattr(pixels, f"size_{axis}"))
    w.text(node, _p("dimensionOrder"), pixels.dimension_order)
    w.text(node, _p("pixelType"), pixels.type)
    w.integer(node, _p("significantBits"), pixels.significant_bits)
    base = node[1:-1]
    for axis in ("x", "y", "z"):
        size = _number(getattr(pixels, f"physical_size_{axis}"))
        if size is None:
            continue
        unit = _text(getattr(pixels, f"physical_size_{axis}_unit")) or "µm"
        size_node = _part(base, f"ome-physical-size-{axis}")
        w.add(node, _p("omePixelSize"), size_node)
        w.add(size_node, _p("axisName"), rdf.literal(axis))
        w.add(size_node, f"<{QUDT}numericValue>", rdf.double(size))
        w.add(size_node, _p("unitSymbol"), rdf.literal(unit))
        unit_iri = qudt_iri_for_symbol(unit)
        if unit_iri:
            w.add(size_node, f"<{QUDT}unit>", f"<{unit_iri}>")
    for index, channel in enumerate(pixels.channels):
        _channel(w, node, base, index, channel)


def _channel(w: _Writer, image: str, base: str, index: int, channel: Any) -> None:
    node = _part(base, f"ome-channel-{index}")
    w.add(image, _p("omeChannel"), node)
    w.add(node, _p("channelIndex"), rdf.integer(index))
    w.text(node, _NAME, channel.name)
    w.text(node, _p("fluor"), channel.fluor)
    if "color" in channel.model_fields_set and channel.color is not None:
        w.add(node, _p("color"), rdf.literal(_rgba(channel.color.as_int32())))
    for key, prop in (("emission", "emissionWavelength"), ("excitation", "excitationWavelength")):
        value = _number(getattr(channel, f"{key}_wavelength"))
        if value is None:
            continue
        unit = _text(getattr(channel, f"{key}_wavelength_unit")) or "nm"
        in_nm = _number(ome_length_in("nm", value, unit))
        if in_nm is not None:
            w.add(node, _p(prop), rdf.double(in_nm))
    w.text(node, _p("illuminationType"), channel.illumination_type)
    w.text(node, _p("contrastMethod"), channel.contrast_method)
    w.text(node, _p("acquisitionMode"), channel.acquisition_mode)


def _rgba(signed: int) -> str:
    """An OME colour (a signed 32-bit RGBA integer) as hex ``RRGGBB``, as NGFF channels write
    it, or ``RRGGBBAA`` when it is not opaque."""
    rgba = signed & 0xFFFFFFFF
    return f"{rgba >> 8:06X}" if rgba & 0xFF == 0xFF else f"{rgba:08X}"


def _plate(w: _Writer, plate: Any, images: dict[str, str]) -> None:
    node = w.node(plate.id)
    w.add(w.ds, _p("omePlate"), node)
    w.add(node, _TYPE, _p("OmePlate"))
    w.text(node, _NAME, plate.name)
    w.integer(node, _p("plateRows"), plate.rows)
    w.integer(node, _p("plateColumns"), plate.columns)
    w.add(node, _p("wellCount"), rdf.integer(len(plate.wells)))
    for well in plate.wells:
        well_node = w.node(well.id)
        w.add(node, _p("well"), well_node)
        w.add(well_node, _TYPE, _p("Well"))
        w.integer(well_node, _p("rowIndex"), well.row)
        w.integer(well_node, _p("columnIndex"), well.column)
        w.add(well_node, _p("fieldCount"), rdf.integer(len(well.well_samples)))
        for sample in well.well_samples:
            if sample.image_ref is not None and sample.image_ref.id in images:
                w.add(well_node, _p("field"), images[sample.image_ref.id])


def _pairs(annotation: Any) -> list[tuple[str, str]]:
    """Key–value pairs of a MapAnnotation or of an OriginalMetadata XMLAnnotation."""
    kind = type(annotation).__name__
    if kind == "MapAnnotation":
        return [(m.k or "", m.value or "") for m in annotation.value.ms]
    if kind != "XMLAnnotation" or annotation.namespace != ORIGINAL_METADATA:
        return []
    pairs = []
    for element in annotation.value.any_elements:
        if not str(element.qname).endswith("OriginalMetadata"):
            continue
        fields = {str(c.qname).rsplit("}", 1)[-1]: c.text or "" for c in element.children}
        if "Key" in fields:
            pairs.append((fields["Key"], fields.get("Value", "")))
    return pairs


def _annotation(w: _Writer, annotation: Any, targets: list[str]) -> None:
    pairs = _pairs(annotation)
    if not pairs:
        return
    node = w.node(annotation.id)
    if annotation.namespace == ORIGINAL_METADATA:
        for index, (key, value) in enumerate(pairs):
            pair = node if len(pairs) == 1 else f"{node[:-1]}-{index}>"
            for target in targets:
                w.add(target, _p("vendorMetadata"), pair)
            w.add(pair, _NAME, rdf.literal(key))
            w.add(pair, _VALUE, rdf.literal(value))
        return
    for target in targets:
        w.add(target, _p("annotation"), node)
    w.add(node, _TYPE, _p("KeyValueAnnotation"))
    w.text(node, _p("annotationNamespace"), annotation.namespace)
    for index, (key, value) in enumerate(pairs):
        pair = f"{node[:-1]}-{index}>"
        w.add(node, f"<{SCHEMA}additionalProperty>", pair)
        w.add(pair, _NAME, rdf.literal(key))
        w.add(pair, _VALUE, rdf.literal(value))

"""OME-XML of every schema release ome-types converts, checked against ome-types itself.

The fixtures in ``tests/support/data/omexml/`` are small documents written for these tests, one per
schema release (2008-09 … 2016-06), in the shape each release's schema gives. The reference
is ome-types' own reading of the same bytes (``ome_types.from_xml``, which converts older
releases with its XSLT transforms): every value written as a triple is compared with it,
field by field, and a few values with the fixture's text, so that a fixture ome-types reads
as empty cannot pass.
"""

from __future__ import annotations

import math
import time
import tracemalloc
import warnings
from collections import defaultdict
from pathlib import Path

import ome_types
import pyoxigraph
import pytest
from servers import FixtureHttpServer, http_server

from ngff_kg.errors import ExtractionError
from ngff_kg.extract.omexml import omexml_triples, parse_omexml
from ngff_kg.vocab import NKG, SCHEMA

__all__ = ["http_server"]

DATA = Path(__file__).parents[1] / "support" / "data" / "omexml"
RELEASES = [
    "2008-09",
    "2009-09",
    "2010-04",
    "2010-06",
    "2011-06",
    "2012-06",
    "2013-06",
    "2015-01",
    "2016-06",
]
DS = "http://example.org/ds/"
QUDT = "http://qudt.org/schema/qudt/"
XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
NM = {"nm": 1.0, "µm": 1000.0, "mm": 1e6}  # what the fixtures use


def image_iri(index: int, ident: str) -> str:
    return f"{DS}#image-{index}"


def graph(data: bytes) -> tuple[pyoxigraph.Store, list[str]]:
    """The triples of ``data`` loaded by pyoxigraph's N-Triples parser (which checks their
    syntax), and the warnings of the reading."""
    doc = parse_omexml(data)
    lines = "".join(f"{s} {p} {o} .\n" for s, p, o in omexml_triples(doc, DS, image_iri))
    store = pyoxigraph.Store()
    store.load(lines.encode(), pyoxigraph.RdfFormat.N_TRIPLES)
    return store, doc.warnings


def facts(store: pyoxigraph.Store, subject: str) -> dict[str, list[object]]:
    """Predicate IRI → objects (IRIs as strings, literals as Python values) of ``subject``."""
    out: dict[str, list[object]] = defaultdict(list)
    for quad in store.quads_for_pattern(pyoxigraph.NamedNode(subject), None, None):
        o = quad.object
        if isinstance(o, pyoxigraph.Literal):
            dt = o.datatype.value
            if dt == XSD_DOUBLE:
                out[quad.predicate.value].append(float(o.value))
            elif dt.endswith("#integer"):
                out[quad.predicate.value].append(int(o.value))
            else:
                out[quad.predicate.value].append(o.value)
        else:
            out[quad.predicate.value].append(o.value)
    return out


def one(found: dict[str, list[object]], prop: str) -> object | None:
    values = found.get(prop, [])
    assert len(values) <= 1, (prop, values)
    return values[0] if values else None


def enum_value(item: object) -> object:
    return getattr(item, "value", item)


def reference(data: bytes) -> ome_types.OME:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ome_types.from_xml(data, validate=False)


def rgba_hex(signed: int) -> str:
    rgba = signed & 0xFFFFFFFF
    return f"{rgba >> 8:06X}" if rgba & 0xFF == 0xFF else f"{rgba:08X}"


@pytest.mark.parametrize("release", RELEASES)
def test_release_values_equal_ome_types(release: str) -> None:
    data = (DATA / f"{release}.ome.xml").read_bytes()
    assert f"Schemas/OME/{release}".encode() in data
    ome = reference(data)
    store, notes = graph(data)
    if release != "2016-06":
        assert any(f"OME/{release} is converted" in n for n in notes)
    assert not any("left out" in n for n in notes), notes

    assert len(ome.images) == 1
    image = ome.images[0]
    node = image_iri(0, image.id)
    got = facts(store, node)
    assert got[NKG + "image"] == [] and facts(store, DS)[NKG + "image"] == [node]
    assert one(got, SCHEMA + "name") == image.name
    assert one(got, NKG + "omeImageId") == image.id
    stamp = one(got, SCHEMA + "dateCreated")
    assert stamp == image.acquisition_date.isoformat()
    pixels = image.pixels
    for axis in "xyzct":
        assert one(got, NKG + f"size{axis.upper()}") == getattr(pixels, f"size_{axis}")
    assert one(got, NKG + "dimensionOrder") == enum_value(pixels.dimension_order)
    assert one(got, NKG + "pixelType") == enum_value(pixels.type)

    sizes = {}
    for size_node in got[NKG + "omePixelSize"]:
        size = facts(store, str(size_node))
        sizes[one(size, NKG + "axisName")] = (
            one(size, QUDT + "numericValue"),
            one(size, NKG + "unitSymbol"),
        )
    expected = {
        axis: (
            getattr(pixels, f"physical_size_{axis}"),
            enum_value(getattr(pixels, f"physical_size_{axis}_unit")),
        )
        for axis in "xyz"
        if getattr(pixels, f"physical_size_{axis}") is not None
    }
    assert sizes == expected and len(sizes) == 3

    channels = {}
    for channel_node in got[NKG + "omeChannel"]:
        channel = facts(store, str(channel_node))
        channels[one(channel, NKG + "channelIndex")] = channel
    assert sorted(channels) == list(range(len(pixels.channels)))
    for index, channel in enumerate(pixels.channels):
        mine = channels[index]
        assert one(mine, SCHEMA + "name") == channel.name
        assert one(mine, NKG + "fluor") == channel.fluor
        for key in ("emission", "excitation"):
            value = getattr(channel, f"{key}_wavelength")
            unit = enum_value(getattr(channel, f"{key}_wavelength_unit"))
            assert one(mine, NKG + f"{key}Wavelength") == pytest.approx(value * NM[unit])
        assert one(mine, NKG + "color") == rgba_hex(channel.color.as_int32())

    assert len(ome.instruments) == 1
    instrument = ome.instruments[0]
    inst = facts(store, f"{DS}#ome-{instrument.id}")
    assert one(inst, NKG + "microscopeManufacturer") == instrument.microscope.manufacturer
    assert one(inst, NKG + "microscopeModel") == instrument.microscope.model
    assert one(inst, NKG + "microscopeType") == enum_value(instrument.microscope.type)
    assert len(inst[NKG + "objective"]) == len(instrument.objectives)
    for objective in instrument.objectives:
        obj = facts(store, f"{DS}#ome-{objective.id}")
        assert one(obj, SCHEMA + "model") == objective.model
        assert one(obj, SCHEMA + "manufacturer") == objective.manufacturer
        assert one(obj, NKG + "nominalMagnification") == objective.nominal_magnification
        assert one(obj, NKG + "lensNA") == objective.lens_na
        assert one(obj, NKG + "immersion") == enum_value(objective.immersion)
        assert one(obj, NKG + "correction") == enum_value(objective.correction)
    for detector in instrument.detectors:
        det = facts(store, f"{DS}#ome-{detector.id}")
        assert one(det, SCHEMA + "model") == detector.model
        assert one(det, NKG + "detectorType") == enum_value(detector.type)
    assert one(got, NKG + "objective") == f"{DS}#ome-{image.objective_settings.id}"

    # the fixture's own text, so that an empty reading on both sides cannot pass
    if release == "2008-09":
        assert (image.name, pixels.size_x, pixels.physical_size_z) == ("cells", 512, 0.5)
        assert one(channels[0], NKG + "emissionWavelength") == 461.0
        assert one(channels[0], NKG + "color") == "0000FF"  # ColorDomain="B"
    else:
        assert image.name == f"release {release}"
        assert (pixels.size_x, pixels.size_y, pixels.size_z) == (640, 480, 5)
        assert sizes["x"] == ((250.0, "nm") if release >= "2015-01" else (0.25, "µm"))
        assert one(channels[0], NKG + "emissionWavelength") == 509.0
        assert [one(channels[i], NKG + "color") for i in (0, 1)] == ["00FF00", "FF0000"]
        magnification = 40.5 if release >= "2015-01" else 40.0
        assert one(facts(store, f"{DS}#ome-Objective:0:0"), NKG + "nominalMagnification") == (
            magnification
        )


@pytest.mark.parametrize("release", [r for r in RELEASES if r >= "2011-06"])
def test_original_metadata_of_every_release(release: str) -> None:
    data = (DATA / f"{release}.ome.xml").read_bytes()
    store, _ = graph(data)
    pairs = [
        (facts(store, str(pair))[SCHEMA + "name"], facts(store, str(pair))[SCHEMA + "value"])
        for pair in facts(store, DS)[NKG + "vendorMetadata"]
    ]
    assert pairs == [(["Camera|Gain"], ["2.5"])]


def test_documents_ome_types_cannot_read_give_an_extraction_error() -> None:
    cases = {
        "unknown release": b'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2099-01"/>',
        "other namespace": b'<OME xmlns="http://example.org/not-ome"><Image ID="Image:0"/></OME>',
        "no namespace": b"<OME><Image/></OME>",
        "image without pixels": (
            b'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
            b'<Image ID="Image:0"/></OME>'
        ),
        "pixels without sizes": (
            b'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">'
            b'<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8"/></Image></OME>'
        ),
        "truncated": (DATA / "2016-06.ome.xml").read_bytes()[:700],
        "empty": b"",
        "not xml": b"\x89PNG\r\n\x1a\n",
    }
    for name, data in cases.items():
        with pytest.raises(ExtractionError):
            parse_omexml(data)
        try:
            parse_omexml(data)
        except ExtractionError as exc:
            assert str(exc), name


def _minimal(attrs: str = "", channel: str = "", image: str = "") -> bytes:
    return (
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Instrument ID="Instrument:0"><Objective ID="Objective:0" LensNA="1.4" '
        f'{image}/></Instrument><Image ID="Image:0" Name="m"><Pixels ID="Pixels:0" '
        'DimensionOrder="XYZCT" Type="uint8" SizeX="2" SizeY="2" SizeZ="1" SizeC="1" '
        f'SizeT="1" {attrs}><Channel ID="Channel:0:0" Name="c" {channel}/>'
        "<MetadataOnly/></Pixels></Image></OME>"
    ).encode()


def test_invalid_values_are_left_out_and_the_rest_is_read() -> None:
    data = _minimal(
        'PhysicalSizeX="-1" PhysicalSizeY="0.5" PhysicalSizeYUnit="furlong"',
        'Color="red" EmissionWavelength="nope" ExcitationWavelength="488"',
        'Immersion="Honey" NominalMagnification="63"',
    )
    with pytest.raises(Exception):  # noqa: B017 - ome-types refuses the document as written
        reference(data)
    store, notes = graph(data)
    assert len(notes) == 1 and "read leniently" in notes[0]
    for left_out in ("@PhysicalSizeX='-1'", "@PhysicalSizeYUnit='furlong'", "@Color='red'"):
        assert left_out in notes[0]
    image = facts(store, image_iri(0, "Image:0"))
    assert one(image, SCHEMA + "name") == "m" and one(image, NKG + "sizeX") == 2
    (size_node,) = image[NKG + "omePixelSize"]
    size = facts(store, str(size_node))
    assert (one(size, NKG + "axisName"), one(size, QUDT + "numericValue")) == ("y", 0.5)
    assert one(size, NKG + "unitSymbol") == "µm"  # the schema's default unit
    (channel_node,) = image[NKG + "omeChannel"]
    channel = facts(store, str(channel_node))
    assert one(channel, NKG + "excitationWavelength") == 488.0
    assert NKG + "emissionWavelength" not in channel and NKG + "color" not in channel
    objective = facts(store, f"{DS}#ome-Objective:0")
    assert NKG + "immersion" not in objective
    assert one(objective, NKG + "nominalMagnification") == 63.0
    # what remains is what ome-types reads once the invalid values are gone
    fixed = reference(
        _minimal('PhysicalSizeY="0.5"', 'ExcitationWavelength="488"', 'NominalMagnification="63"')
    )
    assert fixed.images[0].pixels.physical_size_y == 0.5


@pytest.mark.parametrize("word", ["NaN", "INF", "-INF", "1e999", "1" * 400])
def test_non_finite_numbers_never_become_doubles(word: str) -> None:
    data = _minimal(
        f'PhysicalSizeX="{word}" PhysicalSizeY="0.5"',
        f'EmissionWavelength="{word}" ExcitationWavelength="488"',
        f'NominalMagnification="{word}" CalibratedMagnification="{word}"',
    ).replace(b'LensNA="1.4"', f'LensNA="{word}"'.encode())
    store, notes = graph(data)
    doubles = [
        q.object.value
        for q in store.quads_for_pattern(None, None, None)
        if isinstance(q.object, pyoxigraph.Literal) and q.object.datatype.value == XSD_DOUBLE
    ]
    assert sorted(float(d) for d in doubles) == [0.5, 488.0]
    assert all(math.isfinite(float(d)) for d in doubles)
    assert notes  # each number left out is said


@pytest.mark.parametrize("depth", [2, 9])
def test_entity_expansion_is_bounded(depth: int) -> None:
    """ "Billion laughs": internal entities are never expanded, in text or in attributes
    (depth 9 would be 10⁹ × "lol"); the document is read without them, or fails cleanly."""
    lol = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        lol.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    doctype = "<!DOCTYPE OME [" + "".join(lol) + "]>"
    body = (
        _minimal()
        .replace(b'Name="m"', f'Name="m&lol{depth};n"'.encode())
        .replace(b"</Pixels>", b'</Pixels><AnnotationRef ID="Annotation:0"/>')
        .replace(
            b"</Image>",
            b"</Image><StructuredAnnotations><MapAnnotation ID='Annotation:0'><Value>"
            + f"<M K='k'>v&lol{depth};w</M></Value></MapAnnotation>".encode()
            + b"</StructuredAnnotations>",
        )
    )
    tracemalloc.start()
    started = time.perf_counter()
    try:
        store, notes = graph(doctype.encode() + body)
    except ExtractionError:
        store, notes = pyoxigraph.Store(), []
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 10 and peak < 50_000_000
    assert "lol" not in " ".join(str(q) for q in store)
    if depth == 2:  # small enough for libxml2 to accept: read without the references
        assert any(f"lol{depth}" in n for n in notes)
        image = facts(store, image_iri(0, "Image:0"))
        assert one(image, SCHEMA + "name") == "mn"
        (annotation,) = image[NKG + "annotation"]
        (pair,) = facts(store, str(annotation))[SCHEMA + "additionalProperty"]
        assert one(facts(store, str(pair)), SCHEMA + "value") == "vw"


def test_external_entities_xinclude_and_schema_location_are_never_fetched(
    http_server: FixtureHttpServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    (Path(http_server.root) / "leak.txt").write_text("REMOTE-CONTENT")
    remote = f"{http_server.url}leak.txt"
    base = (DATA / "2016-06.ome.xml").read_text()
    doctype = (
        f'<!DOCTYPE OME SYSTEM "{http_server.url}ome.dtd" [\n'
        f'<!ENTITY file SYSTEM "{secret.as_uri()}">\n'
        f'<!ENTITY web SYSTEM "{remote}">\n'
        f'<!ENTITY % param SYSTEM "{http_server.url}param.dtd"> %param;\n]>\n'
    )
    body = base.split("-->", 1)[1]
    body = body.replace(
        'xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"',
        'xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" '
        'xmlns:xi="http://www.w3.org/2001/XInclude" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 '
        f'{http_server.url}ome.xsd"',
    )
    body = body.replace(
        '<Image ID="Image:0" Name="release 2016-06">',
        '<Image ID="Image:0" Name="release 2016-06">'
        "<Description>a&file;b&web;c</Description>"
        f'<xi:include href="{secret.as_uri()}" parse="text"/>'
        f'<xi:include href="{remote}" parse="text"/>',
    )
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + body).encode()
    store, notes = graph(data)
    dump = " ".join(str(q) for q in store)
    assert "SECRET" not in dump and "REMOTE" not in dump
    assert http_server.requests == []
    assert any("entity references not resolved" in n for n in notes)
    image = facts(store, image_iri(0, "Image:0"))
    assert one(image, SCHEMA + "name") == "release 2016-06"  # the rest is read


def test_huge_and_deep_documents_fail_cleanly_or_are_read_in_bounded_time() -> None:
    huge = _minimal().replace(b'Name="m"', b'Name="' + b"x" * 5_000_000 + b'"')
    started = time.perf_counter()
    store, _ = graph(huge)
    assert time.perf_counter() - started < 20
    name = one(facts(store, image_iri(0, "Image:0")), SCHEMA + "name")
    assert isinstance(name, str) and len(name) == 5_000_000
    too_huge = _minimal().replace(b'Name="m"', b'Name="' + b"x" * 11_000_000 + b'"')
    with pytest.raises(ExtractionError):
        parse_omexml(too_huge)  # above libxml2's 10 MB limit for one value
    deep = _minimal().replace(
        b"<MetadataOnly/>", b"<MetadataOnly/>" + b"<a>" * 100_000 + b"</a>" * 100_000
    )
    started = time.perf_counter()
    with pytest.raises(ExtractionError):
        parse_omexml(deep)  # deeper than libxml2's limit
    assert time.perf_counter() - started < 10
    nested = (DATA / "2016-06.ome.xml").read_bytes()
    nested = nested.replace(
        b"<TiffData/>", b"<TiffData/>" + b"<x:a xmlns:x='urn:x'>" * 200 + b"</x:a>" * 200
    )
    started = time.perf_counter()
    try:
        store, _ = graph(nested)
    except ExtractionError:
        pass
    else:
        assert one(facts(store, image_iri(0, "Image:0")), NKG + "sizeX") == 640
    assert time.perf_counter() - started < 10


def test_wrong_namespace_case_is_read_as_ome_types_reads_it() -> None:
    data = (DATA / "2010-06.ome.xml").read_bytes().replace(b"Schemas/OME/", b"Schemas/ome/")
    store, _ = graph(data)
    ome = reference(data)
    image = facts(store, image_iri(0, "Image:0"))
    assert one(image, SCHEMA + "name") == ome.images[0].name == "release 2010-06"


def test_standalone_files_of_every_release_and_hostile_ones_are_datasets(tmp_path: Path) -> None:
    """Through the harvester's ``.ome.xml`` path: a file of each release is a dataset with its
    images; a hostile or unreadable file is a dataset with its error, never an exception."""
    from ngff_kg.harvest.dataset import process_omexml_file

    files = {release: (DATA / f"{release}.ome.xml").read_bytes() for release in RELEASES}
    hostile = {
        "truncated": files["2016-06"][:600],
        "unknown-release": files["2010-06"].replace(b"/2010-06", b"/2099-01"),
        "nan": _minimal(
            'PhysicalSizeX="NaN"', 'EmissionWavelength="INF"', 'NominalMagnification="NaN"'
        ),
        "no-pixels": b'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        b'<Image ID="Image:0"/></OME>',
    }
    for name, data in {**files, **hostile}.items():
        path = tmp_path / f"{name}.ome.xml"
        path.write_bytes(data)
        iri = f"http://example.org/{name}.ome.xml"
        outcome = process_omexml_file(path, iri, "<http://example.org/run>")
        store = pyoxigraph.Store()
        store.load(outcome.graph.trig.encode(), pyoxigraph.RdfFormat.TRIG)
        images = list(store.quads_for_pattern(None, pyoxigraph.NamedNode(NKG + "image"), None))
        if name in files or name == "nan":
            assert outcome.errors == [] and len(images) == 1, (name, outcome.errors)
        else:
            assert len(outcome.errors) == 1 and images == [], name
            error = pyoxigraph.NamedNode(NKG + "extractionError")
            errors = store.quads_for_pattern(None, error, None)
            assert [q.object.value for q in errors] == [e.message for e in outcome.errors]

"""OME-Zarr hierarchies written with zarr-python for the hierarchy tests.

Every builder returns the metadata it wrote, so tests compare the graph with these values
(not with the extractor's own reading). A few arrays get data so that chunk files exist and
the tests can prove they are never opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import zarr
from zarr.codecs import BloscCodec, ZstdCodec

AXES_5D = [
    {"name": "t", "type": "time", "unit": "second"},
    {"name": "c", "type": "channel"},
    {"name": "z", "type": "space", "unit": "micrometer"},
    {"name": "y", "type": "space", "unit": "micrometer"},
    {"name": "x", "type": "space", "unit": "micrometer"},
]


def _group(path: Path, attrs: dict[str, Any]) -> zarr.Group:
    return zarr.open_group(str(path), mode="w", zarr_format=3, attributes={"ome": attrs})


def _channels(*labels: str) -> dict[str, Any]:
    colors = ["0000FF", "00FF00", "FF0000", "FFFFFF"]
    return {
        "channels": [
            {
                "label": label,
                "color": colors[i % 4],
                "active": i == 0,
                "window": {"start": 10.0 * i, "end": 1000.0 + i, "min": 0.0, "max": 65535.0},
            }
            for i, label in enumerate(labels)
        ]
    }


def v05_image(path: Path) -> dict[str, Any]:
    """NGFF 0.5 image: a global scale, a level translation, a sharded level 0, labels."""
    multiscales = {
        "name": "cells",
        "axes": AXES_5D,
        "datasets": [
            {
                "path": "0",
                "coordinateTransformations": [
                    {"type": "scale", "scale": [1.0, 1.0, 0.5, 0.25, 0.25]},
                    {"type": "translation", "translation": [0.0, 0.0, 1.0, 2.0, 3.0]},
                ],
            },
            {
                "path": "1",
                "coordinateTransformations": [
                    {"type": "scale", "scale": [1.0, 1.0, 0.5, 0.5, 0.5]},
                ],
            },
        ],
        "coordinateTransformations": [{"type": "scale", "scale": [60.0, 1.0, 2.0, 1.0, 1.0]}],
    }
    group = _group(
        path,
        {"version": "0.5", "multiscales": [multiscales], "omero": _channels("DAPI", "GFP", "")},
    )
    names = [a["name"] for a in AXES_5D]
    group.create_array(
        "0",
        shape=(2, 3, 16, 256, 256),
        dtype="uint16",
        chunks=(1, 1, 8, 64, 64),
        shards=(1, 1, 16, 128, 128),
        compressors=BloscCodec(cname="zstd", clevel=5),
        dimension_names=names,
        fill_value=0,
    )
    level1 = group.create_array(
        "1",
        shape=(2, 3, 16, 128, 128),
        dtype="uint16",
        chunks=(1, 1, 16, 128, 128),
        compressors=ZstdCodec(level=3),
        dimension_names=names,
        fill_value=0,
    )
    level1[0, 0] = np.ones((16, 128, 128), dtype="uint16")  # a real chunk file
    labels = zarr.open_group(
        str(path / "labels"), mode="w", zarr_format=3, attributes={"ome": {"labels": ["cells"]}}
    )
    label = zarr.open_group(
        str(path / "labels" / "cells"),
        mode="w",
        zarr_format=3,
        attributes={
            "ome": {
                "version": "0.5",
                "image-label": {
                    "colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}],
                    "properties": [{"label-value": 1, "class": "cell", "area": 42}],
                    "source": {"image": "../../"},
                },
                "multiscales": [
                    {
                        "axes": AXES_5D,
                        "datasets": [
                            {
                                "path": "0",
                                "coordinateTransformations": [
                                    {"type": "scale", "scale": [1.0, 1.0, 0.5, 0.25, 0.25]}
                                ],
                            }
                        ],
                    }
                ],
            }
        },
    )
    label.create_array("0", shape=(2, 1, 16, 256, 256), dtype="uint32", chunks=(1, 1, 16, 256, 256))
    assert labels is not None
    return {"multiscales": multiscales}


def v04_image(path: Path) -> dict[str, Any]:
    """NGFF 0.4 on Zarr v2 with consolidated metadata; 0/.zarray exists only in .zmetadata."""
    multiscales = {
        "version": "0.4",
        "name": "old",
        "axes": [
            {"name": "c", "type": "channel"},
            {"name": "y", "type": "space", "unit": "nanometer"},
            {"name": "x", "type": "space", "unit": "nanometer"},
        ],
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 7, 7]}]},
            {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [1, 14, 14]}]},
        ],
    }
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    group.attrs.update({"multiscales": [multiscales], "omero": _channels("BF")})
    for name, size in (("0", 64), ("1", 32)):
        array = group.create_array(
            name,
            shape=(1, size, size),
            dtype="<f4",
            chunks=(1, 32, 32),
            compressors=numcodecs.Blosc(cname="lz4"),
            fill_value=0,
        )
        array[:] = np.ones((1, size, size), dtype="<f4")
    zarr.consolidate_metadata(str(path), zarr_format=2)
    (path / "0" / ".zarray").unlink()
    return {"multiscales": multiscales}


def _field(path: Path, name: str) -> None:
    group = _group(
        path,
        {
            "version": "0.5",
            "multiscales": [
                {
                    "name": name,
                    "axes": AXES_5D[1:],
                    "datasets": [
                        {
                            "path": "0",
                            "coordinateTransformations": [
                                {"type": "scale", "scale": [1.0, 1.0, 0.325, 0.325]}
                            ],
                        }
                    ],
                }
            ],
            "omero": _channels("Hoechst", "Actin"),
        },
    )
    group.create_array("0", shape=(2, 1, 512, 512), dtype="uint16", chunks=(1, 1, 256, 256))


def plate(path: Path) -> dict[str, Any]:
    """A 2×3 plate: wells A/1 (2 fields), A/2 (1 field), B/3 listed but not written."""
    plate = {
        "name": "test plate",
        "version": "0.5",
        "rows": [{"name": "A"}, {"name": "B"}],
        "columns": [{"name": "1"}, {"name": "2"}, {"name": "3"}],
        "wells": [
            {"path": "A/1", "rowIndex": 0, "columnIndex": 0},
            {"path": "A/2", "rowIndex": 0, "columnIndex": 1},
            {"path": "B/3", "rowIndex": 1, "columnIndex": 2},
        ],
        "field_count": 2,
        "acquisitions": [{"id": 1, "name": "run", "maximumfieldcount": 2, "starttime": 0}],
    }
    _group(path, {"version": "0.5", "plate": plate})
    wells = {"A/1": ["0", "1"], "A/2": ["0"]}
    for well, fields in wells.items():
        _group(
            path / well,
            {"version": "0.5", "well": {"images": [{"path": f, "acquisition": 1} for f in fields]}},
        )
        for field in fields:
            _field(path / well / field, f"{well}/{field}")
    return {"plate": plate, "wells": wells}


OME_XML = """<?xml version="1.0" encoding="UTF-8"?>
{doctype}<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" Creator="test">
  <Instrument ID="Instrument:0">
    <Microscope Manufacturer="Acme" Model="Scope 1" Type="Inverted"/>
    <Detector ID="Detector:0:0" Model="Cam" Type="CCD"/>
    <Objective ID="Objective:0:0" NominalMagnification="63.0" LensNA="1.4" Immersion="Oil"
               Correction="PlanApo"/>
    <Objective ID="Objective:0:1" NominalMagnification="10.0" LensNA="0.3" Immersion="Air"/>
  </Instrument>
  <Image ID="Image:0" Name="first">
    <AcquisitionDate>2023-01-02T03:04:05</AcquisitionDate>
    <InstrumentRef ID="Instrument:0"/>
    <ObjectiveSettings ID="Objective:0:0"/>
    <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SignificantBits="12"
            SizeX="64" SizeY="32" SizeZ="4" SizeC="2" SizeT="1"
            PhysicalSizeX="0.1" PhysicalSizeXUnit="µm" PhysicalSizeY="100"
            PhysicalSizeYUnit="nm" PhysicalSizeZ="1.0">
      <Channel ID="Channel:0:0" Name="DAPI" Fluor="DAPI" EmissionWavelength="461"
               ExcitationWavelength="0.358" ExcitationWavelengthUnit="µm"
               IlluminationType="Epifluorescence" ContrastMethod="Fluorescence"
               AcquisitionMode="WideField"/>
      <Channel ID="Channel:0:1" Name="GFP" EmissionWavelength="509.0" ExcitationWavelength="488.0"/>
      {pixels_data}
    </Pixels>
    <AnnotationRef ID="Annotation:map"/>
  </Image>
  <Image ID="Image:1" Name="second">
    <InstrumentRef ID="Instrument:0"/>
    <ObjectiveSettings ID="Objective:0:1"/>
    <Pixels ID="Pixels:1" DimensionOrder="XYCZT" Type="uint8"
            SizeX="16" SizeY="16" SizeZ="1" SizeC="1" SizeT="1">
      <Channel ID="Channel:1:0" Name="BF"/>
      {pixels_data}
    </Pixels>
  </Image>
  <StructuredAnnotations>
    <MapAnnotation ID="Annotation:map" Namespace="example.org/qc">
      <Value><M K="focus">ok{entity}</M><M K="operator">A. N. Other</M></Value>
    </MapAnnotation>
    <XMLAnnotation ID="Annotation:om0" Namespace="openmicroscopy.org/OriginalMetadata">
      <Value><OriginalMetadata><Key>Camera|Exposure</Key><Value>20 ms</Value>
      </OriginalMetadata></Value>
    </XMLAnnotation>
    <XMLAnnotation ID="Annotation:om1" Namespace="openmicroscopy.org/OriginalMetadata">
      <Value><OriginalMetadata><Key>Laser|Power</Key><Value>5</Value></OriginalMetadata></Value>
    </XMLAnnotation>
  </StructuredAnnotations>
</OME>
"""


def ome_xml(*, valid: bool = True, secret: Path | None = None) -> str:
    """The OME-XML above: valid, or without MetadataOnly (as older bioformats2raw wrote it),
    or with an external entity pointing at ``secret``."""
    doctype, entity = "", ""
    if secret is not None:
        doctype = f'<!DOCTYPE OME [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>\n'
        entity = "&leak;"
    return OME_XML.format(
        doctype=doctype, entity=entity, pixels_data="<MetadataOnly/>" if valid else ""
    )


def bioformats2raw(path: Path, xml: str, *, series_list: bool = True) -> None:
    """A bioformats2raw layout with two series (0/, 1/) and OME/METADATA.ome.xml."""
    _group(path, {"version": "0.5", "bioformats2raw.layout": 3})
    _group(path / "OME", {"version": "0.5", "series": ["0", "1"]} if series_list else {})
    (path / "OME" / "METADATA.ome.xml").write_text(xml, "utf-8")
    for index in ("0", "1"):
        _field(path / index, f"series {index}")

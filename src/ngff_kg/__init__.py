"""ngff-kg: a metadata knowledge graph of OME-Zarr datasets.

A dataset (an OME-Zarr 0.5 image with its ``zarr.json``) harvested into an in-memory store:

>>> import json, tempfile
>>> from pathlib import Path
>>> from ngff_kg import Catalog
>>> top = Path(tempfile.mkdtemp())
>>> (top / "cells.ome.zarr").mkdir()
>>> axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
>>> scale = [{"type": "scale", "scale": [1.0, 1.0]}]
>>> ome = {"version": "0.5", "multiscales": [
...     {"axes": axes, "datasets": [{"path": "0", "coordinateTransformations": scale}]}]}
>>> zarr_json = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
>>> _ = (top / "cells.ome.zarr" / "zarr.json").write_text(json.dumps(zarr_json))
>>> with Catalog(None) as catalog:           # None: an in-memory store
...     report = catalog.harvest([top], base_url="https://example.org/")
>>> report.ok, report.datasets_found, report.datasets_harvested
(True, 1, 1)
"""

from __future__ import annotations

from ngff_kg._version import __version__
from ngff_kg.catalog import Catalog
from ngff_kg.errors import (
    ExtractionError,
    MissingDependencyError,
    NgffKgError,
    QueryError,
    QueryNotFoundError,
    SourceNotFoundError,
    StoreError,
    UnknownContextError,
    UsageError,
)
from ngff_kg.harvest import HarvestReport
from ngff_kg.queries import NamedQuery, QueryResult, library
from ngff_kg.reports import Problem

__all__ = [
    "Catalog",
    "ExtractionError",
    "HarvestReport",
    "MissingDependencyError",
    "NamedQuery",
    "NgffKgError",
    "Problem",
    "QueryError",
    "QueryNotFoundError",
    "QueryResult",
    "SourceNotFoundError",
    "StoreError",
    "UnknownContextError",
    "UsageError",
    "__version__",
    "library",
]

"""ngff-kg: a metadata knowledge graph of OME-Zarr datasets.

>>> from ngff_kg import Catalog
>>> with Catalog(None) as catalog:           # in-memory store
...     report = catalog.harvest([])          # doctest: +SKIP
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

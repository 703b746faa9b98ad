"""ngff-kg: a metadata knowledge graph of OME-Zarr datasets.

>>> from ngff_kg import Catalog
>>> with Catalog(None) as catalog:           # in-memory store
...     report = catalog.harvest([])          # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from .catalog import Catalog
from .errors import (
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
from .harvest import HarvestReport
from .queries import NamedQuery, QueryResult, library

__all__ = [
    "Catalog",
    "ExtractionError",
    "HarvestReport",
    "MissingDependencyError",
    "NamedQuery",
    "NgffKgError",
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

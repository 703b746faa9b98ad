"""Data folders shipped inside the package: queries, ontologies, contexts."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from ngff_kg.errors import StoreError


def resource_dir(name: str) -> Any:
    """A directory shipped inside the package (``queries``, ``ontologies``, ``contexts``).

    In a source checkout (editable install) the top-level folders are used.
    """
    packaged = resources.files("ngff_kg") / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir():
        return checkout
    raise StoreError(f"package data folder {name!r} is missing from the installation")

"""What long runs report: problems per dataset or file, and progress callbacks.

Shared by harvest and enrich, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Problem:
    """A dataset or file that could not be read completely; ``stage`` names where it went
    wrong (``read``, ``parse``, ``jsonld``, ``ngff``, ``omexml``, ``rdf``, ``write``) when
    known."""

    path: str
    reason: str
    stage: str = ""


#: Progress callback, called with the number of datasets read so far.
Progress = Callable[[int], None]

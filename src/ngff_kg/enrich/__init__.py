"""Enrich: write what the knowledge graph knows back into each dataset's RO-Crate.

:mod:`.crate` is the pure core (crate JSON and facts in, enriched JSON out), :mod:`.facts`
reads a dataset's facts from its graph, :mod:`.run` finds datasets and writes crates safely.
"""

from __future__ import annotations

from ngff_kg.enrich.crate import enrich_document, serialize
from ngff_kg.enrich.facts import DatasetFacts
from ngff_kg.enrich.run import DiffSink, Enricher, EnrichOptions, EnrichReport, enrich_targets

__all__ = [
    "DatasetFacts",
    "DiffSink",
    "EnrichOptions",
    "EnrichReport",
    "Enricher",
    "enrich_document",
    "enrich_targets",
    "serialize",
]

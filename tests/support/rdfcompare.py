"""Graph comparison helpers for tests: canonical (blank-node independent) sets of triples."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyld import jsonld

from ngff_kg.normalize.jsonld import ContextRegistry

_REGISTRY = ContextRegistry()


def pyld_quads(doc: Any, base: str) -> set[ox.Quad]:
    """pyld's standard to_rdf of ``doc``, offline through the bundled contexts."""
    options = {
        "base": base,
        "format": "application/n-quads",
        "documentLoader": _REGISTRY.pyld_loader(),
    }
    text = jsonld.to_rdf(doc, options)
    return set(ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS))


def ntriples_quads(triples: Iterable[tuple[str, str, str]]) -> set[ox.Quad]:
    text = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    return set(ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES))


def canonical(quads: Iterable[ox.Quad]) -> set[ox.Quad]:
    """The quads with blank nodes relabelled canonically (isomorphic sets become equal)."""
    dataset = ox.Dataset(
        ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))

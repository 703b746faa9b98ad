"""Checks of one enriched crate against its original (shared by the fixture and corpus tests).

What "nothing lost", "readable" and "round trip equal" mean, precisely:

1. **Nothing lost**: every triple of the standard JSON-LD expansion of the original is in the
   expansion of the enriched crate, except the broken forms the repair replaces: a subject or
   object that is a non-canonical spelling of an FBbi / NCBITaxon term (``NCBI:txid10090``,
   ``FBbi:…``), a type that resolved against the base only because the term was undefined
   (``image_acquisition``), and a license given as a string literal.
2. **Readable**: in the standard expansion of the enriched crate, every canonical FBbi and
   NCBITaxon IRI the harvester finds in the original is reached from the root ``./`` by
   following properties forward.
4. **Idempotent**: enriching the enriched crate changes nothing.
6. **Round trip**: harvesting the enriched crate (ngff-kg's extraction with repairs) gives the
   same organisms, imaging methods and licenses, and every triple the original gave; the
   triples it adds are only about what the enrichment adds (term, term set, license, fact and
   action entities, the root's datePublished / additionalProperty / direct links, and its
   name and description where the original had none, as RO-Crate requires them); and
   its repairs are a subset of the original's with no undefined-term, term-identifier,
   license-literal or unlinked-entity repair left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph as ox

from ngff_kg import rdf
from ngff_kg.enrich.crate import OWN_PREFIX, TERM_SETS, TOOL_IRI, enrich_document, ontology_labels
from ngff_kg.enrich.facts import DatasetFacts
from ngff_kg.extract.rocrate import CRATE_FILE, PROFILE_PATCH, extract_crate
from ngff_kg.normalize.jsonld import JsonLdConverter
from ngff_kg.normalize.terms import canonical_term, ontology_of

SCHEMA = "http://schema.org/"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
ROOT_ADDITIONS = {
    f"<{SCHEMA}{p}>"
    for p in ("datePublished", "additionalProperty", "measurementTechnique", "taxonomicRange")
} | {f"<{SCHEMA}license>"}
FILLED = {f"<{SCHEMA}name>", f"<{SCHEMA}description>"}
GONE_KINDS = {"undefined-term", "term-identifier", "license-literal", "unlinked-entity"}

Triple = tuple[str, str, str]
Expander = Callable[[Any, str], set[Triple]]


def enrich(doc: Any, dataset: str, converter: JsonLdConverter, facts=None, now=NOW):
    return enrich_document(
        doc,
        facts if facts is not None else DatasetFacts(),
        dataset_iri=dataset,
        converter=converter,
        labels=ontology_labels(),
        now=now,
        date_published="2024-11-25",
        tool_version="0.1.0",
    )


def pyld_triples(doc: Any, base: str) -> set[Triple]:
    from rdfcompare import pyld_quads

    quads = pyld_quads(doc, base)
    assert not any(isinstance(q.subject, ox.BlankNode) for q in quads), "use isomorphism"
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in quads}


def fast_triples(converter: JsonLdConverter) -> Expander:
    """ngff-kg's standard expansion (no patch), tested equal to pyld's on every corpus crate."""

    def expand(doc: Any, base: str) -> set[Triple]:
        return set(converter.to_triples(doc, base).triples)

    return expand


def broken(triple: Triple, dataset: str) -> bool:
    """A form the repair replaces (see the module docstring)."""
    s, p, o = triple
    for term in (s, o):
        iri = rdf.unwrap_iri(term)
        if iri and not iri.startswith(dataset):
            canonical = canonical_term(iri)
            if canonical is not None and canonical != iri:
                return True
    if p.endswith("rdf-syntax-ns#type>") and o.startswith(f"<{dataset}"):
        local = o[1:-1].rsplit("/", 1)[-1]
        return local in PROFILE_PATCH
    return p == f"<{SCHEMA}license>" and o.startswith('"')


def reachable(triples: Iterable[Triple], start: str) -> set[str]:
    forward: dict[str, set[str]] = {}
    for s, _p, o in triples:
        if o.startswith("<"):
            forward.setdefault(s, set()).add(o)
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(forward.get(node, ()))
    return seen


def check_enriched(
    original: Any,
    enriched: Any,
    dataset: str,
    converter: JsonLdConverter,
    expand: Expander,
) -> None:
    """Properties 1, 2 and 6 (see the module docstring) of one crate and its enrichment."""
    base = dataset + CRATE_FILE
    before, after = expand(original, base), expand(enriched, base)
    lost = {t for t in before - after if not broken(t, dataset)}
    assert not lost, sorted(lost)[:5]

    first = extract_crate(original, dataset, converter)
    terms = {
        t
        for t in first.organisms | first.modalities
        if ontology_of(t[1:-1]) in ("NCBITaxon", "FBbi")
    }
    root = first.root or f"<{dataset}>"
    assert terms <= reachable(after, root), terms - reachable(after, root)

    second = extract_crate(enriched, dataset, converter)
    assert second.organisms == first.organisms
    assert second.modalities == first.modalities
    assert second.licenses == first.licenses
    assert not {r.kind for r in second.repairs} & GONE_KINDS, second.repairs
    assert second.repairs <= first.repairs
    old, new = set(first.triples), set(second.triples)
    assert old <= new, sorted(old - new)[:5]
    added_subjects = {f"<{TOOL_IRI}>"} | {f"<{s}>" for s, _ in TERM_SETS.values()}
    added_subjects |= {f"<{lic[1:-1]}>" for lic in first.licenses} | terms
    for s, p, o in new - old:
        if s.startswith(f"<{base}{OWN_PREFIX}") or s in added_subjects:
            continue
        if s == root and p in ROOT_ADDITIONS:
            continue
        if s == root and p in FILLED and not any(t[0] == s and t[1] == p for t in old):
            continue  # a required name or description the original lacked
        if s == f"<{base}>" and p.endswith("conformsTo>"):
            continue
        raise AssertionError(f"unexpected triple from the enriched crate: {s} {p} {o}")

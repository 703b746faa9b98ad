"""RO-Crate extractor: a crate's JSON-LD → triples of the dataset graph, with profile repair.

The crate is expanded exactly as a standard JSON-LD processor would (see
:mod:`ngff_kg.normalize.jsonld`)
with one addition, the *challenge profile patch*: term definitions for the terms the OME 2024
NGFF challenge crates use but never define (``fbbi_id``, ``resultOf``, ``image_acquisition``,
and the spelling ``licence``). The patch only fills gaps: a crate that defines these terms
itself keeps its own definitions, and no repair is recorded for it.

After expansion, value repairs make the graph use one form for each thing (canonical OBO PURLs
for NCBITaxon and FBbi terms, license IRIs, ``http://schema.org/``). Then the dataset is linked
directly to its organisms, imaging methods and license. Every repair is returned as a
:class:`~ngff_kg.normalize.repairs.Repair`; nothing is changed silently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ngff_kg import rdf
from ngff_kg.errors import ExtractionError
from ngff_kg.normalize.jsonld import CONTEXTS_ENV, JsonLdConverter
from ngff_kg.normalize.repairs import Repair
from ngff_kg.normalize.terms import canonical_iri, ontology_iri, ontology_of
from ngff_kg.vocab import (
    NCBITAXON,
    OBI_IMAGING_ASSAY,
    RDF_TYPE,
    RDFS,
    SCHEMA,
    SCHEMA_HTTPS,
)

CRATE_FILE = "ro-crate-metadata.json"

#: Term definitions of the challenge profile, used only where a crate leaves them undefined.
PROFILE_PATCH: dict[str, Any] = {
    "fbbi_id": {"@id": SCHEMA + "measurementTechnique", "@type": "@id"},
    "resultOf": {"@reverse": SCHEMA + "result", "@type": "@id"},
    "image_acquisition": OBI_IMAGING_ASSAY,
    "licence": SCHEMA + "license",
}

_TYPE = f"<{RDF_TYPE}>"
_ABOUT = f"<{SCHEMA}about>"
_LICENSE = f"<{SCHEMA}license>"
_TAXON = f"<{SCHEMA}taxonomicRange>"
_TECHNIQUE = f"<{SCHEMA}measurementTechnique>"
_NAME = f"<{SCHEMA}name>"
_DESCRIPTION = f"<{SCHEMA}description>"
_DEFINED_BY = f"<{RDFS}isDefinedBy>"
#: The ontology each field expects; terms of other ontologies there are typed by theirs.
_EXPECTED = {_TAXON: "NCBITaxon", _TECHNIQUE: "FBbi"}
_CARRIERS = frozenset(_EXPECTED)
#: What _link_dataset reads of the root (and of the metadata descriptor: about).
_DESCRIBING = frozenset((_ABOUT, _LICENSE, _NAME, _DESCRIPTION))
_SCHEMA_HTTPS = "<" + SCHEMA_HTTPS
_URL = re.compile(r"^https?://\S+$")
_SPDX_ID = re.compile(r"^[A-Za-z0-9.+-]+-\d(\.\d)*(-[A-Za-z]+)?$|^(MIT|CC0-1\.0|Apache-2\.0)$")


@dataclass
class CrateResult:
    """What one crate contributes to its dataset."""

    triples: list[rdf.Triple]
    repairs: set[Repair] = field(default_factory=set)
    root: str | None = None
    organisms: set[str] = field(default_factory=set)
    modalities: set[str] = field(default_factory=set)
    licenses: set[str] = field(default_factory=set)
    dropped_terms: set[str] = field(default_factory=set)
    dropped_iris: set[str] = field(default_factory=set)
    engine: str = "fast"
    #: What the caller should report: e.g. a remote context that is not available offline.
    warnings: list[str] = field(default_factory=list)


def license_iri(text: str) -> str | None:
    """The IRI a license string stands for: a URL as it is, an SPDX id as its SPDX IRI."""
    text = text.strip()
    if _URL.match(text):
        return text
    if _SPDX_ID.match(text):
        return f"https://spdx.org/licenses/{text}"
    return None


#: IRI term → its canonical term and the repair that records it, or None (canonical already)
_CANONICAL: dict[str, tuple[str, Repair] | None] = {}
#: https://schema.org/ IRI term → its http://schema.org/ term and repair
_HTTP_SCHEMA: dict[str, tuple[str, Repair]] = {}


def _fix_term(term: str, repairs: set[Repair]) -> str:
    """Canonical form of an IRI term that names an ontology term, recording a repair (the
    caller leaves out the dataset's own IRIs, which are never ontology terms)."""
    try:
        found = _CANONICAL[term]
    except KeyError:
        value = term[1:-1]
        canonical = canonical_iri(value)
        found = None
        if canonical is not None and canonical != value:
            fixed = f"<{canonical}>"
            found = (fixed, Repair("term-identifier", value, fixed))
        if len(_CANONICAL) > 100_000:
            _CANONICAL.clear()
        _CANONICAL[term] = found
    if found is None:
        return term
    repairs.add(found[1])
    return found[0]


def _http_schema(term: str, repairs: set[Repair]) -> str:
    found = _HTTP_SCHEMA.get(term)
    if found is None:
        fixed = "<" + SCHEMA + term[len(_SCHEMA_HTTPS) :]
        found = (fixed, Repair("schema-https", term[1:-1], fixed))
        if len(_HTTP_SCHEMA) > 10_000:
            _HTTP_SCHEMA.clear()
        _HTTP_SCHEMA[term] = found
    repairs.add(found[1])
    return found[0]


def extract_crate(
    doc: Any,
    dataset_iri: str,
    converter: JsonLdConverter,
    bnode_prefix: str = "b",
) -> CrateResult:
    """Triples and repairs of one crate whose root is the dataset at ``dataset_iri``.

    ``dataset_iri`` ends with ``/``; the crate's base IRI is the metadata file beside it, so
    ``./`` is the dataset and ``#id`` fragments hang off the metadata file, as in pyld.

    :raises ExtractionError: the document is not an RO-Crate (no ``@graph``) or not JSON-LD.
    A remote context of the crate's top-level ``@context`` that is not available offline no
    longer fails the crate: it is read with the contexts that are, the properties the missing
    context would have defined are returned in ``dropped_terms`` and a message in ``warnings``.

    :raises UnknownContextError: a context named elsewhere (scoped, imported) is not available.
    """
    if not isinstance(doc, dict):
        raise ExtractionError(f"{CRATE_FILE} must hold a JSON object, got {type(doc).__name__}")
    if "@graph" not in doc:
        raise ExtractionError(f"{CRATE_FILE} has no @graph: not an RO-Crate metadata document")
    base = dataset_iri + CRATE_FILE
    warnings: list[str] = []
    unread: set[str] = set()
    context, unknown = converter.without_unknown_contexts(doc.get("@context"))
    if unknown:
        # read as far as the known contexts allow; what the others would define is reported
        doc = {**doc, "@context": context}
        unread = converter.undefined_terms(doc) - set(PROFILE_PATCH)
        for url in unknown:
            warnings.append(
                f"remote JSON-LD context {url!r} is not available offline; the terms it would "
                f"define are ignored (provide it with --contexts or ${CONTEXTS_ENV})"
            )
    expansion = converter.to_triples(doc, base, PROFILE_PATCH, bnode_prefix, repair_iris=True)
    repairs: set[Repair] = set()
    for term in expansion.patched_terms:
        spec = PROFILE_PATCH[term]
        target = spec if isinstance(spec, str) else spec.get("@id") or spec.get("@reverse")
        repairs.add(Repair("undefined-term", term, f"<{target}>"))

    triples: list[rdf.Triple] = []
    append = triples.append
    local = f"<{dataset_iri}"  # the dataset's own IRIs are never ontology terms
    for s, p, o in expansion.triples:
        if p.startswith(_SCHEMA_HTTPS):
            p = _http_schema(p, repairs)
        if o.startswith(_SCHEMA_HTTPS) and p == _TYPE:
            o = _http_schema(o, repairs)
        if s[0] == "<" and not s.startswith(local):
            s = _fix_term(s, repairs)
        if o[0] == "<":
            if not o.startswith(local):
                o = _fix_term(o, repairs)
        elif p == _LICENSE and o[0] == '"':
            text = rdf.unwrap_literal(o) or ""
            target = license_iri(text)
            if target is not None:
                fixed = rdf.iri(target)
                repairs.add(Repair("license-literal", text, fixed))
                o = fixed
        append((s, p, o))

    for written, escaped in expansion.escaped_iris.items():
        repairs.add(Repair("invalid-iri", written, f"<{escaped}>"))
    result = CrateResult(triples, repairs, engine=expansion.engine, warnings=warnings)
    result.dropped_terms = expansion.dropped_terms | unread
    result.dropped_iris = expansion.dropped_iris
    _link_dataset(result, f"<{dataset_iri}>", f"<{base}>")
    return result


def _link_dataset(result: CrateResult, dataset: str, descriptor: str) -> None:
    """Link the dataset directly to organisms, imaging methods and license (derived triples)."""
    triples = result.triples
    # RO-Crate 1.0 named the metadata file ro-crate-metadata.jsonld
    legacy = descriptor[:-1] + "ld>"
    # one pass: the graph of the entities (which are connected to the root? Ontology terms are
    # not followed: two entities that name the same organism are not connected through it),
    # what the descriptors are about, and the statements the root may pass on to the dataset
    terms: set[str] = set()
    neighbours: dict[str, set[str]] = defaultdict(set)
    carriers: list[tuple[str, str, str]] = []
    about: dict[str, str] = {}  # descriptor → what it is about (the first one)
    described: list[tuple[str, str, str]] = []  # license, name and description statements
    for triple in triples:
        s, p, o = triple
        if p in _CARRIERS:
            carriers.append(triple)
            terms.add(o)
        else:
            if p != _TYPE and o[0] != '"':
                neighbours[s].add(o)
                neighbours[o].add(s)
            if p in _DESCRIBING:
                if p != _ABOUT:
                    described.append(triple)
                elif s not in about:
                    about[s] = o
    root = about.get(descriptor) or about.get(legacy)
    if root is None and any(s == dataset for s, _, _ in triples):
        root = dataset
    result.root = root
    reached: set[str] = set()
    if root is not None:
        stack = [root]
        while stack:
            node = stack.pop()
            if node in reached or node in terms:
                continue
            reached.add(node)
            stack.extend(neighbours.get(node, ()))
        reached.discard(descriptor)
        reached.discard(legacy)
    derived: list[rdf.Triple] = []
    # what the root states itself needs no attribution (an enriched crate links its terms)
    stated = {(p, o) for s, p, o in carriers if s in (root, dataset)}
    typed: set[str] = set()
    for s, p, o in carriers:
        if o[0] == '"':
            continue
        (result.organisms if p == _TAXON else result.modalities).add(o)
        prefix = ontology_of(o[1:-1])
        if prefix is not None and prefix != _EXPECTED[p] and o not in typed:
            typed.add(o)
            derived.append((o, _DEFINED_BY, f"<{ontology_iri(o[1:-1])}>"))
        if s not in reached and s != dataset and (p, o) not in stated:
            result.repairs.add(Repair("unlinked-entity", p[1:-1], o))
        if s != dataset:
            derived.append((dataset, p, o))
    if root is not None:
        for s, p, o in described:
            if s == root and p == _LICENSE and o[0] == "<":
                result.licenses.add(o)
                if root != dataset:
                    derived.append((dataset, p, o))
            elif root != dataset and s == root and p in (_NAME, _DESCRIPTION):
                derived.append((dataset, p, o))
    triples.extend(derived)


def organism_iris(result: CrateResult) -> list[str]:
    """NCBITaxon IRIs among the organisms (others stay in the graph, unclassified)."""
    return sorted(o for o in result.organisms if o.startswith("<" + NCBITAXON))

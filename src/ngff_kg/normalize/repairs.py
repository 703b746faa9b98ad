"""Repairs: every change ngff-kg makes to what a document literally says is recorded.

A :class:`Repair` is identified by its kind, the original value and the repaired value, so one
repair node is shared by every dataset it applies to. Datasets of one collection usually get
the same set of repairs, so sets are shared too: the dataset graph holds one triple
``<dataset> nkg:repairSet <set>``; the set (``<set> nkg:repair <repair>``) and each repair's
description live once in the repairs graph.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ngff_kg import rdf
from ngff_kg.vocab import NKG, RDF_TYPE

#: Repair kinds: code → (IRI local name, one-line description). Documented in ngff-kg.ttl.
KINDS: dict[str, tuple[str, str]] = {
    "undefined-term": (
        "UndefinedTermRepair",
        "a term the document's context does not define was given the challenge profile's meaning",
    ),
    "term-identifier": (
        "TermIdentifierRepair",
        "an ontology term identifier spelled in a non-canonical way was replaced by its OBO PURL",
    ),
    "license-literal": (
        "LicenseLiteralRepair",
        "a license given as a plain string was replaced by the license IRI",
    ),
    "schema-https": (
        "SchemaHttpsRepair",
        "an https://schema.org/ IRI was replaced by the http://schema.org/ form of the "
        "RO-Crate context",
    ),
    "unlinked-entity": (
        "UnlinkedEntityRepair",
        "an organism or imaging method stated in the crate on an entity that is not connected to "
        "the root dataset was attributed to the dataset",
    ),
    "invalid-iri": (
        "InvalidIriRepair",
        "characters not allowed in an IRI (spaces, braces...) were percent-encoded",
    ),
    "invalid-language-tag": (
        "InvalidLanguageTagRepair",
        "a language tag that is not well-formed BCP 47 was dropped; the text was kept",
    ),
    "invalid-string": (
        "InvalidStringRepair",
        "a lone surrogate, which no Unicode encoding can write, was replaced by U+FFFD",
    ),
}

REPAIR_BASE = "https://w3id.org/ngff-kg/repair/"
_IRIS: dict[Repair, str] = {}


@dataclass(frozen=True, slots=True, order=True)
class Repair:
    kind: str
    original: str  # the value as written (plain text)
    repaired: str  # N-Triples term of the value used instead

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown repair kind {self.kind!r}")

    @property
    def iri(self) -> str:
        iri = _IRIS.get(self)
        if iri is None:
            digest = hashlib.sha1(
                # surrogatepass: an original may hold a lone surrogate (the repair removes it)
                f"{self.kind}\x00{self.original}\x00{self.repaired}".encode(
                    "utf-8", "surrogatepass"
                )
            ).hexdigest()[:20]
            iri = _IRIS[self] = f"{REPAIR_BASE}{self.kind}/{digest}"
        return iri

    def description(self) -> list[rdf.Triple]:
        node = f"<{self.iri}>"
        return [
            (node, f"<{RDF_TYPE}>", f"<{NKG}Repair>"),
            (node, f"<{NKG}repairKind>", f"<{NKG}{KINDS[self.kind][0]}>"),
            (node, f"<{NKG}originalValue>", rdf.literal(self.original)),
            (node, f"<{NKG}repairedValue>", self.repaired),
        ]


def repair_set_iri(repairs: frozenset[Repair]) -> str:
    """The IRI of a set of repairs (the same set always gets the same IRI)."""
    digest = hashlib.sha1("\n".join(sorted(r.iri for r in repairs)).encode()).hexdigest()[:20]
    return f"{REPAIR_BASE}set/{digest}"


def repair_set_description(repairs: frozenset[Repair]) -> list[rdf.Triple]:
    node = f"<{repair_set_iri(repairs)}>"
    out: list[rdf.Triple] = [(node, f"<{RDF_TYPE}>", f"<{NKG}RepairSet>")]
    out.extend((node, f"<{NKG}repair>", f"<{r.iri}>") for r in sorted(repairs))
    return out

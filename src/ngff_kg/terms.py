"""Ontology term identifiers: every spelling seen in the wild → one canonical OBO PURL.

Prefix handling is delegated to :mod:`curies` (prefix and URI-prefix synonyms); the few
spellings that are not CURIEs at all (``NCBI:txid9606``, NCBI web links, ``obo:FBbi:…``) are
rewritten into CURIEs first.

>>> canonical_term("NCBI:txid10090")
'http://purl.obolibrary.org/obo/NCBITaxon_10090'
>>> canonical_term("obo:FBbi:00000243")
'http://purl.obolibrary.org/obo/FBbi_00000243'
>>> canonical_term("https://example.org/x") is None
True
"""

from __future__ import annotations

import re
from functools import lru_cache

import curies

from .vocab import FBBI, NCBITAXON, OBO

_RECORDS = [
    curies.Record(
        prefix="NCBITaxon",
        uri_prefix=NCBITAXON,
        prefix_synonyms=["ncbitaxon", "NCBITAXON", "taxonomy", "NCBITaxID", "ncbi.taxon", "taxon"],
        uri_prefix_synonyms=[
            "https://purl.obolibrary.org/obo/NCBITaxon_",
            "https://identifiers.org/taxonomy:",
            "http://identifiers.org/taxonomy:",
            "https://identifiers.org/taxonomy/",
            "http://identifiers.org/taxonomy/",
            "https://identifiers.org/NCBITaxon:",
            "http://purl.bioontology.org/ontology/NCBITAXON/",
            "https://www.ncbi.nlm.nih.gov/taxonomy/",
            "https://www.ncbi.nlm.nih.gov/Taxonomy/",
            "http://www.ncbi.nlm.nih.gov/taxonomy/",
        ],
    ),
    curies.Record(
        prefix="FBbi",
        uri_prefix=FBBI,
        prefix_synonyms=["fbbi", "FBBI"],
        uri_prefix_synonyms=[
            "https://purl.obolibrary.org/obo/FBbi_",
            "https://identifiers.org/FBbi:",
            "http://identifiers.org/fbbi/",
            "http://purl.bioontology.org/ontology/FBbi/",
        ],
    ),
]

CONVERTER = curies.Converter(_RECORDS)

# Spellings that are not CURIEs of a known prefix; each is rewritten into one.
_REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^NCBI:\s*txid(\d+)$", re.I), r"NCBITaxon:\1"),
    (re.compile(r"^txid(\d+)$", re.I), r"NCBITaxon:\1"),
    (
        re.compile(
            r"^https?://www\.ncbi\.nlm\.nih\.gov/Taxonomy/Browser/wwwtax\.cgi\?.*\bid=(\d+)", re.I
        ),
        r"NCBITaxon:\1",
    ),
    (
        re.compile(r"^(?:obo:|https?://purl\.obolibrary\.org/obo/)NCBITaxon[:_](\d+)$"),
        r"NCBITaxon:\1",
    ),
    (re.compile(r"^(?:obo:|https?://purl\.obolibrary\.org/obo/)FBbi[:_](\d+)$", re.I), r"FBbi:\1"),
    (re.compile(r"^FBbi_(\d+)$", re.I), r"FBbi:\1"),
    (re.compile(r"^NCBITaxon_(\d+)$", re.I), r"NCBITaxon:\1"),
]
_HINT = re.compile(r"txid|ncbitaxon|taxonomy|taxon|fbbi", re.I)


@lru_cache(maxsize=16384)
def canonical_term(value: str) -> str | None:
    """The canonical OBO PURL of an NCBITaxon or FBbi identifier in any spelling, else ``None``.

    FBbi local ids are zero-padded to eight digits (``FBbi:243`` → ``FBbi_00000243``).
    """
    value = value.strip()
    if not _HINT.search(value):
        return None
    for pattern, replacement in _REWRITES:
        if pattern.match(value):
            value = pattern.sub(replacement, value)
            break
    expanded = CONVERTER.expand_or_standardize(value)
    if expanded is None:
        return None
    if expanded.startswith(NCBITAXON):
        local = expanded[len(NCBITAXON) :]
        return NCBITAXON + str(int(local)) if local.isdigit() else None
    if expanded.startswith(FBBI):
        local = expanded[len(FBBI) :]
        return FBBI + local.zfill(8) if local.isdigit() else None
    return None


def ontology_of(iri: str) -> str | None:
    """``"NCBITaxon"``, ``"FBbi"`` or another OBO prefix for an OBO PURL, else ``None``."""
    if not iri.startswith(OBO):
        return None
    local = iri[len(OBO) :]
    prefix, sep, _ = local.partition("_")
    return prefix if sep else None


def curie(iri: str) -> str:
    """A compact form for display (``NCBITaxon:10090``); unknown IRIs come back unchanged."""
    prefix = ontology_of(iri)
    if prefix is None:
        return iri
    return f"{prefix}:{iri[len(OBO) + len(prefix) + 1 :]}"

"""Ontology term identifiers: every spelling seen in the wild → one canonical IRI.

Prefix handling is delegated to :mod:`curies` (prefix and URI-prefix synonyms, following
bioregistry's records for each prefix); the few spellings that are not CURIEs at all
(``NCBI:txid9606``, NCBI web links, ``obo:FBbi:…``) are rewritten into CURIEs first.

NCBITaxon and FBbi are the ontologies the store is keyed by (:func:`canonical_term`). Terms of
a few other ontologies that turn up in the imaging-method field (NCIT, MI, OBI, EDAM) are
normalized too (:func:`canonical_iri`), so they can be recognised, typed and reported.

>>> canonical_term("NCBI:txid10090")
'http://purl.obolibrary.org/obo/NCBITaxon_10090'
>>> canonical_term("obo:FBbi:00000243")
'http://purl.obolibrary.org/obo/FBbi_00000243'
>>> canonical_term("https://example.org/x") is None
True
>>> canonical_iri("NCIT:C17753")
'http://purl.obolibrary.org/obo/NCIT_C17753'
>>> ONTOLOGIES[ontology_of(canonical_iri("edam:format_1915"))].iri
'http://edamontology.org'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import curies

from ngff_kg.vocab import EDAM, FBBI, NCBITAXON, OBO


@dataclass(frozen=True)
class OntologyInfo:
    """An ontology whose term identifiers ngff-kg recognises."""

    prefix: str  # CURIE prefix as displayed (``NCBITaxon``)
    key: str  # lower-case name used on the command line (``ncbitaxon``)
    title: str
    iri: str  # the ontology's own IRI, object of ``rdfs:isDefinedBy``
    local_id: str  # regular expression of a valid local identifier


#: Recognised ontologies by CURIE prefix.
ONTOLOGIES: dict[str, OntologyInfo] = {
    info.prefix: info
    for info in (
        OntologyInfo("NCBITaxon", "ncbitaxon", "NCBI Taxonomy", OBO + "ncbitaxon.owl", r"\d+"),
        OntologyInfo(
            "FBbi", "fbbi", "Biological Imaging Methods Ontology", OBO + "fbbi.owl", r"\d{8}"
        ),
        OntologyInfo("NCIT", "ncit", "NCI Thesaurus", OBO + "ncit.owl", r"C\d+"),
        OntologyInfo("MI", "mi", "PSI Molecular Interactions", OBO + "mi.owl", r"\d{4}"),
        OntologyInfo(
            "OBI", "obi", "Ontology for Biomedical Investigations", OBO + "obi.owl", r"\d{7}"
        ),
        OntologyInfo(
            "EDAM",
            "edam",
            "EDAM (bioimaging)",
            EDAM.rstrip("/"),
            r"(?:data|format|operation|topic)_\S+",
        ),
    )
}

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

_OTHER_RECORDS = [
    curies.Record(
        prefix="NCIT",
        uri_prefix=OBO + "NCIT_",
        prefix_synonyms=["ncit", "NCI", "NCIt", "NCI_Thesaurus", "ncithesaurus"],
        uri_prefix_synonyms=[
            "https://purl.obolibrary.org/obo/NCIT_",
            "http://identifiers.org/ncit/",
            "https://identifiers.org/ncit:",
            "https://identifiers.org/NCIT:",
            "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl#",
        ],
    ),
    curies.Record(
        prefix="MI",
        uri_prefix=OBO + "MI_",
        prefix_synonyms=["mi", "PSI-MI", "psimi", "psi-mi"],
        uri_prefix_synonyms=[
            "https://purl.obolibrary.org/obo/MI_",
            "https://identifiers.org/MI:",
            "http://identifiers.org/psimi/MI:",
        ],
    ),
    curies.Record(
        prefix="OBI",
        uri_prefix=OBO + "OBI_",
        prefix_synonyms=["obi"],
        uri_prefix_synonyms=[
            "https://purl.obolibrary.org/obo/OBI_",
            "https://identifiers.org/OBI:",
            "http://identifiers.org/obi/OBI:",
        ],
    ),
    curies.Record(
        prefix="EDAM",
        uri_prefix=EDAM,
        prefix_synonyms=["edam"],
        uri_prefix_synonyms=["https://edamontology.org/", "https://identifiers.org/edam:"],
    ),
]

CONVERTER = curies.Converter(_RECORDS)
_ALL_CONVERTER = curies.Converter(_RECORDS + _OTHER_RECORDS)

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
_OBO_FORM = re.compile(r"^(?:obo:|https?://purl\.obolibrary\.org/obo/)([A-Za-z]+)[:_](\S+)$")
_OTHER_HINT = re.compile(r"ncit|nci|mi|obi|edam|obo", re.I)


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


@lru_cache(maxsize=16384)
def canonical_iri(value: str) -> str | None:
    """The canonical IRI of a term of any ontology in :data:`ONTOLOGIES`, in any spelling.

    NCBITaxon and FBbi as :func:`canonical_term`; NCIT, MI and OBI terms become OBO PURLs
    (``NCIT:C17753``, ``obo:MI_0040``, ``OBI:0000185``); EDAM terms become
    ``http://edamontology.org/…`` IRIs. Anything else gives ``None``.
    """
    found = canonical_term(value)
    if found is not None:
        return found
    value = value.strip()
    if not _OTHER_HINT.search(value):
        return None
    obo_form = _OBO_FORM.match(value)
    if obo_form:
        value = f"{obo_form.group(1)}:{obo_form.group(2)}"
    expanded = _ALL_CONVERTER.expand_or_standardize(value)
    if expanded is None:
        return None
    prefix = ontology_of(expanded)
    if prefix is None or (info := ONTOLOGIES.get(prefix)) is None:
        return None
    local = expanded.rsplit("/", 1)[1].removeprefix(prefix + "_")
    return expanded if re.fullmatch(info.local_id, local) else None


def ontology_of(iri: str) -> str | None:
    """The CURIE prefix of a term IRI: ``"NCBITaxon"``, ``"FBbi"``, another OBO prefix,
    ``"EDAM"`` for EDAM IRIs; ``None`` for other IRIs."""
    if iri.startswith(OBO):
        local = iri[len(OBO) :]
        prefix, sep, _ = local.partition("_")
        return prefix if sep else None
    if iri.startswith(EDAM):
        return "EDAM"
    return None


def ontology_iri(iri: str) -> str | None:
    """The IRI of the ontology a term IRI belongs to (OBO convention ``…/obo/ncit.owl``)."""
    prefix = ontology_of(iri)
    if prefix is None:
        return None
    info = ONTOLOGIES.get(prefix)
    return info.iri if info is not None else f"{OBO}{prefix.lower()}.owl"


def curie(iri: str) -> str:
    """A compact form for display (``NCBITaxon:10090``); unknown IRIs come back unchanged."""
    prefix = ontology_of(iri)
    if prefix is None:
        return iri
    if prefix == "EDAM":
        return f"EDAM:{iri[len(EDAM) :]}"
    return f"{prefix}:{iri[len(OBO) + len(prefix) + 1 :]}"

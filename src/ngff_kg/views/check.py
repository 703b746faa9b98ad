"""Metadata-quality check of a store: what is missing, wrong or suspicious, and what was repaired.

Every finding names a dataset; the checks, in report order:

- ``missing-organism``, ``missing-modality``, ``missing-license``, ``missing-name``: the
  dataset lacks it (the same rule as the ``missing-metadata`` query, so the counts agree);
- ``unknown-term``: an organism or imaging method that is no term of the ontology the field
  expects (or, for taxa, not in the loaded lineages; install ``ngff-kg[taxonomy]`` to check
  against the whole NCBI Taxonomy);
- ``obsolete-term``: an obsolete (deprecated) term, with its replacement where there is one;
- ``wrong-ontology``: a term of another ontology (NCIT, MI, OBI, EDAM…) where NCBITaxon
  (organism) or FBbi (imaging method) is expected;
- ``suspicious-organism``: the name or description names a cell line (:data:`CELL_LINES`)
  whose species does not match any organism of the dataset (HeLa tagged as orangutan);
- ``ngff-violation``: a group document breaks the NGFF specification of its version (the
  ``ngff-violations`` query: one finding per violation, its rule as the value).

The repairs applied while harvesting are listed too; they are fixed, not findings.
Term values given as plain text rather than IRIs are not examined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ngff_kg.normalize.terms import ONTOLOGIES, curie, ontology_of
from ngff_kg.ontology.index import OntologyIndex
from ngff_kg.queries import QuerySource, is_iri
from ngff_kg.vocab import NCBITAXON

#: Check name → what a finding of it means.
CHECKS: dict[str, str] = {
    "missing-organism": "no organism (schema:taxonomicRange)",
    "missing-modality": "no imaging method (schema:measurementTechnique)",
    "missing-license": "no license",
    "missing-name": "no name, or a blank one",
    "unknown-term": "an organism or imaging method that is not a term of the expected ontology",
    "obsolete-term": "an obsolete ontology term",
    "wrong-ontology": "a term of another ontology than NCBITaxon (organism) or FBbi (modality)",
    "suspicious-organism": "the name or description names a cell line of another species",
    "ngff-violation": "a group document that breaks the NGFF specification of its version",
}
_EXPECTED = {"organism": "NCBITaxon", "modality": "FBbi"}


@dataclass(frozen=True)
class CellLine:
    """A widely used cell line and the species it comes from (Cellosaurus)."""

    name: str
    taxid: int
    pattern: str  # regular expression of its usual spellings
    case_sensitive: bool = False

    def regex(self) -> re.Pattern[str]:
        flags = 0 if self.case_sensitive else re.IGNORECASE
        return re.compile(rf"(?<![A-Za-z0-9])(?:{self.pattern})(?![A-Za-z0-9])", flags)


#: Common cell lines. Short names that are also ordinary words or names match case-sensitively.
CELL_LINES: tuple[CellLine, ...] = (
    CellLine("HeLa", 9606, r"hela"),
    CellLine("HEK293", 9606, r"hek[ -]?293[a-z]*"),
    CellLine("U2OS", 9606, r"u-?2 ?os"),
    CellLine("MCF-7", 9606, r"mcf-?7"),
    CellLine("MCF 10A", 9606, r"mcf-? ?10a"),
    CellLine("A549", 9606, r"A549", case_sensitive=True),
    CellLine("HCT 116", 9606, r"hct[ -]?116"),
    CellLine("hTERT RPE-1", 9606, r"(?:htert[ -]?)?rpe-?1"),
    CellLine("Hep G2", 9606, r"hep ?g2"),
    CellLine("Jurkat", 9606, r"jurkat"),
    CellLine("SH-SY5Y", 9606, r"sh-?sy5y"),
    CellLine("Caco-2", 9606, r"caco-?2"),
    CellLine("HaCaT", 9606, r"hacat"),
    CellLine("NIH 3T3", 10090, r"(?:nih[ /-]?)?3t3"),
    CellLine("C2C12", 10090, r"c2c12"),
    CellLine("RAW 264.7", 10090, r"raw ?264\.?7"),
    CellLine("CHO", 10029, r"CHO(?:-K1)?", case_sensitive=True),
    CellLine("COS-7", 9534, r"COS-?7", case_sensitive=True),
    CellLine("Vero", 60711, r"Vero", case_sensitive=True),
    CellLine("MDCK", 9615, r"MDCK", case_sensitive=True),
    CellLine("Sf9", 7108, r"Sf-?9|Sf-?21", case_sensitive=True),
    CellLine("Drosophila S2", 7227, r"S2R?\+? cells|Schneider 2", case_sensitive=True),
)


@dataclass(frozen=True, order=True)
class Finding:
    """One problem of one dataset."""

    check: str
    dataset: str
    value: str | None
    detail: str


@dataclass
class CheckReport:
    """The findings of :func:`check_store`, and the repairs applied while harvesting."""

    findings: list[Finding] = field(default_factory=list)
    #: kind, original, repaired, datasets (the ``repairs`` query)
    repairs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No finding (repairs do not count)."""
        return not self.findings

    def counts(self) -> dict[str, int]:
        """Number of datasets with each check's findings (every check, zeros included)."""
        per_check: dict[str, set[str]] = {name: set() for name in CHECKS}
        for finding in self.findings:
            per_check[finding.check].add(finding.dataset)
        return {name: len(datasets) for name, datasets in per_check.items()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: ``summary`` (check, description, datasets), ``findings``,
        ``repairs``."""
        counts = self.counts()
        return {
            "summary": [
                {"check": name, "description": CHECKS[name], "datasets": counts[name]}
                for name in CHECKS
            ],
            "findings": [
                {"check": f.check, "dataset": f.dataset, "value": f.value, "detail": f.detail}
                for f in self.findings
            ],
            "repairs": self.repairs,
        }

    def to_rows(self) -> list[dict[str, str]]:
        """Findings, then repairs, as rows of text: ``check``, ``dataset``, ``value``,
        ``detail`` (a repair: ``check`` is ``repair``, ``value`` the original)."""
        rows = [
            {"check": f.check, "dataset": f.dataset, "value": f.value or "", "detail": f.detail}
            for f in self.findings
        ]
        rows += [
            {
                "check": "repair",
                "dataset": "",
                "value": r["original"],
                "detail": f"{r['kind']} → {r['repaired']} ({r['datasets']} datasets)",
            }
            for r in self.repairs
        ]
        return rows


def check_store(source: QuerySource, index: OntologyIndex) -> CheckReport:
    """Check every dataset ``source`` queries (see the module docstring) against the ontology
    terms of ``index``."""
    findings: list[Finding] = []
    for row in source.query("datasets-missing-metadata").values():
        findings.append(Finding(f"missing-{row['field']}", row["dataset"], None, "missing"))
    facets = (("organism", "datasets-by-organism"), ("modality", "datasets-by-modality"))
    for field_name, query in facets:
        result = source.query(query)
        column = result.columns.index(field_name)
        for values in result.rows:
            if not is_iri(values[column]):
                continue  # a plain-text value: not examined
            term = values[column].value
            problem = term_problem(field_name, term, index)
            if problem is None:
                continue
            check, detail = problem
            datasets = source.query("dataset-terms", field=field_name, term=term).column("dataset")
            findings.extend(Finding(check, d, term, detail) for d in datasets)
    findings.extend(_suspicious_organisms(source, index))
    findings.extend(ngff_violations(source))
    order = {name: i for i, name in enumerate(CHECKS)}
    findings.sort(key=lambda f: (order[f.check], f.dataset, f.value or ""))
    return CheckReport(findings, source.query("repairs").values())


def term_problem(field_name: str, iri: str, index: OntologyIndex) -> tuple[str, str] | None:
    """``(check, detail)`` when ``iri`` is not a sound value of the field, else ``None``.

    :param field_name: ``"organism"`` or ``"modality"``.
    """
    expected = _EXPECTED[field_name]
    prefix = ontology_of(iri)
    if prefix is None:
        return "unknown-term", f"{iri} is not an ontology term; {expected} expected"
    if prefix != expected:
        info = ONTOLOGIES.get(prefix)
        source = f"{info.title} ({prefix})" if info is not None else prefix
        return (
            "wrong-ontology",
            f"{curie(iri)} is from {source}; the {field_name} field expects {expected}",
        )
    term = index.get(iri)
    if term is None:
        if prefix == "NCBITaxon" and index.taxonomy is None:
            where = (
                "not in the loaded NCBITaxon lineages (install ngff-kg[taxonomy] to check it "
                "against the whole NCBI Taxonomy)"
            )
        elif prefix == "NCBITaxon":
            where = "not in the NCBI Taxonomy (merged, deleted or never assigned)"
        else:
            where = f"not a term of {ONTOLOGIES[prefix].title}"
        return "unknown-term", f"{curie(iri)} is {where}"
    if term.deprecated:
        replaced = f"; replaced by {curie(term.replaced_by)}" if term.replaced_by else ""
        label = f" ({term.label})" if term.label else ""
        return "obsolete-term", f"{curie(iri)}{label} is obsolete{replaced}"
    return None


def cell_lines_in(text: str) -> list[CellLine]:
    """The cell lines of :data:`CELL_LINES` that ``text`` names.

    >>> [c.name for c in cell_lines_in("HeLa cells showing click chemistry")]
    ['HeLa']
    """
    return [line for line, regex in _REGEXES if regex.search(text)]


_REGEXES = [(line, line.regex()) for line in CELL_LINES]


def _suspicious_organisms(source: QuerySource, index: OntologyIndex) -> list[Finding]:
    found: list[Finding] = []
    for row in source.query("dataset-descriptions").values():
        text = " ".join(v for v in (row["name"], row["description"]) if isinstance(v, str))
        lines = cell_lines_in(text)
        if not lines:
            continue
        dataset = row["dataset"]
        organisms = source.query("dataset-terms", field="organism", dataset=dataset).values()
        taxa = {r["term"]: r["label"] for r in organisms if r["term"].startswith(NCBITAXON)}
        if not taxa or any(_consistent(t, line, index) for t in taxa for line in lines):
            continue
        named = ", ".join(f"{line.name} ({_taxon_name(line.taxid, index)})" for line in lines)
        for taxon, label in sorted(taxa.items()):
            found.append(
                Finding(
                    "suspicious-organism",
                    dataset,
                    taxon,
                    f"names {named}, but the organism is {label or 'unknown'} ({curie(taxon)})",
                )
            )
    return found


def ngff_violations(source: QuerySource) -> list[Finding]:
    """An ``ngff-violation`` finding per violation the harvest recorded."""
    return [
        Finding(
            "ngff-violation",
            row["dataset"],
            row["rule"],
            f"{row['severity']}: {row['document']} {row['path']}: {row['message']}",
        )
        for row in source.query("ngff-violations").values()
    ]


def _consistent(taxon: str, line: CellLine, index: OntologyIndex) -> bool:
    """Whether ``taxon`` is the cell line's species, a descendant or an ancestor of it."""
    species = f"{NCBITAXON}{line.taxid}"
    return species in index.ancestors(taxon) or taxon in index.ancestors(species)


def _taxon_name(taxid: int, index: OntologyIndex) -> str:
    term = index.get(f"{NCBITAXON}{taxid}")
    label = term.label if term is not None and term.label else "taxon"
    return f"{label}, NCBITaxon:{taxid}"


__all__ = ["CELL_LINES", "CHECKS", "CellLine", "CheckReport", "Finding", "check_store"]

"""Hierarchy-aware queries and the metadata check on the real corpus (skipped where absent).

Expected answers come from the raw JSON (``corpus_reference``) and from the ontology files,
read here with pyoxigraph's parser and walked breadth-first; the NCBITaxon lineages are also
compared with the reference lineage listing in ``../shared/ontologies`` where it exists.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import corpus_reference as ref
import pyoxigraph as ox
import pytest
from conftest import ROOT, fbbi, taxon

from ngff_kg import Catalog

SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
HAS_RANK = "http://purl.obolibrary.org/obo/ncbitaxon#has_rank"
LINEAGES = ROOT.parent / "shared" / "ontologies" / "ncbitaxon-corpus-lineages.txt"
MAMMALIA = taxon(40674)
FLUORESCENCE = fbbi(246)


def read_ttl(name: str) -> tuple[dict[str, set[str]], dict[str, str], dict[str, str]]:
    """Parents, labels and ranks of an ontology file."""
    parents: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    ranks: dict[str, str] = {}
    for t in ox.parse(path=str(ROOT / "ontologies" / name), format=ox.RdfFormat.TURTLE):
        if t.predicate.value == SUBCLASS:
            parents[t.subject.value].add(t.object.value)
        elif t.predicate.value == LABEL:
            labels[t.subject.value] = t.object.value
        elif t.predicate.value == HAS_RANK:
            ranks[t.subject.value] = t.object.value.rsplit("_", 1)[1]
    return parents, labels, ranks


def ancestors(parents: dict[str, set[str]], term: str) -> set[str]:
    seen, todo = {term}, [term]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


@pytest.fixture(scope="module")
def taxa():
    return read_ttl("ncbitaxon.ttl")


@pytest.fixture(scope="module")
def methods():
    return read_ttl("fbbi.ttl")


def datasets(catalog: Catalog, **params: str) -> set[str]:
    return set(catalog.query("find-datasets", **params).column("dataset"))


def raw_datasets_under(
    corpus: Path, parents: dict[str, set[str]], top: str, field: str
) -> set[str]:
    """Roots whose raw ``field`` values (organisms or modalities) include ``top`` or a
    descendant of it."""
    return {
        url
        for url, info in ref.roots(str(corpus)).items()
        if any(top in ancestors(parents, term) for term in getattr(info, field))
    }


def test_mammalia_is_exactly_the_mammal_datasets(
    corpus_catalog: Catalog, corpus: Path, taxa
) -> None:
    expected = raw_datasets_under(corpus, taxa[0], MAMMALIA, "organisms")
    assert len(expected) == 13_684  # mouse 13,375 + human 307 + rat + orangutan
    for spelling in ("Mammalia", "mammals", "NCBITaxon:40674", "NCBI:txid40674"):
        assert datasets(corpus_catalog, organism=spelling) == expected, spelling


def test_reference_lineages_agree_with_the_slim(corpus: Path, taxa) -> None:
    if not LINEAGES.is_file():
        pytest.skip(f"{LINEAGES} not found")
    parents, labels, _ = taxa
    listed: dict[str, bool] = {}
    taxid = None
    for line in LINEAGES.read_text("utf-8").splitlines():
        head = re.match(r"^== (\d+) ", line)
        if head:
            taxid = head.group(1)
        elif taxid is not None and ">" in line:
            listed[taxon(int(taxid))] = "Mammalia[class]" in line
    used = set().union(*(i.organisms for i in ref.roots(str(corpus)).values()))
    assert used <= set(listed)
    for organism in used:
        assert (MAMMALIA in ancestors(parents, organism)) == listed[organism], labels[organism]


def test_fluorescence_includes_confocal_spinning_disk_and_spim(
    corpus_catalog: Catalog, corpus: Path, methods
) -> None:
    roots = ref.roots(str(corpus))
    expected = raw_datasets_under(corpus, methods[0], FLUORESCENCE, "modalities")
    found = datasets(corpus_catalog, modality="fluorescence microscopy")
    assert found == expected
    for method in (fbbi(251), fbbi(253), fbbi(369)):
        tagged = {url for url, info in roots.items() if method in info.modalities}
        assert tagged and tagged <= found
    assert len(found) == 552 + 112 + 7 + 3
    assert datasets(corpus_catalog, modality="SPIM") == {
        url for url, info in roots.items() if fbbi(369) in info.modalities
    }


def test_names_and_identifiers_find_the_same(corpus_catalog: Catalog) -> None:
    mouse = datasets(corpus_catalog, organism="NCBI:txid10090")
    assert len(mouse) == 13_375
    assert datasets(corpus_catalog, organism="mouse") == mouse
    assert datasets(corpus_catalog, organism="house mouse", modality="bright-field microscopy") == (
        datasets(corpus_catalog, organism="NCBI:txid10090", modality="obo:FBbi_00000243")
    )


def test_facets_with_descendants_and_labels(corpus_catalog: Catalog, corpus: Path, taxa) -> None:
    parents, labels, _ = taxa
    counts = ref.datasets_by_organism(str(corpus))
    rows = corpus_catalog.query("datasets-by-organism", organism="Mammalia").values()
    assert {r["organism"]: r["datasets"] for r in rows} == {
        o: n for o, n in counts.items() if MAMMALIA in ancestors(parents, o)
    }
    every = corpus_catalog.query("datasets-by-organism").values()
    assert all(r["label"] == labels[r["organism"]] for r in every)
    modalities = corpus_catalog.query("datasets-by-modality").values()
    assert all(r["label"] for r in modalities)


@pytest.mark.parametrize("rank", ["class", "kingdom", "genus"])
def test_taxon_rank_rollup(corpus_catalog: Catalog, corpus: Path, taxa, rank: str) -> None:
    parents, labels, ranks = taxa
    expected: Counter = Counter()
    for info in ref.roots(str(corpus)).values():
        found = {a for o in info.organisms for a in ancestors(parents, o) if ranks.get(a) == rank}
        missing = any(
            not any(ranks.get(a) == rank for a in ancestors(parents, o)) for o in info.organisms
        )
        expected.update(found)
        if missing:
            expected[None] += 1
    rows = corpus_catalog.query("datasets-by-taxon-rank", rank=rank).values()
    assert {r["taxon"]: r["datasets"] for r in rows} == dict(expected)
    assert all(r["label"] == labels[r["taxon"]] for r in rows if r["taxon"])


def test_modality_branch_rollup(corpus_catalog: Catalog, corpus: Path, methods) -> None:
    rows = corpus_catalog.query(
        "datasets-by-modality-branch", ancestor="fluorescence microscopy"
    ).values()
    assert {r["label"]: r["datasets"] for r in rows} == {
        "fluorescence microscopy": 552,  # tagged with the ancestor itself
        "confocal microscopy": 112 + 3,  # spinning disk rolled up into confocal
        "SPIM": 7,
    }
    top = corpus_catalog.query("datasets-by-modality-branch").values()
    microscopy = raw_datasets_under(corpus, methods[0], fbbi(241), "modalities")
    assert {r["label"]: r["datasets"] for r in top}["microscopy"] == len(microscopy)


def test_check_counts_and_hela(corpus_catalog: Catalog, corpus: Path) -> None:
    report = corpus_catalog.check()
    counts = report.counts()
    missing = ref.missing_metadata(str(corpus))
    assert {k: counts[f"missing-{k}"] for k in missing} == missing
    listed = {f.dataset for f in report.findings if f.check == "missing-license"}
    assert listed == {u for u, i in ref.roots(str(corpus)).items() if i.license is None}
    # the known data error: HeLa tagged as orangutan (9601); found straight from the raw JSON
    expected = set()
    for url, info in ref.roots(str(corpus)).items():
        if not info.has_crate:
            continue
        crate = json.loads((corpus / info.path / "ro-crate-metadata.json").read_text("utf-8"))
        root = next(e for e in crate["@graph"] if e.get("@id") == "./")
        text = f"{root.get('name', '')} {root.get('description', '')}"
        if re.search(r"\bhela\b", text, re.I) and taxon(9606) not in info.organisms:
            expected.add((url, frozenset(info.organisms)))
    assert len(expected) == 1 and taxon(9601) in next(iter(expected))[1]
    suspicious = {f.dataset for f in report.findings if f.check == "suspicious-organism"}
    assert suspicious == {url for url, _ in expected}
    assert counts["unknown-term"] == counts["obsolete-term"] == counts["wrong-ontology"] == 0

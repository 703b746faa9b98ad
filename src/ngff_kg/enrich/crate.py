"""Enrichment of one RO-Crate: the crate's JSON and what we know in, the enriched JSON out.

Nothing of the original is removed: entities, properties, values and context entries stay,
in their order. Only the broken forms that the profile repair replaces are rewritten in place
(non-canonical ontology identifiers such as ``NCBI:txid10090``, a license given as a string);
the challenge profile's missing term definitions are added to the context, exactly as
:data:`~ngff_kg.extract.rocrate.PROFILE_PATCH` reads them, so a harvest of the enriched crate
needs no patch. What is added:

* the root dataset links directly to its imaging methods (``measurementTechnique``) and
  organisms (``taxonomicRange``), so any JSON-LD reader reaches them from ``./``;
* every FBbi / NCBITaxon term referenced becomes a ``DefinedTerm`` (label, CURIE) in a
  ``DefinedTermSet``; each license IRI a ``CreativeWork`` entity;
* NGFF facts of the dataset as ``PropertyValue`` entities (``additionalProperty`` of the root),
  identified ``#ngff-kg-…``; they are regenerated on every run;
* what RO-Crate 1.1 requires of the root when it is missing: ``datePublished``, ``name`` (the
  directory name) and ``description`` (the kind, organisms and imaging methods); ``conformsTo``
  RO-Crate when the descriptor has none; and an ``UpdateAction`` (``#ngff-kg-enrichment``)
  naming ngff-kg and its version.

The result is a fixpoint: enriching an enriched crate with the same facts gives the same
document, down to the date of the action (see :func:`enrich_document`).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ParamSpec
from urllib.parse import unquote

from ngff_kg.enrich.facts import DatasetFacts, day_of
from ngff_kg.errors import ExtractionError
from ngff_kg.extract.rocrate import CRATE_FILE, PROFILE_PATCH, extract_crate, license_iri
from ngff_kg.normalize.jsonld import ActiveContext, JsonLdConverter, Unsupported
from ngff_kg.normalize.jsonld import _resolve as resolve
from ngff_kg.normalize.terms import canonical_term, curie, ontology_of
from ngff_kg.vocab import DCT, NKG, OBO, SCHEMA

#: IRI of ngff-kg as the instrument of the enrichment action.
TOOL_IRI = "https://w3id.org/ngff-kg"
#: Fragment identifiers of the entities ngff-kg owns in a crate start with this.
OWN_PREFIX = "#ngff-kg-"
ACTION_ID = OWN_PREFIX + "enrichment"
RO_CRATE = "https://w3id.org/ro/crate/"
QUDT_UNIT = "http://qudt.org/vocab/unit/"

#: The ontologies whose terms become DefinedTerms: prefix → (term set IRI, name).
TERM_SETS: dict[str, tuple[str, str]] = {
    "NCBITaxon": (OBO + "ncbitaxon.owl", "NCBI organismal classification"),
    "FBbi": (OBO + "fbbi.owl", "Biological Imaging Methods Ontology (FBbi)"),
}

#: NGFF unit names → QUDT units (the ones whose QUDT name is certain).
QUDT_UNITS: dict[str, str] = {
    "angstrom": "ANGSTROM",
    "picometer": "PicoM",
    "nanometer": "NanoM",
    "micrometer": "MicroM",
    "millimeter": "MilliM",
    "centimeter": "CentiM",
    "meter": "M",
    "kilometer": "KiloM",
    "nanosecond": "NanoSEC",
    "microsecond": "MicroSEC",
    "millisecond": "MilliSEC",
    "second": "SEC",
    "minute": "MIN",
    "hour": "HR",
    "day": "DAY",
}

#: Keys and types written by the enrichment, with the IRI each must mean.
_VOCAB: dict[str, str] = {
    name: SCHEMA + name
    for name in (
        "name description license datePublished measurementTechnique taxonomicRange "
        "termCode inDefinedTermSet additionalProperty propertyID value unitText unitCode "
        "object instrument endTime actionStatus version DefinedTerm DefinedTermSet "
        "CreativeWork PropertyValue UpdateAction SoftwareApplication"
    ).split()
}
_VOCAB["conformsTo"] = DCT + "conformsTo"

_CC = re.compile(
    r"^https?://creativecommons\.org/licenses/(by(?:-nc)?(?:-sa|-nd)?)/(\d\.\d)(?:/[a-z]{2})?/?$"
)
_CC0 = re.compile(r"^https?://creativecommons\.org/publicdomain/zero/(\d\.\d)/?$")
_SPDX = re.compile(r"^https?://spdx\.org/licenses/([A-Za-z0-9.+-]+?)(?:\.html|\.json)?$")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:")


def license_name(iri: str) -> str | None:
    """A short name of well-known license IRIs (``CC BY 4.0``, ``CC0 1.0``, SPDX ids)."""
    if match := _CC.match(iri):
        return f"CC {match.group(1).upper()} {match.group(2)}"
    if match := _CC0.match(iri):
        return f"CC0 {match.group(1)}"
    if match := _SPDX.match(iri):
        return match.group(1)
    return None


@dataclass
class Enrichment:
    """The enriched document and whether it differs from the original."""

    doc: dict[str, Any]
    changed: bool
    added: list[str] = field(default_factory=list)  # what was added, for the report
    #: the root has no ``datePublished``, which RO-Crate 1.1 requires (nothing said it)
    undated: bool = False


@dataclass
class _Crate:
    """A crate being enriched: its JSON, how its identifiers expand, its entities by IRI."""

    doc: dict[str, Any]
    ctx: ActiveContext
    base: str
    graph: list[Any]
    additions: dict[str, Any] = field(default_factory=dict)  # new context definitions
    used: set[str] = field(default_factory=set)  # keys and type names of the original
    added: list[str] = field(default_factory=list)
    _index: dict[str, dict[str, Any]] | None = None

    def expand_id(self, value: str) -> str | None:
        expanded = self.ctx.expand_iri(value, vocab=False)
        if expanded is None or expanded.startswith("@"):
            return None
        if not _ABSOLUTE.match(expanded):
            expanded = resolve(expanded, self.base)
        return expanded

    def entity(self, iri: str) -> dict[str, Any] | None:
        """The top-level entity whose ``@id`` expands to ``iri`` (the first one)."""
        if self._index is None:
            self._index = {}
            for node in self.graph:
                if isinstance(node, dict) and isinstance(node.get("@id"), str):
                    expanded = self.expand_id(node["@id"])
                    if expanded is not None:
                        self._index.setdefault(expanded, node)
        return self._index.get(iri)

    def reindex(self) -> None:
        self._index = None

    def append(self, node: dict[str, Any]) -> None:
        self.graph.append(node)
        if self._index is not None:
            self._index.setdefault(node["@id"], node)

    def key(self, name: str) -> str:
        """The key (or type name) to write for the term ``name`` of :data:`_VOCAB`.

        A term the context defines with that meaning is used as it is; an undefined one is
        added to the context; one the crate defines otherwise is written as the full IRI.
        """
        iri = _VOCAB[name]
        term = self.ctx.terms.get(name)
        if term is None or term.patched:
            if name in self.used and name[0].isupper():
                # an undefined type name the original uses reads as an IRI relative to the
                # base; defining it would change that statement: write the IRI instead
                return iri
            if name not in self.additions:
                self.additions[name] = iri
            return name
        return name if term.iri == iri else iri


_P = ParamSpec("_P")


def _one_crate_error(enrich: Callable[_P, Enrichment]) -> Callable[_P, Enrichment]:
    """``enrich`` with any exception but ours turned into that crate's ``ExtractionError``."""

    @functools.wraps(enrich)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> Enrichment:
        try:
            return enrich(*args, **kwargs)
        except ExtractionError:
            raise
        except Exception as exc:  # a shape this module did not foresee: that crate's error
            raise ExtractionError(f"cannot enrich the crate: {type(exc).__name__}: {exc}") from exc

    return guarded


@_one_crate_error
def enrich_document(
    doc: Any,
    facts: DatasetFacts | None,
    *,
    dataset_iri: str,
    converter: JsonLdConverter,
    labels: Mapping[str, str],
    now: dt.datetime,
    date_published: str | None,
    tool_version: str,
) -> Enrichment:
    """Enrich one crate (``doc`` is not modified).

    :param dataset_iri: IRI of the dataset root (with a trailing ``/``); the crate's base is
        the metadata file in it.
    :param labels: ontology term IRI → label.
    :param now: time of the enrichment, recorded in the action when anything changed.
    :param date_published: ``datePublished`` for a root that has none; ``None``: what the
        metadata says (the root's ``dateCreated``, else ``facts.date_published``: the date the
        store has from the crate or the images' acquisition date), never a file's time; when
        nothing says it the root is left without one (``Enrichment.undated``).
    :raises ExtractionError: the document is not an RO-Crate this module can enrich.
    :raises UnknownContextError: it needs a context that is not available offline.
    """
    extracted = extract_crate(doc, dataset_iri, converter)  # validates the document too
    if not isinstance(doc, dict) or doc.get("@context") is None:
        # without a context the crate states almost nothing in RDF: adding the RO-Crate
        # context would change what its statements mean, so enrich leaves it alone
        raise ExtractionError(
            f"{CRATE_FILE} has no @context: enrich cannot add to it without changing what it says"
        )
    graph = doc["@graph"]
    if not isinstance(graph, list):
        raise ExtractionError("@graph must be a list of entities (a flattened RO-Crate)")
    base = dataset_iri + CRATE_FILE
    # contexts that are not available offline are left in the document; enrich only writes
    # terms the known ones define (or full IRIs)
    known, _unknown = converter.without_unknown_contexts(doc.get("@context"))
    try:
        # with the profile patch: its terms are read as the definitions added below will read
        ctx = converter.active_context(known, PROFILE_PATCH)
    except Unsupported as exc:
        raise ExtractionError(
            f"the crate's context uses JSON-LD that enrich cannot edit: {exc}"
        ) from exc
    new = json.loads(json.dumps(doc))  # a deep copy, several times faster than copy's
    crate = _Crate(new, ctx, base, new["@graph"], used=_used_names(graph))
    crate.graph[:] = [n for n in crate.graph if not (isinstance(n, dict) and _is_own(n.get("@id")))]
    if extracted.root is None or (root := crate.entity(extracted.root[1:-1])) is None:
        raise ExtractionError("the crate has no root data entity (about of the descriptor)")
    # RO-Crate 1.0 named the metadata file ro-crate-metadata.jsonld; a crate may have neither
    descriptor = crate.entity(base) or crate.entity(dataset_iri + CRATE_FILE + "ld")

    previous = {n["@id"]: n for n in graph if isinstance(n, dict) and _is_own(n.get("@id"))}

    _define_profile_terms(crate)
    terms = _canonical_references(crate)
    crate.reindex()  # identifiers may have been rewritten
    licenses = _license_references(crate, root)
    _link_root(crate, root, extracted.modalities, extracted.organisms)
    terms |= {t[1:-1] for t in extracted.modalities | extracted.organisms}
    _name_and_description(crate, root, dataset_iri, facts, terms, labels)
    if date_published is None:
        date_published = day_of(root.get("dateCreated")) or (
            facts.date_published if facts else None
        )
    if "datePublished" not in root and date_published:
        root[crate.key("datePublished")] = date_published
        crate.added.append("datePublished")
    if descriptor is not None and "conformsTo" not in descriptor:
        descriptor[crate.key("conformsTo")] = {"@id": _ro_crate_version(new.get("@context"))}
        crate.added.append("conformsTo")
    _license_entities(crate, licenses)
    _term_entities(crate, terms, labels)
    facts_nodes = _fact_entities(crate, facts) if facts is not None else []
    _set_own_properties(crate, root, facts_nodes)
    crate.graph.extend(facts_nodes)

    # the action: kept as it was when nothing else changes, so a second run is a no-op
    old_action, old_tool = previous.get(ACTION_ID), previous.get(TOOL_IRI)
    crate.graph.extend(_action(crate, root, old_action, old_tool, now, tool_version))
    _write_context_additions(crate)
    undated = "datePublished" not in root
    if new == doc:
        return Enrichment(doc, False, undated=undated)
    if old_action is not None:  # something changed: the action gets this run's time and version
        crate.graph[-2:] = _action(crate, root, None, None, now, tool_version)
    return Enrichment(new, True, crate.added, undated)


def serialize(doc: Any) -> bytes:
    """The crate as written: UTF-8 JSON, 2-space indent, keys in document order, final newline."""
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- steps


def _used_names(graph: Any) -> set[str]:
    """Every key and type name used in the original graph."""
    used: set[str] = set()
    for node in _walk_nodes(graph):
        used.update(k for k in node if isinstance(k, str))
        types = node.get("@type")
        used.update(
            t for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)
        )
    return used


def _is_own(node_id: object) -> bool:
    return isinstance(node_id, str) and (node_id.startswith(OWN_PREFIX) or node_id == TOOL_IRI)


def _walk_nodes(value: Any) -> Iterable[dict[str, Any]]:
    """Every node object of the graph, embedded ones included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict) and "@value" not in item:
            yield item
            for key, child in item.items():
                if key not in ("@context", "@id", "@type") and isinstance(child, list | dict):
                    stack.append(child)


def _define_profile_terms(crate: _Crate) -> None:
    """Add the challenge profile's definitions for the terms the crate uses but leaves undefined."""
    used: set[str] = set()
    for node in _walk_nodes(crate.graph):
        used.update(node)
        types = node.get("@type")
        used.update(
            t for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)
        )
    for term, definition in PROFILE_PATCH.items():
        known = crate.ctx.terms.get(term)
        if term in used and (known is None or known.patched):
            crate.additions[term] = copy.deepcopy(definition)
            crate.added.append(f"definition of {term}")


def _canonical_references(crate: _Crate) -> set[str]:
    """Rewrite non-canonical ontology identifiers to their OBO PURL; the terms referenced."""
    terms: set[str] = set()

    def fix(value: str) -> str:
        if not _ABSOLUTE.match(value):
            return value  # relative: an entity of the crate
        expanded = crate.expand_id(value)
        canonical = canonical_term(expanded) if expanded else None
        if canonical is None:
            return value
        terms.add(canonical)
        if value != canonical:
            crate.added.append(f"canonical {curie(canonical)}")
        return canonical

    for node in _walk_nodes(crate.graph):
        for key, value in node.items():
            if key == "@id" and isinstance(value, str):
                node[key] = fix(value)
            elif key in ("@type", "@context") or key.startswith("@"):
                continue
            else:
                term = crate.ctx.terms.get(key)
                by_id = term is not None and term.type in ("@id", "@vocab")
                items = value if isinstance(value, list) else [value]
                for index, item in enumerate(items):
                    if isinstance(item, str) and by_id:
                        items[index] = fix(item)
                if not isinstance(value, list) and items[0] is not value:
                    node[key] = items[0]
    return terms


def _license_references(crate: _Crate, root: dict[str, Any]) -> list[str]:
    """License IRIs of the root; string licenses become references to them."""
    found: list[str] = []
    keys = [k for k in ("license", "licence") if k in root]
    for key in keys:
        items = root[key] if isinstance(root[key], list) else [root[key]]
        fixed: list[Any] = []
        for item in items:
            if isinstance(item, str) and (iri := license_iri(item)) is not None:
                fixed.append({"@id": iri})
                crate.added.append("license as IRI")
            else:
                fixed.append(item)
            ref = fixed[-1]
            if isinstance(ref, dict) and isinstance(ref.get("@id"), str):
                iri = crate.expand_id(ref["@id"])
                if iri and iri not in found:
                    found.append(iri)
        root[key] = fixed if isinstance(root[key], list) else fixed[0]
    if keys == ["licence"] and found:
        root[crate.key("license")] = copy.deepcopy(root["licence"])
    return found


def _add_references(crate: _Crate, node: dict[str, Any], name: str, iris: Iterable[str]) -> bool:
    key = crate.key(name)
    current = node.get(key)
    items = [] if current is None else current if isinstance(current, list) else [current]
    present = {
        crate.expand_id(i["@id"])
        for i in items
        if isinstance(i, dict) and isinstance(i.get("@id"), str)
    }
    new = [{"@id": iri} for iri in iris if iri not in present]
    if not new:
        return False
    items = items + new
    node[key] = items[0] if len(items) == 1 and not isinstance(current, list) else items
    return True


def _link_root(
    crate: _Crate, root: dict[str, Any], modalities: set[str], organisms: set[str]
) -> None:
    if _add_references(crate, root, "measurementTechnique", sorted(t[1:-1] for t in modalities)):
        crate.added.append("measurementTechnique on the root")
    if _add_references(crate, root, "taxonomicRange", sorted(t[1:-1] for t in organisms)):
        crate.added.append("taxonomicRange on the root")


_KIND_TEXT = {
    "image": "image",
    "plate": "plate",
    "bioformats2raw": "bioformats2raw collection",
    "labels": "label images",
    "well": "well",
}


def _name_and_description(
    crate: _Crate,
    root: dict[str, Any],
    dataset_iri: str,
    facts: DatasetFacts | None,
    terms: set[str],
    labels: Mapping[str, str],
) -> None:
    """RO-Crate requires a name and a description of the root: where one is missing, the
    directory name, and a description stating what the metadata says (kind, organism, method).
    """
    if "name" not in root and _VOCAB["name"] not in root:
        name = unquote(dataset_iri.rstrip("/").rsplit("/", 1)[-1])
        if name:
            root[crate.key("name")] = name
            crate.added.append("name")
    if "description" not in root and _VOCAB["description"] not in root:
        kind = _KIND_TEXT.get(facts.kind or "", "dataset") if facts else "dataset"
        text = f"OME-Zarr {kind}"
        if facts is not None and facts.ngff_version:
            text += f" (NGFF {facts.ngff_version})"
        for prefix, what in (("NCBITaxon", "organism"), ("FBbi", "imaging method")):
            names = sorted(labels.get(t, curie(t)) for t in terms if ontology_of(t) == prefix)
            if names:
                text += f"; {what}: {', '.join(names)}"
        root[crate.key("description")] = text + ". Described by ngff-kg from its metadata."
        crate.added.append("description")


def _ro_crate_version(context: Any) -> str:
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, str) and (match := re.search(r"/ro/crate/(1\.\d)/context", item)):
            return RO_CRATE + match.group(1)
    return RO_CRATE + "1.1"


def _license_entities(crate: _Crate, licenses: list[str]) -> None:
    for iri in licenses:
        if crate.entity(iri) is not None:
            continue
        node: dict[str, Any] = {"@id": iri, "@type": crate.key("CreativeWork")}
        name = license_name(iri)
        if name:
            node[crate.key("name")] = name
        crate.append(node)
        crate.added.append("license entity")


def _term_entities(crate: _Crate, terms: set[str], labels: Mapping[str, str]) -> None:
    sets_used: list[str] = []
    for iri in sorted(terms):
        prefix = ontology_of(iri)
        if prefix not in TERM_SETS:
            continue
        set_iri = TERM_SETS[prefix][0]
        if set_iri not in sets_used:
            sets_used.append(set_iri)
        node = crate.entity(iri)
        if node is None:
            node = {"@id": iri}
            crate.append(node)
        _add_type(crate, node, "DefinedTerm")
        for name, value in (
            ("name", labels.get(iri)),
            ("termCode", curie(iri)),
            ("inDefinedTermSet", {"@id": set_iri}),
        ):
            if value is not None and name not in node and _VOCAB[name] not in node:
                node[crate.key(name)] = value
                crate.added.append(f"{name} of {curie(iri)}")
    for prefix, (set_iri, set_name) in TERM_SETS.items():
        if set_iri in sets_used and crate.entity(set_iri) is None:
            crate.append(
                {"@id": set_iri, "@type": crate.key("DefinedTermSet"), crate.key("name"): set_name}
            )
            crate.added.append(f"{prefix} term set")


def _add_type(crate: _Crate, node: dict[str, Any], name: str) -> None:
    wanted = _VOCAB[name]
    types = node.get("@type")
    items = [] if types is None else types if isinstance(types, list) else [types]
    for item in items:
        if isinstance(item, str) and crate.ctx.expand_iri(item, vocab=True) == wanted:
            return
    items.append(crate.key(name))
    node["@type"] = items[0] if len(items) == 1 else items
    crate.added.append(f"type {name}")


def _fact_entities(crate: _Crate, facts: DatasetFacts) -> list[dict[str, Any]]:
    """``PropertyValue`` entities for the NGFF facts, in a fixed order."""
    rows: list[tuple[str, str, str, Any, str | None]] = []  # id, name, property, value, unit

    def add(suffix: str, name: str, prop: str, value: Any, unit: str | None = None) -> None:
        if value is not None and value != "":
            rows.append((suffix, name, prop, value, unit))

    add("kind", "OME-Zarr kind", "kind", facts.kind)
    add("ngff-version", "NGFF version", "ngffVersion", facts.ngff_version)
    add("converter", "converter", "converterName", facts.converter_name)
    add("converter-version", "converter version", "converterVersion", facts.converter_version)
    add("axes", "axes", "axes", ",".join(a.name for a in facts.axes) or None)
    add("shape", "level-0 shape", "shape", facts.shape)
    for axis in facts.axes:
        if axis.scale is None or axis.type not in ("space", "time", None):
            continue
        if axis.type is None and axis.name.lower() not in ("x", "y", "z"):
            continue
        label = "time step" if axis.type == "time" else "pixel size"
        suffix = f"{label.replace(' ', '-')}-{_ID_UNSAFE.sub('_', axis.name)}"
        add(suffix, f"{label} ({axis.name})", "scale", _number(axis.scale), axis.unit)
    add("resolution-levels", "resolution levels", "resolutionLevels", facts.levels)
    add("channels", "channels", "channelCount", facts.channel_count)
    for index, channel in enumerate(facts.channels):
        add(f"channel-{index}", f"channel {index}", "channel", channel)
    add("plate-rows", "plate rows", "plateRows", facts.plate_rows)
    add("plate-columns", "plate columns", "plateColumns", facts.plate_columns)
    add("wells", "wells", "wellCount", facts.wells)
    add("fields", "fields per well", "fieldCount", facts.fields_per_well)

    nodes = []
    for suffix, name, prop, value, unit in rows:
        node: dict[str, Any] = {
            "@id": OWN_PREFIX + suffix,
            "@type": crate.key("PropertyValue"),
            crate.key("name"): name,
            crate.key("propertyID"): NKG + prop,
            crate.key("value"): value,
        }
        if unit:
            node[crate.key("unitText")] = unit
            if unit in QUDT_UNITS:
                node[crate.key("unitCode")] = {"@id": QUDT_UNIT + QUDT_UNITS[unit]}
        nodes.append(node)
    return nodes


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _set_own_properties(
    crate: _Crate, root: dict[str, Any], facts_nodes: list[dict[str, Any]]
) -> None:
    """Point ``additionalProperty`` of the root at the current fact entities (others kept)."""
    key = crate.key("additionalProperty") if facts_nodes or "additionalProperty" in root else None
    if key is None:
        return
    current = root.get(key)
    items = [] if current is None else current if isinstance(current, list) else [current]
    kept = [i for i in items if not (isinstance(i, dict) and _is_own(i.get("@id")))]
    refs = kept + [{"@id": n["@id"]} for n in facts_nodes]
    if refs:
        root[key] = refs
    else:
        root.pop(key, None)


def _action(
    crate: _Crate,
    root: dict[str, Any],
    old_action: dict[str, Any] | None,
    old_tool: dict[str, Any] | None,
    now: dt.datetime,
    version: str,
) -> list[dict[str, Any]]:
    """The enrichment action and ngff-kg as its instrument (RO-Crate's provenance pattern)."""
    end = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if old_action is not None and isinstance(old_action.get("endTime"), str):
        end = old_action["endTime"]
    if old_tool is not None and isinstance(old_tool.get("version"), str):
        version = old_tool["version"]
    k = crate.key
    action = {
        "@id": ACTION_ID,
        "@type": k("UpdateAction"),
        k("name"): "Metadata enrichment by ngff-kg",
        k("description"): (
            "Ontology terms as canonical OBO IRIs with their labels, the imaging method and "
            "organism linked from the root, the license as an IRI, the missing term "
            "definitions added to the context, and facts read from the OME-Zarr metadata."
        ),
        k("object"): {"@id": root["@id"]},
        k("instrument"): {"@id": TOOL_IRI},
        k("endTime"): end,
        k("actionStatus"): {"@id": SCHEMA + "CompletedActionStatus"},
    }
    tool = {
        "@id": TOOL_IRI,
        "@type": k("SoftwareApplication"),
        k("name"): "ngff-kg",
        k("version"): version,
    }
    return [action, tool]


def _write_context_additions(crate: _Crate) -> None:
    if not crate.additions:
        return
    doc = crate.doc
    context = doc.get("@context")
    if isinstance(context, dict):
        target = context
    elif isinstance(context, list) and context and isinstance(context[-1], dict):
        target = context[-1]
    else:
        target = {}
        doc["@context"] = [*(context if isinstance(context, list) else [context]), target]
    for term, definition in crate.additions.items():
        target.setdefault(term, definition)


@lru_cache(maxsize=1)
def ontology_labels() -> dict[str, str]:
    """``rdfs:label`` of every term of the shipped FBbi and NCBITaxon slims."""
    from ngff_kg import rdf
    from ngff_kg._resources import resource_dir
    from ngff_kg.store.parsing import parse_triples

    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    out: dict[str, str] = {}
    folder = resource_dir("ontologies")
    for name in ("fbbi.ttl", "ncbitaxon.ttl"):
        for s, p, o in parse_triples((folder / name).read_bytes(), "turtle"):
            subject, value = rdf.unwrap_iri(s), rdf.unwrap_literal(o)
            if p == label and subject is not None:
                out.setdefault(subject, value if value is not None else o.strip("<>"))
    return out

"""The catalogue summary: the datasets of the store in groups, as a graph the count queries read.

A count over every dataset (``datasets-by-organism``, ``kinds``, ``missing-metadata``…) reads a
million type triples and a million values and joins them: seconds at 1M datasets. Yet datasets
fall into few groups that count alike (the same organisms, methods, licenses, kinds, NGFF
versions, source, whether named): hundreds at 1M synthetic datasets. The writer of the store
keeps these groups in the graph :data:`SUMMARY_GRAPH`, one blank node per group with its size
and its values, computed from the catalogue index (:func:`ngff_kg.store.catalogue.tally` says
what counts) when the store is flushed::

    <…/graph/summary> a nkg:CatalogueSummary ; nkg:datasets 1000000 ; nkg:exactBytes true .
    _:g a nkg:DatasetGroup ; nkg:members 52311 ; nkg:typings 52311 ; nkg:listedBytes 0 ;
        nkg:groupOrganism obo:NCBITaxon_10090 ; nkg:groupModality obo:FBbi_00000246 ;
        nkg:groupLicense <https://creativecommons.org/licenses/by/4.0/> ;
        nkg:groupKind "image" ; nkg:groupVersion "0.5" ; nkg:groupSource "idr.example.org" ;
        nkg:lacks "name" .

A count query sums the sizes of the groups instead of counting datasets: one dataset is in
one group, and a group lists each value once, so ``SUM(?members)`` over the groups with a value
is ``COUNT(DISTINCT ?dataset)`` over the datasets with it. Each such query keeps its counting
over the datasets themselves as a second branch, guarded by the absence of the summary, so it
gives the same rows on any store and on any engine (the graph of an older version, N-Quads
loaded elsewhere); Oxigraph does not evaluate the guarded branch when the summary is there.

Consistency: the first change to a store in a session removes the summary; the flush writes it
again when the catalogue index follows the store (an index marked stale leaves the store
without a summary, counted the slow way until the next writer rebuilds the index). A store
left by an interrupted harvest thus has none. Nor has a store with a dataset the index cannot
hold: a blank node typed a dataset, a dataset IRI with a fragment
(:meth:`~ngff_kg.store.catalogue.CatalogueIndex.faithful`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ngff_kg import rdf
from ngff_kg.store.catalogue import TallyKey
from ngff_kg.vocab import NKG, NKG_GRAPH, RDF_TYPE

#: The graph of the summary (its own subject is the summary).
SUMMARY_GRAPH = NKG_GRAPH + "summary"
_FIELDS = (
    "groupOrganism",
    "groupModality",
    "groupLicense",
    "groupKind",
    "groupVersion",
    "groupConverter",
    "groupConverterVersion",
)


def summary_nquads(groups: Iterable[tuple[str, int, int, int]]) -> str:
    """The N-Quads of the summary of these groups (``CatalogueIndex.tallies``)."""
    graph = f"<{SUMMARY_GRAPH}>"
    lines: list[str] = []

    def add(subject: str, predicate: str, obj: str) -> None:
        lines.append(f"{subject} <{NKG}{predicate}> {obj} {graph} .\n")

    total = 0
    exact = True
    for number, (text, members, typings, listed) in enumerate(groups):
        key = TallyKey.parse(text)
        # a label no store term has (those of ngff-kg and of Oxigraph have no hyphen): a
        # blank node among the values, written with its label, stays that node
        node = f"_:summary-g{number}"
        total += members
        lines.append(f"{node} <{RDF_TYPE}> <{NKG}DatasetGroup> {graph} .\n")
        add(node, "members", rdf.integer(members))
        add(node, "typings", rdf.integer(typings))
        if key.exact_bytes:
            add(node, "listedBytes", rdf.integer(listed))
        else:
            exact = False
        for predicate, values in zip(
            _FIELDS,
            (
                key.organisms,
                key.modalities,
                key.licenses,
                key.kinds,
                key.versions,
                key.converters,
                key.converter_versions,
            ),
            strict=True,
        ):
            for value in values:
                add(node, predicate, value)
        for repair_set in key.repair_sets:
            add(node, "groupRepairSet", repair_set)
        for label in key.channels:
            add(node, "groupChannel", label)
        for position, (name, kind, unit) in enumerate(key.axes):
            axis = f"{node}a{position}"
            add(node, "groupAxis", axis)
            add(axis, "groupAxisName", name)
            if kind is not None:
                add(axis, "groupAxisType", kind)
            if unit is not None:
                add(axis, "groupAxisUnit", unit)
        add(node, "groupSource", rdf.literal(key.source))
        for field in key.lacks():
            add(node, "lacks", rdf.literal(field))
    add(graph, "datasets", rdf.integer(total))
    if exact:
        add(graph, "exactBytes", rdf.boolean(True))
    lines.append(f"{graph} <{RDF_TYPE}> <{NKG}CatalogueSummary> {graph} .\n")
    return "".join(lines)


__all__ = ["SUMMARY_GRAPH", "summary_nquads"]

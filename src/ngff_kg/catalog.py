"""The Python API: open a store, harvest into it, run named queries.

>>> from ngff_kg import Catalog
>>> catalog = Catalog(None)                      # in-memory; pass a directory for a store on disk
>>> result = catalog.query("datasets-by-license")
>>> result.columns
['license', 'datasets']
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import IO, Any

from ngff_kg.enrich import Enricher, EnrichOptions, EnrichReport
from ngff_kg.errors import QueryError, UsageError
from ngff_kg.harvest import Harvester, HarvestOptions, HarvestReport
from ngff_kg.normalize.jsonld import ContextRegistry, JsonLdConverter
from ngff_kg.ontology.index import Match, OntologyIndex
from ngff_kg.ontology.taxonomy import load_taxonomy
from ngff_kg.queries import (
    NamedQuery,
    QueryResult,
    ResultFormat,
    bindings_for,
    library,
    resolve_query,
    write_results,
)
from ngff_kg.reports import Progress
from ngff_kg.sources.dask import dask_executor
from ngff_kg.sources.hierarchy import MAX_NODES
from ngff_kg.sources.pixels import MAX_BYTES
from ngff_kg.sources.remote import RemoteOptions
from ngff_kg.store.answers import answer
from ngff_kg.store.knowledge import KnowledgeStore, RdfFormat
from ngff_kg.suggest import did_you_mean
from ngff_kg.views.check import CheckReport, check_store
from ngff_kg.views.export import ExportFormat
from ngff_kg.views.export import export as write_export
from ngff_kg.views.thumbnails import (
    SIZE,
    THUMBNAILS_GRAPH,
    ThumbnailReport,
    locations,
    make_thumbnails,
    recorded_thumbnails,
)

#: Values of ``ontology`` accepted by :meth:`Catalog.terms`.
TERM_ONTOLOGIES = ("fbbi", "ncbitaxon")


class Catalog:
    """A knowledge graph of OME-Zarr datasets in an Oxigraph store.

    :param path: store directory (created when missing), or ``None`` for an in-memory store.
    :param read_only: open an existing store for queries only (several readers may share it).
    :param contexts: extra directories of JSON-LD context documents (see ``contexts/README.md``).
    :raises StoreError: the store cannot be opened (missing when read-only, locked, corrupt).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        read_only: bool = False,
        contexts: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.store = KnowledgeStore(Path(path) if path is not None else None, read_only=read_only)
        self._contexts = list(contexts)
        self._converter: JsonLdConverter | None = None
        self._ontology: OntologyIndex | None = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the store; the catalog cannot be used afterwards."""
        self.store.close()

    @property
    def converter(self) -> JsonLdConverter:
        if self._converter is None:
            self._converter = JsonLdConverter(ContextRegistry(self._contexts))
        return self._converter

    def harvest(
        self,
        sources: Iterable[str | os.PathLike[str]],
        *,
        base_url: str | None = None,
        progress: Progress | None = None,
        total: Progress | None = None,
        max_nodes_per_dataset: int = MAX_NODES,
        force: bool = False,
        prune: bool = False,
        remote: RemoteOptions | None = None,
        executor: Executor | None = None,
        output: str | os.PathLike[str] | None = None,
        options: HarvestOptions | None = None,
    ) -> HarvestReport:
        """Harvest local directories (walked for OME-Zarr roots), CSV sample lists (the
        datasets they list are harvested from their URLs), ``.ome.xml`` files, dataset URLs
        (``https://…``, metadata fetched directly) and S3 prefixes (``s3://bucket/prefix``,
        walked by listing).

        Datasets already in the store whose documents have not changed (local: same size and
        modification time; remote: conditional requests with the recorded ETag or
        Last-Modified) are not read again, unless ``force``; ``prune`` removes datasets below
        the walked directories and prefixes that are gone.

        :param progress: called with the number of datasets read so far.
        :param total: called once with the number of datasets to read, as soon as the sources
            have all been walked (directories, prefixes) and read (sample lists).
        :param base_url: URL of each source directory; ``"https://"`` for a tree whose first
            path component is the host. Without it datasets get ``file://`` IRIs.
        :param max_nodes_per_dataset: read at most this many node documents (groups and
            arrays) below one root; a dataset that has more gets a warning in the report.
        :param remote: how remote documents are fetched (concurrency, timeout, retries, S3
            endpoint and signing); the defaults of :class:`RemoteOptions` otherwise.
        :param executor: run dataset jobs on this executor (default: as ``options.executor``
            says; ``ngff_kg.sources.dask.dask_executor`` gives one for a Dask cluster).
        :param output: write N-Quads shards to this new or empty directory instead of the
            store (see ``ngff_kg.store.shards``).
        :param options: all the settings at once (then ``base_url``, ``max_nodes_per_dataset``,
            ``force``, ``prune``, ``remote`` and ``output`` are not used).
        :raises SourceNotFoundError: a source does not exist.
        :raises UsageError: a bad ``base_url``, ``max_nodes_per_dataset`` or source.
        """
        if options is None:
            options = HarvestOptions(
                base_url=base_url,
                max_nodes_per_dataset=max_nodes_per_dataset,
                force=force,
                prune=prune,
                remote=remote or RemoteOptions(),
                output=Path(output) if output is not None else None,
            )
        with contextlib.ExitStack() as stack:
            if executor is None:
                executor = stack.enter_context(
                    dask_executor(options.executor, options.scheduler, options.workers)
                )
            harvester = Harvester(
                self.store,
                self.converter,
                options,
                progress=progress,
                executor=executor,
                total=total,
            )
            try:
                return harvester.harvest(list(sources))
            finally:
                self._ontology = None  # lineages may have been added

    @property
    def ontology(self) -> OntologyIndex:
        """The ontology terms of the store (the shipped slims where it has none), with the
        full NCBI Taxonomy when the ``ngff-kg[taxonomy]`` extra is installed."""
        if self._ontology is None:
            self._ontology = self.store.ontology_index(load_taxonomy())
        return self._ontology

    def terms(self, text: str, ontology: str | None = None, limit: int = 10) -> list[Match]:
        """Look up ontology terms by identifier, label or synonym, best match first.

        >>> [m.term.curie for m in Catalog(None).terms("house mouse", "ncbitaxon")][:1]
        ['NCBITaxon:10090']

        :param ontology: ``"fbbi"`` or ``"ncbitaxon"`` (``None``: both).
        :raises UsageError: an unknown ``ontology`` or a ``limit`` below 1.
        """
        if ontology is not None and ontology.lower() not in TERM_ONTOLOGIES:
            raise UsageError(
                f"unknown ontology {ontology!r}:{did_you_mean(ontology, TERM_ONTOLOGIES)} "
                f"choose one of {', '.join(TERM_ONTOLOGIES)}"
            )
        if limit < 1:
            raise UsageError(f"limit must be at least 1, not {limit}")
        return self.ontology.search(text, ontology.lower() if ontology else None, limit)

    def term_rows(
        self, text: str, ontology: str | None = None, limit: int = 10
    ) -> list[dict[str, str]]:
        """The matches of :meth:`terms` as rows of text: ``id`` (CURIE), ``label``,
        ``ontology``, ``rank_or_parent``, ``match`` (how it matched) and ``iri``.

        :raises UsageError: an unknown ``ontology`` or a ``limit`` below 1.
        """
        matches = self.terms(text, ontology, limit)
        return [
            {
                "id": m.term.curie,
                "label": m.term.label or "",
                "ontology": m.term.prefix,
                "rank_or_parent": self.ontology.context(m.term),
                "match": m.how if m.tier == 0 else f"{m.how}: {m.matched}",
                "iri": m.term.iri,
            }
            for m in matches
        ]

    def check(self) -> CheckReport:
        """A metadata-quality report of the store: datasets missing organism, modality, license
        or name; unknown, obsolete or wrong-ontology terms; organisms that do not fit the cell
        line a dataset names; the repairs applied (see :mod:`ngff_kg.views.check`).

        >>> Catalog(None).check().ok
        True
        """
        return check_store(self, self.ontology)

    @staticmethod
    def queries() -> dict[str, NamedQuery]:
        """The query library, by name."""
        return library()

    def query(
        self, query: str | NamedQuery, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> QueryResult:
        """Run a named query, a ``.rq`` file or SPARQL text with parameters; SELECT rows.

        >>> Catalog(None).query("find-datasets", organism="NCBI:txid10090").rows
        []

        :raises QueryNotFoundError: no such query.
        :raises QueryError: bad parameters or invalid SPARQL.
        """
        named = query if isinstance(query, NamedQuery) else resolve_query(query)
        values = {**(params or {}), **kwargs}
        return QueryResult.from_solutions(named.name, self.raw_query(named, values))

    def write_query(
        self,
        query: str | NamedQuery,
        params: Mapping[str, Any] | None,
        fmt: ResultFormat | str,
        output: IO[bytes],
    ) -> None:
        """Run a query like :meth:`query` and write its results as SPARQL 1.1 CSV, TSV or
        JSON (see :func:`ngff_kg.queries.write_results`).

        :raises QueryNotFoundError: no such query.
        :raises QueryError: bad parameters, invalid SPARQL, an unknown format.
        """
        named = query if isinstance(query, NamedQuery) else resolve_query(query)
        write_results(self.raw_query(named, params or {}), fmt, output)

    def dump(self, fmt: RdfFormat | str, output: IO[bytes]) -> None:
        """Write the whole store as N-Quads, TriG or Turtle (see :meth:`KnowledgeStore.dump`).

        :raises UsageError: an unknown format.
        """
        self.store.dump(fmt, output)

    def export(self, fmt: ExportFormat | str, output: str | os.PathLike[str] | IO[bytes]) -> None:
        """Export the graph or the dataset catalogue to a file (written whole or not at all)
        or a binary stream (see :mod:`ngff_kg.views.export`).

        :raises UsageError: an unknown format.
        :raises MissingDependencyError: Parquet without pyarrow.
        :raises OSError: the file cannot be written.
        """
        write_export(self, fmt, output)

    def dataframe(
        self, query: str | NamedQuery, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """Run a query like :meth:`query` and return a pandas ``DataFrame`` of plain values.

        Needs ``pip install 'ngff-kg[notebook]'``.

        :raises QueryNotFoundError: no such query.
        :raises QueryError: bad parameters or invalid SPARQL.
        :raises MissingDependencyError: pandas is not installed.
        """
        return self.query(query, params, **kwargs).to_dataframe()

    def raw_query(
        self, query: NamedQuery, params: Mapping[str, Any], *, indexed: bool = True
    ) -> Any:
        """The pyoxigraph result object (solutions, boolean or triples) of a query.

        :param indexed: a listing the catalogue index can give (:mod:`ngff_kg.store.answers`)
            is read from it; ``False``: always from the graph.
        """
        bindings = bindings_for(query, params, lambda: self.ontology)
        if indexed:
            found = answer(self.store, query, bindings.written, bindings.substitutions)
            if found is not None:
                return found
        try:
            return self.store.query(
                bindings.text,
                custom_functions=bindings.custom_functions,
                substitutions=bindings.substitutions,
            )
        except SyntaxError as exc:
            raise QueryError(f"query {query.name!r} is not valid SPARQL: {exc}") from exc
        except (OSError, RuntimeError) as exc:
            raise QueryError(f"query {query.name!r} failed: {exc}") from exc

    def enrich(
        self,
        targets: Iterable[str | os.PathLike[str]],
        options: EnrichOptions | None = None,
        *,
        from_store: bool = True,
        **settings: Any,
    ) -> EnrichReport:
        """Rewrite the RO-Crate of every dataset root below ``targets`` with what the store
        knows of it (see docs/enrich.md); with ``from_store=False`` each dataset's facts are
        read from its metadata instead.

        :param options: the settings of the run; or give them as keyword ``settings`` (the
            fields of :class:`~ngff_kg.enrich.EnrichOptions`: ``base_url``, ``dry_run``,
            ``backup``, ``create_license``, ``date_published``, ``progress``, ``on_diff``).
        :param from_store: ``False``: read each dataset's facts from its metadata now, not
            from the store (the JSON-LD contexts of the catalog are still used).
        :raises SourceNotFoundError: a target does not exist.
        :raises UsageError: a remote target, a bad license or date.
        """
        if options is None:
            options = EnrichOptions(**settings)
        elif settings:
            raise UsageError("give either options or settings, not both")
        enricher = Enricher(self.converter, self.store if from_store else None, options)
        return enricher.enrich(targets)

    def thumbnails(
        self,
        sources: Iterable[str | os.PathLike[str]] = (),
        *,
        base_url: str | None = None,
        max_bytes: int = MAX_BYTES,
        size: int = SIZE,
        force: bool = False,
        progress: Progress | None = None,
    ) -> ThumbnailReport:
        """Render a PNG thumbnail of datasets of the store from their pixels (see
        :mod:`ngff_kg.views.thumbnails`) into ``STORE/thumbnails/`` and record each as
        ``nkg:thumbnail``. ``sources``: local directories walked for roots (their IRIs made
        with ``base_url``, as harvest made them) or dataset URLs; none: every dataset of the
        store with a ``file://`` or ``http(s)://`` IRI. Datasets that have a thumbnail are
        skipped unless ``force``; a dataset that cannot be rendered is a problem of the
        report, and the others go on.

        :param max_bytes: read at most this many bytes of chunks per dataset (the smallest
            level that fits is used; a dataset whose smallest level does not fit has none).
        :param size: longest side of a thumbnail, in pixels.
        :raises UsageError: an in-memory store, a source that is no directory, bad sizes.
        :raises MissingDependencyError: zarr or Pillow missing (``ngff-kg[thumbnails]``).
        """
        if self.store.path is None:
            raise UsageError("thumbnails are files beside the store: open a store directory")
        from ngff_kg.errors import require

        for module in ("zarr", "numpy", "PIL.Image"):
            require(module, "thumbnails")
        recorded = recorded_thumbnails(self)
        datasets = [r[0].value for r in self.query("find-datasets").rows]
        targets, problems = locations(list(sources), base_url, datasets)
        report = make_thumbnails(
            self.store.path,
            targets,
            recorded,
            lambda triples: self.store.add(THUMBNAILS_GRAPH, triples),
            max_bytes=max_bytes,
            size=size,
            force=force,
            progress=progress,
        )
        report.problems[:0] = problems
        self.store.flush()
        return report

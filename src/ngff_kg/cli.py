"""The ``ngff-kg`` command. It parses options, calls the library and prints; nothing else.

Exit status: 0 success, 1 some datasets failed (or a query failed), 2 usage errors.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ngff_kg._version import __version__
from ngff_kg.catalog import Catalog
from ngff_kg.enrich import EnrichOptions
from ngff_kg.errors import (
    MissingDependencyError,
    NgffKgError,
    QueryError,
    QueryNotFoundError,
    SourceNotFoundError,
    UsageError,
)
from ngff_kg.harvest.options import ExecutorKind
from ngff_kg.normalize.terms import curie
from ngff_kg.queries import QueryResult, library, resolve_query
from ngff_kg.reports import Problem
from ngff_kg.sources.hierarchy import MAX_NODES
from ngff_kg.sources.remote import RemoteOptions
from ngff_kg.suggest import did_you_mean
from ngff_kg.views.check import CHECKS, CheckReport, Finding
from ngff_kg.views.export import ExportFormat

app = typer.Typer(
    name="ngff-kg",
    help="Harvest OME-Zarr metadata into an Oxigraph knowledge graph and query it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

StoreOption = Annotated[
    Path, typer.Option("--store", "-s", help="Store directory (created by harvest).")
]


ContextsOption = Annotated[
    list[Path] | None,
    typer.Option("--contexts", metavar="DIR", help="Directory of extra JSON-LD context documents."),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
ShowOption = Annotated[int, typer.Option("--show", help="How many failures and warnings to list.")]


class QueryFormat(StrEnum):
    """How ``query`` prints its results: a table, or SPARQL 1.1 CSV, TSV or JSON results."""

    TABLE = "table"
    CSV = "csv"
    TSV = "tsv"
    JSON = "json"


class TextFormat(StrEnum):
    """How ``terms`` and ``check`` print their rows."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


_E = TypeVar("_E", bound=StrEnum)


def _choice(kind: type[_E]) -> Callable[[str], _E]:
    """A parser of the values of ``kind`` (case-insensitive) that suggests the closest ones
    for a mistyped value."""

    def parse(value: str | _E) -> _E:
        try:
            return kind(str(value).lower())
        except ValueError:
            names = [k.value for k in kind]
            raise typer.BadParameter(
                f"{value!r} is not one of {', '.join(map(repr, names))}."
                + did_you_mean(str(value), names)
            ) from None

    return parse


#: Library errors that mean the user asked for something that cannot be done (exit status 2).
USAGE_ERRORS = (
    UsageError,
    SourceNotFoundError,
    QueryNotFoundError,
    QueryError,
    MissingDependencyError,
)

#: Library parameter names, as the flags that set them.
_FLAGS = {
    "base_url": "--base-url",
    "create_license": "--license",
    "date_published": "--date-published",
    "max_nodes_per_dataset": "--max-nodes-per-dataset",
    "executor": "--executor",
    "scheduler": "--scheduler",
}
_PARAMETER = re.compile(r"\b(" + "|".join(_FLAGS) + r")\b")


def _as_flags(message: str) -> str:
    """A library message with the parameters it names spelt as the flags of the command."""
    return _PARAMETER.sub(lambda m: _FLAGS[m.group(1)], message)


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextlib.contextmanager
def _errors(writing: Path | None = None) -> Iterator[None]:
    """Library errors as a one-line message and an exit status: 2 for :data:`USAGE_ERRORS`,
    1 for the others (a store that cannot be opened, a query that fails...) and for a file
    (``writing``) that cannot be written."""
    try:
        yield
    except USAGE_ERRORS as exc:
        raise _fail(_as_flags(str(exc)), 2) from None
    except NgffKgError as exc:
        raise _fail(_as_flags(str(exc)), 1) from None
    except OSError as exc:
        message = f"cannot write {writing}: {exc.strerror or exc}" if writing else str(exc)
        raise _fail(message, 1) from None


def _version(value: bool) -> None:
    if value:
        out.print(f"ngff-kg {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Harvest OME-Zarr metadata into an Oxigraph knowledge graph and query it."""


@app.command()
def harvest(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Directories to walk for OME-Zarr roots; CSV sample lists (local or URL); "
            "dataset URLs (https://…); S3 prefixes to walk (s3://bucket/prefix).",
            show_default=False,
        ),
    ],
    store: Annotated[
        Path | None,
        typer.Option("--store", "-s", help="Store directory (created when missing)."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="URL of each source directory; 'https://' when the first path component is "
            "the host. Without it, datasets get file:// IRIs.",
        ),
    ] = None,
    contexts: ContextsOption = None,
    quiet: QuietOption = False,
    show: ShowOption = 20,
    max_nodes: Annotated[
        int,
        typer.Option(
            "--max-nodes-per-dataset",
            min=1,
            help="Read at most this many group and array documents below one root; a "
            "dataset with more is reported with a warning.",
        ),
    ] = MAX_NODES,
    force: Annotated[
        bool, typer.Option("--force", help="Read every dataset again, changed or not.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Remove datasets below the sources that are gone."),
    ] = False,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            min=1,
            help="Remote datasets read at once (requests in flight: at most four times this).",
        ),
    ] = 64,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.001, help="Seconds for one remote request.")
    ] = 30.0,
    retries: Annotated[
        int,
        typer.Option("--retries", min=0, help="Retries of a request after a timeout, 429 or 5xx."),
    ] = 4,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="S3-compatible endpoint for s3:// sources."),
    ] = None,
    anonymous: Annotated[
        bool | None,
        typer.Option(
            "--anonymous/--signed",
            help="S3 requests unsigned, or signed with the credentials of the environment "
            "(default: unsigned unless AWS_ACCESS_KEY_ID is set).",
            show_default=False,
        ),
    ] = None,
    executor: Annotated[
        ExecutorKind,
        typer.Option(
            "--executor",
            help="'local' (this process), or 'dask': extraction runs on a Dask cluster.",
        ),
    ] = ExecutorKind.LOCAL,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address (tcp://host:8786); without it a local cluster starts.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Workers of the local Dask cluster."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Write N-Quads shards to this (new or empty) directory instead of a store.",
        ),
    ] = None,
) -> None:
    """Harvest datasets into the store (each dataset's graph is replaced), or into N-Quads
    shards with --output."""
    if store is None and output is None:
        raise _fail("name a store (--store DIR) or an output directory (--output DIR)", 2)
    from ngff_kg.harvest import HarvestOptions  # here: the rest of the CLI needs no harvest

    with _errors():
        options = HarvestOptions(
            base_url=base_url,
            max_nodes_per_dataset=max_nodes,
            force=force,
            prune=prune,
            remote=RemoteOptions(concurrency, timeout, retries, endpoint_url, anonymous),
            output=output,
            executor=executor,
            scheduler=scheduler,
            workers=workers,
        )
    progress = _progress_bar(quiet)
    started = time.perf_counter()

    # [when the bar was last updated, the total once known, datasets done]
    shown = [0.0, math.inf, 0]

    def advance(done: int) -> None:
        # called for every dataset (a million in a re-harvest): the bar, redrawn ten times a
        # second, is updated as often, and not at all when it is not shown
        shown[2] = done
        now = time.perf_counter()
        if progress.disable or (now - shown[0] < 0.1 and done < shown[1]):
            return
        shown[0] = now
        seconds = now - started
        rate = f"{done / seconds:,.0f} datasets/s" if seconds > 0.5 else ""
        progress.update(task, completed=done, rate=rate)

    def known(total: int) -> None:  # the walk is over: a bar that fills, and an ETA
        shown[1] = total
        done = int(shown[2])
        progress.update(task, total=max(total, done), completed=done)

    with (
        _errors(),
        Catalog(store if output is None else None, contexts=contexts or ()) as catalog,
        progress,
    ):
        task = progress.add_task("harvesting", total=None, rate="")
        report = catalog.harvest(sources, progress=advance, total=known, options=options)
    summary = Table.grid(padding=(0, 2))
    summary.add_row("datasets found", str(report.datasets_found))
    summary.add_row("harvested", str(report.datasets_harvested))
    if report.datasets_unchanged:
        summary.add_row("unchanged", f"{report.datasets_unchanged} (not read again)")
    if report.datasets_pruned:
        summary.add_row("pruned", f"{report.datasets_pruned} (no longer in the sources)")
    summary.add_row("failed", str(len(report.failed)))
    summary.add_row("with crate", str(report.crates))
    summary.add_row("repaired", f"{report.repaired_datasets} datasets")
    for kind, count in sorted(report.repairs.items()):
        summary.add_row("", f"{kind}: {count}")
    summary.add_row("sample lists", f"{report.sample_lists} ({report.sample_rows} rows)")
    if report.taxa_added:
        summary.add_row("taxa added", f"{report.taxa_added} (lineages from the NCBI Taxonomy)")
    summary.add_row("warnings", str(len(report.warnings)))
    rate = report.datasets_found / report.seconds if report.seconds else 0.0
    summary.add_row("time", f"{report.seconds:.2f} s ({rate:,.0f} datasets/s)")
    if output is not None:
        summary.add_row("output", f"{output} (N-Quads shards, manifest.json)")
    else:
        summary.add_row("store", str(store))
    out.print(summary)
    for title, problems in (("failed", report.failed), ("warning", report.warnings)):
        for problem in problems[:show]:
            err.print(f"[yellow]{title}:[/] {problem.path}: {problem.reason}", highlight=False)
        if len(problems) > show:
            err.print(f"... and {len(problems) - show} more ({title}); use --show N to list more")
    if not report.ok:
        raise typer.Exit(1)


@app.command("queries")
def list_queries(
    name: Annotated[
        str | None, typer.Argument(help="Print this query's .rq file (header and SPARQL).")
    ] = None,
) -> None:
    """List the named queries with their parameters, or print one: its .rq file exactly as
    it is (the header documents it), so that `ngff-kg queries NAME > q.rq` gives a query that
    runs."""
    if name is not None:
        with _errors():
            named = resolve_query(name)
            text = Path(named.path).read_bytes() if named.path else named.text.encode()
        sys.stdout.buffer.write(text)
        sys.stdout.buffer.flush()
        if named.path and err.is_terminal:
            err.print(f"file: {named.path}", highlight=False, soft_wrap=True)
        return
    table = Table(show_lines=False)
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("title")
    table.add_column("parameters")
    table.add_column("columns")
    for name, q in library().items():
        params = ", ".join(f"{p.name}{'' if p.required else '?'}" for p in q.params)
        table.add_row(name, q.title, params, ", ".join(q.columns))
    out.print(table)


@app.command()
def query(
    spec: Annotated[
        str, typer.Argument(metavar="NAME|FILE.rq|SPARQL", help="Named query, file or SPARQL text.")
    ],
    store: StoreOption,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Parameter as KEY=VALUE (repeatable)."),
    ] = None,
    fmt: Annotated[
        QueryFormat,
        typer.Option(
            "--format",
            "-f",
            parser=_choice(QueryFormat),
            help="table, csv, tsv or json (SPARQL 1.1 results).",
        ),
    ] = QueryFormat.TABLE,
) -> None:
    """Run a query against the store."""
    params: dict[str, str] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _fail(f"--param takes KEY=VALUE, got {item!r}", 2)
        params[key.strip()] = value
    with _errors():
        named = resolve_query(spec)  # an unknown query is a usage error, even without a store
    with _errors(), Catalog(store, read_only=True) as catalog:
        if fmt is not QueryFormat.TABLE:
            catalog.write_query(named, params, fmt.value, sys.stdout.buffer)
            return
        result = catalog.query(named, params)
    _print_table(result)


@app.command()
def serve(
    store: StoreOption,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port; 0 picks a free one.")] = 7878,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds a SPARQL query may run.")
    ] = 30.0,
    limit: Annotated[
        int, typer.Option("--limit", help="Most rows (or triples) a SPARQL result returns.")
    ] = 10_000,
    workers: Annotated[
        int, typer.Option("--workers", help="SPARQL queries that may run at once.")
    ] = 2,
) -> None:
    """Serve the store read-only: SPARQL endpoint at /sparql, web catalogue at /."""
    if timeout <= 0 or limit < 1 or workers < 1 or not 0 <= port <= 65535:
        raise _fail(
            "--timeout must be positive, --limit and --workers at least 1, --port 0-65535", 2
        )
    from ngff_kg.web import serve as run_server
    from ngff_kg.web.server import is_loopback

    if not is_loopback(host):
        err.print(
            f"[yellow]warning:[/] listening on {host}: anyone who can reach this machine can "
            "query the store",
            highlight=False,
        )

    def announce(url: str, state: object) -> None:
        datasets = len(getattr(state, "records", ()))
        seconds = getattr(state, "seconds", 0.0)
        out.print(
            f"ngff-kg serving {store} ({datasets} datasets, indexed in {seconds:.1f} s)\n"
            f"  catalogue: {url}\n  SPARQL endpoint: {url}sparql\n  press Ctrl-C to stop",
            highlight=False,
            soft_wrap=True,
        )
        sys.stdout.flush()

    with _errors():
        run_server(
            store,
            host=host,
            port=port,
            timeout=timeout,
            limit=limit,
            workers=workers,
            announce=announce,
        )


@app.command()
def export(
    store: StoreOption,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            parser=_choice(ExportFormat),
            help="nquads, trig or turtle (the graph); parquet or csv (one row per dataset).",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: standard output)."),
    ] = None,
) -> None:
    """Export the graph (N-Quads, TriG, Turtle) or the dataset catalogue (Parquet, CSV)."""
    if fmt is ExportFormat.PARQUET and output is None:
        raise _fail("Parquet is binary: give a file with -o FILE.parquet", 2)
    with _errors(writing=output), Catalog(store, read_only=True) as catalog:
        catalog.export(fmt.value, output if output is not None else sys.stdout.buffer)
    if output is not None:
        err.print(f"wrote {output}", highlight=False)


@app.command()
def terms(
    text: Annotated[str, typer.Argument(help="Identifier (any spelling), label or synonym.")],
    ontology: Annotated[
        str | None, typer.Option("--ontology", "-o", help="fbbi or ncbitaxon (default: both).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many terms to list.")] = 10,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", "-s", help="Look in this store's ontologies (with harvested lineages)."
        ),
    ] = None,
    fmt: Annotated[
        TextFormat,
        typer.Option("--format", "-f", parser=_choice(TextFormat), help="table, csv or json."),
    ] = TextFormat.TABLE,
) -> None:
    """Look up ontology terms offline by identifier, label or synonym, best match first."""
    with _errors(), Catalog(store, read_only=store is not None) as catalog:
        rows = catalog.term_rows(text, ontology, limit)
    if not rows:
        raise _fail(f"no term matches {text!r}", 1)
    _print_rows(rows, fmt, ["id", "label", "ontology", "rank_or_parent", "match"])


@app.command()
def check(
    store: StoreOption,
    fmt: Annotated[
        TextFormat,
        typer.Option("--format", "-f", parser=_choice(TextFormat), help="table, csv or json."),
    ] = TextFormat.TABLE,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with status 1 when anything is found.")
    ] = False,
    show: Annotated[
        int, typer.Option("--show", help="Table: how many datasets to list per check.")
    ] = 10,
) -> None:
    """Report metadata quality: missing fields, unknown, obsolete or wrong-ontology terms,
    organisms that do not fit the cell line named, and the repairs applied."""
    with _errors(), Catalog(store, read_only=True) as catalog:
        report = catalog.check()
    if fmt is TextFormat.JSON:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif fmt is TextFormat.CSV:
        _print_rows(report.to_rows(), fmt, ["check", "dataset", "value", "detail"])
    else:
        _print_check(report, show)
    if strict and not report.ok:
        raise typer.Exit(1)


def _print_check(report: CheckReport, show: int) -> None:
    counts = report.counts()
    summary = Table(title="metadata check")
    summary.add_column("check", no_wrap=True, style="bold")
    summary.add_column("datasets", justify="right")
    summary.add_column("meaning")
    for name, description in CHECKS.items():
        summary.add_row(name, str(counts[name]), description)
    out.print(summary)
    by_check: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    for name, findings in by_check.items():
        out.print(f"\n[italic]{name} ({counts[name]} datasets)[/]", highlight=False)
        rows = [[f.dataset, _cell(f.value), f.detail] for f in findings[:show]]
        _print_grid(["dataset", "value", "detail"], rows)
        if len(findings) > show:
            out.print(f"... and {len(findings) - show} more (--show N, or --format csv for all)")
    if report.repairs:
        out.print("\n[italic]repairs applied[/]", highlight=False)
        shown: dict[str, int] = {}
        rows = []
        for r in report.repairs:
            shown[r["kind"]] = shown.get(r["kind"], 0) + 1
            if shown[r["kind"]] <= show:
                rows.append([r["kind"], r["original"], _cell(r["repaired"]), str(r["datasets"])])
        _print_grid(["kind", "original", "repaired", "datasets"], rows)
        hidden = sum(max(0, n - show) for n in shown.values())
        if hidden:
            out.print(f"... and {hidden} more repairs (--show N, or --format csv for all)")


def _print_rows(rows: list[dict[str, str]], fmt: TextFormat, columns: list[str]) -> None:
    """Plain rows as a table, CSV or JSON (a list of objects)."""
    if fmt is TextFormat.JSON:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    elif fmt is TextFormat.CSV:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_grid([c.replace("_", " ") for c in columns], [[r[c] for c in columns] for r in rows])


def _print_table(result: QueryResult) -> None:
    """Rows as a table; ontology IRIs shown as CURIEs (NCBITaxon:10090) to stay readable."""
    _print_grid(result.columns, [[_cell(v) for v in row.values()] for row in result.values()])
    err.print(f"{len(result.rows)} rows")


def _print_grid(columns: list[str], rows: list[list[str]]) -> None:
    """Rows as a table whose identifiers (IRIs, CURIEs, numbers: cells without spaces) are
    never wrapped; only text wraps. When the identifiers alone are wider than the terminal,
    each row is printed as a block of ``column: value`` lines instead."""
    ids = [all(not any(ch.isspace() for ch in row[i]) for row in rows) for i in range(len(columns))]
    widths = [max([len(columns[i]), *(len(row[i]) for row in rows)]) for i in range(len(columns))]
    # a column's width is its content plus two of padding and one of border
    needed = 1 + sum(
        w + 3 if is_id else min(w, 12) + 3 for w, is_id in zip(widths, ids, strict=True)
    )
    if needed > out.width:
        for number, row in enumerate(rows):
            if number:
                out.print()
            for name, value in zip(columns, row, strict=True):
                if value:
                    out.print(f"[bold]{name}[/]: {escape(value)}", highlight=False, soft_wrap=True)
        return
    table = Table()
    for name, is_id, width in zip(columns, ids, widths, strict=True):
        if is_id:
            table.add_column(name, no_wrap=True, min_width=width)
        else:
            table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(escape(v) for v in row))
    out.print(table)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return curie(value)
    return str(value)


@app.command()
def enrich(
    targets: Annotated[
        list[str],
        typer.Argument(metavar="TARGET...", help="Dataset roots, or directories walked for them."),
    ],
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            "-s",
            help="Read each dataset's facts from this store (default: read the datasets now).",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="The base URL the targets were harvested with (finds datasets in the store "
            "by IRI instead of by harvested file path).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a unified diff per crate; write nothing.")
    ] = False,
    no_backup: Annotated[
        bool,
        typer.Option(
            "--no-backup", help="Do not keep the original as ro-crate-metadata.json.orig."
        ),
    ] = False,
    create: Annotated[
        bool,
        typer.Option(
            "--create", help="Write a minimal crate where a root has none (needs --license)."
        ),
    ] = False,
    license: Annotated[
        str | None,
        typer.Option("--license", help="License IRI (or SPDX id) of the crates --create writes."),
    ] = None,
    date_published: Annotated[
        str | None,
        typer.Option(
            "--date-published",
            help="datePublished for crates without one (default: the crate's dateCreated or "
            "the images' acquisition date; none, with a warning, when nothing says it).",
        ),
    ] = None,
    contexts: ContextsOption = None,
    quiet: QuietOption = False,
    show: ShowOption = 20,
) -> None:
    """Write what the graph knows back into each dataset's RO-Crate (atomically, with backup)."""
    if create and license is None:
        raise _fail("--create needs --license IRI: no license is invented", 2)
    if license is not None and not create:
        raise _fail("--license is only used with --create", 2)
    summary_console = err if dry_run else out
    progress = _progress_bar(quiet)

    def print_diff(_path: str, diff: str) -> None:
        try:
            sys.stdout.write(diff)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader (e.g. head) has gone: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None

    with progress, _errors():
        task = progress.add_task("enriching", total=None, rate="")
        options = EnrichOptions(
            base_url=base_url,
            dry_run=dry_run,
            backup=not no_backup,
            create_license=license if create else None,
            date_published=date_published,
            progress=lambda done: progress.update(task, completed=done),
            on_diff=print_diff,
        )
        with Catalog(store, read_only=store is not None, contexts=contexts or ()) as catalog:
            report = catalog.enrich(targets, options, from_store=store is not None)
    verb = "would be " if dry_run else ""
    summary = Table.grid(padding=(0, 2))
    summary.add_row("datasets found", str(report.datasets_found))
    summary.add_row(f"{verb}enriched", str(report.enriched))
    summary.add_row("unchanged", str(report.unchanged))
    if create:
        summary.add_row(f"{verb}created", str(report.created))
    summary.add_row("without crate", str(len(report.missing)))
    summary.add_row("failed", str(len(report.failed)))
    if not dry_run:
        summary.add_row("backups", str(report.backups))
    summary.add_row("time", f"{report.seconds:.2f} s")
    summary_console.print(summary)
    for title, problems in (
        ("failed", report.failed),
        ("no crate", report.missing),
        ("warning", report.warnings),
    ):
        _print_problems(title, problems, show)
    if report.missing and not create:
        err.print("use --create --license IRI to write crates where there are none")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def thumbnails(
    store: StoreOption,
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Local directories walked for dataset roots, or dataset URLs "
            "(default: every dataset of the store with a file:// or http(s):// IRI)."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="URL of each source directory, as given to harvest."),
    ] = None,
    max_mb: Annotated[
        float,
        typer.Option("--max-mb", help="Read at most this many MB of pixel chunks per dataset."),
    ] = 64.0,
    size: Annotated[
        int, typer.Option("--size", help="Longest side of a thumbnail, in pixels.")
    ] = 256,
    force: Annotated[
        bool, typer.Option("--force", help="Render datasets that have a thumbnail again.")
    ] = False,
    show: ShowOption = 10,
) -> None:
    """Render a PNG thumbnail of each dataset from its pixels (STORE/thumbnails/) and record
    it in the graph; datasets without readable pixels are reported, the others go on."""
    with _errors(), Catalog(store) as catalog:
        report = catalog.thumbnails(
            sources or (),
            base_url=base_url,
            max_bytes=round(max_mb * 1024 * 1024),
            size=size,
            force=force,
        )
    summary = Table.grid(padding=(0, 2))
    summary.add_row("rendered", str(len(report.rendered)))
    summary.add_row("skipped", f"{len(report.skipped)} (have one; --force renders them again)")
    summary.add_row("failed", str(len(report.problems)))
    summary.add_row("directory", str(store / "thumbnails"))
    out.print(summary)
    _print_problems("failed", report.problems, show)
    if not report.ok:
        raise typer.Exit(1)


class _Count(ProgressColumn):
    """``done/total datasets`` once the total is known, ``done datasets`` before."""

    def render(self, task: Task) -> Text:
        done = f"{task.completed:,.0f}"
        if task.total is not None:
            done += f"/{task.total:,.0f}"
        return Text(f"{done} datasets")


class _Remaining(TimeRemainingColumn):
    """The estimated time left, or nothing while the total is unknown."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text.assemble("ETA ", super().render(task))


def _progress_bar(quiet: bool) -> Progress:
    """A progress bar on standard error (none with --quiet or when it is not a terminal):
    a pulsing bar and the count while the total is unknown; then the bar fills, with the
    count out of the total and the time left."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(bar_width=None),
        _Count(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        _Remaining(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    )


def _print_problems(title: str, problems: list[Problem], show: int) -> None:
    for problem in problems[:show]:
        reason = _as_flags(problem.reason)
        err.print(f"[yellow]{title}:[/] {problem.path}: {reason}", highlight=False)
    if len(problems) > show:
        err.print(f"... and {len(problems) - show} more ({title}); use --show N to list more")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

__all__ = ["app", "main"]

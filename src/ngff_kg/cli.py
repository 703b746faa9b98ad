"""The ``ngff-kg`` command. It parses options, calls the library and prints; nothing else.

Exit status: 0 success, 1 some datasets failed (or a query failed), 2 usage errors.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .catalog import Catalog
from .check import CHECKS, CheckReport, Finding
from .errors import NgffKgError, QueryError, QueryNotFoundError, SourceNotFoundError, UsageError
from .queries import QueryResult, library, resolve_query
from .terms import curie

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


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


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
        list[Path],
        typer.Argument(help="Directories to walk for OME-Zarr roots, and CSV sample lists."),
    ],
    store: StoreOption,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="URL of each source directory; 'https://' when the first path component is "
            "the host. Without it, datasets get file:// IRIs.",
        ),
    ] = None,
    contexts: Annotated[
        list[Path] | None,
        typer.Option("--contexts", help="Directory of extra JSON-LD context documents."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    show: Annotated[
        int, typer.Option("--show", help="How many failures and warnings to list.")
    ] = 20,
) -> None:
    """Harvest datasets into the store (each dataset's graph is replaced)."""
    try:
        catalog = Catalog(store, contexts=contexts or ())
    except NgffKgError as exc:
        raise _fail(str(exc), 2) from None
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.completed} datasets"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    )
    try:
        with progress:
            task = progress.add_task("harvesting", total=None)
            report = catalog.harvest(
                sources,
                base_url=base_url,
                progress=lambda done: progress.update(task, completed=done),
            )
    except (SourceNotFoundError, UsageError) as exc:
        raise _fail(str(exc), 2) from None
    except NgffKgError as exc:
        raise _fail(str(exc), 1) from None
    finally:
        catalog.close()
    summary = Table.grid(padding=(0, 2))
    summary.add_row("datasets found", str(report.datasets_found))
    summary.add_row("harvested", str(report.datasets_harvested))
    summary.add_row("failed", str(len(report.failed)))
    summary.add_row("with crate", str(report.crates))
    summary.add_row("repaired", f"{report.repaired_datasets} datasets")
    for kind, count in sorted(report.repairs.items()):
        summary.add_row("", f"{kind}: {count}")
    summary.add_row("sample lists", f"{report.sample_lists} ({report.sample_rows} rows)")
    if report.taxa_added:
        summary.add_row("taxa added", f"{report.taxa_added} (lineages from the NCBI Taxonomy)")
    summary.add_row("warnings", str(len(report.warnings)))
    summary.add_row("time", f"{report.seconds:.2f} s")
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
def list_queries() -> None:
    """List the named queries with their parameters."""
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
        str, typer.Option("--format", "-f", help="table, csv, tsv or json (SPARQL 1.1 results).")
    ] = "table",
) -> None:
    """Run a query against the store."""
    if fmt not in ("table", "csv", "tsv", "json"):
        raise _fail(f"--format must be table, csv, tsv or json, not {fmt!r}", 2)
    params: dict[str, str] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _fail(f"--param takes KEY=VALUE, got {item!r}", 2)
        params[key.strip()] = value
    try:
        named = resolve_query(spec)
        catalog = Catalog(store, read_only=True)
        if fmt == "table":
            _print_table(catalog.query(named, params))
            return
        import pyoxigraph as ox

        solutions = catalog.raw_query(named, params)
        formats = {
            "csv": ox.QueryResultsFormat.CSV,
            "tsv": ox.QueryResultsFormat.TSV,
            "json": ox.QueryResultsFormat.JSON,
        }
        data = solutions.serialize(format=formats[fmt])
        sys.stdout.buffer.write(data)
        if fmt == "json":
            sys.stdout.write("\n")
    except (QueryNotFoundError, QueryError, UsageError) as exc:
        raise _fail(str(exc), 2) from None
    except NgffKgError as exc:
        raise _fail(str(exc), 1) from None


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
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """Look up ontology terms offline by identifier, label or synonym, best match first."""
    if fmt not in ("table", "csv", "json"):
        raise _fail(f"--format must be table, csv or json, not {fmt!r}", 2)
    try:
        catalog = Catalog(store, read_only=True) if store is not None else Catalog(None)
        index = catalog.ontology
        matches = catalog.terms(text, ontology, limit)
    except UsageError as exc:
        raise _fail(str(exc), 2) from None
    except NgffKgError as exc:
        raise _fail(str(exc), 1) from None
    rows = [
        {
            "id": m.term.curie,
            "label": m.term.label or "",
            "ontology": m.term.prefix,
            "rank_or_parent": index.context(m.term),
            "match": m.how if m.tier == 0 else f"{m.how}: {m.matched}",
            "iri": m.term.iri,
        }
        for m in matches
    ]
    if not rows:
        raise _fail(f"no term matches {text!r}", 1)
    _print_rows(rows, fmt, ["id", "label", "ontology", "rank_or_parent", "match"])


@app.command()
def check(
    store: StoreOption,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with status 1 when anything is found.")
    ] = False,
    show: Annotated[
        int, typer.Option("--show", help="Table: how many datasets to list per check.")
    ] = 10,
) -> None:
    """Report metadata quality: missing fields, unknown, obsolete or wrong-ontology terms,
    organisms that do not fit the cell line named, and the repairs applied."""
    if fmt not in ("table", "csv", "json"):
        raise _fail(f"--format must be table, csv or json, not {fmt!r}", 2)
    try:
        report = Catalog(store, read_only=True).check()
    except NgffKgError as exc:
        raise _fail(str(exc), 1) from None
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        rows = [
            {"check": f.check, "dataset": f.dataset, "value": f.value or "", "detail": f.detail}
            for f in report.findings
        ]
        rows += [
            {
                "check": "repair",
                "dataset": "",
                "value": r["original"],
                "detail": f"{r['kind']} → {r['repaired']} ({r['datasets']} datasets)",
            }
            for r in report.repairs
        ]
        _print_rows(rows, "csv", ["check", "dataset", "value", "detail"])
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
        table = Table(title=f"{name} ({counts[name]} datasets)", title_justify="left")
        table.add_column("dataset", overflow="fold")
        table.add_column("value", overflow="fold")
        table.add_column("detail", overflow="fold")
        for finding in findings[:show]:
            table.add_row(finding.dataset, _cell(finding.value), finding.detail)
        out.print(table)
        if len(findings) > show:
            out.print(f"... and {len(findings) - show} more (--show N, or --format csv for all)")
    if report.repairs:
        repairs = Table(title="repairs applied", title_justify="left")
        for column in ("kind", "original", "repaired", "datasets"):
            repairs.add_column(column, overflow="fold")
        shown: dict[str, int] = {}
        for r in report.repairs:
            shown[r["kind"]] = shown.get(r["kind"], 0) + 1
            if shown[r["kind"]] <= show:
                repairs.add_row(r["kind"], r["original"], _cell(r["repaired"]), str(r["datasets"]))
        out.print(repairs)
        hidden = sum(max(0, n - show) for n in shown.values())
        if hidden:
            out.print(f"... and {hidden} more repairs (--show N, or --format csv for all)")


def _print_rows(rows: list[dict[str, str]], fmt: str, columns: list[str]) -> None:
    """Plain rows as a table, CSV or JSON (a list of objects)."""
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        table = Table()
        for column in columns:
            table.add_column(column.replace("_", " "), overflow="fold")
        for row in rows:
            table.add_row(*(row[c] for c in columns))
        out.print(table)


def _print_table(result: QueryResult) -> None:
    """Rows as a table; ontology IRIs shown as CURIEs (NCBITaxon:10090) to stay readable."""
    table = Table()
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.values():
        table.add_row(*(_cell(v) for v in row.values()))
    out.print(table)
    err.print(f"{len(result.rows)} rows")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return curie(value)
    return str(value)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

__all__ = ["app", "main"]

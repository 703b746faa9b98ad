"""Every named query gives the same rows in ngff-kg, rdflib and a plain Oxigraph server, run
on the N-Quads export of the examples store: the queries are plain SPARQL 1.1, and their
parameters are written into the text for the other engines (docs/queries.md)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from ngff_kg import Catalog, library
from ngff_kg.queries import standalone_text

#: rdflib 7 warns of its own deprecated internals while parsing and querying datasets
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
LIBRARY = library()
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "long", "int")}
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SCHEMA = "http://schema.org/"
NKG = "https://w3id.org/ngff-kg/vocab#"
MOUSE = "http://purl.obolibrary.org/obo/NCBITaxon_10090"

#: Parameter values checked on every engine (IRIs, so that no name is looked up).
BOUND: list[tuple[str, dict[str, str]]] = [
    ("find-datasets", {"organism": "http://purl.obolibrary.org/obo/NCBITaxon_40674"}),
    ("find-datasets", {"modality": "http://purl.obolibrary.org/obo/FBbi_00000246"}),
    ("datasets-by-organism", {"organism": "http://purl.obolibrary.org/obo/NCBITaxon_40674"}),
    ("datasets-by-taxon-rank", {"rank": "genus"}),
    ("datasets-by-modality-branch", {"ancestor": "FBbi:00000246"}),
    ("images-by-pixel-size", {"min": "0.1", "max": "1", "unit": "nanometer", "axis": "x"}),
    ("repairs", {"kind": "TermIdentifierRepair"}),
    ("vendor-metadata", {"key": "^objective"}),
    ("channels-by-wavelength", {"min": "500"}),
    (
        "dataset-triples",
        {"dataset": "https://data.example.org/Example%20Lab/screens/plate-1.ome.zarr/"},
    ),
    (
        "dataset-axes",
        {"dataset": "https://data.example.org/Example%20Lab/collections/zebrafish-spim.zarr/"},
    ),
    ("datasets-missing-metadata", {"field": "license"}),
]


def _key(term: Any) -> Any:
    """A term as comparable plain values: IRIs by text, numbers by value, blank nodes alike."""
    if term is None:
        return None
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return ("iri", value)
    if kind == "bnode":
        return ("bnode",)
    datatype = term.get("datatype")
    if datatype in NUMERIC:
        return ("number", round(float(value), 9))
    if datatype and datatype != XSD + "string" and datatype.startswith(XSD):
        # the value, not its spelling: engines write dates in different canonical forms
        parsed = rdflib.Literal(value, datatype=datatype).value
        if parsed is not None:
            return ("value", datatype, parsed)
    return (
        "literal",
        value,
        term.get("xml:lang"),
        datatype if datatype != XSD + "string" else None,
    )


def _rows(variables: list[str], bindings: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(_key(b.get(v)) for v in variables) for b in bindings]


def _ox_json(term: Any) -> dict[str, Any] | None:
    """A pyoxigraph or rdflib term as a SPARQL 1.1 JSON results term."""
    if term is None:
        return None
    if isinstance(term, rdflib.URIRef) or type(term).__name__ == "NamedNode":
        return {"type": "uri", "value": str(term.value if hasattr(term, "value") else term)}
    if isinstance(term, rdflib.BNode) or type(term).__name__ == "BlankNode":
        return {"type": "bnode", "value": ""}
    if isinstance(term, rdflib.Literal):
        out: dict[str, Any] = {"type": "literal", "value": str(term)}
        if term.language:
            out["xml:lang"] = term.language
        out["datatype"] = str(term.datatype) if term.datatype else XSD + "string"
        return out
    out = {"type": "literal", "value": term.value, "datatype": term.datatype.value}
    if term.language:
        out["xml:lang"] = term.language
        out["datatype"] = None
    return out


@pytest.fixture(scope="module")
def nquads(examples_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("portable") / "examples.nq"
    with Catalog(examples_store, read_only=True) as catalog:
        catalog.export("nquads", path)
    return path


@pytest.fixture(scope="module")
def ngff_kg(nquads: Path) -> Iterator[Catalog]:
    """ngff-kg on a store that holds the export (nothing else: no taxonomy loaded later)."""
    catalog = Catalog(None)
    catalog.store.oxigraph.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    yield catalog


@pytest.fixture(scope="module")
def rdflib_dataset(nquads: Path) -> rdflib.Dataset:
    # the default graph of the queries is the union of all graphs, as in ngff-kg
    dataset = rdflib.Dataset(default_union=True)
    dataset.parse(data=nquads.read_bytes(), format="nquads")
    return dataset


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def oxigraph_server(nquads: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The ``oxigraph`` server binary (PyPI ``oxigraph``) serving the export, union default
    graph; skipped when the binary is not installed."""
    binary = shutil.which("oxigraph")
    if binary is None:
        pytest.skip("the oxigraph server binary (pip install oxigraph) is not installed")
    location = tmp_path_factory.mktemp("oxigraph-server")
    subprocess.run(
        [binary, "load", "--location", str(location), "--file", str(nquads)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "serve",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the oxigraph server did not start")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _server_rows(url: str, text: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode({"query": text}).encode(),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    variables = body["head"]["vars"]
    return variables, _rows(variables, body["results"]["bindings"])


def _rdflib_rows(dataset: rdflib.Dataset, text: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    result = dataset.query(text)
    variables = [str(v) for v in result.vars]
    bindings = [{v: _ox_json(row[v]) for v in variables} for row in result]
    return variables, _rows(variables, bindings)


def _ngff_kg_rows(catalog: Catalog, name: str, params: dict[str, str]) -> tuple[list[str], Any]:
    """Rows of a named query (or SPARQL text) run by ngff-kg."""
    result = catalog.query(name, params)
    bindings = [
        {c: _ox_json(v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows
    ]
    return result.columns, _rows(result.columns, bindings)


def _concatenations(text: str) -> dict[str, str]:
    """The columns made by GROUP_CONCAT, with their separator: SPARQL leaves the order of the
    concatenated values to the engine."""
    found = {}
    for match in re.finditer(r"GROUP_CONCAT\((.*?)\)\s+AS\s+\?(\w+)", text, re.S):
        separator = re.search(r'separator\s*=\s*"([^"]*)"', match.group(1))
        found[match.group(2)] = separator.group(1) if separator else " "
    return found


def _unordered(columns: list[str], rows: list[tuple[Any, ...]], text: str) -> list[Any]:
    """Rows with each concatenation's parts sorted; an empty one counts as unbound (Oxigraph
    leaves a concatenation of no values unbound, rdflib gives "")."""
    concatenated = {columns.index(c): sep for c, sep in _concatenations(text).items()}
    out = []
    for row in rows:
        cells = list(row)
        for i, sep in concatenated.items():
            if cells[i] is not None and cells[i][0] == "literal":
                parts = sorted(cells[i][1].split(sep)) if sep else sorted(cells[i][1])
                cells[i] = ("concatenation", tuple(parts)) if cells[i][1] else None
        out.append(tuple(cells))
    return out


def _order_keys(text: str, columns: list[str]) -> list[int]:
    """The selected columns the query is ordered by (rows tied on them may come in any order)."""
    tail = text.rsplit("}", 1)[-1]
    if "ORDER BY" not in tail:
        return []
    clause = tail.split("ORDER BY", 1)[1].split("VALUES", 1)[0]
    names = re.findall(r"[?$]([A-Za-z_]\w*)", clause)
    return [columns.index(n) for n in names if n in columns]


CASES = [(name, {}) for name in sorted(LIBRARY)] + BOUND


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "params"), CASES, ids=[n + "".join(f"-{k}" for k in p) for n, p in CASES]
)
def test_same_rows_in_every_engine(
    name: str,
    params: dict[str, str],
    ngff_kg: Catalog,
    rdflib_dataset: rdflib.Dataset,
    oxigraph_server: str,
) -> None:
    query = LIBRARY[name]
    columns, expected = _ngff_kg_rows(ngff_kg, name, params)
    text = standalone_text(query, params)
    assert "param:" not in text.split("SELECT", 1)[1]
    expected = _unordered(columns, expected, text)
    engines = [
        ("oxigraph server", _server_rows(oxigraph_server, text)),
        ("rdflib", _rdflib_rows(rdflib_dataset, text)),
    ]
    for engine, (variables, rows) in engines:
        assert variables == columns, engine
        rows = _unordered(columns, rows, text)
        assert Counter(rows) == Counter(expected), f"{engine}: {name} {params}"
        keys = _order_keys(text, columns)
        if keys:
            ordered = [tuple(row[i] for i in keys) for row in rows]
            assert ordered == [tuple(row[i] for i in keys) for row in expected], engine


def test_the_cases_return_rows(ngff_kg: Catalog) -> None:
    """The comparison means something: most queries and every bound case give rows here."""
    empty = [n for n, p in CASES if not ngff_kg.query(n, p).rows]
    assert len(empty) <= 6, empty


def _doc_queries() -> list[str]:
    from conftest import ROOT

    text = (ROOT / "docs" / "graph-model.md").read_text("utf-8")
    return re.findall(r"```sparql\n(.*?)```", text, re.S)


def test_graph_model_examples_run_alike(ngff_kg: Catalog, rdflib_dataset: rdflib.Dataset) -> None:
    """The example queries of docs/graph-model.md run, give rows, and give the same rows in
    rdflib; the naive count counts more nodes than the dataset roots it should."""
    blocks = _doc_queries()
    assert len(blocks) >= 3
    for text in blocks:
        columns, expected = _ngff_kg_rows(ngff_kg, text, {})
        assert expected, text
        variables, rows = _rdflib_rows(rdflib_dataset, text)
        assert (variables, Counter(rows)) == (columns, Counter(expected)), text
    naive, right = (ngff_kg.query(b).column("n")[0] for b in blocks[:2])
    # reference: the dataset roots with the organism, read from the quads in Python
    roots = {
        q.subject
        for q in ngff_kg.store.oxigraph.quads_for_pattern(
            None, ox.NamedNode(RDF_TYPE), ox.NamedNode(NKG + "OmeZarrDataset")
        )
    }
    mouse = {
        q.subject
        for q in ngff_kg.store.oxigraph.quads_for_pattern(
            None, ox.NamedNode(SCHEMA + "taxonomicRange"), ox.NamedNode(MOUSE)
        )
    }
    assert right == len(roots & mouse) > 0
    assert naive == len(mouse) > right


def test_graph_model_counts_on_the_corpus(corpus_catalog: Catalog) -> None:
    """The counts docs/graph-model.md gives for the corpus."""
    from conftest import ROOT

    doc = (ROOT / "docs" / "graph-model.md").read_text("utf-8")
    blocks = _doc_queries()
    for text in blocks[:2]:
        documented = re.search(r"corpus: ([0-9,]+)", text).group(1)  # type: ignore[union-attr]
        assert corpus_catalog.query(text).column("n") == [int(documented.replace(",", ""))]
    assert "15,241 datasets" in doc

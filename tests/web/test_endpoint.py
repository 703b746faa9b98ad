"""The SPARQL endpoint: protocol, content negotiation, read-only, time and row limits.

The live tests talk HTTP to ``ngff-kg serve`` on 127.0.0.1 (the ``live_server`` fixture) and
compare with ``ngff-kg query`` on the same store.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from typer.testing import CliRunner

from ngff_kg import Catalog, library
from ngff_kg.cli import app
from ngff_kg.web.sparql import (
    GRAPH_FORMATS,
    SOLUTION_FORMATS,
    TRUNCATED_HEADER,
    QueryRequest,
    execute,
    negotiate,
    strip_strings_and_comments,
    write_solutions,
)

MOUSE = "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"
JSON = "application/sparql-results+json"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


# ---------------------------------------------------------------------- without a server


@pytest.fixture(scope="module")
def small_store() -> ox.Store:
    store = ox.Store()
    ex = "http://example.org/"
    data = f"""
    <{ex}a> <{ex}p> "plain" , "tab\\tnew\\nline \\"quoted\\", comma"@en ,
        "42"^^<http://www.w3.org/2001/XMLSchema#integer> .
    <{ex}a> <{ex}q> _:b1 .
    _:b1 <{ex}p> <{ex}c> .
    """
    store.load(data.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(ex + "g"))
    return store


def solutions(store: ox.Store) -> tuple[list[str], list[tuple]]:
    query = "SELECT ?s ?p ?o ?none WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    result = store.query(query, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return names, [tuple(s[v] for v in names) for s in result]


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_results_parse_back_with_pyoxigraph(small_store: ox.Store, fmt: str) -> None:
    names, rows = solutions(small_store)
    body = write_solutions(names, rows, fmt)
    parsed = ox.parse_query_results(body, format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert [v.value for v in parsed.variables] == names
    back = [tuple(s[v] for v in names) for s in parsed]
    assert len(back) == 5
    normalise = [  # blank node labels may differ after parsing; compare them as one
        [tuple("_:" if isinstance(t, ox.BlankNode) else t for t in row) for row in table]
        for table in (back, rows)
    ]
    assert normalise[0] == normalise[1]


def test_csv_results_are_rfc4180_with_the_terms_text(small_store: ox.Store) -> None:
    names, rows = solutions(small_store)
    body = write_solutions(names, rows, "csv").decode()
    assert body.endswith("\r\n")
    table = list(csv.reader(io.StringIO(body, newline="")))
    assert table[0] == names
    expected = [
        [
            "" if t is None else "_:" + t.value if isinstance(t, ox.BlankNode) else t.value
            for t in row
        ]
        for row in rows
    ]
    assert table[1:] == expected
    assert 'tab\tnew\nline "quoted", comma' in [cell for row in table for cell in row]


def test_negotiation() -> None:
    assert negotiate("", SOLUTION_FORMATS).name == "json"
    assert (
        negotiate("text/csv;q=0.5, application/sparql-results+xml", SOLUTION_FORMATS).name == "xml"
    )
    assert negotiate("text/*", SOLUTION_FORMATS).name == "csv"
    assert negotiate("image/png", SOLUTION_FORMATS) is None
    assert negotiate("application/json", GRAPH_FORMATS).name == "jsonld"
    assert negotiate("text/turtle;q=0, */*;q=0.1", GRAPH_FORMATS).name == "ntriples"
    assert negotiate("image/png", SOLUTION_FORMATS, "tsv").name == "tsv"
    assert negotiate("", SOLUTION_FORMATS, "turtle") is None
    assert negotiate("", GRAPH_FORMATS, "xml").name == "rdfxml"  # as SPARQLWrapper asks
    assert negotiate("", SOLUTION_FORMATS, "text/csv").name == "csv"


def test_keywords_inside_strings_iris_and_comments_do_not_count() -> None:
    query = 'SELECT * { ?s <http://x/SERVICE> "SERVICE \\" x" } # SERVICE <y>'
    assert "SERVICE" not in strip_strings_and_comments(query)
    assert "SERVICE" in strip_strings_and_comments("SELECT * { SERVICE <http://a/> { ?s ?p ?o } }")


def run(store: ox.Store, query: str, limit: int = 100, **kwargs) -> tuple[int, str, dict]:
    response = execute(store, QueryRequest(query, **kwargs), limit)
    return response.status, response.body.decode(), response.headers


def test_execute_refuses_what_a_read_only_endpoint_must_not_do(small_store: ox.Store) -> None:
    status, body, _ = run(small_store, "INSERT DATA { <a:b> <a:b> <a:b> }")
    assert status == 403 and "read-only" in body
    status, body, _ = run(small_store, "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    assert status == 403 and "SERVICE" in body
    status, body, _ = run(small_store, "SELECT * WHERE { ?s ?p }")
    assert status == 400 and "invalid SPARQL" in body
    status, body, _ = run(small_store, COUNT, params={"organism": "x"})
    assert status == 400 and "no parameter 'organism'" in body


def test_execute_limits_rows_and_says_so(small_store: ox.Store) -> None:
    status, body, headers = run(small_store, "SELECT * { ?s ?p ?o }", limit=2)
    assert status == 200 and headers == {TRUNCATED_HEADER: "2"}
    assert len(json.loads(body)["results"]["bindings"]) == 2
    assert json.loads(body)["truncated"] == {"limit": 2}  # said in the body too
    # the extra member leaves the document SPARQL 1.1 JSON results to their readers
    read = rdflib.query.Result.parse(io.StringIO(body), format="json")
    assert len(read.bindings) == 2
    assert [str(v) for v in read.vars] == json.loads(body)["head"]["vars"]
    assert len(list(ox.parse_query_results(body.encode(), ox.QueryResultsFormat.JSON))) == 2
    status, body, headers = run(small_store, "CONSTRUCT WHERE { ?s ?p ?o }", limit=3)
    assert status == 200 and headers == {TRUNCATED_HEADER: "3"}
    assert len(list(ox.parse(body.encode(), format=ox.RdfFormat.TURTLE))) == 3
    status, body, headers = run(small_store, "SELECT * { ?s ?p ?o }", limit=5)
    assert status == 200 and headers == {} and "truncated" not in json.loads(body)


def test_named_query_parameters_are_typed_by_the_header(examples_catalog) -> None:
    store = examples_catalog.store.oxigraph
    text = library()["find-datasets"].text
    status, body, _ = run(store, text, params={"organism": "NCBI:txid10090"})
    assert status == 200
    assert [b["dataset"]["value"] for b in json.loads(body)["results"]["bindings"]] == [MOUSE]
    status, body, _ = run(store, text, params={"organism": "mouse"})  # names resolve too
    assert status == 200
    assert [b["dataset"]["value"] for b in json.loads(body)["results"]["bindings"]] == [MOUSE]
    status, body, _ = run(store, text, params={"organism": "no such organism"})
    assert status == 400 and "no such organism" in body
    undeclared = (
        "PREFIX param: <https://w3id.org/ngff-kg/param#> SELECT ?x { BIND(param:x() AS ?x) }"
    )
    status, body, _ = run(store, undeclared)
    assert status == 200 and json.loads(body)["results"]["bindings"] == [{}]


def test_variable_parameters_are_substituted(examples_catalog) -> None:
    store = examples_catalog.store.oxigraph
    text = library()["dataset-terms"].text  # declares ?dataset
    status, body, _ = run(store, text, params={"dataset": MOUSE})
    assert status == 200
    rows = json.loads(body)["results"]["bindings"]
    expected = examples_catalog.query("dataset-terms", dataset=MOUSE).values()
    assert rows and {b["dataset"]["value"] for b in rows} == {MOUSE}
    assert sorted(b["term"]["value"] for b in rows) == sorted(r["term"] for r in expected)
    status, body, _ = run(store, text, params={"dataset": "not an IRI"})
    assert status == 400 and "not an absolute IRI" in body


# ---------------------------------------------------------------------- over HTTP


def http(
    url: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None
) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), error.read()


def _lower(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def sparql_get(base: str, query: str, accept: str = JSON, **params: str) -> tuple[int, dict, bytes]:
    qs = urllib.parse.urlencode({"query": query, **params})
    return http(f"{base}sparql?{qs}", headers={"Accept": accept})


def cli_json(store: Path, name: str, *params: str) -> dict:
    args = ["query", name, "--store", str(store), "--format", "json"]
    for param in params:
        args += ["-p", param]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def rows_of(document: dict) -> list[dict]:
    return sorted((json.dumps(b, sort_keys=True) for b in document["results"]["bindings"]), key=str)


@pytest.mark.parametrize("name", sorted(library()))
def test_endpoint_answers_like_the_cli(name: str, live_server: str, examples_store: Path) -> None:
    status, headers, body = sparql_get(live_server, library()[name].text)
    assert status == 200 and headers["content-type"].startswith(JSON)
    assert TRUNCATED_HEADER.lower() not in headers
    assert rows_of(json.loads(body)) == rows_of(cli_json(examples_store, name))


def test_parameters_and_post_forms(live_server: str, examples_store: Path) -> None:
    text = library()["find-datasets"].text
    expected = rows_of(cli_json(examples_store, "find-datasets", "organism=NCBITaxon:10090"))
    status, _, body = sparql_get(live_server, text, **{"param.organism": "NCBITaxon:10090"})
    assert status == 200 and rows_of(json.loads(body)) == expected
    form = urllib.parse.urlencode({"query": text, "param.organism": "NCBITaxon:10090"}).encode()
    status, _, body = http(
        f"{live_server}sparql",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON},
    )
    assert status == 200 and rows_of(json.loads(body)) == expected
    direct = urllib.parse.urlencode({"param.organism": "NCBITaxon:10090"})
    status, _, body = http(
        f"{live_server}sparql?{direct}",
        text.encode(),
        {"Content-Type": "application/sparql-query", "Accept": JSON},
    )
    assert status == 200 and rows_of(json.loads(body)) == expected


@pytest.mark.parametrize(
    "accept", ["text/csv", "text/tab-separated-values", "application/sparql-results+xml"]
)
def test_result_formats(accept: str, live_server: str, examples_store: Path) -> None:
    expected = cli_json(examples_store, COUNT)["results"]["bindings"][0]["n"]["value"]
    status, headers, body = sparql_get(live_server, COUNT, accept)
    assert status == 200 and headers["content-type"].startswith(accept)
    if accept == "text/csv":
        assert list(csv.reader(io.StringIO(body.decode()))) == [["n"], [expected]]
        return
    fmt = ox.QueryResultsFormat.TSV if "tab" in accept else ox.QueryResultsFormat.XML
    parsed = list(ox.parse_query_results(body, format=fmt))
    assert parsed[0]["n"].value == expected


# SPARQLWrapper parses RDF/XML with rdflib's ConjunctiveGraph, which rdflib 7 deprecates
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sparqlwrapper_client(live_server: str, examples_store: Path) -> None:
    wrapper = pytest.importorskip("SPARQLWrapper", reason="SPARQLWrapper is not installed")
    client = wrapper.SPARQLWrapper(live_server + "sparql")
    for name in ("datasets-by-organism", "datasets-by-modality", "kinds"):
        client.setQuery(library()[name].text)
        client.setReturnFormat(wrapper.JSON)
        client.setMethod(wrapper.POST)
        answer = client.query().convert()
        assert rows_of(answer) == rows_of(cli_json(examples_store, name)), name
    client.setQuery(f"CONSTRUCT {{ <{MOUSE}> ?p ?o }} WHERE {{ <{MOUSE}> ?p ?o }}")
    client.setMethod(wrapper.GET)
    client.setReturnFormat(wrapper.TURTLE)
    turtle = client.queryAndConvert()
    triples = [q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]
    with Catalog(examples_store, read_only=True) as served:
        expected = served.store.oxigraph.quads_for_pattern(ox.NamedNode(MOUSE), None, None)
        assert set(triples) == {q.triple for q in expected}
    client.setReturnFormat(wrapper.XML)  # RDF/XML, parsed by rdflib inside SPARQLWrapper
    assert len(client.queryAndConvert()) > 20


def test_updates_are_refused(live_server: str) -> None:
    before = json.loads(sparql_get(live_server, COUNT)[2])
    update = "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"
    status, _, body = http(
        f"{live_server}sparql", update.encode(), {"Content-Type": "application/sparql-update"}
    )
    assert status == 403 and b"read-only" in body
    form = urllib.parse.urlencode({"update": update}).encode()
    status, _, _ = http(
        f"{live_server}sparql", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 403
    status, _, _ = sparql_get(live_server, update)  # an update disguised as a query
    assert status == 403
    assert json.loads(sparql_get(live_server, COUNT)[2]) == before


def test_protocol_errors(live_server: str) -> None:
    assert sparql_get(live_server, COUNT, "image/png")[0] == 406
    assert http(f"{live_server}sparql", b"x", {"Content-Type": "text/plain"})[0] == 415
    assert http(f"{live_server}sparql")[0] == 400  # no query
    assert sparql_get(live_server, "SELECT * WHERE {")[0] == 400
    service = "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    assert sparql_get(live_server, service)[0] == 403
    assert http(f"{live_server}sparql", method="DELETE")[0] == 405


def test_row_limit(live_server: str) -> None:
    status, headers, body = sparql_get(live_server, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 200 and headers[TRUNCATED_HEADER.lower()] == "5000"
    assert len(json.loads(body)["results"]["bindings"]) == 5000


def test_dataset_from_the_request(live_server: str, examples_catalog) -> None:
    graph = ox.NamedNode(MOUSE)
    own = len(list(examples_catalog.store.oxigraph.quads_for_pattern(None, None, None, graph)))
    status, _, body = sparql_get(live_server, COUNT, **{"default-graph-uri": MOUSE})
    assert status == 200
    assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) == own


def test_a_query_past_the_time_limit_is_stopped_and_the_server_goes_on(live_server: str) -> None:
    status, _, body = sparql_get(live_server, SLOW)
    assert status == 503 and b"time limit of 5 s" in body
    status, _, body = sparql_get(live_server, COUNT)  # a fresh worker answers
    assert status == 200 and json.loads(body)["results"]["bindings"]

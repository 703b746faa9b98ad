"""The catalogue's JSON API and pages, over HTTP from ``ngff-kg serve``; bundled assets only."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import fbbi, taxon
from typer.testing import CliRunner

from ngff_kg import Catalog, library
from ngff_kg.cli import app
from ngff_kg.vocab import NKG

STATIC = Path(__file__).resolve().parents[2] / "src" / "ngff_kg" / "web" / "static"
MOUSE = "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"
PLATE = "https://data.example.org/Example%20Lab/screens/plate-1.ome.zarr/"


def get(url: str, accept: str = "application/json") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


def api(base: str, path: str, **params) -> dict:
    status, _, body = get(f"{base}api/{path}?{urllib.parse.urlencode(params, doseq=True)}")
    assert status == 200, body
    return json.loads(body)


def test_search_with_hierarchy_and_counts(live_server: str) -> None:
    data = api(live_server, "search", organism=[taxon(40674)], modality=[fbbi(246)])
    assert data["total"] == 2
    assert [r["url"] for r in data["results"]] == [MOUSE, PLATE]
    facets = {f["name"]: f for f in data["facets"]}
    assert list(facets) == ["organism", "modality", "license", "host", "kind"]
    assert facets["organism"]["hierarchical"] and not facets["kind"]["hierarchical"]
    assert {(v["value"], v["count"]) for v in facets["kind"]["values"]} == {
        ("image", 1),
        ("plate", 1),
    }
    mouse = data["results"][0]
    assert mouse["organisms"] == [{"iri": taxon(10090), "label": "Mus musculus"}]
    assert mouse["shape"] == [1, 2, 64, 2048, 2048]
    assert [link["label"] for link in mouse["links"]] == ["OME-NGFF validator", "vizarr"]
    assert mouse["links"][0]["href"] == (
        "https://ome.github.io/ome-ngff-validator/?source=" + MOUSE
    )


def test_search_errors(live_server: str) -> None:
    status, _, body = get(f"{live_server}api/search?limit=0")
    assert status == 400 and b"limit" in body
    status, _, body = get(f"{live_server}api/search?offset=x")
    assert status == 400


def test_dataset_page_data_equals_the_named_queries(live_server: str, examples_store) -> None:
    data = api(live_server, "dataset", iri=MOUSE)
    assert data["record"]["url"] == MOUSE
    with Catalog(examples_store, read_only=True) as catalog:
        triples = catalog.query("dataset-triples", dataset=MOUSE).rows
        repairs = catalog.query("dataset-repairs", dataset=MOUSE).values()
    shown = sorted(
        (g["graph"], s["value"], p["value"], o["value"])
        for g in data["graphs"]
        for s, p, o in g["triples"]
    )
    assert len(shown) > 50
    # the same triples, but the metadata file: harvested with a base URL, the page shows it
    # relative to the dataset root, not as the harvesting machine's file:// path
    source = NKG + "metadataSource"
    stored = [tuple(term.value for term in row) for row in triples]
    [local] = [o for _, s, p, o in stored if p == source and s == MOUSE]
    assert local.startswith("file:///") and Path(unquote(local[7:])).is_file()
    expected = [(g, s, p, "zarr.json" if (p, s) == (source, MOUSE) else o) for g, s, p, o in stored]
    assert shown == sorted(expected)
    assert not any(o.startswith("file:") for _, _, _, o in shown)
    assert local.endswith("/mouse-brain.ome.zarr/zarr.json")
    assert [(r["kind"], r["original"], r["repaired"]) for r in data["repairs"]] == [
        (r["kind"], r["original"], r["repaired"]) for r in repairs
    ]
    assert {g["graph"] for g in data["graphs"]} == {
        MOUSE,
        "https://raw.example.com/samples/example_samples.csv",
    }


def test_dataset_page_errors(live_server: str) -> None:
    assert get(f"{live_server}api/dataset?iri=https%3A%2F%2Fnot.here%2F")[0] == 404
    assert get(f"{live_server}api/dataset?iri=not%20an%20iri")[0] == 400


def test_named_queries_for_the_editor(live_server: str) -> None:
    status, _, body = get(f"{live_server}api/queries")
    assert status == 200
    queries = {q["name"]: q for q in json.loads(body)}
    assert set(queries) == set(library())
    assert queries["find-datasets"]["text"] == library()["find-datasets"].text
    assert [p["name"] for p in queries["find-datasets"]["params"]] == ["organism", "modality"]


@pytest.mark.parametrize("page", ["", "dataset", "editor"])
def test_pages_use_only_bundled_assets(live_server: str, page: str) -> None:
    status, media, body = get(live_server + page, "text/html")
    assert status == 200 and media.startswith("text/html")
    html = body.decode()
    references = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert references and all(r.startswith(("/", "data:")) for r in references), references
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert get(live_server + asset.lstrip("/"), "*/*")[0] == 200


def test_assets_fetch_nothing_from_elsewhere() -> None:
    paths = [p for p in STATIC.rglob("*") if p.suffix in (".html", ".js", ".css")]
    assert STATIC / "vendor" / "yasgui" / "yasgui.min.js" in paths
    for path in paths:
        text = path.read_text("utf-8")
        if path.suffix == ".css" or "vendor" not in path.parts:  # the vendored JS holds
            # CSS-parsing code; what it requests is checked in the browser (test_browser.py)
            assert "@import" not in text and "url(" not in text, path.name
        assert not re.findall(r"fetch\(\s*[\"'`]https?:", text), path.name
        assert '<script src="http' not in text and '<link href="http' not in text
        assert "sourceMappingURL" not in text, path.name  # no .map the server lacks


def test_yasgui_is_vendored_with_its_license_and_provenance() -> None:
    vendor = STATIC / "vendor" / "yasgui"
    assert "MIT License" in (vendor / "LICENSE").read_text()
    provenance = (vendor / "PROVENANCE.md").read_text()
    version = re.search(r"@zazuko/yasgui` (\d+\.\d+\.\d+)", provenance)
    assert version, provenance
    assert "scripts/vendor_yasgui.sh" in provenance
    assert (STATIC.parents[3] / "scripts" / "vendor_yasgui.sh").exists()
    import hashlib

    for name in ("yasgui.min.js", "yasgui.min.css"):
        digest = hashlib.sha256((vendor / name).read_bytes()).hexdigest()
        assert f"{digest}  {name}" in provenance, f"{name} differs from what was vendored"


def test_sparql_url_in_a_browser_opens_the_editor(live_server: str) -> None:
    request = urllib.request.Request(live_server + "sparql", headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.url.endswith("/editor")


def test_serve_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--store", str(tmp_path / "none"), "--port", "0"])
    assert result.exit_code == 1 and "no store" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["serve", "--store", str(tmp_path), "--timeout", "0"])
    assert result.exit_code == 2 and "--timeout" in result.output


# ---------------------------------------------------------------------- sort, export, SPARQL


def all_results(base: str, **params) -> list[dict]:
    return api(base, "search", limit=1000, **params)["results"]


def test_search_sorts_by_size_and_name(live_server: str, examples_store: Path) -> None:
    with Catalog(examples_store, read_only=True) as catalog:
        fields = catalog.query("dataset-fields").values()
    sizes = {r["dataset"]: r["value"] for r in fields if r["field"] == "bytes"}
    names = {r["dataset"]: r["value"] for r in fields if r["field"] == "name"}
    assert len(sizes) >= 2, "the examples should say the size of some datasets"
    by_size = [r["url"] for r in all_results(live_server, sort="-size")]
    largest_first = sorted(sizes, key=lambda url: -sizes[url])
    assert by_size[: len(sizes)] == largest_first  # datasets without a size come last
    assert set(by_size[len(sizes) :]).isdisjoint(sizes)
    ascending = [r["url"] for r in all_results(live_server, sort="size")]
    assert ascending[: len(sizes)] == largest_first[::-1]
    by_name = [r["url"] for r in all_results(live_server, sort="name")]
    assert by_name[: len(names)] == sorted(names, key=lambda url: names[url].lower())
    page = api(live_server, "search", sort="-size", limit=2, offset=1)["results"]
    assert [r["url"] for r in page] == by_size[1:3]


def test_an_unknown_sort_is_refused_with_the_choices(live_server: str) -> None:
    status, _, body = get(f"{live_server}api/search?sort=date-of-birth")
    data = json.loads(body)
    assert status == 400 and "date-of-birth" in data["error"]
    assert {"name", "size", "organism", "modality"} <= set(data["sorts"])
    assert get(f"{live_server}api/search?sort=-")[0] == 400


SELECTIONS = [
    {},
    {"organism": [taxon(40674)]},
    {"organism": [taxon(40674)], "modality": [fbbi(246)]},
    {"q": "mouse"},
    {"q": "Mus musculus"},
    {"q": "brightfield"},
    {"q": "lightsheet"},
    {"q": "lab brain"},
    {"kind": ["plate", "image"]},
    {"host": ["data.example.org"]},
]


@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda s: urllib.parse.urlencode(s, True))
def test_export_holds_what_the_search_finds(live_server: str, selection: dict) -> None:
    import csv
    import io

    pq = pytest.importorskip("pyarrow.parquet")
    found = [r["url"] for r in all_results(live_server, sort="-size", **selection)]
    query = urllib.parse.urlencode({**selection, "sort": "-size"}, doseq=True)
    status, media, body = get(f"{live_server}api/export?format=csv&{query}", "*/*")
    assert status == 200 and media.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["url"] for r in rows] == found
    status, _, body = get(f"{live_server}api/export?format=json&{query}", "*/*")
    assert [r["url"] for r in json.loads(body)] == found
    status, media, body = get(f"{live_server}api/export?format=parquet&{query}", "*/*")
    assert status == 200
    table = pq.read_table(io.BytesIO(body))
    assert table.column("url").to_pylist() == found
    # the same columns and values as `ngff-kg export` writes for these datasets
    if rows:
        assert list(rows[0]) == [c for c in table.column_names]


@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda s: urllib.parse.urlencode(s, True))
def test_the_sparql_of_a_selection_selects_the_same_datasets(
    live_server: str, selection: dict
) -> None:
    found = {r["url"] for r in all_results(live_server, **selection)}
    query = urllib.parse.urlencode(selection, doseq=True)
    status, media, text = get(f"{live_server}api/export?format=sparql&{query}", "*/*")
    assert status == 200 and media.startswith("application/sparql-query")
    form = urllib.parse.urlencode({"query": text.decode()})
    status, _, body = get(f"{live_server}sparql?{form}", "application/sparql-results+json")
    assert status == 200, body
    bindings = json.loads(body)["results"]["bindings"]
    assert {b["dataset"]["value"] for b in bindings} == found


def test_export_errors(live_server: str) -> None:
    assert get(f"{live_server}api/export?format=xlsx", "*/*")[0] == 400
    assert get(f"{live_server}api/export?format=csv&sort=nope", "*/*")[0] == 400
    assert get(f"{live_server}api/export?format=csv&colour=red&organism=x", "*/*")[0] == 200

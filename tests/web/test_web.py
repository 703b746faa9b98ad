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
    for path in STATIC.iterdir():
        text = path.read_text("utf-8")
        assert "@import" not in text and "url(" not in text, path.name
        assert not re.findall(r"fetch\(\s*[\"'`]https?:", text), path.name
        assert '<script src="http' not in text and '<link href="http' not in text


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

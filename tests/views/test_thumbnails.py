"""Thumbnails rendered from real (tiny) OME-Zarr images written with zarr, v2 and v3.

Each image has 3 channels with OMERO settings, 5 z-planes and 2 levels. Channel 0 (red) has
its signal in the top-left quadrant of the middle plane only (elsewhere in the other planes),
channel 1 (green) in the bottom-right quadrant of every plane, and channel 2 (blue) is
inactive with signal everywhere: a thumbnail shows red top-left, green bottom-right, nothing
blue, with the intensities the OMERO windows give the values written.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rdflib
from servers import FixtureHttpServer
from typer.testing import CliRunner

zarr = pytest.importorskip("zarr")
Image = pytest.importorskip("PIL.Image")

from ngff_kg import Catalog  # noqa: E402
from ngff_kg.cli import app  # noqa: E402
from ngff_kg.sources.pixels import plane_cost, read_plane  # noqa: E402
from ngff_kg.views.thumbnails import THUMBNAILS_GRAPH, recorded_thumbnails, thumbnail_name  # noqa: E402

ONTOLOGY = Path(__file__).parents[2] / "ontologies" / "ngff-kg.ttl"
NKG = "https://w3id.org/ngff-kg/vocab#"

SHAPE = (1, 3, 5, 64, 48)  # t, c, z, y, x
RED_VALUE, GREEN_VALUE, BLUE_VALUE = 700, 1000, 3000
CHANNELS = [
    {"label": "a", "color": "FF0000", "active": True, "window": {"start": 100, "end": 900}},
    {"label": "b", "color": "00FF00", "active": True, "window": {"start": 0, "end": 2000}},
    {"label": "c", "color": "0000FF", "active": False, "window": {"start": 0, "end": 4000}},
]


def pixels() -> np.ndarray:
    data = np.zeros(SHAPE, dtype=np.uint16)
    middle = SHAPE[2] // 2
    for z in range(SHAPE[2]):
        if z == middle:
            data[0, 0, z, :32, :24] = RED_VALUE  # top-left
        else:
            data[0, 0, z, 32:, :24] = RED_VALUE  # bottom-left: seen only if z is wrong
    data[0, 1, :, 32:, 24:] = GREEN_VALUE  # bottom-right
    data[0, 2] = BLUE_VALUE
    return data


def write_image(path: Path, zarr_format: int, *, omero: bool = True) -> np.ndarray:
    """An OME-Zarr image (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) with levels 0 and 1."""
    data = pixels()
    root = zarr.open_group(path, mode="w", zarr_format=zarr_format)
    levels = {"0": data, "1": data[:, :, :, ::2, ::2]}
    for name, level in levels.items():
        array = root.create_array(
            name, shape=level.shape, dtype=level.dtype, chunks=(1, 1, 1, 16, 16)
        )
        array[...] = level
    axes = [
        {"name": "t", "type": "time"},
        {"name": "c", "type": "channel"},
        {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    multiscales: dict[str, Any] = {
        "axes": axes,
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1] * 5}]},
            {
                "path": "1",
                "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1, 2, 2]}],
            },
        ],
        "name": path.name,
    }
    attrs: dict[str, Any] = {"multiscales": [multiscales]}
    if omero:
        attrs["omero"] = {"channels": CHANNELS, "rdefs": {"defaultZ": 2}}
    if zarr_format == 3:
        root.attrs["ome"] = {"version": "0.5", **attrs}
    else:
        multiscales["version"] = "0.4"
        root.attrs.update(attrs)
    return data


def expected(value: float, channel: dict[str, Any], component: int) -> int:
    """What OMERO rendering gives one colour component: the window maps to 0..1, times the
    channel's colour."""
    window = channel["window"]
    fraction = min(max((value - window["start"]) / (window["end"] - window["start"]), 0), 1)
    return round(fraction * int(channel["color"][2 * component : 2 * component + 2], 16))


@pytest.fixture
def images(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    write_image(data / "v2.zarr", 2)
    write_image(data / "v3.zarr", 3)
    return data


def harvested(tmp_path: Path, data: Path) -> Catalog:
    catalog = Catalog(tmp_path / "store")
    report = catalog.harvest([data])
    assert report.ok, report.failed
    return catalog


def v2_iri(images: Path) -> str:
    return (images / "v2.zarr").resolve().as_uri() + "/"


def v3_iri(images: Path) -> str:
    return (images / "v3.zarr").resolve().as_uri() + "/"


def quadrant_centres(image: Any) -> dict[str, tuple[int, int, int]]:
    width, height = image.size
    rgb = image.convert("RGB")
    return {
        "top-left": rgb.getpixel((width // 4, height // 4)),
        "top-right": rgb.getpixel((3 * width // 4, height // 4)),
        "bottom-left": rgb.getpixel((width // 4, 3 * height // 4)),
        "bottom-right": rgb.getpixel((3 * width // 4, 3 * height // 4)),
    }


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_png_shows_each_active_channel_in_its_colour_where_its_signal_is(
    tmp_path: Path, images: Path, zarr_format: int
) -> None:
    with harvested(tmp_path, images) as catalog:
        report = catalog.thumbnails()
        assert report.ok, report.problems
        iri = (images / f"v{zarr_format}.zarr").resolve().as_uri() + "/"
        assert report.rendered[iri] == thumbnail_name(iri)
    png = tmp_path / "store" / thumbnail_name(iri)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(png) as opened:
        assert opened.format == "PNG"
        image = opened.convert("RGB")
    # no level is 256 px: the largest one (level 0) is read, and not enlarged
    assert image.size == (SHAPE[4], SHAPE[3])
    red = tuple(expected(RED_VALUE, CHANNELS[0], i) for i in range(3))
    green = tuple(expected(GREEN_VALUE, CHANNELS[1], i) for i in range(3))
    assert red == (191, 0, 0) and green == (0, 128, 0)  # the windows do scale
    assert quadrant_centres(image) == {
        "top-left": red,  # the middle plane, not the others
        "top-right": (0, 0, 0),
        "bottom-left": (0, 0, 0),
        "bottom-right": green,  # and the inactive blue channel nowhere
    }


def test_smallest_level_big_enough_for_the_size_is_read(images: Path) -> None:
    plane = read_plane(images / "v3.zarr", size=16)
    assert plane.level == "1"
    assert plane.pixels.shape == (3, 32, 24)
    np.testing.assert_array_equal(plane.pixels, pixels()[0, :, 2, ::2, ::2])
    assert read_plane(images / "v2.zarr", size=64).level == "0"


def test_byte_budget_picks_a_level_that_fits_or_refuses(images: Path) -> None:
    # chunks of 16x16 uint16 pixels; the plane touches every c, y, x chunk of one z-plane
    level0 = 3 * 64 * 48 * 2
    level1 = 3 * 32 * 32 * 2  # 24 px rounded up to whole 16-px chunks
    assert (
        plane_cost(
            (1, 3, 5, 64, 48), (1, 1, 1, 16, 16), 2, (0, slice(None), 2) + (slice(None),) * 2
        )
        == level0
    )
    assert read_plane(images / "v2.zarr", max_bytes=level0).level == "0"
    assert read_plane(images / "v2.zarr", max_bytes=level0 - 1).level == "1"
    with pytest.raises(Exception, match="smallest level needs 6144 bytes"):
        read_plane(images / "v2.zarr", max_bytes=level1 - 1)


def test_without_omero_percentiles_and_default_colours(tmp_path: Path) -> None:
    data = write_image(tmp_path / "plain.zarr", 3, omero=False)
    from ngff_kg.views.thumbnails import render

    image = render(read_plane(tmp_path / "plain.zarr"))
    centres = quadrant_centres(image)
    # each channel stretched between its own percentiles: red and green at full where they
    # have signal; the blue channel is constant (no contrast), so it shows nowhere
    assert data[0, 2].min() == data[0, 2].max()
    assert centres == {
        "top-left": (255, 0, 0),
        "top-right": (0, 0, 0),
        "bottom-left": (0, 0, 0),
        "bottom-right": (0, 255, 0),
    }


# rdflib 7 warns about its own internals (default_context) while parsing N-Quads
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_graph_triple_ontology_term_and_export_column(tmp_path: Path, images: Path) -> None:
    with harvested(tmp_path, images) as catalog:
        catalog.thumbnails()
        nquads = io.BytesIO()
        catalog.dump("nquads", nquads)
        table = io.BytesIO()
        catalog.export("csv", table)
        # a new harvest replaces the dataset's graph, not the thumbnails graph
        assert catalog.harvest([images], force=True).datasets_harvested == 2
        assert set(recorded_thumbnails(catalog)) == {v3_iri(images), v2_iri(images)}
    graph = rdflib.Dataset()
    graph.parse(data=nquads.getvalue().decode(), format="nquads")
    found = {
        (str(s), str(o))
        for s, _, o in graph.graph(rdflib.URIRef(THUMBNAILS_GRAPH)).triples(
            (None, rdflib.URIRef(NKG + "thumbnail"), None)
        )
    }
    iris = [(images / n).resolve().as_uri() + "/" for n in ("v2.zarr", "v3.zarr")]
    assert found == {(i, thumbnail_name(i)) for i in iris}
    ontology = rdflib.Graph().parse(ONTOLOGY)
    term = rdflib.URIRef(NKG + "thumbnail")
    assert (term, rdflib.RDF.type, rdflib.OWL.DatatypeProperty) in ontology
    rows = {r["url"]: r for r in csv.DictReader(io.StringIO(table.getvalue().decode()))}
    for iri in iris:
        path = Path(rows[iri]["Thumbnail"])
        assert path == tmp_path / "store" / thumbnail_name(iri)
        with Image.open(path) as image:
            assert image.format == "PNG"


def test_missing_and_corrupt_chunks_are_reported_and_others_go_on(
    tmp_path: Path, images: Path
) -> None:
    write_image(images / "nochunks.zarr", 3)
    for level in ("0", "1"):
        shutil.rmtree(images / "nochunks.zarr" / level / "c")
    write_image(images / "corrupt.zarr", 2)
    for chunk in (images / "corrupt.zarr" / "0").glob("0.*"):
        chunk.write_bytes(b"not a compressed chunk")
    for chunk in (images / "corrupt.zarr" / "1").glob("0.*"):
        chunk.write_bytes(b"not a compressed chunk")
    with harvested(tmp_path, images) as catalog:
        report = catalog.thumbnails()
    failed = {Path(p.path).name: p.reason for p in report.problems}
    assert set(failed) == {"nochunks.zarr", "corrupt.zarr"}
    assert "no pixel chunks stored" in failed["nochunks.zarr"]
    assert "cannot be read" in failed["corrupt.zarr"]
    assert sorted(Path(i.removeprefix("file://")).name for i in report.rendered) == [
        "v2.zarr",
        "v3.zarr",
    ]


def test_cli_renders_then_skips_and_names_sources(tmp_path: Path, images: Path) -> None:
    harvested(tmp_path, images).close()
    store = str(tmp_path / "store")
    runner = CliRunner()
    first = runner.invoke(app, ["thumbnails", "--store", store, str(images / "v3.zarr")])
    assert first.exit_code == 0, first.output
    assert re.search(r"rendered\s+1\b", first.output)
    again = runner.invoke(app, ["thumbnails", "--store", store])
    assert again.exit_code == 0, again.output
    assert re.search(r"rendered\s+1\b", again.output)  # the other dataset
    assert re.search(r"skipped\s+1\b", again.output)
    forced = runner.invoke(app, ["thumbnails", "--store", store, "--force", "--size", "16"])
    assert forced.exit_code == 0, forced.output
    assert re.search(r"rendered\s+2\b", forced.output)
    with Image.open(tmp_path / "store" / thumbnail_name(v3_iri(images))) as image:
        assert image.size == (12, 16)  # level 1 (32 x 24) made smaller
    elsewhere = tmp_path / "elsewhere"
    write_image(elsewhere / "new.zarr", 3)
    missing = runner.invoke(app, ["thumbnails", "--store", store, str(elsewhere)])
    assert missing.exit_code == 1
    assert "not in the store" in missing.output


@contextlib.contextmanager
def serving(store: Path) -> Iterator[str]:
    """The catalogue app of ``store`` on a loopback port, in a thread."""
    uvicorn = pytest.importorskip("uvicorn")
    from ngff_kg.web.app import create_app

    config = uvicorn.Config(
        create_app(store, watch=0), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the app did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(30)


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


def test_web_serves_thumbnails_and_says_when_there_is_none(tmp_path: Path, images: Path) -> None:
    write_image(images / "nochunks.zarr", 3)  # a metadata-only copy: no thumbnail
    for level in ("0", "1"):
        shutil.rmtree(images / "nochunks.zarr" / level / "c")
    with harvested(tmp_path, images) as catalog:
        report = catalog.thumbnails()
    assert [Path(p.path).name for p in report.problems] == ["nochunks.zarr"]
    store = tmp_path / "store"
    with serving(store) as base:
        status, _, body = fetch(base + "api/search?limit=10")
        assert status == 200
        results = {
            Path(r["url"].removeprefix("file://")).name: r for r in json.loads(body)["results"]
        }
        assert results["nochunks.zarr"]["thumbnail"] is None
        for name in ("v2.zarr", "v3.zarr"):
            iri = results[name]["url"]
            link = results[name]["thumbnail"]
            assert urllib.parse.parse_qs(urllib.parse.urlsplit(link).query) == {"iri": [iri]}
            status, kind, png = fetch(base + link.lstrip("/"))
            assert (status, kind) == (200, "image/png")
            assert png == (store / thumbnail_name(iri)).read_bytes()
            detail = json.loads(fetch(base + "api/dataset?iri=" + urllib.parse.quote(iri))[2])
            assert detail["record"]["thumbnail"] == link
        none = results["nochunks.zarr"]["url"]
        status, kind, _ = fetch(base + "thumbnail?iri=" + urllib.parse.quote(none, safe=""))
        assert (status, kind) == (404, "application/json")
        status, _, _ = fetch(base + "thumbnail?iri=" + urllib.parse.quote("file:///etc/passwd"))
        assert status == 404


@pytest.mark.slow  # a loopback HTTP server (see SLOW_MODULES in tests/conftest.py)
def test_remote_dataset_pixels_over_http(tmp_path: Path) -> None:
    data = tmp_path / "served"
    write_image(data / "remote.zarr", 3)
    with FixtureHttpServer(data) as server:
        url = server.url + "remote.zarr/"
        with Catalog(tmp_path / "store") as catalog:
            assert catalog.harvest([url]).ok
            report = catalog.thumbnails()
            assert report.ok, report.problems
            assert list(report.rendered) == [url]
        # chunks were fetched: the plane's 12 chunks of 16x16 (level 0, middle z) and no more
        chunks = {r.path for r in server.requests if "/c/" in r.path}
        plane = re.compile(r"remote\.zarr/0/c/0/[0-2]/2/[0-3]/[0-2]")  # level 0, t 0, z 2
        assert len(chunks) == 3 * 4 * 3
        assert all(plane.fullmatch(path) for path in chunks), sorted(chunks)
    with Image.open(tmp_path / "store" / thumbnail_name(url)) as image:
        centres = quadrant_centres(image)
    assert centres["top-left"] == tuple(expected(RED_VALUE, CHANNELS[0], i) for i in range(3))


@pytest.mark.slow  # a real browser
def test_pages_show_the_thumbnail_or_the_placeholder(tmp_path: Path, images: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("no Chromium")
    write_image(images / "nochunks.zarr", 3)
    for level in ("0", "1"):
        shutil.rmtree(images / "nochunks.zarr" / level / "c")
    with harvested(tmp_path, images) as catalog:
        catalog.thumbnails()
    v3 = (images / "v3.zarr").resolve().as_uri() + "/"
    with serving(tmp_path / "store") as base, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.goto(base)
        sync_api.expect(page.locator("#results .result")).to_have_count(3)
        loaded = "img => img.complete && img.naturalWidth"
        for name in ("v2.zarr", "v3.zarr"):
            card = page.locator(f'#results .result[data-url$="/{name}/"]')
            image = card.locator("img.thumb")
            sync_api.expect(image).to_have_count(1)
            wait_until(lambda image=image: image.evaluate(loaded))
            assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 64]
        placeholder = page.locator('#results .result[data-url$="/nochunks.zarr/"] .no-thumb')
        sync_api.expect(placeholder).to_have_text("no thumbnail")
        page.goto(base + "dataset?iri=" + urllib.parse.quote(v3, safe=""))
        large = page.locator("#dataset img.thumb.large")
        sync_api.expect(large).to_have_count(1)
        wait_until(lambda: page.locator("#dataset img.thumb").evaluate(loaded))
        browser.close()
    assert not problems, problems  # no script error, nothing the CSP blocked


def wait_until(check: Callable[[], object], seconds: float = 15.0) -> None:
    """Poll ``check`` from here: Playwright's ``wait_for_function`` polls with ``eval`` in the
    page, which the page's Content-Security-Policy forbids (it fails whenever its first check
    is false, as for an image still loading)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)

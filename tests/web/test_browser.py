"""End-to-end: the catalogue, a dataset page and the SPARQL editor driven in headless Chromium.

Playwright drives the system's Chromium (Debian's ``chromium`` package; Playwright's own
browser download is not used). The tests skip, saying why, where either is missing.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BY_HIERARCHY, EXAMPLES, fbbi, taxon

from ngff_kg import Catalog

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install '.[test]')"
)
CHROMIUM = os.environ.get("NGFF_KG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"no Chromium at {CHROMIUM}: apt-get install chromium (or set NGFF_KG_CHROMIUM)",
        allow_module_level=True,
    )
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MOUSE = "https://data.example.org/Example%20Lab/images/mouse-brain.ome.zarr/"
PLATE = "https://data.example.org/Example%20Lab/screens/plate-1.ome.zarr/"
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    profile = tmp_path_factory.mktemp("chromium-profile")  # a new, empty user-data-dir
    with sync_api.sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                args=ARGS,
                headless=True,
                viewport={"width": 1280, "height": 1000},
            )
        except Exception as exc:  # a browser that cannot start here: say so, do not fail
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {exc}")
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture
def page(browser, live_server: str) -> Iterator:
    """A fresh tab; afterwards, no request may have left this machine's server."""
    tab = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: blocked(message, errors))
    yield tab
    tab.close()
    outside = [u for u in requests if not u.startswith((live_server, "data:"))]
    assert not outside, f"requests outside the server: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


def blocked(message, errors: list[str]) -> None:
    """Collect what the server's Content-Security-Policy blocked (Chromium logs it)."""
    if message.type == "error" and "Content Security Policy" in message.text:
        errors.append(message.text)


def choose(page, facet: str, label: str) -> None:
    section = page.locator(f'section[data-facet="{facet}"]')
    section.locator(".facet-filter").fill(label)
    section.locator("label", has=page.locator(".name", has_text=label)).first.locator(
        "input"
    ).check()


def shown_urls(page) -> set[str]:
    return {item.get_attribute("data-url") for item in page.locator("#results .result").all()}


def test_mammalia_and_fluorescence_microscopy(page, live_server: str, examples_store: Path) -> None:
    page.goto(live_server)
    expect(page.locator("#total")).to_have_text("5 datasets")
    choose(page, "organism", "Mammalia")
    expect(page.locator("#total")).to_have_text("2 datasets")
    choose(page, "modality", "fluorescence microscopy")
    expect(page.locator("#chips li")).to_have_count(2)
    expect(page.locator("#results .result")).to_have_count(2)
    with Catalog(examples_store, read_only=True) as catalog:
        reference = catalog.query(BY_HIERARCHY, organism=taxon(40674), modality=fbbi(246))
    assert shown_urls(page) == set(reference.column("dataset")) == {MOUSE, PLATE}
    # counts are shown on every facet value, and the choice is in the address
    counts = page.locator('section[data-facet="kind"] .count').all_inner_texts()
    assert counts == ["1", "1"]
    assert "organism=" in page.url and "modality=" in page.url
    page.reload()
    expect(page.locator("#results .result")).to_have_count(2)


def test_same_datasets_as_find_datasets(page, live_server: str, examples_store: Path) -> None:
    """The browser's answer equals ``find-datasets`` with the same two terms, once that query
    includes narrower terms (the ontology issue makes it hierarchy-aware)."""
    with Catalog(examples_store, read_only=True) as catalog:
        found = catalog.query("find-datasets", organism="NCBITaxon:40674", modality="FBbi:00000246")
    if not found.rows:
        pytest.skip(
            "find-datasets matches terms exactly, without narrower ones, so it finds no dataset "
            "tagged Mammalia itself; compared with rdfs:subClassOf* in the test above instead"
        )
    page.goto(f"{live_server}?organism={taxon(40674)}&modality={fbbi(246)}")
    expect(page.locator("#results .result")).to_have_count(len(found.rows))
    assert shown_urls(page) == set(found.column("dataset"))


def test_free_text_search_and_clearing(page, live_server: str) -> None:
    page.goto(live_server)
    page.locator("#q").fill("yeast")
    page.locator("#q").press("Enter")
    expect(page.locator("#total")).to_have_text("1 dataset")
    assert shown_urls(page) == {"https://s3.example.net/ngff-public/v0.4/yeast-cells.zarr/"}
    page.locator("#clear").click()
    expect(page.locator("#total")).to_have_text("5 datasets")


def test_dataset_page_shows_triples_and_repairs(
    page, live_server: str, examples_store: Path
) -> None:
    page.goto(live_server)
    page.locator(f'.result[data-url="{MOUSE}"] h3 a').click()
    expect(page.locator("#title")).to_have_text("Example Lab: mouse brain section, nuclei and GFP")
    with Catalog(examples_store, read_only=True) as catalog:
        triples = len(catalog.query("dataset-triples", dataset=MOUSE).rows)
        repairs = len(catalog.query("dataset-repairs", dataset=MOUSE).rows)
    expect(page.locator("#triples tbody tr")).to_have_count(triples)
    expect(page.locator("#repairs tbody tr")).to_have_count(repairs)
    assert "NCBI:txid10090" in page.locator("#repairs").inner_text()
    validator = page.locator("a", has_text="OME-NGFF validator").first
    assert validator.get_attribute("href").endswith("?source=" + MOUSE)


def test_editor_runs_a_named_query_with_a_parameter(page, live_server: str) -> None:
    page.goto(live_server + "editor")
    expect(page.locator("#named")).to_have_value("datasets-by-organism")
    page.locator("#run").click()
    expect(page.locator("#result-table tbody tr")).to_have_count(4)
    page.locator("#named").select_option("find-datasets")
    page.locator("#param-organism").fill("NCBI:txid9606")
    page.locator("#run").click()
    expect(page.locator("#summary")).to_contain_text("1 row")
    expect(page.locator("#result-table tbody tr")).to_have_count(1)
    assert "plate-1.ome.zarr" in page.locator("#result-table").inner_text()
    page.locator("#query").fill("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    page.locator("#run").click()
    expect(page.locator("#error")).to_contain_text("403")


# ---------------------------------------------------------------------- hostile metadata

HOSTILE = "javascript:alert(document.domain)"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store whose sample list gives the mouse brain a ``javascript:`` origin, served."""
    from test_web_hardening import serving

    tree = tmp_path_factory.mktemp("hostile")
    lab = tree / "data.example.org" / "Example Lab" / "images"
    shutil.copytree(EXAMPLES / "data.example.org" / "Example Lab" / "images", lab)
    samples = tree / "raw.example.com" / "samples"
    samples.mkdir(parents=True)
    (samples / "samples.csv").write_text(f"url,written,origin\n{MOUSE},1000,{HOSTILE}\n")
    store = tmp_path_factory.mktemp("hostile-store") / "store"
    with Catalog(store) as catalog:
        assert catalog.harvest([tree], base_url="https://").ok
    with serving(store, store.parent / "log.txt") as base:
        yield base


def test_metadata_values_that_are_not_http_links_are_shown_as_text(browser, hostile_server):
    tab = browser.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: blocked(message, errors))
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        tab.goto(hostile_server)
        result = tab.locator(f'.result[data-url="{MOUSE}"]')
        expect(result).to_contain_text("origin: " + HOSTILE)  # shown, as text
        detail = hostile_server + "dataset?iri=" + urllib.parse.quote(MOUSE, safe="")
        tab.goto(detail)
        expect(tab.locator("#dataset")).to_contain_text("origin: " + HOSTILE)
        expect(tab.locator("#triples")).to_contain_text(HOSTILE)
        for page_url in (hostile_server, detail):
            tab.goto(page_url)
            expect(tab.locator("#dataset, #results .result").first).to_contain_text(HOSTILE)
            hrefs = tab.eval_on_selector_all(
                "[href], [src]", "nodes => nodes.map(n => n.href || n.src)"
            )
            assert hrefs and all(h.startswith(("http://", "https://", "data:")) for h in hrefs)
            # what the pages build links with refuses other schemes however it is called
            made = tab.evaluate(
                """() => [el("a", {href: "javascript:alert(1)"}).hasAttribute("href"),
                          el("a", {href: " JavaScript:alert(1)"}).hasAttribute("href"),
                          el("img", {src: "data:text/html,x"}).hasAttribute("src"),
                          outLink("vbscript:x", "t").tagName,
                          outLink("https://a.example/", "t").tagName,
                          el("a", {href: "/dataset?iri=x"}).hasAttribute("href")]"""
            )
            assert made == [False, False, False, "SPAN", "A", True]
        assert not dialogs and not errors, (dialogs, errors)
    finally:
        tab.close()

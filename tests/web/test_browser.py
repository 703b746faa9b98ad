"""End-to-end: the catalogue, a dataset page and the SPARQL editor driven in headless Chromium.

Playwright drives the system's Chromium (Debian's ``chromium`` package; Playwright's own
browser download is not used). The tests skip, saying why, where either is missing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BY_HIERARCHY, EXAMPLES, fbbi, taxon

from ngff_kg import Catalog
from ngff_kg.vocab import NKG

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
    page.evaluate("editor.setValue('INSERT DATA { <urn:a> <urn:b> <urn:c> }')")
    page.locator("#run").click()
    expect(page.locator("#error")).to_contain_text("403")


# ---------------------------------------------------------------------- catalogue as a table

#: Words typed into the search box, and the ontology term each one names.
TERMS = {
    "mouse": taxon(10090),
    "Mus musculus": taxon(10090),
    "brightfield": fbbi(243),
    "lightsheet": fbbi(369),  # SPIM, "light sheet microscopy" among its synonyms
}
UNDER = """PREFIX nkg: <%s>
SELECT DISTINCT ?dataset WHERE {
  ?dataset a nkg:OmeZarrDataset ; ?property ?used .
  VALUES ?property { <http://schema.org/taxonomicRange> <http://schema.org/measurementTechnique> }
  ?used nkg:subClassOfOrSelf <%s> .
}"""


def shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")


def total(page) -> int:
    return int(page.locator("#total").inner_text().split()[0].replace(",", ""))


def reference_counts(store: Path, word: str, term: str) -> tuple[int, int]:
    """From the store, not from the catalogue's index: the datasets under ``term``
    (``nkg:subClassOfOrSelf``, written by the harvest), and those plus the datasets whose own
    name, description or decoded URL holds every word of ``word``."""
    with Catalog(store, read_only=True) as catalog:
        under = {row[0].value for row in catalog.store.query(UNDER % (NKG, term))}
        fields = catalog.query("dataset-fields").values()
    texts: dict[str, list[str]] = {}
    for row in fields:
        texts.setdefault(row["dataset"], [urllib.parse.unquote(row["dataset"]).lower()])
        if row["field"] in ("name", "description"):
            texts[row["dataset"]].append(str(row["value"]).lower())
    words = word.lower().split()
    own = {url for url, parts in texts.items() if all(w in " ".join(parts) for w in words)}
    return len(under), len(under | own)


def check_terms(page, base: str, store: Path, tmp_path: Path) -> None:
    page.goto(base)
    expect(page.locator("#total")).not_to_have_text("Loading…")
    for word, term in TERMS.items():
        in_facet, expected = reference_counts(store, word, term)
        # the facet count of the term, with nothing chosen
        page.locator("#clear").click() if page.locator("#clear").is_visible() else None
        facet = page.locator(f'#facets li[data-value="{term}"] > .row .count').first
        expect(facet).to_have_text(f"{in_facet:,}")
        page.locator("#q").fill(word)
        page.locator("#q").press("Enter")
        expect(page.locator("#total")).to_have_text(
            f"{expected:,} dataset" + ("" if expected == 1 else "s")
        )
        print(f"{word!r}: {expected} datasets, {in_facet} under {term}")
        shot(page, tmp_path, "search-" + word.replace(" ", "-"))


def test_search_words_count_what_the_facets_count(
    page, live_server: str, examples_store: Path, tmp_path: Path
) -> None:
    check_terms(page, live_server, examples_store, tmp_path)


@pytest.fixture(scope="module")
def corpus_server(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from test_web_hardening import serving

    store = tmp_path_factory.mktemp("corpus-browser") / "store"
    with Catalog(store) as catalog:
        assert catalog.harvest([corpus], base_url="https://").ok
    with serving(store, store.parent / "log.txt") as base:
        yield base, store


@pytest.mark.slow
def test_search_words_count_what_the_facets_count_on_the_corpus(
    browser, corpus_server: tuple, tmp_path: Path
) -> None:
    base, store = corpus_server
    tab = browser.new_page()
    try:
        check_terms(tab, base, store, tmp_path)
        tab.goto(base + "?view=table")
        tab.locator('#result-table th button[data-sort="size"]').click()
        expect(tab.locator('#result-table th[aria-sort="descending"]')).to_have_count(1)
        with Catalog(store, read_only=True) as catalog:
            sizes = [
                r["value"]
                for r in catalog.query("dataset-fields").values()
                if r["field"] == "bytes"
            ]
        first = tab.locator("#result-table tbody tr").first.get_attribute("data-url")
        with Catalog(store, read_only=True) as catalog:
            mine = [
                r["value"]
                for r in catalog.query("dataset-fields", dataset=first).values()
                if r["field"] == "bytes"
            ]
        assert mine == [max(sizes)]
        shot(tab, tmp_path, "corpus-table-by-size")
        # a text search, its CSV download (compared with the API), and Back to undo it
        tab.locator("#q").fill("lightsheet")
        tab.locator("#q").press("Enter")
        expect(tab.locator("#total")).not_to_have_text("15,241 datasets")
        tab.locator(".downloads-menu summary").click()
        with tab.expect_download() as download:
            tab.locator('#downloads a[data-format="csv"]').click()
        saved = tmp_path / "corpus.csv"
        download.value.save_as(saved)
        with urllib.request.urlopen(f"{base}api/search?q=lightsheet&sort=-size") as response:
            api = json.load(response)
        rows = list(csv.DictReader(io.StringIO(saved.read_text())))
        assert [r["url"] for r in rows] == [r["url"] for r in api["results"]]
        assert len(rows) == total(tab) == api["total"] > 0
        tab.go_back()
        expect(tab.locator("#total")).to_have_text("15,241 datasets")
        # the editor runs a named query on the corpus as the Python API does
        tab.goto(base + "editor?named=kinds")
        expect(tab.locator("#query .CodeMirror")).to_have_count(1)
        tab.locator("#run").click()
        with Catalog(store, read_only=True) as catalog:
            kinds = len(catalog.query("kinds").rows)
        expect(tab.locator("#result-table tbody tr")).to_have_count(kinds)
        shot(tab, tmp_path, "corpus-editor-kinds")
    finally:
        tab.close()


def test_table_sorts_by_size_downloads_and_goes_back(
    page, live_server: str, examples_store: Path, tmp_path: Path
) -> None:
    page.goto(live_server)
    expect(page.locator("#total")).to_have_text("5 datasets")
    page.locator("#view-table").click()
    expect(page.locator("#result-table tbody tr")).to_have_count(5)
    page.locator('#result-table th button[data-sort="size"]').click()
    expect(page.locator('#result-table th[aria-sort="descending"]')).to_have_count(1)
    with Catalog(examples_store, read_only=True) as catalog:
        sizes = {
            r["dataset"]: r["value"]
            for r in catalog.query("dataset-fields").values()
            if r["field"] == "bytes"
        }
    rows = page.locator("#result-table tbody tr")
    assert rows.first.get_attribute("data-url") == max(sizes, key=sizes.get)
    shot(page, tmp_path, "table-by-size")
    # the other way on a second click: the smallest known size first
    page.locator('#result-table th button[data-sort="size"]').click()
    expect(page.locator('#result-table th[aria-sort="ascending"]')).to_have_count(1)
    assert rows.first.get_attribute("data-url") == min(sizes, key=sizes.get)

    choose(page, "organism", "Mammalia")
    expect(page.locator("#total")).to_have_text("2 datasets")
    shown = [rows.nth(i).get_attribute("data-url") for i in range(rows.count())]
    page.locator(".downloads-menu summary").click()
    expect(page.locator('#downloads a[data-format="csv"]')).to_have_text("CSV (2)")
    with page.expect_download() as download:
        page.locator('#downloads a[data-format="csv"]').click()
    saved = tmp_path / "datasets.csv"
    download.value.save_as(saved)
    downloaded = list(csv.DictReader(io.StringIO(saved.read_text())))
    query = urllib.parse.urlencode({"organism": taxon(40674), "sort": "size", "limit": 1000})
    with urllib.request.urlopen(f"{live_server}api/search?{query}") as response:
        api = json.load(response)
    assert [r["url"] for r in downloaded] == [r["url"] for r in api["results"]] == shown
    assert {r["organism_label"] for r in downloaded} <= {"Mus musculus", "Homo sapiens"}
    shot(page, tmp_path, "downloads")

    # Back undoes the filter, then the sort; Forward redoes the filter
    page.go_back()
    expect(page.locator("#total")).to_have_text("5 datasets")
    expect(page.locator("#chips li")).to_have_count(0)
    expect(page.locator('#result-table th[aria-sort="ascending"]')).to_have_count(1)
    page.go_back()
    expect(page.locator('#result-table th[aria-sort="descending"]')).to_have_count(1)
    page.go_forward()
    page.go_forward()
    expect(page.locator("#total")).to_have_text("2 datasets")
    expect(page.locator("#chips li")).to_have_count(1)
    # the SPARQL that selects these datasets opens in the editor and finds the same two
    page.evaluate("document.querySelector('.downloads-menu').open = true")
    page.locator("#open-sparql").click()
    expect(page.locator("#query .CodeMirror")).to_have_count(1)
    expect(page.locator("#named")).to_have_value("")
    page.locator("#run").click()
    expect(page.locator("#result-table tbody tr")).to_have_count(2)
    table = page.locator("#result-table").inner_text()
    assert all(lastname in table for lastname in ("mouse-brain.ome.zarr", "plate-1.ome.zarr"))


def test_editor_is_yasgui_and_links_carry_query_and_parameters(
    page, live_server: str, tmp_path: Path
) -> None:
    page.goto(live_server + "editor?named=find-datasets&param.organism=NCBI:txid9606")
    expect(page.locator("#query .CodeMirror")).to_have_count(1)  # YASGUI's editor, not a textarea
    assert page.evaluate("typeof Yasgui.Yasqe") == "function"
    expect(page.locator("#param-organism")).to_have_value("NCBI:txid9606")
    page.locator("#run").click()
    expect(page.locator("#summary")).to_contain_text("1 row")
    assert "plate-1.ome.zarr" in page.locator("#result-table").inner_text()
    shot(page, tmp_path, "editor-named-query")
    # edited text goes into the address; the link shows the same query and parameter again
    page.evaluate("editor.setValue(editor.getValue() + '\\n# edited')")
    link = page.locator("#share").get_attribute("href")
    assert "query=" in link and "named=find-datasets" in link and "param.organism=NCBI" in link
    page.goto(live_server + link.lstrip("/"))
    expect(page.locator("#param-organism")).to_have_value("NCBI:txid9606")
    expect(page.locator("#named")).to_have_value("find-datasets")
    assert page.evaluate("editor.getValue()").endswith("# edited")
    # Ctrl+Enter in the editor runs the query through the page (its numbered runs), with the
    # parameter from the link
    page.locator("#query .CodeMirror").click()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#summary")).to_contain_text("1 row")
    assert "plate-1.ome.zarr" in page.locator("#result-table").inner_text()


def test_editor_draws_only_the_latest_run_and_cancels(page, live_server: str) -> None:
    page.goto(live_server + "editor")
    expect(page.locator("#named")).to_have_value("datasets-by-organism")
    # hold the first run's answer back until the second run has drawn its error
    held: list = []
    page.route("**/sparql", lambda route: held.append(route) if not held else route.continue_())
    page.locator("#run").click()
    page.evaluate("editor.setValue('SELEC nonsense')")
    page.locator("#run").click()
    expect(page.locator("#error")).to_contain_text("400")
    held[0].continue_()
    page.wait_for_timeout(1000)
    expect(page.locator("#error")).to_contain_text("400")  # the older answer was not drawn
    expect(page.locator("#result-table")).to_have_count(0)
    page.unroute("**/sparql")
    # cancel: a run whose answer is held is aborted, and says so
    page.route("**/sparql", lambda route: None)  # never answered
    page.locator("#run").click()
    expect(page.locator("#cancel")).to_be_enabled()
    page.locator("#cancel").click()
    expect(page.locator("#error")).to_contain_text("Cancelled")
    expect(page.locator("#cancel")).to_be_disabled()


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

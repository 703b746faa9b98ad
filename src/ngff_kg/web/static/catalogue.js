// The catalogue page: facets with counts, free-text search, the result list.
// The state lives in the address (?organism=IRI&modality=IRI&q=...&sort=-size&view=table), so
// a search can be shared, and each change is a step of the history that Back undoes.
"use strict";

const FACETS = ["organism", "modality", "license", "host", "kind"];
const LIMITS = [25, 50, 100, 250, 1000];
// Table columns: heading, sort key (clicking the heading sorts; again: the other way), cell.
const COLUMNS = [
  ["Name", "name", (r) => el("a", { href: datasetPage(r.url), title: r.url }, r.name || pathTail(r.url))],
  ["Organism", "organism", (r) => r.organisms.map((t) => t.label).join(", ")],
  ["Imaging method", "modality", (r) => r.modalities.map((t) => t.label).join(", ")],
  ["Kind", "kind", (r) => r.kind || ""],
  ["Size", "size", (r) => formatBytes(r.bytes) || ""],
  ["Shape", "pixels", (r) => (r.shape ? r.shape.join(" × ") : "")],
  ["Axes", null, (r) => r.axis_names || ""],
  ["Pixel size", null, (r) => pixelSize(r.axes) || ""],
  ["NGFF", "version", (r) => r.version || ""],
  ["Host", "host", (r) => r.host],
];
const DESCENDING_FIRST = new Set(["size", "pixels", "version"]);
const state = {
  selected: {}, // facet -> Set of values
  q: "",
  sort: "",
  limit: 50,
  offset: 0,
  view: "cards",
  results: [],
  total: 0,
  expanded: {}, // facet -> Set of expanded tree values
  filters: {}, // facet -> text typed in the facet's filter box
  request: 0,
  controller: null,
};

/** The state from the address: what a shared link, a reload or Back/Forward shows. */
function readAddress() {
  const params = new URLSearchParams(location.search);
  for (const facet of FACETS) state.selected[facet] = new Set(params.getAll(facet));
  state.q = params.get("q") || "";
  state.sort = params.get("sort") || "";
  const limit = Number(params.get("limit"));
  state.limit = LIMITS.includes(limit) ? limit : 50;
  state.offset = Math.max(0, Number(params.get("offset")) || 0);
  state.view = params.get("view") === "table" ? "table" : "cards";
  document.getElementById("q").value = state.q;
  document.getElementById("sort").value = state.sort;
  if (document.getElementById("sort").value !== state.sort) {
    // a key the menu does not list (from a table heading): add it
    document.getElementById("sort").append(el("option", { value: state.sort }, state.sort));
    document.getElementById("sort").value = state.sort;
  }
  document.getElementById("limit").value = String(state.limit);
}

/** The filters and text: what the search, the export and the SPARQL share. */
function filterParams() {
  const params = new URLSearchParams();
  for (const facet of FACETS) for (const value of state.selected[facet]) params.append(facet, value);
  if (state.q) params.set("q", state.q);
  return params;
}

function addressParams() {
  const params = filterParams();
  if (state.sort) params.set("sort", state.sort);
  if (state.limit !== 50) params.set("limit", state.limit);
  if (state.offset) params.set("offset", state.offset);
  if (state.view !== "cards") params.set("view", state.view);
  return params;
}

/** Record a change of filters, sort, page or view as a step of the history (Back undoes it). */
function changed() {
  const params = addressParams();
  const address = params.toString() ? "?" + params : location.pathname;
  if (address !== location.search && !(address === location.pathname && !location.search)) {
    history.pushState(null, "", address);
  }
  search();
}

/** A filter changed: back to the first page. */
function filtered() {
  state.offset = 0;
  changed();
}

async function search() {
  const params = filterParams();
  if (state.sort) params.set("sort", state.sort);
  params.set("offset", state.offset);
  params.set("limit", state.limit);
  const request = ++state.request;
  if (state.controller) state.controller.abort(); // an older search is of no use any more
  const controller = (state.controller = new AbortController());
  const busy = document.querySelector(".results");
  busy.setAttribute("aria-busy", "true");
  renderDownloads(null); // the links follow the filters at once; their count once known
  let data;
  try {
    data = await getJSON("/api/search?" + params, { signal: controller.signal });
  } catch (error) {
    if (request === state.request) {
      busy.removeAttribute("aria-busy");
      showError("Search failed: " + error.message);
    }
    return;
  }
  if (request !== state.request) return; // a newer search has started
  busy.removeAttribute("aria-busy");
  showError(null);
  state.total = data.total;
  state.results = data.results;
  renderFacets(data.facets);
  renderResults();
}

function showError(message) {
  const box = document.getElementById("error");
  box.hidden = !message;
  box.textContent = message || "";
}

// ------------------------------------------------------------------ facets

function labelsOf(values, into) {
  for (const v of values) {
    into.set(v.value, v.label);
    if (v.children) labelsOf(v.children, into);
  }
  return into;
}

/** Expand the top of a tree breadth-first while it stays short, and the way to every choice. */
function defaultExpansion(values, selected) {
  const expanded = new Set();
  let visible = values.length;
  const queue = [...values];
  while (queue.length) {
    const v = queue.shift();
    const kids = v.children || [];
    if (kids.length && visible + kids.length <= 24) {
      expanded.add(v.value);
      visible += kids.length;
      queue.push(...kids);
    }
  }
  const reveal = (v, path) => {
    if (selected.has(v.value)) path.forEach((p) => expanded.add(p));
    for (const c of v.children || []) reveal(c, path.concat(v.value));
  };
  values.forEach((v) => reveal(v, []));
  return expanded;
}

function renderFacets(facets) {
  const root = document.getElementById("facets");
  root.replaceChildren();
  for (const facet of facets) {
    const section = el("section", { class: "facet", "data-facet": facet.name });
    const headingId = "facet-" + facet.name;
    section.append(el("h2", { id: headingId }, facet.title));
    if (!state.expanded[facet.name]) {
      state.expanded[facet.name] = defaultExpansion(facet.values, state.selected[facet.name]);
    }
    if (facet.hierarchical) {
      const filter = el("input", {
        type: "search",
        class: "facet-filter",
        placeholder: "Filter " + facet.title.toLowerCase() + "…",
        "aria-label": "Filter " + facet.title.toLowerCase(),
      });
      filter.value = state.filters[facet.name] || "";
      filter.addEventListener("input", () => {
        state.filters[facet.name] = filter.value;
        applyFilter(section, facet.name);
      });
      section.append(filter);
    }
    const list = el("ul", { class: facet.hierarchical ? "tree" : "flat", "aria-labelledby": headingId });
    for (const v of facet.values) list.append(facetNode(facet, v));
    if (!facet.values.length) list.append(el("li", { class: "muted" }, "no values"));
    section.append(list);
    root.append(section);
    if (facet.hierarchical) applyFilter(section, facet.name);
  }
}

function facetNode(facet, v) {
  const kids = v.children || [];
  const li = el("li", { "data-value": v.value });
  const open = state.expanded[facet.name].has(v.value);
  let toggle;
  if (kids.length) {
    toggle = el("button", { type: "button", class: "toggle", "aria-expanded": String(open), "aria-label": "Show narrower terms of " + v.label }, open ? "▾" : "▸");
    toggle.addEventListener("click", () => {
      const expanded = state.expanded[facet.name];
      expanded.has(v.value) ? expanded.delete(v.value) : expanded.add(v.value);
      setOpen(li, expanded.has(v.value));
    });
  } else {
    toggle = el("span", { class: "toggle" });
  }
  const box = el("input", { type: "checkbox", value: v.value });
  box.checked = v.selected;
  box.addEventListener("change", () => {
    const chosen = state.selected[facet.name];
    box.checked ? chosen.add(v.value) : chosen.delete(v.value);
    filtered();
  });
  const label = el(
    "label",
    { class: v.count ? "" : "muted", title: facet.hierarchical ? v.value : null },
    box,
    el("span", { class: "name" }, v.label),
    el("span", { class: "count" }, v.count.toLocaleString("en")),
  );
  li.append(el("div", { class: "row" }, toggle, label));
  if (kids.length) {
    const ul = el("ul");
    for (const child of kids) ul.append(facetNode(facet, child));
    ul.hidden = !open;
    li.append(ul);
  }
  return li;
}

function setOpen(li, open) {
  const ul = li.querySelector(":scope > ul");
  const toggle = li.querySelector(":scope > .row > button.toggle");
  if (ul) ul.hidden = !open;
  if (toggle) {
    toggle.textContent = open ? "▾" : "▸";
    toggle.setAttribute("aria-expanded", String(open));
  }
}

/** Show the terms whose label contains the filter text, and the way down to them. */
function applyFilter(section, facet) {
  const text = (state.filters[facet] || "").trim().toLowerCase();
  const expanded = state.expanded[facet];
  const visit = (li) => {
    let below = false;
    for (const child of li.querySelectorAll(":scope > ul > li")) below = visit(child) || below;
    const name = li.querySelector(":scope > .row .name");
    const self = !text || (name && name.textContent.toLowerCase().includes(text));
    li.hidden = Boolean(text) && !self && !below;
    setOpen(li, text ? below : expanded.has(li.dataset.value));
    return self || below;
  };
  section.querySelectorAll(":scope > ul.tree > li").forEach(visit);
}

// ------------------------------------------------------------------ results

function renderResults() {
  const total = document.getElementById("total");
  total.textContent = state.total.toLocaleString("en") + (state.total === 1 ? " dataset" : " datasets");
  renderChips();
  renderDownloads(state.total);
  const table = state.view === "table";
  document.getElementById("results").hidden = table;
  document.getElementById("table-view").hidden = !table;
  for (const button of document.querySelectorAll(".view-switch button")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === state.view));
  }
  const list = document.getElementById("results");
  list.replaceChildren();
  if (table) renderTable();
  else for (const r of state.results) list.append(resultItem(r));
  if (!state.results.length) {
    const empty = el("li", { class: "muted empty" }, "No dataset matches these filters.");
    list.append(empty);
    list.hidden = false;
  }
  const last = state.offset + state.results.length;
  document.getElementById("page-info").textContent = state.total
    ? (state.offset + 1).toLocaleString("en") + "–" + last.toLocaleString("en") + " of " + state.total.toLocaleString("en")
    : "";
  document.getElementById("prev").hidden = state.offset <= 0;
  document.getElementById("next").hidden = last >= state.total;
}

function renderTable() {
  const head = document.getElementById("table-head");
  head.replaceChildren();
  const key = state.sort.replace(/^-/, "");
  const descending = state.sort.startsWith("-");
  for (const [title, sortKey] of COLUMNS) {
    if (!sortKey) {
      head.append(el("th", { scope: "col" }, title));
      continue;
    }
    const current = key === sortKey;
    const button = el("button", { type: "button", class: "sort", "data-sort": sortKey }, title, current ? (descending ? " ▼" : " ▲") : "");
    button.addEventListener("click", () => {
      const first = DESCENDING_FIRST.has(sortKey) ? "-" + sortKey : sortKey;
      const other = first.startsWith("-") ? sortKey : "-" + sortKey;
      setSort(current && state.sort === first ? other : first);
    });
    const sorted = current ? (descending ? "descending" : "ascending") : null;
    head.append(el("th", { scope: "col", "aria-sort": sorted }, button));
  }
  const body = document.getElementById("table-body");
  body.replaceChildren(
    ...state.results.map((r) =>
      el("tr", { "data-url": r.url }, COLUMNS.map(([title, , cell]) => el("td", { "data-column": title }, cell(r)))),
    ),
  );
}

/** The last two segments of a URL ("H5_10_…_v2/color"): what tells unnamed datasets apart. */
function pathTail(url) {
  const parent = url.replace(/\/+$/, "").replace(/\/[^/]*$/, "");
  return lastSegment(parent) + "/" + lastSegment(url);
}

function setSort(sort) {
  state.sort = sort;
  readSortMenu();
  state.offset = 0;
  changed();
}

function readSortMenu() {
  const menu = document.getElementById("sort");
  if (![...menu.options].some((o) => o.value === state.sort)) menu.append(el("option", { value: state.sort }, state.sort));
  menu.value = state.sort;
}

/** Links to every dataset of the current filters and text, as files, and the SPARQL for them. */
function renderDownloads(total) {
  const list = document.getElementById("downloads");
  list.replaceChildren();
  const count = total === null ? "" : " (" + total.toLocaleString("en") + ")";
  for (const [format, label] of [["csv", "CSV"], ["parquet", "Parquet"], ["json", "JSON"], ["sparql", "SPARQL query (.rq)"]]) {
    const params = filterParams();
    if (state.sort && format !== "sparql") params.set("sort", state.sort);
    params.set("format", format);
    list.append(el("li", {}, el("a", { href: "/api/export?" + params, download: "", "data-format": format }, label + (format === "sparql" ? "" : count))));
  }
  const open = el("button", { type: "button", class: "link-button", id: "open-sparql" }, "Open the SPARQL that selects them in the editor");
  open.addEventListener("click", async () => {
    const params = filterParams();
    params.set("format", "sparql");
    const response = await fetch("/api/export?" + params);
    if (!response.ok) return showError("No SPARQL for these filters: " + (await response.text()));
    location.href = "/editor?" + new URLSearchParams({ query: await response.text() });
  });
  list.append(el("li", {}, open));
}

function resultItem(r) {
  const { tags, facts, links } = recordParts(r);
  links.append(el("li", {}, el("a", { href: datasetPage(r.url) }, "all triples")));
  const item = el(
    "li",
    { class: "result", "data-url": r.url },
    thumbnailBox(r, false),
    el("h3", {}, el("a", { href: datasetPage(r.url) }, r.name || lastSegment(r.url))),
    el("p", { class: "url" }, outLink(r.url, r.url)),
    tags,
    facts,
  );
  if (r.description) item.append(el("p", { class: "description" }, r.description));
  item.append(links);
  return item;
}

function renderChips() {
  const chips = document.getElementById("chips");
  chips.replaceChildren();
  const labels = new Map();
  document.querySelectorAll("#facets li[data-value]").forEach((li) => {
    const name = li.querySelector(":scope > .row .name");
    if (name) labels.set(li.dataset.value, name.textContent);
  });
  let any = false;
  for (const facet of FACETS) {
    for (const value of state.selected[facet]) {
      any = true;
      const remove = el("button", { type: "button", "aria-label": "Remove filter " + (labels.get(value) || value) }, "×");
      remove.addEventListener("click", () => {
        state.selected[facet].delete(value);
        filtered();
      });
      chips.append(el("li", { class: "chip" }, labels.get(value) || value, remove));
    }
  }
  if (state.q) {
    any = true;
    const remove = el("button", { type: "button", "aria-label": "Remove text search" }, "×");
    remove.addEventListener("click", () => {
      state.q = "";
      document.getElementById("q").value = "";
      filtered();
    });
    chips.append(el("li", { class: "chip" }, "“" + state.q + "”", remove));
  }
  document.getElementById("clear").hidden = !any;
}

// ------------------------------------------------------------------ start

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.q = document.getElementById("q").value.trim();
  filtered();
});
document.getElementById("clear").addEventListener("click", () => {
  for (const facet of FACETS) state.selected[facet].clear();
  state.q = "";
  document.getElementById("q").value = "";
  filtered();
});
document.getElementById("sort").addEventListener("change", (event) => setSort(event.target.value));
document.getElementById("limit").addEventListener("change", (event) => {
  state.limit = Number(event.target.value);
  state.offset = 0;
  changed();
});
for (const button of document.querySelectorAll(".view-switch button")) {
  button.addEventListener("click", () => {
    state.view = button.dataset.view;
    changed();
  });
}
document.getElementById("prev").addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - state.limit);
  changed();
});
document.getElementById("next").addEventListener("click", () => {
  state.offset += state.limit;
  changed();
});
// Back and Forward: the address holds the state; show it again
window.addEventListener("popstate", () => {
  readAddress();
  search();
});

readAddress();
search();
getJSON("/api/status").then((s) => {
  document.getElementById("status").textContent = s.datasets.toLocaleString("en") + " datasets · ngff-kg " + s.version;
});

// The catalogue page: facets with counts, free-text search, the result list.
// The state lives in the address (?organism=IRI&modality=IRI&q=...), so a search can be shared.
"use strict";

const FACETS = ["organism", "modality", "license", "host", "kind"];
const PAGE = 50;
const state = {
  selected: {}, // facet -> Set of values
  q: "",
  results: [],
  total: 0,
  expanded: {}, // facet -> Set of expanded tree values
  filters: {}, // facet -> text typed in the facet's filter box
  request: 0,
};

function readAddress() {
  const params = new URLSearchParams(location.search);
  for (const facet of FACETS) state.selected[facet] = new Set(params.getAll(facet));
  state.q = params.get("q") || "";
  document.getElementById("q").value = state.q;
}

function queryParams() {
  const params = new URLSearchParams();
  for (const facet of FACETS) for (const value of state.selected[facet]) params.append(facet, value);
  if (state.q) params.set("q", state.q);
  return params;
}

async function search(append) {
  const params = queryParams();
  history.replaceState(null, "", params.toString() ? "?" + params : location.pathname);
  params.set("offset", append ? state.results.length : 0);
  params.set("limit", PAGE);
  const request = ++state.request;
  const list = document.getElementById("results");
  list.setAttribute("aria-busy", "true");
  let data;
  try {
    data = await getJSON("/api/search?" + params);
  } catch (error) {
    showError("Search failed: " + error.message);
    return;
  } finally {
    if (request === state.request) list.removeAttribute("aria-busy");
  }
  if (request !== state.request) return; // a newer search has started
  showError(null);
  state.total = data.total;
  state.results = append ? state.results.concat(data.results) : data.results;
  renderFacets(data.facets);
  renderResults(append ? data.results : null);
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
    search(false);
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

function renderResults(appended) {
  const total = document.getElementById("total");
  total.textContent = state.total.toLocaleString("en") + (state.total === 1 ? " dataset" : " datasets");
  renderChips();
  const list = document.getElementById("results");
  if (!appended) list.replaceChildren();
  for (const r of appended || state.results) list.append(resultItem(r));
  if (!state.results.length) list.append(el("li", { class: "muted empty" }, "No dataset matches these filters."));
  const more = document.getElementById("more");
  more.hidden = state.results.length >= state.total;
  more.textContent = "Show more (" + (state.total - state.results.length).toLocaleString("en") + " left)";
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
        search(false);
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
      search(false);
    });
    chips.append(el("li", { class: "chip" }, "“" + state.q + "”", remove));
  }
  document.getElementById("clear").hidden = !any;
}

// ------------------------------------------------------------------ start

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.q = document.getElementById("q").value.trim();
  search(false);
});
document.getElementById("more").addEventListener("click", () => search(true));
document.getElementById("clear").addEventListener("click", () => {
  for (const facet of FACETS) state.selected[facet].clear();
  state.q = "";
  document.getElementById("q").value = "";
  search(false);
});

readAddress();
search(false);
getJSON("/api/status").then((s) => {
  document.getElementById("status").textContent = s.datasets.toLocaleString("en") + " datasets · ngff-kg " + s.version;
});

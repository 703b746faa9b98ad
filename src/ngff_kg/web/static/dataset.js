// The page of one dataset: its summary, the repairs made to its metadata, and every triple
// the store holds about it (its own named graph, and statements in sample-list graphs).
"use strict";

function term(t, self) {
  if (t.type === "uri") {
    if (t.value === self) return el("strong", { title: t.value }, "this dataset");
    if (t.value.startsWith(self)) return el("span", { class: "iri", title: t.value }, "<" + t.value.slice(self.length) + ">");
    if (isHttpUrl(t.value)) return outLink(t.value, curie(t.value), { title: t.value });
    return el("span", { class: "iri", title: t.value }, curie(t.value));
  }
  if (t.type === "bnode") return el("span", { class: "bnode" }, "_:" + t.value);
  if (t.type === "literal") {
    const extra = t.lang ? "@" + t.lang : t.datatype && !t.datatype.endsWith("#string") ? curie(t.datatype) : null;
    return el("span", { class: "literal" }, t.value, extra ? el("small", { class: "datatype" }, " " + extra) : null);
  }
  return el("span", {}, t.value);
}

function table(headers, rows) {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))),
  );
}

async function main() {
  const iri = new URLSearchParams(location.search).get("iri") || "";
  const article = document.getElementById("dataset");
  let data;
  try {
    data = await getJSON("/api/dataset?iri=" + encodeURIComponent(iri));
  } catch (error) {
    const box = document.getElementById("error");
    box.hidden = false;
    box.textContent = error.message;
    document.getElementById("title").textContent = "Dataset not found";
    article.removeAttribute("aria-busy");
    return;
  }
  const r = data.record;
  document.title = "ngff-kg · " + (r.name || lastSegment(r.url));
  document.getElementById("title").textContent = r.name || lastSegment(r.url);
  const { tags, facts, links } = recordParts(r);
  article.append(thumbnailBox(r, true), el("p", { class: "url" }, outLink(r.url, r.url)), tags, facts);
  if (r.description) article.append(el("p", { class: "description full" }, r.description));
  article.append(links);

  const repairs = el("section", { id: "repairs" }, el("h2", {}, "Repairs (" + data.repairs.length + ")"));
  if (data.repairs.length) {
    repairs.append(el("p", { class: "muted" }, "What the metadata said, and what the graph uses instead."));
    repairs.append(table(["kind", "original", "repaired"], data.repairs.map((x) => [x.kind, x.original, x.repaired])));
  } else {
    repairs.append(el("p", { class: "muted" }, "No repair was needed."));
  }
  article.append(repairs);

  const count = data.graphs.reduce((n, g) => n + g.triples.length, 0);
  const triples = el("section", { id: "triples" }, el("h2", {}, "Triples (" + count + ")"));
  for (const g of data.graphs) {
    const heading = g.graph === iri ? "The dataset's own graph" : "Graph " + curie(g.graph);
    triples.append(
      el("h3", {}, heading, " ", el("small", { class: "muted" }, g.triples.length + " triples")),
      table(["subject", "predicate", "object"], g.triples.map(([s, p, o]) => [term(s, iri), term(p, iri), term(o, iri)])),
    );
  }
  article.append(triples);
  article.removeAttribute("aria-busy");
}

main();

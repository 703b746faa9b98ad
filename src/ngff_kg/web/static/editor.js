// The SPARQL editor: the named queries of the library, their parameters, and a result table.
// Queries go to this server's /sparql endpoint; param:NAME() functions take the values typed
// into the parameter boxes (sent as param.NAME).
"use strict";

const STARTER = `PREFIX schema: <http://schema.org/>
PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>

SELECT ?dataset ?name WHERE {
  ?dataset a nkg:OmeZarrDataset .
  OPTIONAL { ?dataset schema:name ?name }
}
LIMIT 20`;
let queries = [];

function currentParams() {
  const out = new URLSearchParams();
  out.set("query", document.getElementById("query").value);
  document.querySelectorAll("#params input[data-param]").forEach((input) => {
    if (input.value.trim()) out.set("param." + input.dataset.param, input.value.trim());
  });
  return out;
}

function updateDownloads() {
  const box = document.getElementById("downloads");
  box.replaceChildren();
  for (const [format, label] of [["json", "JSON"], ["csv", "CSV"], ["tsv", "TSV"], ["xml", "XML"]]) {
    const params = currentParams();
    params.set("format", format);
    box.append(el("a", { href: "/sparql?" + params, download: "results." + format }, label));
  }
}

function choose(name) {
  const chosen = queries.find((q) => q.name === name);
  const params = document.getElementById("params");
  params.replaceChildren();
  document.getElementById("description").textContent = chosen ? chosen.title + ": " + chosen.description : "";
  document.getElementById("query").value = chosen ? chosen.text : STARTER;
  for (const p of chosen ? chosen.params : []) {
    const id = "param-" + p.name;
    params.append(
      el(
        "div",
        { class: "param" },
        el("label", { for: id }, p.name, el("small", { class: "muted" }, " " + p.type + (p.required ? "" : ", optional"))),
        el("input", { id, type: "text", "data-param": p.name, placeholder: p.description, required: p.required }),
      ),
    );
  }
  const address = new URL(location.href);
  name ? address.searchParams.set("query", name) : address.searchParams.delete("query");
  history.replaceState(null, "", address);
  updateDownloads();
}

function cell(binding) {
  if (!binding) return "";
  if (binding.type === "uri") {
    return isHttpUrl(binding.value) ? outLink(binding.value, curie(binding.value), { title: binding.value }) : curie(binding.value);
  }
  if (binding.type === "bnode") return "_:" + binding.value;
  return binding.value;
}

function renderJSON(data) {
  const output = document.getElementById("output");
  if ("boolean" in data) {
    output.replaceChildren(el("p", { class: "boolean" }, String(data.boolean)));
    return "answer: " + data.boolean;
  }
  const vars = data.head.vars;
  const rows = data.results.bindings;
  output.replaceChildren(
    el(
      "table",
      { id: "result-table" },
      el("thead", {}, el("tr", {}, vars.map((v) => el("th", { scope: "col" }, v)))),
      el("tbody", {}, rows.map((row) => el("tr", {}, vars.map((v) => el("td", {}, cell(row[v])))))),
    ),
  );
  return rows.length.toLocaleString("en") + (rows.length === 1 ? " row" : " rows");
}

async function run(event) {
  if (event) event.preventDefault();
  const error = document.getElementById("error");
  const summary = document.getElementById("summary");
  error.hidden = true;
  summary.textContent = "Running…";
  document.getElementById("output").setAttribute("aria-busy", "true");
  const started = performance.now();
  let response;
  try {
    response = await fetch("/sparql", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/sparql-results+json, text/turtle;q=0.9",
      },
      body: currentParams(),
    });
  } catch (failure) {
    response = null;
    error.textContent = "The server cannot be reached: " + failure.message;
  }
  document.getElementById("output").removeAttribute("aria-busy");
  const ms = Math.round(performance.now() - started);
  if (!response || !response.ok) {
    if (response) error.textContent = response.status + " " + response.statusText + ": " + (await response.text());
    error.hidden = false;
    summary.textContent = "";
    document.getElementById("output").replaceChildren();
    return;
  }
  const type = response.headers.get("Content-Type") || "";
  let text;
  if (type.includes("json")) {
    text = renderJSON(await response.json());
  } else {
    const body = await response.text();
    document.getElementById("output").replaceChildren(el("pre", { class: "rdf" }, body));
    text = "graph result";
  }
  const truncated = response.headers.get("NGFF-KG-Truncated");
  summary.textContent = text + " in " + ms + " ms" + (truncated ? " · cut at the server's limit of " + truncated : "");
}

async function main() {
  document.getElementById("endpoint").textContent = location.origin + "/sparql";
  queries = await getJSON("/api/queries");
  const select = document.getElementById("named");
  for (const q of queries) select.append(el("option", { value: q.name }, q.name + " — " + q.title));
  const wanted = new URLSearchParams(location.search).get("query");
  const first = queries.find((q) => q.name === wanted) || queries.find((q) => q.name === "datasets-by-organism") || queries[0];
  select.value = first ? first.name : "";
  choose(select.value);
  select.addEventListener("change", () => choose(select.value));
  document.getElementById("editor").addEventListener("submit", run);
  document.getElementById("editor").addEventListener("input", updateDownloads);
  document.getElementById("query").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run(event);
  });
  getJSON("/api/status").then((s) => {
    document.getElementById("status").textContent = "timeout " + s.timeout + " s · at most " + s.limit.toLocaleString("en") + " rows";
  });
}

main();

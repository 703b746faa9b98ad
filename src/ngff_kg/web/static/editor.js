// The SPARQL editor: YASGUI's editor (Yasqe, vendored in /static/vendor/yasgui, nothing fetched
// from elsewhere), the named queries of the library, their parameters, and a result table.
// Queries go to this server's /sparql endpoint; param:NAME() functions take the values typed
// into the parameter boxes (sent as param.NAME). The address holds the query (?named=NAME,
// with &query=TEXT once the text is edited; ?query=TEXT alone for a query of one's own) and the
// parameters (param.NAME=value), so a link shows the same query again. Each run has a number: only the latest run's answer or
// error is drawn, and Cancel aborts it.
"use strict";

const STARTER = `PREFIX schema: <http://schema.org/>
PREFIX nkg: <https://w3id.org/ngff-kg/vocab#>

SELECT ?dataset ?name WHERE {
  ?dataset a nkg:OmeZarrDataset .
  OPTIONAL { ?dataset schema:name ?name }
}
LIMIT 20`;
let queries = [];
let editor = null; // the Yasqe instance
let chosen = null; // the named query shown, if any
const run_ = { id: 0, controller: null };

function queryText() {
  return editor.getValue();
}

function currentParams() {
  const out = new URLSearchParams();
  out.set("query", queryText());
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

/** The address of this query: the named query (or the text, once edited) and the parameters. */
function shareParams() {
  const out = new URLSearchParams();
  if (chosen) out.set("named", chosen.name); // its description and parameter boxes
  if (!chosen || queryText() !== chosen.text) out.set("query", queryText());
  document.querySelectorAll("#params input[data-param]").forEach((input) => {
    if (input.value.trim()) out.set("param." + input.dataset.param, input.value.trim());
  });
  return out;
}

function updateAddress() {
  const address = location.pathname + "?" + shareParams();
  history.replaceState(null, "", address);
  document.getElementById("share").setAttribute("href", address);
  updateDownloads();
}

function choose(name, text, values) {
  chosen = queries.find((q) => q.name === name) || null;
  const params = document.getElementById("params");
  params.replaceChildren();
  document.getElementById("description").textContent = chosen ? chosen.title + ": " + chosen.description : "";
  editor.setValue(text !== undefined ? text : chosen ? chosen.text : STARTER);
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
  for (const [param, value] of Object.entries(values || {})) {
    const input = document.getElementById("param-" + param);
    if (input) input.value = value;
  }
  updateAddress();
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

function cancel() {
  if (run_.controller) run_.controller.abort();
}

async function run(event) {
  if (event && event.preventDefault) event.preventDefault();
  cancel(); // a new run replaces the one still going
  const id = ++run_.id;
  const controller = (run_.controller = new AbortController());
  const error = document.getElementById("error");
  const summary = document.getElementById("summary");
  const output = document.getElementById("output");
  const current = () => id === run_.id; // only the latest run may draw
  error.hidden = true;
  summary.textContent = "Running…";
  output.setAttribute("aria-busy", "true");
  document.getElementById("cancel").disabled = false;
  const started = performance.now();
  let response = null;
  let failure = null;
  let body = null;
  try {
    response = await fetch("/sparql", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/sparql-results+json, text/turtle;q=0.9",
      },
      body: currentParams(),
      signal: controller.signal,
    });
    const type = response.headers.get("Content-Type") || "";
    body = response.ok && type.includes("json") ? await response.json() : await response.text();
  } catch (caught) {
    failure = caught;
  }
  if (!current()) return; // a later run started: its answer, not this one, is shown
  run_.controller = null;
  document.getElementById("cancel").disabled = true;
  output.removeAttribute("aria-busy");
  const ms = Math.round(performance.now() - started);
  if (failure || !response.ok) {
    if (failure && failure.name === "AbortError") error.textContent = "Cancelled after " + ms + " ms.";
    else if (failure) error.textContent = "The server cannot be reached: " + failure.message;
    else error.textContent = response.status + " " + response.statusText + ": " + body;
    error.hidden = false;
    summary.textContent = "";
    output.replaceChildren();
    return;
  }
  let text;
  if (typeof body === "object") {
    text = renderJSON(body);
  } else {
    output.replaceChildren(el("pre", { class: "rdf" }, body));
    text = "graph result";
  }
  const truncated = response.headers.get("NGFF-KG-Truncated");
  summary.textContent = text + " in " + ms + " ms" + (truncated ? " · cut at the server's limit of " + truncated : "");
}

/** Yasqe with everything that would reach another server switched off. */
function makeEditor() {
  const yasqe = new Yasgui.Yasqe(document.getElementById("query"), {
    value: "",
    persistenceId: null, // nothing kept in localStorage: the address holds the query
    autocompleters: [], // prefix.cc and LOV autocompletion fetch from elsewhere
    createShareableLink: null,
    consumeShareLink: null,
    showQueryButton: false, // runs go through run(), with its request number and Cancel
    resizeable: true,
    editorHeight: "360px",
    requestConfig: { endpoint: "/sparql", method: "POST" },
  });
  yasqe.query = () => run(); // Yasqe's own query path (and its Ctrl+Enter) runs ours
  yasqe.addKeyMap({ "Ctrl-Enter": () => run(), "Cmd-Enter": () => run() });
  yasqe.on("change", updateAddress);
  return yasqe;
}

async function main() {
  document.getElementById("endpoint").textContent = location.origin + "/sparql";
  editor = makeEditor();
  queries = await getJSON("/api/queries");
  const select = document.getElementById("named");
  for (const q of queries) select.append(el("option", { value: q.name }, q.name + " — " + q.title));
  const address = new URLSearchParams(location.search);
  const values = {};
  for (const [key, value] of address) if (key.startsWith("param.")) values[key.slice(6)] = value;
  const text = address.get("query");
  const byName = (name) => queries.find((q) => q.name === name);
  // ?named=NAME (and ?query=TEXT once edited), or ?query= holding a name (older links)
  const named = byName(address.get("named")) || byName(text);
  let first = named;
  if (!named && text === null) first = byName("datasets-by-organism") || queries[0];
  select.value = first ? first.name : "";
  const edited = text !== null && !byName(text) ? text : undefined;
  choose(select.value, edited, values);
  select.addEventListener("change", () => choose(select.value));
  document.getElementById("editor").addEventListener("submit", run);
  document.getElementById("editor").addEventListener("input", updateAddress);
  document.getElementById("cancel").addEventListener("click", cancel);
  getJSON("/api/status").then((s) => {
    document.getElementById("status").textContent = "timeout " + s.timeout + " s · at most " + s.limit.toLocaleString("en") + " rows";
  });
}

main();

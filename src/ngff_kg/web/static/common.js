// Shared helpers of the ngff-kg pages. Plain browser JavaScript, no libraries, no network
// access beyond this server (links out are links only).
"use strict";

const PREFIXES = [
  ["NCBITaxon:", "http://purl.obolibrary.org/obo/NCBITaxon_"],
  ["FBbi:", "http://purl.obolibrary.org/obo/FBbi_"],
  ["obo:", "http://purl.obolibrary.org/obo/"],
  ["schema:", "http://schema.org/"],
  ["nkg:", "https://w3id.org/ngff-kg/vocab#"],
  ["rdf:", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"],
  ["rdfs:", "http://www.w3.org/2000/01/rdf-schema#"],
  ["xsd:", "http://www.w3.org/2001/XMLSchema#"],
  ["owl:", "http://www.w3.org/2002/07/owl#"],
  ["dcat:", "http://www.w3.org/ns/dcat#"],
  ["dcterms:", "http://purl.org/dc/terms/"],
  ["prov:", "http://www.w3.org/ns/prov#"],
];

const UNITS = { micrometer: "µm", nanometer: "nm", millimeter: "mm", angstrom: "Å", second: "s", millisecond: "ms" };

const LINK_ATTRIBUTES = new Set(["href", "src", "action", "formaction"]);

/** Whether a value may become a link: an absolute http(s) URL (not "javascript:", "data:"...). */
function isHttpUrl(value) {
  return typeof value === "string" && /^https?:\/\/[^\s]/i.test(value.trim());
}

/** Whether an href or src may be set: http(s), absolute or relative to this server. */
function safeLink(value) {
  try {
    return ["http:", "https:"].includes(new URL(String(value), location.href).protocol);
  } catch (e) {
    return false;
  }
}

/** Create an element: el("a", {href: "/"}, "text", childNode). An href or src that is not
 * http(s) is left out, so no metadata value can become a script link. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (LINK_ATTRIBUTES.has(key.toLowerCase()) && !safeLink(value)) continue;
    node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function curie(iri) {
  for (const [prefix, ns] of PREFIXES) {
    if (iri.startsWith(ns) && iri.length > ns.length) return prefix + iri.slice(ns.length);
  }
  return iri;
}

function formatBytes(n) {
  if (n === null || n === undefined) return null;
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return (unit === 0 ? String(value) : value.toFixed(value < 10 ? 2 : 1)) + " " + units[unit];
}

function formatNumber(x) {
  if (x === null || x === undefined) return "";
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

function unitName(unit) {
  return unit ? UNITS[unit] || unit : "";
}

/** "0.5 × 0.2 × 0.2 µm (z, y, x)" from the spatial axes that have a pixel size. */
function pixelSize(axes) {
  const spatial = (axes || []).filter((a) => a.scale !== null && (a.type === "space" || "zyx".includes(a.name)));
  if (!spatial.length) return null;
  const units = [...new Set(spatial.map((a) => a.unit || ""))];
  const values = spatial.map((a) => formatNumber(a.scale) + (units.length > 1 ? " " + unitName(a.unit) : ""));
  const unit = units.length === 1 ? " " + unitName(units[0]) : "";
  return values.join(" × ") + unit + " (" + spatial.map((a) => a.name).join(", ") + ")";
}

function lastSegment(url) {
  const parts = url.replace(/\/+$/, "").split("/");
  try {
    return decodeURIComponent(parts[parts.length - 1]);
  } catch (e) {
    return parts[parts.length - 1];
  }
}

async function getJSON(url, options) {
  const response = await fetch(url, Object.assign({ headers: { Accept: "application/json" } }, options || {}));
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

/** A link that leaves this server: opens in a new tab, sends no referrer. A value that is not
 * an http(s) URL is shown as text instead. */
function outLink(href, text, attrs) {
  if (!isHttpUrl(href)) return el("span", Object.assign({ class: "not-a-link" }, attrs || {}), text);
  return el("a", Object.assign({ href, target: "_blank", rel: "noopener noreferrer" }, attrs || {}), text);
}

function datasetPage(url) {
  return "/dataset?iri=" + encodeURIComponent(url);
}

/** Tags, facts, description and links of a dataset record (catalogue and dataset page). */
function recordParts(r) {
  const tags = el("ul", { class: "tags" });
  for (const t of r.organisms) tags.append(el("li", { class: "tag organism", title: t.iri }, t.label));
  for (const t of r.modalities) tags.append(el("li", { class: "tag modality", title: t.iri }, t.label));
  if (r.kind) tags.append(el("li", { class: "tag kind" }, r.kind));
  for (const t of r.licenses) tags.append(el("li", { class: "tag license", title: t.iri }, t.label));
  if (r.version) tags.append(el("li", { class: "tag version" }, "NGFF " + r.version));

  const facts = el("dl", { class: "facts" });
  const fact = (name, value) => value && facts.append(el("div", {}, el("dt", {}, name), el("dd", {}, value)));
  fact("axes", r.axis_names);
  fact("shape", r.shape ? r.shape.join(" × ") : null);
  fact("pixel size", pixelSize(r.axes));
  fact("size", formatBytes(r.bytes));

  const links = el("ul", { class: "links" });
  for (const link of r.links) links.append(el("li", {}, outLink(link.href, link.label)));
  if (r.origin) links.append(el("li", {}, isHttpUrl(r.origin) ? outLink(r.origin, "origin") : outLink(r.origin, "origin: " + r.origin)));
  return { tags, facts, links };
}

/** The dataset's thumbnail (served by this server), or a placeholder saying it has none. */
function thumbnailBox(r, large) {
  const cls = "thumb" + (large ? " large" : "");
  if (r.thumbnail) {
    return el("img", { class: cls, src: r.thumbnail, alt: "Thumbnail of " + (r.name || lastSegment(r.url)), loading: "lazy" });
  }
  return el("div", { class: cls + " no-thumb", role: "img", "aria-label": "no thumbnail" }, "no thumbnail");
}

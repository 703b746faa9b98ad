"""Independent reference counts for an OME-Zarr metadata tree.

This module recomputes catalogue statistics straight from the raw JSON and CSV
files of a mirrored OME-Zarr metadata tree (such as
``ome2024-ngff-challenge-metadata``).  Tests use it as an oracle for the
knowledge-graph tool's SPARQL query results, so it deliberately:

* uses only the standard library (``os``, ``json``, ``csv``, ``collections``,
  ``urllib.parse``, plus ``dataclasses``/``functools``/``sys`` for plumbing);
* reads every JSON file as plain dicts -- no JSON-LD expansion, no contexts;
* imports nothing from the ``ngff_kg`` package.

Tree layout
-----------
The first path component below the tree is the host, the rest is the URL path:
the directory ``<tree>/<host>/<path>`` is published at
``https://<host>/<path>/`` (path percent-encoded, exactly one trailing slash).

Usage as a script (for eyeballing)::

    python tests/support/corpus_reference.py /path/to/ome2024-ngff-challenge-metadata
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote, unquote, urlsplit

#: Characters left unescaped when percent-encoding a URL path.
SAFE_PATH_CHARS = "/:@!$&'()*+,;=-._~"

#: Keys of a Zarr v2 ``.zattrs`` that mark an NGFF (OME-Zarr) group.
NGFF_V2_KEYS = (
    "multiscales",
    "plate",
    "well",
    "bioformats2raw.layout",
    "labels",
    "image-label",
    "omero",
)

OBO = "http://purl.obolibrary.org/obo/"
NCBI_TAXON_IRI = OBO + "NCBITaxon_"
FBBI_IRI = OBO + "FBbi_"

#: Recognised spellings of an NCBI taxon id -> prefix to strip off.
#: ``NCBI:txid9606``, ``NCBITaxon:9606``, ``obo:NCBITaxon_9606``,
#: ``http://purl.obolibrary.org/obo/NCBITaxon_9606`` and
#: ``https://identifiers.org/taxonomy:9606`` all mean taxon 9606.
TAXON_PREFIXES = (
    "NCBI:txid",
    "NCBITaxon:",
    "obo:NCBITaxon_",
    NCBI_TAXON_IRI,
    "https://identifiers.org/taxonomy:",
)

#: Recognised spellings of an FBbi term -> prefix to strip off.
#: ``obo:FBbi_00000243``, ``FBbi:00000243``, ``obo:FBbi:00000243`` and
#: ``http://purl.obolibrary.org/obo/FBbi_00000243`` all mean FBbi 00000243.
FBBI_PREFIXES = (
    "obo:FBbi_",
    "obo:FBbi:",
    "FBbi:",
    FBBI_IRI,
)


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _read_json(path: str):
    """Return the parsed JSON at ``path``, or ``None`` if absent/unreadable."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def dir_url(host: str, path: str) -> str:
    """Public URL of ``<tree>/<host>/<path>``.

    ``https://<host>/<path>/`` with ``path`` percent-encoded (spaces become
    ``%20``) and exactly one trailing slash.  An empty path gives
    ``https://<host>/``.
    """
    path = path.strip("/")
    encoded = quote(path, safe=SAFE_PATH_CHARS)
    return f"https://{host}/{encoded}/" if encoded else f"https://{host}/"


def normalise_url(url: str) -> str:
    """Normalise a dataset URL written in a CSV to the :func:`dir_url` form.

    Parse the URL, keep scheme and host as written, unquote the path and
    re-quote it with :data:`SAFE_PATH_CHARS`, and end it with exactly one
    slash.  Query string and fragment are dropped.
    """
    parts = urlsplit(url.strip())
    path = unquote(parts.path).strip("/")
    encoded = quote(path, safe=SAFE_PATH_CHARS)
    suffix = f"{encoded}/" if encoded else ""
    return f"{parts.scheme}://{parts.netloc}/{suffix}"


def _as_list(value) -> list:
    """A JSON value as a list: lists unchanged, ``None`` -> [], else [value]."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _ids(value) -> list[str]:
    """The ``@id`` strings of a JSON-LD-ish reference value.

    Accepts a dict with ``@id``, a bare string, or a list of those; anything
    else (numbers, dicts without ``@id``) is ignored.
    """
    out = []
    for item in _as_list(value):
        if isinstance(item, dict):
            item = item.get("@id")
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


def normalise_taxon(value: str) -> str | None:
    """Canonical IRI ``http://purl.obolibrary.org/obo/NCBITaxon_<n>``.

    Returns ``None`` for spellings that are not one of :data:`TAXON_PREFIXES`
    followed by a decimal taxon number (such values are not counted).
    """
    for prefix in TAXON_PREFIXES:
        if value.startswith(prefix):
            number = value[len(prefix) :]
            if number.isdigit():
                return NCBI_TAXON_IRI + number
    return None


def normalise_fbbi(value: str) -> str | None:
    """Canonical IRI ``http://purl.obolibrary.org/obo/FBbi_<digits>``.

    Returns ``None`` for non-FBbi terms (``NCIT_...``, ``obo:MI_...``,
    ``obo:OBI_...``): only FBbi terms count as imaging modalities.
    """
    for prefix in FBBI_PREFIXES:
        if value.startswith(prefix):
            number = value[len(prefix) :]
            if number.isdigit():
                return FBBI_IRI + number
    return None


# --------------------------------------------------------------------------
# OME-Zarr roots
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RootInfo:
    """One OME-Zarr root (= one dataset) and what its crate says about it.

    ``path``       directory of the root, relative to the tree (``/``-separated,
                   first component = host).
    ``kind``       see :func:`root_kind`.
    ``has_crate``  whether ``<root>/ro-crate-metadata.json`` exists and parses.
    ``organisms``  canonical NCBITaxon IRIs (see :func:`crate_facts`).
    ``modalities`` canonical FBbi IRIs.
    ``license``    licence IRI string of the root dataset entity, or ``None``.
    ``name``       name of the root dataset entity, or ``None``.
    """

    path: str
    kind: str
    has_crate: bool = False
    organisms: frozenset[str] = field(default_factory=frozenset)
    modalities: frozenset[str] = field(default_factory=frozenset)
    license: str | None = None
    name: str | None = None

    @property
    def host(self) -> str:
        """First path component: the host serving the dataset."""
        return self.path.split("/", 1)[0]


def ome_attributes(directory: str) -> dict | None:
    """The OME attributes of ``directory`` if it is an OME-Zarr group, else None.

    * Zarr v3: ``zarr.json`` with ``node_type == "group"`` and an
      ``attributes.ome`` dict -> that dict.
    * Zarr v2: ``.zattrs`` containing any of :data:`NGFF_V2_KEYS` -> the whole
      ``.zattrs`` dict (NGFF <= 0.4 puts the keys at the top level).
    """
    meta = _read_json(os.path.join(directory, "zarr.json"))
    if isinstance(meta, dict) and meta.get("node_type") == "group":
        attributes = meta.get("attributes")
        if isinstance(attributes, dict) and isinstance(attributes.get("ome"), dict):
            return attributes["ome"]
    zattrs = _read_json(os.path.join(directory, ".zattrs"))
    if isinstance(zattrs, dict) and any(key in zattrs for key in NGFF_V2_KEYS):
        return zattrs
    return None


def root_kind(ome: dict) -> str:
    """Classify a root from its OME attributes, first match wins.

    1. ``plate``                   -> ``"plate"``
    2. ``bioformats2raw.layout``   -> ``"bioformats2raw"``
    3. ``multiscales``             -> ``"image"``
    4. ``labels`` / ``image-label`` -> ``"labels"``
    5. ``well``                    -> ``"well"``
    6. anything else               -> ``"other"``

    ``plate`` must come before ``bioformats2raw.layout``: bioformats2raw
    writes HCS data as a plate whose top-level group carries *both* keys
    (567 such roots in the challenge corpus).  With this order the corpus
    splits 13,383 / 1,223 / 635 exactly as documented in CORPUS.md; with
    ``bioformats2raw.layout`` first it would be 13,950 / 1,223 / 68.
    """
    if "plate" in ome:
        return "plate"
    if "bioformats2raw.layout" in ome:
        return "bioformats2raw"
    if "multiscales" in ome:
        return "image"
    if "labels" in ome or "image-label" in ome:
        return "labels"
    if "well" in ome:
        return "well"
    return "other"


def crate_facts(crate) -> dict:
    """Extract organisms, modalities, license and name from a crate (plain JSON).

    * organisms: from *every* entity of ``@graph``, the ``organism_classification``
      value(s), normalised with :func:`normalise_taxon`; unrecognised ids dropped.
    * modalities: from every entity, the ``fbbi_id`` value(s), normalised with
      :func:`normalise_fbbi`; non-FBbi terms dropped.
    * license: on the root dataset entity (``@id == "./"``), ``license`` or, if
      that is absent, the misspelling ``licence``; a string or a dict with
      ``@id``, kept as the IRI string.
    * name: the root dataset entity's ``name`` if it is a non-blank string.
    """
    organisms: set[str] = set()
    modalities: set[str] = set()
    license_ = None
    name = None
    graph = crate.get("@graph") if isinstance(crate, dict) else None
    for entity in _as_list(graph):
        if not isinstance(entity, dict):
            continue
        for taxon in _ids(entity.get("organism_classification")):
            iri = normalise_taxon(taxon)
            if iri:
                organisms.add(iri)
        for term in _ids(entity.get("fbbi_id")):
            iri = normalise_fbbi(term)
            if iri:
                modalities.add(iri)
        if entity.get("@id") == "./":
            value = entity.get("license", entity.get("licence"))
            found = _ids(value)
            if found and license_ is None:
                license_ = found[0]
            value = entity.get("name")
            if isinstance(value, str) and value.strip() and name is None:
                name = value
    return {
        "organisms": frozenset(organisms),
        "modalities": frozenset(modalities),
        "license": license_,
        "name": name,
    }


@cache
def _walk(tree: str) -> tuple[tuple[str, RootInfo], ...]:
    """Find every OME-Zarr root below ``tree`` (cached, sorted by URL).

    A root is a directory with OME attributes (:func:`ome_attributes`) that has
    no such directory among its ancestors inside the tree: the walk is
    top-down and does not descend into a root once found, so nested groups
    (labels, wells, series, ...) belong to their root.  Directories directly
    at the tree top (the host directories) are candidates too.
    """
    found: dict[str, RootInfo] = {}
    for directory, subdirs, _files in os.walk(tree):
        subdirs.sort()
        rel = os.path.relpath(directory, tree)
        if rel == ".":
            continue  # the tree itself is not under any host
        ome = ome_attributes(directory)
        if ome is None:
            continue
        subdirs.clear()  # do not descend into a root
        rel = rel.replace(os.sep, "/")
        host, _, path = rel.partition("/")
        crate = _read_json(os.path.join(directory, "ro-crate-metadata.json"))
        has_crate = isinstance(crate, dict)
        facts = crate_facts(crate) if has_crate else {}
        found[dir_url(host, path)] = RootInfo(
            path=rel, kind=root_kind(ome), has_crate=has_crate, **facts
        )
    return tuple(sorted(found.items()))


def _tree_key(tree) -> str:
    """Cache key for a tree: its absolute, normalised path."""
    return os.path.abspath(os.fspath(tree))


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def roots(tree) -> dict[str, RootInfo]:
    """All OME-Zarr roots of ``tree``, keyed by dataset URL (:func:`dir_url`)."""
    return dict(_walk(_tree_key(tree)))


def datasets_by_kind(tree) -> Counter:
    """Number of roots per :func:`root_kind`."""
    return Counter(info.kind for info in roots(tree).values())


def datasets_by_organism(tree) -> Counter:
    """Canonical NCBITaxon IRI -> number of datasets naming it.

    A dataset counts once per distinct organism, however many entities of its
    crate mention it; a dataset with two organisms counts for both.
    """
    counts: Counter = Counter()
    for info in roots(tree).values():
        counts.update(info.organisms)
    return counts


def datasets_by_modality(tree) -> Counter:
    """Canonical FBbi IRI -> number of datasets naming it (once per dataset)."""
    counts: Counter = Counter()
    for info in roots(tree).values():
        counts.update(info.modalities)
    return counts


def datasets_by_license(tree) -> Counter:
    """Licence IRI -> number of datasets (datasets without a licence omitted)."""
    return Counter(info.license for info in roots(tree).values() if info.license is not None)


def missing_metadata(tree) -> dict[str, int]:
    """Number of datasets lacking each field.

    Keys ``organism``, ``modality``, ``license``, ``name``.  Every root counts,
    including those without a crate (which lack all four).
    """
    infos = list(roots(tree).values())
    return {
        "organism": sum(1 for info in infos if not info.organisms),
        "modality": sum(1 for info in infos if not info.modalities),
        "license": sum(1 for info in infos if info.license is None),
        "name": sum(1 for info in infos if info.name is None),
    }


def csv_sizes(tree) -> dict[str, int]:
    """Dataset URL -> bytes written, from the sample CSVs in ``tree``.

    * Every ``*.csv`` below the tree is read (sorted path order) as UTF-8 with
      an optional BOM.  Blank lines are dropped; the first remaining line is
      the header (names stripped).  Files without a ``url`` column are ignored.
    * Rows with an empty ``url``, a ``url`` ending in ``.csv`` (those rows list
      other CSV files) or an empty/missing ``written`` are skipped.
    * The URL is normalised with :func:`normalise_url`; ``written`` is parsed
      as a float and rounded to an int.
    * Should a URL appear twice, the later row wins (no conflicting duplicates
      exist in the challenge corpus).
    Entries are not filtered against :func:`roots`: a CSV may list datasets
    that are not mirrored in the tree.
    """
    return dict(_csv_sizes(_tree_key(tree)))


@cache
def _csv_sizes(tree: str) -> tuple[tuple[str, int], ...]:
    """Cached worker for :func:`csv_sizes`."""
    sizes: dict[str, int] = {}
    paths = []
    for directory, subdirs, files in os.walk(tree):
        subdirs.sort()
        paths.extend(
            os.path.join(directory, name) for name in sorted(files) if name.lower().endswith(".csv")
        )
    for path in paths:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh) if any(c.strip() for c in row)]
        if not rows:
            continue
        header = [name.strip() for name in rows[0]]
        if "url" not in header:
            continue
        for values in rows[1:]:
            row = dict(zip(header, values, strict=False))  # ragged rows tolerated
            url = (row.get("url") or "").strip()
            written = (row.get("written") or "").strip()
            if not url or url.endswith(".csv") or not written:
                continue
            sizes[normalise_url(url)] = round(float(written))
    return tuple(sorted(sizes.items()))


def datasets_by_host(tree) -> dict[str, tuple[int, int]]:
    """Host -> (number of datasets, total bytes of those datasets).

    The host is the first path component of the root.  Bytes come from
    :func:`csv_sizes` looked up by the dataset URL; datasets not listed in any
    CSV contribute 0.
    """
    sizes = csv_sizes(tree)
    counts: Counter = Counter()
    total: Counter = Counter()
    for url, info in roots(tree).items():
        counts[info.host] += 1
        total[info.host] += sizes.get(url, 0)
    return {host: (counts[host], total[host]) for host in sorted(counts)}


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _number_text(value) -> str:
    """A JSON number as the JSON text writes it (1 stays 1, 1.0 stays 1.0)."""
    return json.dumps(value)


def _image_row(url: str, dataset: str, directory: str, ome: dict) -> dict:
    """What image-summary must say for the image group at ``directory``."""
    multiscales = ome.get("multiscales")
    first = multiscales[0] if isinstance(multiscales, list) and multiscales else {}
    axes = [a if isinstance(a, dict) else {"name": a} for a in first.get("axes", [])]
    datasets = first.get("datasets", [])
    scale = None
    if datasets:
        transforms = datasets[0].get("coordinateTransformations", [])
        for transform in transforms:
            if transform.get("type") == "scale" and isinstance(transform.get("scale"), list):
                scale = transform["scale"]
        for transform in first.get("coordinateTransformations") or []:
            if transform.get("type") == "scale" and scale is not None:
                scale = [a * b for a, b in zip(scale, transform["scale"], strict=True)]
    shape = dtype = None
    if datasets:
        level0 = _read_json(os.path.join(directory, datasets[0]["path"], "zarr.json"))
        if isinstance(level0, dict) and level0.get("node_type") == "array":
            shape = ",".join(str(n) for n in level0["shape"])
            dtype = level0["data_type"]
    channels = labels = None
    omero = ome.get("omero")
    if isinstance(omero, dict) and isinstance(omero.get("channels"), list):
        channels = len(omero["channels"])
        if channels:
            labels = "|".join(c.get("label") or "" for c in omero["channels"])
    return {
        "image": url,
        "dataset": dataset,
        "axes": ",".join(a["name"] for a in axes) if axes else None,
        "units": ",".join(a.get("unit") or "" for a in axes) if axes else None,
        "scale": ",".join(_number_text(v) for v in scale) if scale is not None else None,
        "levels": len(datasets) if multiscales else None,
        "shape": shape,
        "dtype": dtype,
        "channels": channels,
        "channel_labels": labels,
    }


def image_summaries(tree) -> dict[str, dict]:
    """The image-summary rows of ``tree`` from the raw JSON, keyed by image URL.

    Images: a root with multiscales; the series of a bioformats2raw root (the ``series``
    list of ``OME/zarr.json``, else ``0/``, ``1/``, ... until one is missing); the fields of
    the wells of a plate whose well groups exist. Zarr v3 trees only (like the corpus).
    """
    rows: dict[str, dict] = {}
    tree = _tree_key(tree)
    for url, info in roots(tree).items():
        directory = os.path.join(tree, info.path)
        ome = ome_attributes(directory) or {}
        groups: list[str] = []
        if "multiscales" in ome:
            groups.append("")
        if "plate" in ome:
            for well in ome["plate"].get("wells", []):
                well_ome = ome_attributes(os.path.join(directory, well["path"])) or {}
                for image in (well_ome.get("well") or {}).get("images", []):
                    groups.append(well["path"] + "/" + image["path"])
        elif "bioformats2raw.layout" in ome:
            series = (ome_attributes(os.path.join(directory, "OME")) or {}).get("series")
            if isinstance(series, list):
                groups.extend(series)
            else:
                index = 0
                while ome_attributes(os.path.join(directory, str(index))) is not None:
                    groups.append(str(index))
                    index += 1
        for group in groups:
            image_ome = ome_attributes(os.path.join(directory, group)) if group else ome
            if image_ome is None or "multiscales" not in image_ome:
                continue
            image_url = url + quote(group, safe=SAFE_PATH_CHARS) + "/" if group else url
            rows[image_url] = _image_row(image_url, url, os.path.join(directory, group), image_ome)
    return rows


def plate_summaries(tree) -> dict[str, dict]:
    """The plate-summary rows of ``tree`` from the raw JSON, keyed by plate URL."""
    rows: dict[str, dict] = {}
    tree = _tree_key(tree)
    for url, info in roots(tree).items():
        if info.kind != "plate":
            continue
        directory = os.path.join(tree, info.path)
        plate = (ome_attributes(directory) or {})["plate"]
        fields = None
        for well in plate.get("wells", []):
            well_ome = ome_attributes(os.path.join(directory, well["path"]))
            if well_ome is not None and isinstance(well_ome.get("well"), dict):
                fields = (fields or 0) + len(well_ome["well"].get("images", []))
        rows[url] = {
            "plate": url,
            "rows": len(plate.get("rows", [])),
            "columns": len(plate.get("columns", [])),
            "wells": len(plate.get("wells", [])),
            "fields": fields,
        }
    return rows


def _print_counter(title: str, counter) -> None:
    print(f"\n{title}:")
    for key, value in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {value:>7}  {key}")


def main(argv: list[str]) -> int:
    """Print every reference count for the tree given as the only argument."""
    if len(argv) != 2:
        print(f"usage: {argv[0]} TREE", file=sys.stderr)
        return 2
    tree = argv[1]
    found = roots(tree)
    print(f"roots: {len(found)}")
    print(f"roots without crate: {sum(1 for i in found.values() if not i.has_crate)}")
    _print_counter("datasets by kind", datasets_by_kind(tree))
    _print_counter("datasets by organism", datasets_by_organism(tree))
    _print_counter("datasets by modality", datasets_by_modality(tree))
    _print_counter("datasets by license", datasets_by_license(tree))
    print(f"\nmissing metadata: {missing_metadata(tree)}")
    sizes = csv_sizes(tree)
    matched = sum(1 for url in sizes if url in found)
    print(f"\ncsv sizes: {len(sizes)} URLs, {matched} of them are roots in the tree")
    print("\ndatasets by host (datasets, bytes):")
    for host, (count, size) in datasets_by_host(tree).items():
        print(f"  {host}: {count} datasets, {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""NGFF metadata validated against its specification, one group document at a time.

The models are yaozarrs' (pydantic models of the NGFF 0.4 and 0.5 specifications, including
their SHOULD rules, which it reports as warnings). Each violation keeps the rule that failed
(pydantic's error type, or yaozarrs' warning), the JSON path in the document, the message
and a severity; :func:`violation_triples` states them in the dataset's graph.

Versions without a model (0.1, 0.2, 0.3 and the 0.6 drafts) are read but not validated:
:func:`validate_group` says so with a ``None`` validator. A document that holds a number
JSON does not allow (NaN, Infinity, or beyond the range of a double) gets a ``non-finite``
violation whatever its version.

Real metadata repeats itself (the bioformats2raw layout document of thousands of roots, the
same plate written again and again): validation results are kept for recent documents
(:class:`_Recent`), keyed by the model version and the document's exact JSON text.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from ngff_kg import rdf
from ngff_kg.extract.ngff import MAX_AXES, MAX_LEVELS
from ngff_kg.vocab import NKG, RDF_TYPE

#: Violations kept per document; the rest are counted (a document with 100,000 bad axes).
MAX_VIOLATIONS = 100
#: Validations of one document: the first, and again without the invalid list items.
PASSES = 2


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a group document breaks its NGFF specification."""

    document: str  # the document's path in the dataset ("zarr.json", "A/1/.zattrs")
    path: str  # JSON path of the offending value, from the NGFF attributes ("$.plate.rows[2]")
    rule: str  # what failed: a pydantic error type ("missing", "too_short") or "non-finite"
    message: str
    severity: str  # "error" (MUST) or "warning" (SHOULD)


@dataclass(slots=True)
class Validation:
    """The violations of one document, and what validated it."""

    validator: str | None  # "yaozarrs 0.3.4 (NGFF 0.5)", None: no model for the version
    violations: list[Violation]
    more: int = 0  # violations beyond MAX_VIOLATIONS, not kept


#: A document's violations without the document: (path, rule, message, severity).
_Found = tuple[str, str, str, str]


class _Recent:
    """The model's violations of recently validated documents, least recently used first out.

    A document's key is its JSON text (``orjson.dumps``: key order, numbers and strings as
    they are), so equal keys validate alike. Documents whose text is longer than
    ``max_key`` are not kept, and keys use at most ``max_bytes`` in all. Thread-safe.
    """

    def __init__(self, entries: int, max_key: int, max_bytes: int) -> None:
        self.entries = entries
        self.max_key = max_key
        self.max_bytes = max_bytes
        self.size = 0  # bytes of the keys held
        self._items: OrderedDict[tuple[str, bytes], tuple[tuple[_Found, ...], int]]
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def key(self, model: str, attrs: dict[str, Any]) -> tuple[str, bytes] | None:
        """The key of ``attrs`` validated by ``model``; None when it is not to be kept (too
        long, or no JSON text orjson writes: an integer beyond 64 bits, deep nesting)."""
        try:
            text = orjson.dumps(attrs)
        except orjson.JSONEncodeError:
            return None
        return (model, text) if len(text) <= self.max_key else None

    def get(self, key: tuple[str, bytes]) -> tuple[tuple[_Found, ...], int] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, bytes], value: tuple[tuple[_Found, ...], int]) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self.size += len(key[1])
            while len(self._items) > self.entries or self.size > self.max_bytes:
                old, _ = self._items.popitem(last=False)
                self.size -= len(old[1])

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0


#: Of the 15,284 group documents of the OME 2024 NGFF challenge, 1,560 differ (the largest
#: is 19 kB): room for all of them, in a few MB at most.
_RECENT = _Recent(entries=2048, max_key=64 * 1024, max_bytes=8 * 1024 * 1024)

#: ``warnings.catch_warnings`` changes process-wide state: one validation at a time catches
#: the model's SHOULD warnings (remote harvests read datasets on threads).
_WARNINGS = threading.Lock()


@cache
def _adapter(version: str) -> Any:
    import pydantic
    import yaozarrs

    if version == "0.4":
        model: Any = yaozarrs.v04.OMEZarrGroupJSON
    else:
        model = yaozarrs.v05.OMEMetadata
    return pydantic.TypeAdapter(model)


@cache
def _library() -> str:
    from importlib.metadata import version

    return f"yaozarrs {version('yaozarrs')}"


def model_version(version: str | None) -> str | None:
    """The NGFF version whose model validates a document of ``version`` (None: no model)."""
    if version in ("0.4", "0.5"):
        return version
    return None


def validate_group(
    attrs: dict[str, Any], version: str | None, document: str, *, non_finite: bool = True
) -> Validation:
    """The violations of one group's NGFF attributes: ``attributes.ome`` of a Zarr v3
    ``zarr.json`` (0.5) or the ``.zattrs`` object of a Zarr v2 group (0.4).

    ``non_finite=False`` skips the search for NaN and infinite numbers (the document's text
    has none: :func:`ngff_kg.jsonio.loads_checked`). A document equal to one validated
    recently gets that one's violations (with its own ``document``) without being validated
    again."""
    found: list[Violation] = []
    more = _non_finite(attrs, document, found) if non_finite else 0
    model = model_version(version)
    if model is None:
        return Validation(None, found, more)
    validator = f"{_library()} (NGFF {model})"
    # orjson writes NaN and infinity as null, so a document that holds them is not kept (with
    # non_finite=False its text has none)
    key = _RECENT.key(model, attrs) if not found and not more else None
    if key is not None:
        recent = _RECENT.get(key)
        if recent is not None:
            kept, more = recent
            return Validation(validator, [Violation(document, *v) for v in kept], more)
    more += _model_violations(attrs, model, document, found)
    if key is not None:
        kept = tuple((v.path, v.rule, v.message, v.severity) for v in found)
        _RECENT.put(key, (kept, more))
    return Validation(validator, found, more)


def _model_violations(
    attrs: dict[str, Any], model: str, document: str, found: list[Violation]
) -> int:
    """Add the violations of ``attrs`` by the model of NGFF ``model`` to ``found``; the
    number not kept."""
    oversized = _oversized(attrs, document)
    if oversized:  # the model's checks of such lists are slow, and the verdict is known
        found.extend(oversized)
        return 0
    import pydantic

    more = 0
    adapter = _adapter(model)
    with _WARNINGS, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc: Any = attrs
        kept: dict[tuple[Any, ...], list[int]] = {}
        seen: set[tuple[str, str]] = set()
        for _ in range(PASSES):
            try:
                adapter.validate_python(doc)
                break
            except pydantic.ValidationError as exc:
                errors = exc.errors(include_url=False, include_context=False, include_input=False)
                more += _errors(errors, doc, kept, document, found, seen)
                pruned = _without(doc, [e["loc"] for e in errors])
                if pruned is None:
                    break
                doc, kept = pruned
            except (ValueError, TypeError, RecursionError) as exc:  # the model itself gave up
                found.append(Violation(document, "$", "invalid", f"{exc!s:.300}", "error"))
                break
    for warning in caught:
        if len(found) >= MAX_VIOLATIONS:
            more += 1
            continue
        rule = type(warning.message).__name__
        message = str(warning.message).removeprefix("Warning: ")
        found.append(Violation(document, "$", rule, message, "warning"))
    return more


def _oversized(attrs: dict[str, Any], document: str) -> list[Violation]:
    """``too-large`` violations for multiscales with more axes or levels than the reader
    takes (NGFF allows at most 5 axes): such a document is not given to the model."""
    multiscales = attrs.get("multiscales")
    found: list[Violation] = []
    for index, entry in enumerate(multiscales if isinstance(multiscales, list) else []):
        if not isinstance(entry, dict):
            continue
        for key, bound in (("axes", MAX_AXES), ("datasets", MAX_LEVELS)):
            items = entry.get(key)
            if isinstance(items, list) and len(items) > bound:
                message = f"{len(items)} {key}, more than {bound}; the document was not validated"
                path = f"$.multiscales[{index}].{key}"
                found.append(Violation(document, path, "too-large", message, "error"))
    return found


def _without(
    doc: Any, locs: list[tuple[Any, ...]]
) -> tuple[Any, dict[tuple[Any, ...], list[int]]] | None:
    """A copy of ``doc`` without the list items that hold the errors at ``locs`` (None when
    no error is inside a list item), and the original indices of the lists it shortened:
    validated again, it shows the violations that the models check only once every item is
    valid (unique names, wells in range)."""
    drop: dict[tuple[Any, ...], set[int]] = {}
    for loc in locs:
        node = doc
        where: tuple[Any, ...] = ()
        item: tuple[tuple[Any, ...], int] | None = None
        for step in loc:
            if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
                item = (where, step)
                node = node[step]
            elif isinstance(step, str) and isinstance(node, dict) and step in node:
                node = node[step]
            else:
                continue
            where = (*where, step)
        if item is not None:
            drop.setdefault(item[0], set()).add(item[1])
    if not drop:
        return None

    kept: dict[tuple[Any, ...], list[int]] = {}  # list (new location) → its original indices

    def copy(node: Any, where: tuple[Any, ...], new: tuple[Any, ...]) -> Any:
        if isinstance(node, dict):
            return {
                k: copy(v, (*where, k), (*new, k)) if _on_path(where, k, drop) else v
                for k, v in node.items()
            }
        if isinstance(node, list):
            gone = drop.get(where, ())
            indices = [i for i in range(len(node)) if i not in gone]
            if gone:
                kept[new] = indices
            return [
                copy(node[i], (*where, i), (*new, n)) if _on_path(where, i, drop) else node[i]
                for n, i in enumerate(indices)
            ]
        return node

    return copy(doc, (), ()), kept


def _on_path(where: tuple[Any, ...], step: Any, drop: dict[tuple[Any, ...], set[int]]) -> bool:
    prefix = (*where, step)
    return any(key[: len(prefix)] == prefix for key in drop)


def _errors(
    errors: list[Any],
    attrs: Any,
    kept: dict[tuple[Any, ...], list[int]],
    document: str,
    found: list[Violation],
    seen: set[tuple[str, str]],
) -> int:
    """Violations from pydantic errors, with JSON paths; the number not kept."""
    located = [(_json_path(attrs, error["loc"], kept, error["type"]), error) for error in errors]
    # a union reports every alternative: drop the ones whose "type" tag does not even match
    wrong_branch = {
        branch
        for (path, branch), error in located
        if error["type"] == "literal_error" and error["loc"] and error["loc"][-1] == "type"
    }
    more = 0
    for (path, branch), error in located:
        if branch in wrong_branch and len(wrong_branch) < len(located):
            continue
        message = str(error["msg"])
        if (path, message) in seen:
            continue
        seen.add((path, message))
        if len(found) >= MAX_VIOLATIONS:
            more += 1
            continue
        found.append(Violation(document, path, error["type"], message, "error"))
    return more


def _json_path(
    doc: Any, loc: tuple[Any, ...], kept: dict[tuple[Any, ...], list[int]], kind: str
) -> tuple[str, tuple[Any, ...]]:
    """The JSON path of a pydantic error location in ``doc`` (list indices mapped back to the
    document through ``kept``), and the location up to its last union tag (a ``loc`` part that
    names a model, not a key of the document)."""
    parts = ["$"]
    branch: tuple[Any, ...] = ()
    node = doc
    where: tuple[Any, ...] = ()
    for index, step in enumerate(loc):
        if isinstance(step, int) and isinstance(node, list):
            original = kept.get(where)
            parts.append(f"[{original[step] if original and step < len(original) else step}]")
            node = node[step] if 0 <= step < len(node) else None
            where = (*where, step)
        elif isinstance(step, str) and isinstance(node, dict) and step in node:
            parts.append(f".{step}" if step.replace("_", "").isalnum() else f"[{step!r}]")
            node = node[step]
            where = (*where, step)
        elif kind == "missing" and isinstance(node, dict) and index == len(loc) - 1:
            parts.append(f".{step}")  # a missing key
        else:
            branch = loc[: index + 1]  # a union alternative's tag
    return "".join(parts), branch


def _non_finite(doc: Any, document: str, found: list[Violation]) -> int:
    """``non-finite`` violations for NaN and infinite numbers (JSON has neither); iterative,
    so a deeply nested document cannot exhaust the stack."""
    more = 0
    stack: list[tuple[Any, str]] = [(doc, "$")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend(
                (v, f"{path}.{k}") for k, v in node.items() if isinstance(v, dict | list | float)
            )
        elif isinstance(node, list):
            stack.extend(
                (v, f"{path}[{i}]")
                for i, v in enumerate(node)
                if isinstance(v, dict | list | float)
            )
        elif isinstance(node, float) and not math.isfinite(node):
            if len(found) >= MAX_VIOLATIONS:
                more += 1
                continue
            message = f"{node!r} is not a JSON number (NaN, Infinity or beyond a double's range)"
            found.append(Violation(document, path, "non-finite", message, "error"))
    return more


def _p(name: str) -> str:
    return f"<{NKG}{name}>"


def violation_triples(
    dataset_iri: str, validations: list[tuple[str, Validation]]
) -> list[rdf.Triple]:
    """The validation of every document of a dataset: a node per violation
    (``<dataset>#violation-N``, an ``nkg:NgffViolation``), the validator of each document
    and the violation count."""
    ds = f"<{dataset_iri}>"
    out: list[rdf.Triple] = []
    count = 0
    validators: set[str] = set()
    unvalidated = 0
    for _document, validation in validations:
        if validation.validator is None:
            unvalidated += 1
        else:
            validators.add(validation.validator)
        for violation in validation.violations:
            node = f"<{dataset_iri}#violation-{count}>"
            count += 1
            out.append((ds, _p("violation"), node))
            out.append((node, f"<{RDF_TYPE}>", _p("NgffViolation")))
            out.append((node, _p("violationDocument"), rdf.literal(violation.document)))
            out.append((node, _p("jsonPath"), rdf.literal(violation.path)))
            out.append((node, _p("violationRule"), rdf.literal(violation.rule)))
            out.append((node, _p("violationMessage"), rdf.literal(violation.message)))
            out.append((node, _p("severity"), rdf.literal(violation.severity)))
        count += validation.more
    for validator in sorted(validators):
        out.append((ds, _p("validatedWith"), rdf.literal(validator)))
    if unvalidated:
        out.append((ds, _p("documentsNotValidated"), rdf.integer(unvalidated)))
    if validators:
        out.append((ds, _p("violationCount"), rdf.integer(count)))
    return out


__all__ = [
    "MAX_VIOLATIONS",
    "Validation",
    "Violation",
    "model_version",
    "validate_group",
    "violation_triples",
]

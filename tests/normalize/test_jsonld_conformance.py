"""The W3C JSON-LD 1.1 toRdf test suite, run offline against the converter and pyld.

Each test's output is compared with the expected N-Quads as an RDF dataset: graph names
included, blank nodes up to isomorphism (pyoxigraph's canonicalisation). The converter must
pass every positive test that pyld passes, and raise a clean ``ExtractionError`` on every
negative test except the readings listed in ``LENIENT`` of :mod:`ngff_kg.normalize.jsonld`.

Tests that need an option the converter does not have (``produceGeneralizedRdf``,
``rdfDirection``, ``expandContext``, ``useNativeTypes``, ``useRdfType``, JSON-LD 1.0 processing
mode) are not applicable. The suite's remote URLs are served from its folder; there is no
network. Run as a script for the counts: ``python tests/test_jsonld_conformance.py``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT.parent / "shared" / "conformance" / "jsonld-toRdf" / "tests"
MANIFEST = SUITE / "toRdf-manifest.jsonld"

from ngff_kg.errors import ExtractionError  # noqa: E402
from ngff_kg.normalize.jsonld import LENIENT, ContextRegistry, JsonLdConverter  # noqa: E402

_OPTIONS = {"specVersion", "base", "processingMode", "useJCS"}


class SuiteRegistry(ContextRegistry):
    """Answers the suite's own URLs from its folder (and the bundled contexts), never the net."""

    def __init__(self, base_iri: str) -> None:
        super().__init__()
        self.base_iri = base_iri

    def __contains__(self, url: str) -> bool:
        return url.startswith(self.base_iri) or super().__contains__(url)

    def document(self, url: str) -> dict[str, Any]:
        if url.startswith(self.base_iri):
            path = SUITE / url[len(self.base_iri) :].split("#")[0]
            try:
                return json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                from ngff_kg.errors import UnknownContextError

                raise UnknownContextError(f"cannot load {url}: {exc}") from exc
        return super().document(url)


def _cases() -> list[dict[str, Any]]:
    if not MANIFEST.is_file():
        return []
    manifest = json.loads(MANIFEST.read_text("utf-8"))
    return [dict(case, baseIri=manifest["baseIri"]) for case in manifest["sequence"]]


CASES = _cases()


def applicable(case: dict[str, Any]) -> bool:
    option = case.get("option", {})
    if set(option) - _OPTIONS:
        return False
    return option.get("specVersion") != "json-ld-1.0" and option.get("processingMode") not in (
        "json-ld-1.0",
    )


def kind(case: dict[str, Any]) -> str:
    types = case["@type"]
    if "jld:NegativeEvaluationTest" in types:
        return "negative"
    if "jld:PositiveSyntaxTest" in types:
        return "syntax"
    return "positive"


def _dataset(quads: Any) -> set[ox.Quad]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def expected(case: dict[str, Any]) -> set[ox.Quad]:
    text = (SUITE / case["expect"]).read_bytes()
    return _dataset(ox.parse(text, format=ox.RdfFormat.N_QUADS))


def _base(case: dict[str, Any]) -> str:
    return case.get("option", {}).get("base") or case["baseIri"] + case["input"]


def _input(case: dict[str, Any]) -> Any:
    return json.loads((SUITE / case["input"]).read_text("utf-8"))


def run_pyld(case: dict[str, Any], registry: SuiteRegistry) -> set[ox.Quad] | Exception:
    from pyld import jsonld

    options = {
        "base": _base(case),
        "format": "application/n-quads",
        "documentLoader": registry.pyld_loader(),
    }
    try:
        text = jsonld.to_rdf(_input(case), options)
        return _dataset(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    except Exception as exc:  # the reference may fail in any way; that is what is counted
        return exc


def run_converter(case: dict[str, Any], converter: JsonLdConverter) -> set[ox.Quad] | Exception:
    """The converter's dataset; an ExtractionError is returned, anything else propagates."""
    try:
        expansion = converter.to_triples(_input(case), _base(case))
    except ExtractionError as exc:
        return exc
    lines = [
        f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n" for s, p, o, g in expansion.quads()
    ]
    # invalid N-Quads here is a converter defect: let the parse error fail the test
    return _dataset(ox.parse("".join(lines).encode("utf-8"), format=ox.RdfFormat.N_QUADS))


def outcome(case: dict[str, Any], result: set[ox.Quad] | Exception) -> str:
    """pass / fail / error (an exception) for one result."""
    if isinstance(result, Exception):
        return "pass" if kind(case) == "negative" else "error"
    if kind(case) == "negative":
        return "fail"
    if kind(case) == "syntax":
        return "pass"
    return "pass" if result == expected(case) else "fail"


@pytest.fixture(scope="module")
def converter() -> JsonLdConverter:
    if not CASES:
        pytest.skip(f"JSON-LD toRdf suite not found at {SUITE}")
    return JsonLdConverter(SuiteRegistry(CASES[0]["baseIri"]))


@pytest.mark.parametrize("case", CASES, ids=[c["@id"].lstrip("#") for c in CASES])
def test_to_rdf(case: dict[str, Any], converter: JsonLdConverter) -> None:
    if not applicable(case):
        pytest.skip(f"needs an option the converter does not have: {case.get('option')}")
    ours = outcome(case, run_converter(case, converter))
    name = case["@id"].lstrip("#")
    if kind(case) == "negative":
        assert ours == "pass" or name in LENIENT, f"{name}: read instead of rejected"
        if name in LENIENT:  # a documented leniency must still be one
            assert ours == "fail", f"{name} is rejected now: take it out of LENIENT"
        return
    reference = outcome(case, run_pyld(case, converter.registry))  # type: ignore[arg-type]
    if reference == "pass":
        assert ours == "pass", f"{name}: pyld passes, the converter gives {ours}"


def test_fast_path_reads_the_suite_like_pyld(converter: JsonLdConverter) -> None:
    """Where the fast path answers without pyld, it passes (no silent fast-path reading)."""
    fast = 0
    for case in CASES:
        if not applicable(case) or kind(case) != "positive":
            continue
        try:
            expansion = converter.to_triples(_input(case), _base(case))
        except ExtractionError:
            continue
        if expansion.engine == "fast":
            fast += 1
            assert outcome(case, run_converter(case, converter)) == "pass", case["@id"]
    assert fast > 50  # the suite exercises the fast path, not only the fallback


def main() -> int:
    """Counts per test kind: converter and pyld outcomes, and which engine answered."""
    if not CASES:
        print(f"suite not found at {SUITE}")
        return 1
    converter = JsonLdConverter(SuiteRegistry(CASES[0]["baseIri"]))
    counts: Counter[tuple[str, str, str]] = Counter()
    engines: Counter[str] = Counter()
    for case in CASES:
        if not applicable(case):
            counts[(kind(case), "n/a", "n/a")] += 1
            continue
        try:
            ours = outcome(case, run_converter(case, converter))
        except Exception as exc:  # a crash: what the test above forbids
            ours = f"crash {type(exc).__name__}"
        reference = outcome(case, run_pyld(case, converter.registry))  # type: ignore[arg-type]
        counts[(kind(case), ours, reference)] += 1
        if kind(case) == "positive" and ours == "pass":
            engines[converter.to_triples(_input(case), _base(case)).engine] += 1
        if ours != reference or ours != "pass":
            print(case["@id"], kind(case), "converter:", ours, "pyld:", reference)
    for key, n in sorted(counts.items()):
        print(f"{key[0]:9} converter={key[1]:8} pyld={key[2]:8} {n}")
    print("positive passes by engine:", dict(engines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

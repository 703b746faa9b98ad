"""Write ontologies/qudt-units.ttl: the QUDT units ngff-kg uses, facts only.

    python scripts/build_qudt_slim.py [--check]

The facts (label, symbol, quantity kind, conversion multiplier) are those QUDT states for
each unit; they are kept in ``ngff_kg.normalize.units.QUDT_UNITS`` (checked against the QUDT data in
qudtlib 7.1.0) and written here as Turtle so queries can convert between units.
``--check`` exits 1 when the file differs from what would be written.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ngff_kg.normalize.units import QUDT_UNITS  # noqa: E402

TARGET = ROOT / "ontologies" / "qudt-units.ttl"

HEADER = """\
# QUDT units slim: the units ngff-kg writes into the graph, facts only (label, symbol,
# quantity kind, conversion multiplier to the SI base unit), plus the NGFF unit name
# (nkg:ngffUnitName) where NGFF allows the unit. No definitions or other text are copied.
#
# Source: QUDT (http://qudt.org/vocab/unit/), as packaged in qudtlib 7.1.0 (npm
#   @qudtlib/allunits 7.1.0). IRIs, labels, symbols and multipliers are QUDT's.
# Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), QUDT.org.
# Built with: python scripts/build_qudt_slim.py (from ngff_kg.normalize.units.QUDT_UNITS)
# Version: the QUDT data of qudtlib 7.1.0

@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix nkg: <https://w3id.org/ngff-kg/vocab#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix qkdv: <http://qudt.org/vocab/quantitykind/> .
@prefix qudt: <http://qudt.org/schema/qudt/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://w3id.org/ngff-kg/ontology/qudt-units-slim> a owl:Ontology ;
    rdfs:label "QUDT units slim (ngff-kg)" ;
    dcterms:description "Facts of the QUDT units ngff-kg uses for axes and OME-XML." ;
    dcterms:source <http://qudt.org/vocab/unit/> ;
    dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;
    owl:versionInfo "qudtlib 7.1.0" .
"""


def _literal(text: str) -> str:
    return '"' + text.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"') + '"'


def render() -> str:
    parts = [HEADER]
    for unit in sorted(QUDT_UNITS, key=lambda u: u.local):
        lines = [
            f"unit:{unit.local} a qudt:Unit",
            f"    rdfs:label {_literal(unit.label)}@en",
            f"    qudt:symbol {_literal(unit.symbol)}",
            f"    qudt:hasQuantityKind qkdv:{unit.kind}",
        ]
        if unit.multiplier is not None:
            plain = format(Decimal(unit.multiplier), "f")  # xsd:decimal has no exponent
            lines.append(f'    qudt:conversionMultiplier "{plain}"^^xsd:decimal')
        if unit.ngff:
            lines.append(f"    nkg:ngffUnitName {_literal(unit.ngff)}")
        parts.append("\n" + " ;\n".join(lines) + " .\n")
    return "".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text("utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is stale: run python scripts/build_qudt_slim.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, "utf-8")
    print(f"wrote {TARGET} ({len(QUDT_UNITS)} units)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

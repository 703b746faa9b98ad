"""Units: the QUDT slim matches ngff_kg.normalize.units; unit names map to the right QUDT IRIs."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pyoxigraph as ox
import pytest
from conftest import ROOT

from ngff_kg.normalize.units import QUDT_UNITS, ome_length_in, qudt_iri, qudt_iri_for_symbol

UNIT = "http://qudt.org/vocab/unit/"


def test_slim_is_up_to_date() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_qudt_slim.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_slim_states_every_unit_with_licence_and_source() -> None:
    store = ox.Store()
    store.load(path=str(ROOT / "ontologies" / "qudt-units.ttl"), format=ox.RdfFormat.TURTLE)
    rows = store.query(
        "PREFIX qudt: <http://qudt.org/schema/qudt/> SELECT ?u ?m WHERE { ?u a qudt:Unit "
        "OPTIONAL { ?u qudt:conversionMultiplier ?m } }"
    )
    multipliers = {r["u"].value: r["m"] for r in rows}
    assert set(multipliers) == {u.iri for u in QUDT_UNITS}
    for unit in QUDT_UNITS:
        if unit.multiplier is not None:
            assert Decimal(multipliers[unit.iri].value) == Decimal(unit.multiplier)
    assert store.query(
        "ASK { ?o a <http://www.w3.org/2002/07/owl#Ontology> ; "
        "<http://purl.org/dc/terms/license> <https://creativecommons.org/licenses/by/4.0/> ; "
        "<http://purl.org/dc/terms/source> ?s }"
    )


@pytest.mark.parametrize(
    ("name", "local"),
    [
        ("micrometer", "MicroM"),
        ("nanometer", "NanoM"),
        ("angstrom", "ANGSTROM"),
        ("millimeter", "MilliM"),
        ("second", "SEC"),
        ("millisecond", "MilliSEC"),
        ("minute", "MIN"),
        ("hour", "HR"),
        ("pixel", "PIXEL"),
    ],
)
def test_ngff_names(name: str, local: str) -> None:
    assert qudt_iri(name) == UNIT + local


def test_units_qudt_lacks_and_ome_symbols() -> None:
    assert qudt_iri("zettameter") is None and qudt_iri("furlong") is None
    assert qudt_iri_for_symbol("µm") == qudt_iri_for_symbol("μm") == UNIT + "MicroM"
    assert qudt_iri_for_symbol("Å") == UNIT + "ANGSTROM"
    assert qudt_iri_for_symbol("Ym") is None
    assert ome_length_in("nm", 0.358, "µm") == 358.0
    assert ome_length_in("nm", 5000.0, "Å") == 500.0
    assert ome_length_in("nm", 3.0, "pixel") is None
    assert ome_length_in("nm", 3.0, "parsec-ish") is None

"""Units: NGFF unit names and OME-XML unit symbols → QUDT unit IRIs.

NGFF axes name their unit in UDUNITS-2 words (``micrometer``); OME-XML uses symbols
(``µm``). The graph keeps the name as written and adds the QUDT unit IRI where QUDT has the
unit. ``ontologies/qudt-units.ttl`` (built from :data:`QUDT_UNITS` by
``scripts/build_qudt_slim.py``) gives each of these units its QUDT label, symbol, quantity
kind and conversion multiplier, so queries can convert between units.

>>> qudt_iri("micrometer")
'http://qudt.org/vocab/unit/MicroM'
>>> qudt_iri("zettameter") is None  # NGFF allows it, QUDT has no such unit
True
>>> ome_length_in("nm", 0.5, "µm")
500.0
"""

from __future__ import annotations

from dataclasses import dataclass

QUDT = "http://qudt.org/schema/qudt/"
QUDT_UNIT = "http://qudt.org/vocab/unit/"
QUANTITY_KIND = "http://qudt.org/vocab/quantitykind/"


@dataclass(frozen=True, slots=True)
class QudtUnit:
    """Facts of one QUDT unit, as QUDT states them (checked against qudtlib 7.1.0)."""

    local: str  # local name in http://qudt.org/vocab/unit/
    label: str
    symbol: str
    kind: str  # quantity kind local name
    multiplier: str | None  # to the SI base unit, as QUDT writes it (a decimal); None: none
    ngff: str | None  # the NGFF (UDUNITS-2) name, where NGFF allows the unit

    @property
    def iri(self) -> str:
        return QUDT_UNIT + self.local


#: The QUDT units the graph uses: every NGFF unit that QUDT has, and the OME-XML length units.
QUDT_UNITS: tuple[QudtUnit, ...] = (
    QudtUnit("ANGSTROM", "Angstrom", "Å", "Length", "1E-10", "angstrom"),
    QudtUnit("CentiM", "Centimetre", "cm", "Length", "0.01", "centimeter"),
    QudtUnit("DecaM", "Decametre", "dam", "Length", "10.0", None),
    QudtUnit("DeciM", "Decimetre", "dm", "Length", "0.1", "decimeter"),
    QudtUnit("FemtoM", "Femtometre", "fm", "Length", "1E-15", "femtometer"),
    QudtUnit("FT", "Foot", "ft", "Length", "0.3048", "foot"),
    QudtUnit("HectoM", "Hectometre", "hm", "Length", "100.0", "hectometer"),
    QudtUnit("IN", "Inch", "in", "Length", "0.0254", "inch"),
    QudtUnit("KiloM", "Kilometre", "km", "Length", "1000.0", "kilometer"),
    QudtUnit("M", "Metre", "m", "Length", "1.0", "meter"),
    QudtUnit("MI", "International Mile", "mi", "Length", "1609.344", "mile"),
    QudtUnit("MicroM", "Micrometre", "μm", "Length", "0.000001", "micrometer"),
    QudtUnit("MilliM", "Millimetre", "mm", "Length", "0.001", "millimeter"),
    QudtUnit("NanoM", "Nanometre", "nm", "Length", "1E-9", "nanometer"),
    QudtUnit("PARSEC", "Parsec", "pc", "Length", "30856780000000000.0", "parsec"),
    QudtUnit("PicoM", "Picometre", "pm", "Length", "1E-12", "picometer"),
    QudtUnit("YD", "Yard", "yd", "Length", "0.9144", "yard"),
    QudtUnit("AttoSEC", "Attosecond", "as", "Time", "1E-18", "attosecond"),
    QudtUnit("DAY", "Day", "d", "Time", "86400.0", "day"),
    QudtUnit("DeciSEC", "Decisecond", "ds", "Time", "0.1", "decisecond"),
    QudtUnit("FemtoSEC", "Femtosecond", "fs", "Time", "1E-15", "femtosecond"),
    QudtUnit("HR", "Hour", "h", "Time", "3600.0", "hour"),
    QudtUnit("KiloSEC", "Kilosecond", "ks", "Time", "1000.0", "kilosecond"),
    QudtUnit("MegaSEC", "Megasecond", "Ms", "Time", "1000000.0", "megasecond"),
    QudtUnit("MicroSEC", "Microsecond", "μs", "Time", "0.000001", "microsecond"),
    QudtUnit("MilliSEC", "Millisecond", "ms", "Time", "0.001", "millisecond"),
    QudtUnit("MIN", "Minute", "min", "Time", "60.0", "minute"),
    QudtUnit("NanoSEC", "Nanosecond", "ns", "Time", "1E-9", "nanosecond"),
    QudtUnit("PicoSEC", "Picosecond", "ps", "Time", "1E-12", "picosecond"),
    QudtUnit("SEC", "Second", "s", "Time", "1.0", "second"),
    # not an NGFF unit, but written by converters (and common in the challenge corpus)
    QudtUnit("PIXEL", "Pixel", "pixel", "Dimensionless", None, "pixel"),
)

_BY_NGFF = {u.ngff: u for u in QUDT_UNITS if u.ngff}
_BY_LOCAL = {u.local: u for u in QUDT_UNITS}

#: OME-XML length unit symbols (UnitsLength) → (metres per unit, QUDT local name or None).
OME_LENGTH: dict[str, tuple[float, str | None]] = {
    "Ym": (1e24, None),
    "Zm": (1e21, None),
    "Em": (1e18, None),
    "Pm": (1e15, None),
    "Tm": (1e12, None),
    "Gm": (1e9, None),
    "Mm": (1e6, None),
    "km": (1e3, "KiloM"),
    "hm": (1e2, "HectoM"),
    "dam": (1e1, "DecaM"),
    "m": (1.0, "M"),
    "dm": (1e-1, "DeciM"),
    "cm": (1e-2, "CentiM"),
    "mm": (1e-3, "MilliM"),
    "µm": (1e-6, "MicroM"),  # MICRO SIGN, as OME-XML writes it
    "μm": (1e-6, "MicroM"),  # GREEK SMALL LETTER MU
    "nm": (1e-9, "NanoM"),
    "pm": (1e-12, "PicoM"),
    "fm": (1e-15, "FemtoM"),
    "am": (1e-18, None),
    "zm": (1e-21, None),
    "ym": (1e-24, None),
    "Å": (1e-10, "ANGSTROM"),
    "in": (0.0254, "IN"),
    "ft": (0.3048, "FT"),
    "yd": (0.9144, "YD"),
    "mi": (1609.344, "MI"),
    "pc": (3.0856775814913673e16, "PARSEC"),
    "pixel": (float("nan"), "PIXEL"),
}


def qudt_iri(ngff_name: str) -> str | None:
    """The QUDT unit IRI of an NGFF unit name, or ``None`` when QUDT has no such unit."""
    unit = _BY_NGFF.get(ngff_name)
    return unit.iri if unit else None


def qudt_iri_for_symbol(symbol: str) -> str | None:
    """The QUDT unit IRI of an OME-XML length symbol (``µm``), or ``None``."""
    entry = OME_LENGTH.get(symbol)
    if entry is None or entry[1] is None:
        return None
    return _BY_LOCAL[entry[1]].iri


def ome_length_in(target: str, value: float, symbol: str) -> float | None:
    """``value`` given in OME-XML unit ``symbol`` expressed in unit ``target``, or ``None``."""
    source, wanted = OME_LENGTH.get(symbol), OME_LENGTH.get(target)
    if source is None or wanted is None or source[0] != source[0] or wanted[0] != wanted[0]:
        return None  # unknown symbol, or pixels (no physical length)
    return float(f"{value * source[0] / wanted[0]:.12g}")

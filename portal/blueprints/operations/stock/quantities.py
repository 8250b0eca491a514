"""Quantities of the stock book: mass in kg and standard volume in m³ at 20 °C, Decimal only.

Every quantity the book keeps is a pair (kg, m³ at 20 °C): mass rounded to the kilogram (a tonne with
three decimals), volume to the litre (m³ with three decimals). Density is at 20 °C in kg/m³ (vacuum
density, as the order's ``density_20``). A barrel is 42 US gallons = 0.158987294928 m³ (exact by the
definition of the US gallon, 231 cubic inches of 2.54 cm).
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

KG_PER_T = Decimal(1000)
M3_PER_BBL = Decimal("0.158987294928")
KG_PLACES = Decimal(1)  # a kilogram: tonnes with three decimals
M3_PLACES = Decimal("0.001")  # a litre
T_PLACES = Decimal("0.001")
PCT_PLACES = Decimal("0.001")
ZERO = Decimal(0)
UNITS = ("t", "m3", "bbl", "kg")


class QuantityError(ValueError):
    """A quantity that cannot be converted (unknown unit, missing or impossible density)."""


def dec(value) -> Decimal:
    """A Decimal from a Decimal, int or text (never from a float: its binary value is not the number typed)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise QuantityError(f"quantities are Decimal, not {type(value).__name__}")
    try:
        result = Decimal(value if isinstance(value, int) else str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise QuantityError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise QuantityError(f"not a finite number: {value!r}")
    return result


def round_kg(kg) -> Decimal:
    return dec(kg).quantize(KG_PLACES, rounding=ROUND_HALF_EVEN)


def round_m3(m3) -> Decimal:
    return dec(m3).quantize(M3_PLACES, rounding=ROUND_HALF_EVEN)


def _density(density_20) -> Decimal:
    if density_20 is None:
        raise QuantityError("a density at 20 °C is needed to convert between mass and volume")
    density = dec(density_20)
    if density <= 0:
        raise QuantityError(f"density must be positive: {density}")
    return density


def to_kg_m3(qty, unit: str, density_20=None) -> tuple[Decimal, Decimal]:
    """(kg, m³ at 20 °C) of ``qty`` in ``unit`` (t, m3 at 20 °C, bbl at 20 °C, kg), rounded for the book.

    Mass and volume are converted with ``density_20`` (kg/m³ at 20 °C). The sign of ``qty`` is kept.
    """
    qty = dec(qty)
    unit = (unit or "").strip().lower().replace("³", "3")
    if unit in ("t", "mt"):
        kg = qty * KG_PER_T
        return round_kg(kg), round_m3(kg / _density(density_20))
    if unit == "kg":
        return round_kg(qty), round_m3(qty / _density(density_20))
    if unit == "m3":
        return round_kg(qty * _density(density_20)), round_m3(qty)
    if unit == "bbl":
        m3 = qty * M3_PER_BBL
        return round_kg(m3 * _density(density_20)), round_m3(m3)
    raise QuantityError(f"unknown unit {unit!r}: t, m3, bbl or kg")


def kg_to_t(kg) -> Decimal:
    """Tonnes with three decimals (exact for the book's whole kilograms)."""
    return (dec(kg or 0) / KG_PER_T).quantize(T_PLACES, rounding=ROUND_HALF_EVEN)


def density_of(kg, m3) -> Decimal | None:
    """The density (kg/m³, two decimals) implied by a mass and a volume, or None without volume."""
    kg, m3 = dec(kg or 0), dec(m3 or 0)
    if m3 == 0:
        return None
    return (kg / m3).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def percent(part, whole) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (three decimals), or None when ``whole`` is zero."""
    part, whole = dec(part or 0), dec(whole or 0)
    if whole == 0:
        return None
    return (part * 100 / whole).quantize(PCT_PLACES, rounding=ROUND_HALF_EVEN)

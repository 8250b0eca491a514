"""The survey mathematics, on plain numbers (no database): distributions, means, net promoter score.

"Not applicable" answers are left out before these are called; an empty list gives None (no mean, no NPS),
never a division by zero.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

RATING_SCALE = (1, 2, 3, 4, 5)
NPS_SCALE = tuple(range(11))


def distribution(values: Iterable[int], scale: Iterable[int]) -> dict[int, int]:
    """How many answers gave each point of the scale (every point present, zeros included)."""
    counts = {point: 0 for point in scale}
    for v in values:
        if v in counts:
            counts[v] += 1
    return counts


def mean(values: Iterable[int], places: str = "0.01") -> Decimal | None:
    values = list(values)
    if not values:
        return None
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def nps(values: Iterable[int]) -> Decimal | None:
    """Net promoter score: % promoters (9-10) minus % detractors (0-6), from -100 to 100, one decimal."""
    values = list(values)
    if not values:
        return None
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    return (Decimal(100 * (promoters - detractors)) / Decimal(len(values))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def nps_groups(values: Iterable[int]) -> dict[str, int]:
    values = list(values)
    return {"promoters": sum(1 for v in values if v >= 9), "passives": sum(1 for v in values if 7 <= v <= 8),
            "detractors": sum(1 for v in values if v <= 6)}


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage with one decimal; None when nothing to divide."""
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

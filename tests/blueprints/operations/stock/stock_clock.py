"""Times of the stock tests. A module of its own name: test modules import it directly."""
from __future__ import annotations

from datetime import UTC, datetime


def at(day: str, hh: int = 12, mm: int = 0) -> datetime:
    """A UTC time; 12:00 UTC is 20:00 in Shanghai, the same local day."""
    y, m, d = (int(p) for p in day.split("-"))
    return datetime(y, m, d, hh, mm, tzinfo=UTC)

"""Vessel calls: the IMO number check, calls and their times, revisions and their listeners."""
from __future__ import annotations

from typing import Callable

from .models import VesselCall

_call_listeners: list[Callable] = []


def register_call_listener(fn: Callable) -> Callable:
    """``fn(call, revision)`` runs inside the transaction (after flush) whenever a call's times or berth change."""
    if fn not in _call_listeners:
        _call_listeners.append(fn)
    return fn


def call_times(call: VesselCall) -> dict:
    """The call's current planned times (UTC, aware): eta, etb, etc, etd."""
    return {"eta": call.eta, "etb": call.etb, "etc": call.etc, "etd": call.etd}


def imo_valid(imo: str) -> bool:
    """An IMO ship number: 7 digits, the last one the sum of the first six times 7..2, modulo 10."""
    text = (imo or "").strip()
    if len(text) != 7 or not text.isascii() or not text.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(text[:6], range(7, 1, -1)))
    return total % 10 == int(text[6])

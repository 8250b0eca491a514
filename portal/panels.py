"""The dashboard panel registry: each domain registers (in its panels.py) what its users see first thing."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Callable[[object], dict | None]  # (user) -> template context, or None to hide the panel


_PANELS: list[Panel] = []


def register_panel(order: int, template: str):
    """Register a panel: the decorated function returns its context for a user, or None to hide it."""

    def decorator(func):
        _PANELS.append(Panel(order, template, func))
        return func

    return decorator


def panels_for(user) -> list[tuple[str, dict]]:
    out = []
    for panel in sorted(_PANELS, key=lambda p: (p.order, p.template)):
        ctx = panel.context(user)
        if ctx is not None:
            out.append((panel.template, ctx))
    return out

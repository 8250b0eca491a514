"""`flask demo load`: each module registers an idempotent loader for the demonstration terminal."""
from __future__ import annotations

from collections.abc import Callable

_LOADERS: list[tuple[int, str, Callable[[], None]]] = []


def register(order: int, name: str | None = None):
    """Register a demo loader. Loaders run in order; each must be idempotent and must not commit."""

    def decorator(func: Callable[[], None]):
        _LOADERS.append((order, name or func.__module__, func))
        return func

    return decorator


def loaders() -> list[tuple[int, str, Callable[[], None]]]:
    return sorted(_LOADERS, key=lambda item: (item[0], item[1]))


# Printed by `make run` and `flask demo load`.
DEMO_PASSWORD_NOTE = "Demo sign-ins (user / password):"

"""The search layer: the only package that imports whoosh."""
from .registry import KINDS, register_child, register_kind  # noqa: F401


def init_app(app) -> None:
    """Wire the index to the app (change log listener, after-commit sync)."""

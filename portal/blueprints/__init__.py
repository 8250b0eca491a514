"""The explicit list of blueprints. Each requires sign-in for all its routes (see permissions.protect)."""
from __future__ import annotations

from importlib import import_module

from flask import Flask

from ..permissions import protect

BLUEPRINTS = (
    "main",
    "auth",
    "dashboard",
    "admin",
    "customers",
    "operations",
    "search",
    "knowledge",
    "government",
    "complaints",
    "moc",
    "meetings",
    "surveys",
    "archive",
    "department",
    "notifications",
)


def register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        module = import_module(f"{__name__}.{name}")
        app.register_blueprint(protect(module.bp))

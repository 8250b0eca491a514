"""Vessel calls and the berth plan of the operations register.

A nested blueprint ``vessels`` on ``operations`` (endpoints ``operations.vessels.*``, URLs under
``/operations/vessels/``).
"""
from . import models  # noqa: F401
from .routes import bp  # noqa: F401

"""Vessel calls and the berth plan of the operations register.

A nested blueprint ``vessels`` on ``operations`` (endpoints ``operations.vessels.*``, URLs under
``/operations/vessels/``).
"""
from . import demo  # noqa: F401  (registers the demo loader)
from . import models  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard's due list)
from . import search  # noqa: F401  (registers the searchable kind)
from .routes import bp  # noqa: F401

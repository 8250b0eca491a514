"""Customs clearance of the operations register: customs entries (bonded entry, duty-paid release,
re-export, transfer between bonded owners), the customs stock per customer, the daily customs check and
the customs statement.

A nested blueprint ``customs`` on ``operations`` (endpoints ``operations.customs.*``, URLs under
``/operations/customs/``).
"""
from . import demo  # noqa: F401  (registers the demo loader)
from . import models  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard due list)
from . import search  # noqa: F401  (registers the searchable kind)
from .routes import bp  # noqa: F401

"""Billing records for finance: monthly billing runs per customer priced from the contracts' rate items.

A nested blueprint ``billing`` on ``operations`` (endpoints ``operations.billing.*``, URLs under
``/operations/billing/``).
"""
from . import demo  # noqa: F401  (registers the demo loader)
from . import models  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard panel)
from .routes import bp  # noqa: F401

"""The stock book of the operations register: ledger, adjustments, morning check, daily stock reports.

A nested blueprint ``stock`` on ``operations`` (endpoints ``operations.stock.*``, URLs under
``/operations/stock/``).
"""
from . import demo  # noqa: F401  (registers the demo loader)
from . import jobs  # noqa: F401  (registers the daily report job)
from . import models  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard panel)
from .routes import bp  # noqa: F401

"""Monthly reports: the monthly operation and safety report (per customer and for management) and the
government throughput statistics.

A nested blueprint ``monthly`` on ``operations`` (endpoints ``operations.monthly.*``, URLs under
``/operations/monthly/``).
"""
from . import demo  # noqa: F401  (registers the demo loader)
from . import models  # noqa: F401
from .routes import bp  # noqa: F401

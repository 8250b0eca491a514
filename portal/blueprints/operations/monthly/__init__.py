"""Monthly reports: the monthly operation and safety report (per customer and for management) and the
government throughput statistics.

A nested blueprint ``monthly`` on ``operations`` (endpoints ``operations.monthly.*``, URLs under
``/operations/monthly/``).
"""
from . import models  # noqa: F401
from .routes import bp  # noqa: F401

"""Month-end three-way reconciliation and the month lock.

A nested blueprint ``monthend`` on ``operations`` (endpoints ``operations.monthend.*``, URLs under
``/operations/month-end/``). ``services.month_locked(month)`` says whether the terminal's month is signed
off; ``services.variances(month)`` gives the reconciliation per tank x customer x product.
"""
from . import demo  # noqa: F401  (registers the demo loader)
from . import models  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard due lists)
from . import search  # noqa: F401  (registers the searchable kind)
from . import services
from .routes import bp  # noqa: F401

services.register_billing_lock()

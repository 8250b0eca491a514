"""Government applications of the vessel calls: the declarations the port requires per call.

A nested blueprint ``applications`` on ``operations`` (endpoints ``operations.applications.*``, URLs under
``/operations/applications/``).
"""
from . import demo  # noqa: F401  (registers the demo loader)
from . import jobs  # noqa: F401  (registers the deadline notices job)
from . import models  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard due list)
from . import search  # noqa: F401  (registers the searchable kind)
from . import services  # noqa: F401  (registers the call listener)
from .routes import bp  # noqa: F401

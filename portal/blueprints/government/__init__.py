from . import demo  # noqa: F401  (registers the demo loader)
from . import jobs, panels  # noqa: F401  (registers the scheduled jobs and the dashboard panels)
from . import search  # noqa: F401  (registers the searchable kinds)
from .routes import bp  # noqa: F401

from . import demo  # noqa: F401  (registers the demo loader)
from . import jobs, panels  # noqa: F401  (registers the scheduled job and the dashboard panel)
from . import search  # noqa: F401  (registers the searchable kind)
from .routes import bp  # noqa: F401

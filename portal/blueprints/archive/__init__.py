from . import models  # noqa: F401  (tables)
from . import search  # noqa: F401  (registers the searchable kind "record")
from .routes import bp  # noqa: F401
from . import cli, demo, due, jobs, panels  # noqa: F401,E402  (CLI, demo loader, due list, scheduled jobs, dashboard panel)

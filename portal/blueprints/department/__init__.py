from . import cli, demo, jobs, panels, search  # noqa: F401  (CLI commands, demo loader, jobs, dashboard panels, search)
from .routes import bp  # noqa: F401

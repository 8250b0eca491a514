from . import cli, demo, panels, search  # noqa: F401  (CLI commands, demo loader, dashboard panels, search)
from .routes import bp  # noqa: F401

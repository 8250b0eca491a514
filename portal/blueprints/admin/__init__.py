from . import cli, demo  # noqa: F401  (its `flask users` commands, its demo loader)
from .routes import bp  # noqa: F401

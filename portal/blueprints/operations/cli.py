"""The `flask operations ...` command group (the blueprint's own group); each part adds its commands."""
from .measure import cli as measure_cli
from .routes import bp

measure_cli.register(bp.cli)

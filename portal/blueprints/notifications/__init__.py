"""Notifications: the outbox and jobs pages, `flask outbox` and `flask jobs`, the core jobs (delivery, search sync)."""
from .routes import bp  # noqa: F401
from . import cli, jobs, panels  # noqa: F401,E402  (CLI groups, the core jobs, the dashboard panel)

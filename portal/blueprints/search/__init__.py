from . import cli  # noqa: F401  (the flask search commands, on the blueprint's command group)
from .routes import bp  # noqa: F401

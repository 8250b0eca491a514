from . import demo  # noqa: F401
from .routes import bp  # noqa: F401

from . import models  # noqa: F401  (tables)
from .routes import bp  # noqa: F401

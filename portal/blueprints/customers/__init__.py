from . import demo  # noqa: F401
from . import search  # noqa: F401  (registers the searchable kinds)
from .routes import bp  # noqa: F401

"""Operations register: master data, customer orders with verification and events; the stock book in `stock`."""
from . import demo  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard panels)
from . import search  # noqa: F401  (registers the searchable kinds)
from .routes import bp  # noqa: F401

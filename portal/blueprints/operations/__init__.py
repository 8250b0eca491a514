"""Operations register: master data, customer orders with verification and events; the stock book in `stock`."""
from . import demo  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard panels)
from . import search  # noqa: F401  (registers the searchable kinds)
from .routes import bp  # noqa: F401
from .stock import bp as stock_bp  # noqa: E402  (the stock book: nested blueprint operations.stock)
bp.register_blueprint(stock_bp)
from .billing import bp as billing_bp  # noqa: E402  (billing records: nested blueprint operations.billing)
bp.register_blueprint(billing_bp)

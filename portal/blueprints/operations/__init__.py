"""Operations register: master data, customer orders with verification and events; the stock book in `stock`."""
from . import demo  # noqa: F401
from . import panels  # noqa: F401  (registers the dashboard panels)
from . import search  # noqa: F401  (registers the searchable kinds)
from .routes import bp  # noqa: F401
from .stock import bp as stock_bp  # noqa: E402  (the stock book: nested blueprint operations.stock)
bp.register_blueprint(stock_bp)
from .vessels import bp as vessels_bp  # noqa: E402  (vessel calls and the berth plan: nested blueprint operations.vessels)
bp.register_blueprint(vessels_bp)
from .applications import bp as applications_bp  # noqa: E402  (government applications: nested blueprint operations.applications)
bp.register_blueprint(applications_bp)
from .customs import bp as customs_bp  # noqa: E402  (customs clearance: nested blueprint operations.customs)
bp.register_blueprint(customs_bp)
from .measure import bp as measure_bp  # noqa: E402  (tank dips and quantities: nested blueprint operations.measure)
bp.register_blueprint(measure_bp)
from . import cli  # noqa: E402,F401  (the flask operations commands)
from .billing import bp as billing_bp  # noqa: E402  (billing records: nested blueprint operations.billing)
bp.register_blueprint(billing_bp)

"""Tank dips and quantity calculation: calibration (strapping) tables, gauging data, dips, volume correction.

A nested blueprint ``measure`` on ``operations`` (endpoints ``operations.measure.*``, URLs under
``/operations/measure/``). ``services.tank_physical(tank, day)`` gives the computed quantities of a tank's
latest dip of a day to the other parts of the operations register.
"""
from . import demo  # noqa: F401  (registers the demo loader)
from . import models  # noqa: F401
from . import search  # noqa: F401  (registers the searchable kind)
from .routes import bp  # noqa: F401

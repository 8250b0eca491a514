"""Dashboard panel: the next review meetings due with long-term customers."""
from ...timeutil import local_today
from ... import panels
from ...panels import register_panel
from . import services


@register_panel(60, "meetings/_panel_due.html")
def next_reviews(user):
    if not user.has_role("csr", "cs_manager", "admin"):
        return None
    rows = services.schedule(local_today(), limit=panels.PANEL_ROWS)
    if not rows:
        return None
    return {"rows": rows, "today": local_today()}

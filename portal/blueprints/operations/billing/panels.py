"""Dashboard panel of billing: last month's runs that are not yet exported to finance, by how far each got
(not reviewed, awaiting the customer's agreement, agreed and waiting for the export), each count linking to the
billing list filtered to exactly those runs."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ....extensions import db
from ....panels import register_panel
from . import services
from .models import BillingRun

# The states before the export, in the order a run goes through them, with what the panel calls them.
WAITING = (
    ("draft", _l("Not yet reviewed")),
    ("reviewed", _l("Awaiting the customer's agreement")),
    ("agreed", _l("Agreed, not yet exported to finance")),
)


@register_panel(27, "operations/billing/_panel.html")
def billing_runs_waiting(user):
    if not user.has_role("csr", "cs_manager"):
        return None
    month = services.last_closed_month()
    counts = dict(db.session.execute(db.select(BillingRun.state, db.func.count(BillingRun.id))
                                     .where(BillingRun.month == month).group_by(BillingRun.state)).all())
    rows = [(state, label, counts[state]) for state, label in WAITING if counts.get(state)]
    return {"month": f"{month:%Y-%m}", "rows": rows, "runs": sum(counts.values()),
            "exported": counts.get("exported", 0)}

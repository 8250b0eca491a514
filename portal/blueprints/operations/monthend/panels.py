"""Dashboard due lists of the month end: months awaiting sign-off and open variance investigations."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....panels import DueRow, register_due
from .models import CLOSED_INVESTIGATION, VarianceInvestigation, MonthEnd

MAX_LISTED = 100


@register_due("monthend-signoff", 45, _l("Months awaiting the month-end sign-off"),
              url=lambda user: url_for("operations.monthend.index", awaiting=1))
def months_awaiting(user):
    """Managers sign months off; CSRs prepare them: every month reconciled or started but not signed off."""
    if not user.has_role("csr", "cs_manager", "admin"):
        return None
    rows = db.session.scalars(select(MonthEnd).where(MonthEnd.state != "signed_off")
                              .order_by(MonthEnd.month).limit(MAX_LISTED))
    return [DueRow(f"{p.month:%Y-%m} {p.state_label}", url_for("operations.monthend.month", month=f"{p.month:%Y-%m}"),
                   p.month, "") for p in rows]


@register_due("monthend-investigations", 46, _l("Open variance investigations"),
              url=lambda user: url_for("operations.monthend.investigations"))
def investigations(user):
    if not user.has_role("csr", "cs_manager", "admin"):
        return None
    rows = db.session.scalars(select(VarianceInvestigation).where(VarianceInvestigation.state.not_in(CLOSED_INVESTIGATION))
                              .options(selectinload(VarianceInvestigation.tank), selectinload(VarianceInvestigation.customer),
                                       selectinload(VarianceInvestigation.period))
                              .order_by(VarianceInvestigation.id).limit(MAX_LISTED))
    return [DueRow(f"{i.period.month:%Y-%m} {i.tank.code} {i.customer.code} {i.comparison_label} {i.state_label}",
                   url_for("operations.monthend.investigation", inv_id=i.id), i.period.month, i.customer.code)
            for i in rows]

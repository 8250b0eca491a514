"""Dashboard due lists of the month end: months awaiting sign-off and open variance investigations."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....panels import DueRow, DueSummary, register_due
from .models import CLOSED_INVESTIGATION, VarianceInvestigation, MonthEnd

MAX_LISTED = 100


def _for(user) -> bool:
    return user.has_role("csr", "cs_manager", "admin")


def _summary(listed) -> DueSummary:
    """The count and first due month of a listed (limited) subquery with a ``month`` column."""
    return DueSummary(*db.session.execute(select(func.count(), func.min(listed.c.month))).one())


def months_awaiting_summary(user):
    if not _for(user):
        return None
    return _summary(select(MonthEnd.month).where(MonthEnd.state != "signed_off").order_by(MonthEnd.month)
                    .limit(MAX_LISTED).subquery())


def investigations_summary(user):
    if not _for(user):
        return None
    return _summary(select(MonthEnd.month).select_from(VarianceInvestigation)
                    .join(MonthEnd, MonthEnd.id == VarianceInvestigation.period_id)
                    .where(VarianceInvestigation.state.not_in(CLOSED_INVESTIGATION))
                    .order_by(VarianceInvestigation.id).limit(MAX_LISTED).subquery())


@register_due("monthend-signoff", 45, _l("Months awaiting the month-end sign-off"),
              url=lambda user: url_for("operations.monthend.index", awaiting=1), summary=months_awaiting_summary)
def months_awaiting(user):
    """Managers sign months off; CSRs prepare them: every month reconciled or started but not signed off."""
    if not _for(user):
        return None
    rows = db.session.scalars(select(MonthEnd).where(MonthEnd.state != "signed_off")
                              .order_by(MonthEnd.month).limit(MAX_LISTED))
    return [DueRow(f"{p.month:%Y-%m} {p.state_label}", url_for("operations.monthend.month", month=f"{p.month:%Y-%m}"),
                   p.month, "") for p in rows]


@register_due("monthend-investigations", 46, _l("Open variance investigations"),
              url=lambda user: url_for("operations.monthend.investigations"), summary=investigations_summary)
def investigations(user):
    if not _for(user):
        return None
    rows = db.session.scalars(select(VarianceInvestigation).where(VarianceInvestigation.state.not_in(CLOSED_INVESTIGATION))
                              .options(selectinload(VarianceInvestigation.tank), selectinload(VarianceInvestigation.customer),
                                       selectinload(VarianceInvestigation.period))
                              .order_by(VarianceInvestigation.id).limit(MAX_LISTED))
    return [DueRow(f"{i.period.month:%Y-%m} {i.tank.code} {i.customer.code} {i.comparison_label} {i.state_label}",
                   url_for("operations.monthend.investigation", inv_id=i.id), i.period.month, i.customer.code)
            for i in rows]

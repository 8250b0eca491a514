"""Dashboard due list of customs clearance: entries lodged with customs and waiting for release."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....panels import DueRow, DueSummary, register_due
from .models import CustomsEntry

MAX_LISTED = 200


def _for(user) -> bool:
    return user.has_role("csr", "cs_manager", "admin")


def _lodged():
    return select(CustomsEntry).where(CustomsEntry.status == "lodged").order_by(CustomsEntry.lodged_on, CustomsEntry.id)


def customs_waiting_summary(user):
    """The count and first lodging day of the rows below, reckoned in SQL."""
    if not _for(user):
        return None
    listed = _lodged().with_only_columns(CustomsEntry.lodged_on).limit(MAX_LISTED).subquery()
    return DueSummary(*db.session.execute(select(func.count(), func.min(listed.c.lodged_on))).one())


@register_due("customs-waiting", 40, _l("Customs entries waiting for release"),
              url=lambda user: url_for("operations.customs.index", status="lodged", per_page=MAX_LISTED),
              summary=customs_waiting_summary)
def customs_waiting(user):
    """CSRs and managers follow clearance with the brokers: every entry still lodged, oldest first."""
    if not _for(user):
        return None
    rows = db.session.scalars(_lodged().options(selectinload(CustomsEntry.customer)).limit(MAX_LISTED))
    return [DueRow(f"{e.declaration_no} {e.kind_label}", url_for("operations.customs.entry", entry_id=e.id),
                   e.lodged_on, e.customer.code) for e in rows]

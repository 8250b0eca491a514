"""Dashboard due list of customs clearance: entries lodged with customs and waiting for release."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....panels import DueRow, register_due
from .models import CustomsEntry

MAX_LISTED = 200


@register_due("customs-waiting", 40, _l("Customs entries waiting for release"),
              url=lambda user: url_for("operations.customs.index", status="lodged", per_page=MAX_LISTED))
def customs_waiting(user):
    """CSRs and managers follow clearance with the brokers: every entry still lodged, oldest first."""
    if not user.has_role("csr", "cs_manager", "admin"):
        return None
    rows = db.session.scalars(select(CustomsEntry).where(CustomsEntry.status == "lodged")
                              .options(selectinload(CustomsEntry.customer))
                              .order_by(CustomsEntry.lodged_on, CustomsEntry.id).limit(MAX_LISTED))
    return [DueRow(f"{e.declaration_no} {e.kind_label}", url_for("operations.customs.entry", entry_id=e.id),
                   e.lodged_on, e.customer.code) for e in rows]

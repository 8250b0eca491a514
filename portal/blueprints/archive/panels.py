"""Dashboard panel: due for disposition, batches awaiting approval, last fixity result."""
from __future__ import annotations

from ...extensions import db
from ...panels import register_panel
from . import services
from .models import DisposalBatch


@register_panel(70, "archive/_panel.html")
def archive_panel(user):
    if not user.has_role("admin", "records_officer", "cs_manager"):
        return None
    counts = services.due_counts_today()  # the records due, counted in SQL, shared with the due list
    awaiting = list(db.session.scalars(db.select(DisposalBatch).filter_by(status="proposed")
                                       .order_by(DisposalBatch.proposed_at)))
    approved = list(db.session.scalars(db.select(DisposalBatch).filter(DisposalBatch.status.in_(("approved", "executing")))))
    return {
        "due": counts.ready,
        "skipped": counts.skipped,
        "awaiting": awaiting,
        "approved": approved,
        "can_approve": user.has_role("admin", "cs_manager"),
        "is_officer": user.has_role("admin", "records_officer"),
        "fixity": services.last_fixity_run(),
    }

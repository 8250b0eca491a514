"""The dashboard's due list of ETA changes not yet told to the call's customers."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ....panels import DueRow, DueSummary, register_due
from . import services


def _for(user) -> bool:
    return user.has_role("csr", "cs_manager")


def eta_changes_summary(user):
    """The count and soonest ETA of the rows below, reckoned in SQL."""
    if not _for(user):
        return None
    return DueSummary(*services.eta_changes_summary())


@register_due("vessel-eta-changes", 27, _l("ETA changes to tell customers"),
              url=lambda user: url_for("operations.vessels.eta_changes"), summary=eta_changes_summary)
def eta_changes(user):
    """One row per call and customer not yet told of the latest ETA (the linked page lists the same rows)."""
    if not _for(user):
        return None
    return [DueRow(f"{r['call'].number} {r['call'].vessel.name} · {r['customer'].code}",
                   url_for("operations.vessels.call_detail", call_id=r["call"].id), r["call"].eta,
                   _("ETA was %(old)s", old=r["old"]))
            for r in services.eta_change_rows()]

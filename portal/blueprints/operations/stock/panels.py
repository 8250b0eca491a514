"""Dashboard panel of the stock book: yesterday's daily stock reports due today and overdue."""
from ....i18n import fmt_date
from ....panels import first_of, register_panel
from . import reports


@register_panel(40, "operations/stock/_panel_reports.html")
def daily_reports_due(user):
    """A CSR sees the reports of their own customers, a manager all; hidden for other roles."""
    if not user.has_role("csr", "cs_manager", "admin"):
        return None
    items, total = first_of(reports.due_today(user))
    if not items and not user.has_role("csr"):
        return None
    return {"items": items, "total": total, "labels": reports.state_labels(),
            "day": fmt_date(items[0].day) if items else ""}

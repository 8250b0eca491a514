"""Dashboard panels of the operations register: orders waiting for the department (to verify, to hand
over) and amendments operations have not acknowledged yet; and the register's lines on "My customers"
(orders to verify, daily stock reports due today and not sent)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...panels import register_panel
from ...timeutil import to_local
from ..department.models import register_customer_lines
from .models import Order
from .stock import reports


@register_panel(25, "operations/_panel_orders.html")
def orders_waiting(user):
    if not user.has_role("csr", "cs_manager", "staff"):
        return None
    rows = db.session.scalars(db.select(Order).filter(Order.state.in_(("received", "verified", "handed_over", "in_execution")))
                              .order_by(Order.planned_start.is_(None), Order.planned_start, Order.id)
                              .options(selectinload(Order.customer), selectinload(Order.product),
                                       selectinload(Order.tank))).all()
    to_verify = [o for o in rows if o.state == "received"]
    to_hand_over = [o for o in rows if o.state == "verified"]
    behind = [o for o in rows if o.ops_behind]
    if user.has_role("staff") and not user.has_role("csr", "cs_manager"):
        to_verify, to_hand_over = [], []
        if not behind:
            return None
    return {"to_verify": to_verify[:8], "to_hand_over": to_hand_over[:8], "behind": behind[:8],
            "counts": (len(to_verify), len(to_hand_over), len(behind))}


@register_customer_lines
def customer_lines(customer_ids, viewer, now):
    """"My customers": each order still to verify (state received) and each daily stock report due today (or
    overdue) and not sent, of these customers; a fixed number of statements whatever the number of rows."""
    out = []
    for o in db.session.scalars(db.select(Order).filter(Order.customer_id.in_(customer_ids), Order.state == "received")
                                .options(selectinload(Order.product)).order_by(Order.sort_at, Order.id)):
        out.append({"customer_id": o.customer_id, "label": _l("Order to verify"), "ref": o.number,
                    "title": f"{o.kind_label} · {o.product.code}", "due": o.planned_start,
                    "overdue": bool(o.planned_start and o.planned_start <= now),
                    "endpoint": "operations.order_detail", "args": {"order_id": o.id}})
    day = to_local(now).date() - timedelta(days=1)
    wanted = set(customer_ids)
    customers = [c for c in reports.customers_with_stock(day) if c.id in wanted]
    for s in reports.statuses(day, customers):
        if s.sent is None and s.due_at is not None:
            out.append({"customer_id": s.customer.id, "label": _l("Daily stock report due"), "ref": day.isoformat(),
                        "title": str(_l("Daily stock report")), "due": s.due_at, "overdue": now >= s.due_at,
                        "endpoint": "operations.stock.report", "args": {"customer_id": s.customer.id, "day": day.isoformat()}})
    return out

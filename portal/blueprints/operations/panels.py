"""Dashboard panels of the operations register: orders waiting for the department (to verify, to hand
over) and amendments operations have not acknowledged yet; and the register's lines on "My customers"
(orders to verify, daily stock reports due today and not sent)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ... import panels
from ...panels import register_panel
from ...timeutil import to_local
from ..department.models import register_customer_lines
from .models import Order
from .stock import reports


def _first_orders(condition) -> list[Order]:
    return list(db.session.scalars(
        db.select(Order).filter(condition)
        .order_by(Order.planned_start.is_(None), Order.planned_start, Order.id).limit(panels.PANEL_ROWS)
        .options(joinedload(Order.customer), joinedload(Order.product), joinedload(Order.tank))))


@register_panel(25, "operations/_panel_orders.html")
def orders_waiting(user):
    """The first PANEL_ROWS orders of each group (soonest planned start first) and each group's count."""
    if not user.has_role("csr", "cs_manager", "staff"):
        return None
    staff_only = user.has_role("staff") and not user.has_role("csr", "cs_manager")
    received, verified, behind = (Order.state == "received"), (Order.state == "verified"), Order.ops_behind
    counts = tuple(db.session.execute(db.select(
        func.coalesce(func.sum(case((received, 1), else_=0)), 0), func.coalesce(func.sum(case((verified, 1), else_=0)), 0),
        func.coalesce(func.sum(case((behind, 1), else_=0)), 0))
        .filter(Order.state.in_(("received", "verified", "handed_over", "in_execution")))).one())
    if staff_only:
        if not counts[2]:
            return None
        counts = (0, 0, counts[2])
    return {"to_verify": _first_orders(received) if counts[0] else [],
            "to_hand_over": _first_orders(verified) if counts[1] else [],
            "behind": _first_orders(behind) if counts[2] else [], "counts": counts}


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
    for s in reports.unsent_due(day, customer_ids=customer_ids):
        out.append({"customer_id": s.customer.id, "label": _l("Daily stock report due"), "ref": day.isoformat(),
                    "title": str(_l("Daily stock report")), "due": s.due_at, "overdue": now >= s.due_at,
                    "endpoint": "operations.stock.report", "args": {"customer_id": s.customer.id, "day": day.isoformat()}})
    return out

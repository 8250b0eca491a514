"""Dashboard panels of the operations register: orders waiting for the department (to verify, to hand
over) and amendments operations have not acknowledged yet."""
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...panels import register_panel
from .models import Order


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

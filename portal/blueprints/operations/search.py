"""Orders and their abnormal events in the search index (kind `order`): number, vessel, instruction
reference, customer, product and tank; an event's text is part of its order's document."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...search.registry import register_child, register_kind
from .models import Order, OrderEvent, OrderVersion


def _order(o: Order) -> dict:
    parts = [o.kind_label, o.product.name_en, o.product.name_zh, o.customer.name_en, o.customer.name_zh,
             o.remarks, o.closed_reason, o.truck_plates]
    if o.counterparty is not None:
        parts += [o.counterparty.code, o.counterparty.name_en, o.counterparty.name_zh]
    for e in o.events:
        parts += [e.kind_label, e.description, e.impact]
    parts += [v.reason for v in o.versions]
    tanks = " ".join(t.code for t in (o.tank, o.to_tank) if t is not None)
    return {
        "title": f"{o.number} {o.kind_label} {o.customer.code} {o.product.code} {tanks}",
        "body": "\n".join(p for p in parts if p),
        "refs": " ".join(p for p in (o.number, o.vessel_name, o.instruction_ref, tanks, o.product.code) if p),
        "tags": f"order {o.kind} {o.state} {o.customs_status}" + (" event" if o.events else ""),
        "customer": o.customer.code,
        "date": o.planned_start or o.received_at,
    }


register_kind("order", Order, document=_order,
              url=lambda o: url_for("operations.order_detail", order_id=o.id), label=_l("Order"),
              acl=lambda o: ["all"])
register_child(OrderEvent, parents=lambda e: [e.order])
register_child(OrderVersion, parents=lambda v: [v.order])

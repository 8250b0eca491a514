"""Vessel calls in the search index (kind `vessel_call`): number, vessel name and IMO number, berth,
ports, agent, the customers and products of its parcels and the orders they link."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ....search.registry import register_child, register_kind
from .models import CallParcel, CallRevision, VesselCall


def _call(c: VesselCall) -> dict:
    customers = sorted({p.customer.code for p in c.parcels if p.customer is not None})
    parts = [c.vessel.name, c.vessel.flag, c.last_port, c.next_port, c.remarks, c.cancel_reason, c.status_label]
    if c.berth is not None:
        parts += [c.berth.name_en, c.berth.name_zh]
    if c.agent is not None:
        parts += [c.agent.name, c.agent.customer.name_en, c.agent.customer.name_zh]
    for p in c.parcels:
        parts += [p.customer.name_en, p.customer.name_zh, p.product.name_en, p.product.name_zh]
    parts += [r.note for r in c.revisions if r.note]
    orders = [p.order.number for p in c.parcels if p.order is not None]
    products = sorted({p.product.code for p in c.parcels})
    return {
        "title": f"{c.number} {c.vessel.name} {c.berth.code if c.berth else ''}".strip(),
        "body": "\n".join(p for p in parts if p),
        "refs": " ".join([c.number, c.vessel.imo, f"IMO{c.vessel.imo}", *orders, *products]),
        "tags": f"vessel_call {c.status}",
        "customer": customers[0] if len(customers) == 1 else "",
        "date": c.eta,
    }


register_kind("vessel_call", VesselCall, document=_call,
              url=lambda c: url_for("operations.vessels.call_detail", call_id=c.id), label=_l("Vessel call"),
              acl=lambda c: ["all"])
register_child(CallParcel, parents=lambda p: [p.call])
register_child(CallRevision, parents=lambda r: [r.call])

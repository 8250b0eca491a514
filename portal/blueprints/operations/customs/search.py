"""Customs entries in the search index (kind `customs_entry`): declaration number, order, customer,
product, tank, broker and remarks."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ....search.registry import register_child, register_kind
from .models import CustomsDocument, CustomsEntry


def _entry(e: CustomsEntry) -> dict:
    parts = [e.kind_label, e.status_label, e.product.name_en, e.product.name_zh, e.customer.name_en,
             e.customer.name_zh, e.broker_label, e.remarks]
    if e.to_customer is not None:
        parts += [e.to_customer.code, e.to_customer.name_en, e.to_customer.name_zh]
    parts += [d.title for d in e.documents]
    refs = [e.declaration_no, e.order.number if e.order else "", e.tank.code, e.product.code]
    return {
        "title": f"{e.declaration_no} {e.kind_label} {e.customer.code} {e.product.code} {e.tank.code}",
        "body": "\n".join(p for p in parts if p),
        "refs": " ".join(p for p in refs if p),
        "tags": f"customs {e.kind} {e.status}",
        "customer": e.customer.code,
        "date": e.lodged_on,
    }


register_kind("customs_entry", CustomsEntry, document=_entry,
              url=lambda e: url_for("operations.customs.entry", entry_id=e.id), label=_l("Customs entry"),
              acl=lambda e: ["all"])
register_child(CustomsDocument, parents=lambda d: [d.entry])

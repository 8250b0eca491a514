"""Customers in the search index."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...search.context import aliases_of, record_context
from ...search.registry import register_child, register_kind
from .models import Customer, CustomerContact


def _document(c: Customer) -> dict:
    contacts = " ".join(f"{x.name} {x.position} {x.email}" for x in c.contacts)
    return {
        "title": f"{c.code} {c.name_en} {c.name_zh}".strip(),
        "body": f"{c.notes}\n{contacts}",
        "refs": c.code,
        "customer": c.code,
        "date": c.created_at,
        "context": record_context(owner=c.csr, words=aliases_of(c)),
    }


register_kind(
    "customer",
    Customer,
    document=_document,
    url=lambda c: url_for("customers.detail", customer_id=c.id),
    label=_l("Customer"),
)
register_child(CustomerContact, parents=lambda contact: [contact.customer])

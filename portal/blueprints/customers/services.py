"""Customer domain logic: services flush, routes commit."""
from __future__ import annotations

from ...extensions import db
from ...models import User
from .models import Customer, CustomerContact

FIELDS = ("code", "name_en", "name_zh", "long_term", "daily_report_time", "report_recipients", "active", "notes")


def list_customers(q: str = "", *, active_only: bool = False):
    stmt = db.select(Customer).order_by(Customer.code)
    q = (q or "").strip()
    if q:
        # autoescape: % and _ typed by the user are searched for, not wildcards
        stmt = stmt.filter(db.or_(
            Customer.code.icontains(q, autoescape=True),
            Customer.name_en.icontains(q, autoescape=True),
            Customer.name_zh.contains(q, autoescape=True),
        ))
    if active_only:
        stmt = stmt.filter(Customer.active.is_(True))
    return stmt


def save_customer(form, customer: Customer | None, user: User) -> Customer:
    if customer is None:
        customer = Customer(created_by_id=user.id)
        db.session.add(customer)
    for field in FIELDS:
        setattr(customer, field, getattr(form, field).data)
    customer.name_zh = (customer.name_zh or "").strip()
    customer.csr_id = form.csr_id.data or None
    db.session.flush()
    return customer


def add_contact(customer: Customer, form) -> CustomerContact:
    contact = CustomerContact(customer=customer)
    form.populate_obj(contact)
    db.session.add(contact)
    db.session.flush()
    return contact


def csr_choices():
    users = db.session.scalars(db.select(User).filter(User.active.is_(True)).order_by(User.full_name))
    return [(u.id, u.display_name) for u in users if u.has_role("csr", "cs_manager")]


def customer_choices(*, include_blank: bool = True):
    """(id, "CODE name") pairs for select fields in every module."""
    rows = db.session.scalars(db.select(Customer).filter(Customer.active.is_(True)).order_by(Customer.code))
    choices = [(c.id, f"{c.code} · {c.name_en}") for c in rows]
    return ([(0, "—")] if include_blank else []) + choices

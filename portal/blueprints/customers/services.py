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


def customer_choices(*, blank: bool = False, active_only: bool = True) -> list[tuple[int, str]]:
    """(id, "CODE 中文名 / English name") pairs for the customer drop-downs of every module, by code.

    Without a leading blank choice by default (forms add their own "—"); `active_only=False` for
    filters over old records, whose customers may have left.
    """
    stmt = db.select(Customer).order_by(Customer.code)
    if active_only:
        stmt = stmt.filter(Customer.active.is_(True))
    choices = [(c.id, c.choice_label) for c in db.session.scalars(stmt)]
    return ([(0, "—")] if blank else []) + choices

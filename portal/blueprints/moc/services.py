"""Management of change: saving a request, authorising it, its items, marking it implemented.

Services flush, never commit.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import User
from ...services import ServiceError
from ...timeutil import utcnow
from .models import MocItem, MocRequest


def owner_choices() -> list[tuple[int, str]]:
    """(id, name) of active users for the owner of an item, blank first (admin services' ``staff_choices``
    once it is there)."""
    users = db.session.scalars(db.select(User).filter(User.active.is_(True)).order_by(User.full_name, User.username))
    return [(0, "—")] + [(u.id, u.display_name) for u in users]


def visible_mocs(user) -> list[MocRequest]:
    return list(db.session.scalars(db.select(MocRequest).filter(MocRequest.visible_to(user))
                                   .order_by(MocRequest.created_at.desc()).options(
        selectinload(MocRequest.customer), selectinload(MocRequest.complaint), selectinload(MocRequest.items))))


MOC_FIELDS = ("title", "description", "technical_basis", "safety_health_impact", "procedure_changes",
              "customer_impact", "period", "valid_until", "meeting_date", "attendees", "agenda", "minutes", "decisions")


def save_moc(moc: MocRequest | None, user, **fields) -> MocRequest:
    if moc is None:
        moc = MocRequest(created_by_id=user.id, state="draft")
        db.session.add(moc)
    elif moc.state in ("implemented", "rejected"):
        raise ServiceError(_l("This change is finished and can no longer be edited."))
    for key in MOC_FIELDS:
        if key in fields:
            setattr(moc, key, fields[key] if fields[key] is not None or key in ("valid_until", "meeting_date") else "")
    if "customer_id" in fields:
        moc.customer_id = fields["customer_id"] or None
    if "complaint_id" in fields:
        moc.complaint_id = fields["complaint_id"] or None
    if moc.period == "temporary" and moc.valid_until is None:
        raise ServiceError(_l("A temporary change needs an end date."))
    db.session.flush()
    return moc


def approve_moc(moc: MocRequest, user, *, approve: bool = True, now: datetime | None = None) -> None:
    if not user.has_role("cs_manager", "admin"):
        raise ServiceError(_l("Only a CS manager may authorise a change."))
    if moc.state != "draft":
        raise ServiceError(_l("Only a draft change can be authorised."))
    for field in ("technical_basis", "safety_health_impact"):
        if approve and not getattr(moc, field).strip():
            raise ServiceError(_l("Record the technical basis and the impact on safety and health before authorising."))
    moc.state = "approved" if approve else "rejected"
    moc.approved_by_id = user.id
    moc.approved_at = now or utcnow()
    db.session.flush()


def add_moc_item(moc: MocRequest, *, kind: str, description: str, owner_id: int | None, due_date: date | None) -> MocItem:
    item = MocItem(moc=moc, kind=kind, description=description, owner_id=owner_id or None, due_date=due_date)
    db.session.add(item)
    db.session.flush()
    return item


def set_moc_item(item: MocItem, done: bool, now: datetime | None = None) -> None:
    if item.moc.state in ("implemented", "rejected"):
        raise ServiceError(_l("This change is finished and can no longer be edited."))
    item.done = done
    item.done_at = (now or utcnow()) if done else None
    db.session.flush()


def implement_moc(moc: MocRequest, user, now: datetime | None = None) -> None:
    if moc.state != "approved":
        raise ServiceError(_l("Only an authorised change can be implemented."))
    training = [i for i in moc.open_items if i.kind == "training"]
    actions = [i for i in moc.open_items if i.kind == "action"]
    if training or actions:
        raise ServiceError(_l("The change cannot be marked implemented: %(t)s training item(s) and %(a)s action(s) are open.",
                              t=len(training), a=len(actions)))
    moc.state = "implemented"
    moc.implemented_at = now or utcnow()
    db.session.flush()

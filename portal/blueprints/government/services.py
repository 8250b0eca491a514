"""Government relations logic: services flush, routes commit."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import selectinload

from ...extensions import db
from ...timeutil import utcnow
from ..archive.models import ArchiveRecord
from .models import Authority, FollowUpAction, Permit, Visit


def expiring_permits(today: date, within_days: int = 90) -> list[Permit]:
    """Permits expired or expiring within ``within_days``, soonest first, with their authority and department."""
    stmt = expiring_permits_select(today, within_days).options(selectinload(Permit.authority),
                                                                selectinload(Permit.department))
    return db.session.scalars(stmt).all()


def expiring_permits_select(today: date, within_days: int = 90):
    """The select of ``expiring_permits`` without the related rows (the dashboard's panel shows its first rows)."""
    limit = today + timedelta(days=within_days)
    return (db.select(Permit).filter(Permit.expires_on.is_not(None), Permit.expires_on <= limit)
            .order_by(Permit.expires_on, Permit.id))


def open_actions(today: date | None = None) -> list[FollowUpAction]:
    return db.session.scalars(db.select(FollowUpAction).filter(FollowUpAction.done_at.is_(None))
                              .order_by(FollowUpAction.due_date.is_(None), FollowUpAction.due_date)
                              .options(selectinload(FollowUpAction.owner), selectinload(FollowUpAction.visit))).all()


def add_action(visit: Visit, *, description: str, owner_id: int | None, due_date: date | None) -> FollowUpAction:
    action = FollowUpAction(description=description.strip(), owner_id=owner_id or None, due_date=due_date)
    visit.actions.append(action)
    db.session.flush()
    return action


def complete_action(action: FollowUpAction) -> None:
    action.done_at = action.done_at or utcnow()
    db.session.flush()


def authority_choices(include_blank=True):
    rows = db.session.scalars(db.select(Authority).order_by(Authority.name_en))
    return ([(0, "—")] if include_blank else []) + [(a.id, f"{a.name_en} {a.name_zh}".strip()) for a in rows]




def scanned_records(permits, user) -> dict[int, object]:
    """The archive record holding each certificate's scan, by the reference typed on it (visible ones only)."""
    refs = {p.archive_ref.strip(): p.id for p in permits if p.archive_ref and p.archive_ref.strip()}
    if not refs:
        return {}
    rows = db.session.scalars(db.select(ArchiveRecord).filter(ArchiveRecord.reference.in_(list(refs))))
    return {refs[r.reference]: r for r in rows if r.can_view(user)}

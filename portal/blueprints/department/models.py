"""Running the department: portfolios (responsible and backup CSR, with history), handovers, absences
and their cover, the acting manager, and the notices addressed to people (through their cover).

Other modules use two functions of this module (models may be imported across domains):
``responsible_csr(customer, at=None)`` (whom new work of a customer defaults to) and
``backup_csr(customer)``. Everything else goes through the core (``portal/delegation.py``).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from ...delegation import register_cover_source, register_role_source
from ...extensions import db
from ...models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ...timeutil import tz, utcnow
from ..customers.models import Customer

REASONS = {
    "leave": _l("Annual leave"),
    "sick": _l("Sick leave"),
    "training": _l("Training"),
    "business_trip": _l("Business trip"),
    "other": _l("Other"),
}
PORTFOLIO_KINDS = {"responsible": _l("Responsible CSR"), "backup": _l("Backup CSR")}


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


def is_cs(user) -> bool:
    return _signed_in(user) and user.has_role("admin", "cs_manager", "csr")


def is_manager(user) -> bool:
    return _signed_in(user) and user.has_role("admin", "cs_manager")


def local_day(moment: datetime) -> date:
    return moment.astimezone(tz()).date()


class PortfolioAssignment(db.Model):
    """Who was responsible for (or backup of) a customer, from when to when (ends_at empty: still)."""

    __tablename__ = "dept_portfolio_assignment"
    __audit_label__ = _l("Portfolio assignment")
    __audit_fields__ = {"starts_at": _l("From"), "ends_at": _l("Until"), "handover_id": _l("Portfolio handover")}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    handover_id: Mapped[Optional[int]] = mapped_column(ForeignKey("dept_handover.id"), nullable=True)

    customer: Mapped[Customer] = relationship()
    user: Mapped[User] = relationship()
    handover: Mapped[Optional["Handover"]] = relationship()

    def audit_title(self) -> str:
        return f"{self.customer.code if self.customer else ''} {self.kind}".strip()

    @staticmethod
    def kind_label(code: str) -> str:
        return str(PORTFOLIO_KINDS.get(code, code))


class Handover(CreatedByMixin, db.Model):
    """A portfolio moved from one CSR to another, with the open work that moved with it."""

    __tablename__ = "dept_handover"
    __audit_label__ = _l("Portfolio handover")
    __audit_fields__ = {"from_user_id": _l("From"), "to_user_id": _l("To")}

    id: Mapped[int] = mapped_column(primary_key=True)
    from_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    to_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    from_user: Mapped[Optional[User]] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User] = relationship(foreign_keys=[to_user_id])
    items: Mapped[list["HandoverItem"]] = relationship(back_populates="handover", cascade="all, delete-orphan",
                                                        order_by="HandoverItem.id")

    def audit_title(self) -> str:
        return f"#{self.id} {self.from_user.username if self.from_user else '—'} → {self.to_user.username if self.to_user else ''}"

    def can_view(self, user) -> bool:
        return is_manager(user) or (_signed_in(user) and user.id in (self.from_user_id, self.to_user_id))


class HandoverItem(db.Model):
    """One customer or one open record moved by a handover (kind: customer, inquiry, complaint, capa_action)."""

    __tablename__ = "dept_handover_item"
    __audit_label__ = _l("Handover item")
    __audit_fields__ = {"handover_id": _l("Portfolio handover"), "ref": _l("Reference")}

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("dept_handover.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    ref: Mapped[str] = mapped_column(String(200), default="", nullable=False)

    handover: Mapped[Handover] = relationship(back_populates="items")


class Absence(TimestampMixin, CreatedByMixin, db.Model):
    """A CSR away from one date to another (both included, in the portal's time zone), and who covers."""

    __tablename__ = "dept_absence"
    __audit_label__ = _l("Absence")
    __audit_fields__ = {"starts_on": _l("First day"), "ends_on": _l("Last day"), "cover_id": _l("Cover for all customers"),
                        "handover_note": _l("Handover note (what is in flight)"), "cancelled_at": _l("Cancelled")}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(20), nullable=False)
    cover_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    handover_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    cover: Mapped[Optional[User]] = relationship(foreign_keys=[cover_id])
    covers: Mapped[list["AbsenceCover"]] = relationship(back_populates="absence", cascade="all, delete-orphan",
                                                        order_by="AbsenceCover.id")

    @staticmethod
    def reason_label(code: str) -> str:
        return str(REASONS.get(code, code))

    def audit_title(self) -> str:
        return f"{self.user.username if self.user else ''} {self.starts_on}–{self.ends_on}"

    def in_force(self, day: date) -> bool:
        return self.cancelled_at is None and self.starts_on <= day <= self.ends_on

    def cover_for(self, customer_id: int | None) -> int | None:
        """The cover of one customer (its own cover, else the one for all)."""
        if customer_id is not None:
            for c in self.covers:
                if c.customer_id == customer_id:
                    return c.cover_id
        return self.cover_id

    def cover_ids(self) -> set[int]:
        ids = {c.cover_id for c in self.covers}
        if self.cover_id:
            ids.add(self.cover_id)
        return ids

    def can_view(self, user) -> bool:
        return is_manager(user) or (_signed_in(user) and (user.id == self.user_id or user.id in self.cover_ids()))

    def can_edit(self, user) -> bool:
        return is_manager(user) or (_signed_in(user) and user.id in (self.user_id, self.created_by_id))


class AbsenceCover(db.Model):
    """The cover of one customer during an absence (instead of the absence's cover for all)."""

    __tablename__ = "dept_absence_cover"
    __table_args__ = (UniqueConstraint("absence_id", "customer_id"),)
    __audit_label__ = _l("Cover of a customer")
    __audit_fields__ = {"absence_id": _l("Absence period"), "cover_id": _l("Cover person")}

    id: Mapped[int] = mapped_column(primary_key=True)
    absence_id: Mapped[int] = mapped_column(ForeignKey("dept_absence.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    cover_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)

    absence: Mapped[Absence] = relationship(back_populates="covers")
    customer: Mapped[Customer] = relationship()
    cover: Mapped[User] = relationship()


class ActingManager(TimestampMixin, CreatedByMixin, db.Model):
    """The CS manager's deputy for a period: holds the manager's approvals from starts_at to ends_at."""

    __tablename__ = "dept_acting_manager"
    __audit_label__ = _l("Acting manager")
    __audit_fields__ = {"manager_id": _l("CS manager"), "deputy_id": _l("Acting manager"), "starts_at": _l("From"),
                        "ends_at": _l("Until")}

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id])

    def audit_title(self) -> str:
        return f"{self.deputy.username if self.deputy else ''} → {self.manager.username if self.manager else ''}"

    def in_force(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def can_view(self, user) -> bool:
        return _signed_in(user)


class Notice(db.Model):
    """A notice to a person, shown on their dashboard; addressed through the cover while they are away.

    ``intended_for_id`` keeps whom it was meant for when a cover received it. ``mailed_at`` is left for the
    e-mail outbox: a job that mails unsent notices sets it.
    """

    __tablename__ = "dept_notice"
    __audit__ = False  # notices are messages, not records

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)
    intended_for_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    record_key: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    dedupe_key: Mapped[Optional[str]] = mapped_column(String(200), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    read_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    mailed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    intended_for: Mapped[Optional[User]] = relationship(foreign_keys=[intended_for_id])

    def can_view(self, user) -> bool:
        return _signed_in(user) and user.id == self.user_id

    can_edit = can_view


# --- what other modules call ----------------------------------------------------------------------

def responsible_csr(customer, at: datetime | None = None) -> User | None:
    """The customer's responsible CSR (now, or at a past moment from the history): the default owner of new
    inquiries, complaints, orders and daily reports of the customer."""
    if customer is None:
        return None
    if isinstance(customer, int):
        customer = db.session.get(Customer, customer)
        if customer is None:
            return None
    if at is None:
        return customer.csr
    row = db.session.scalar(
        db.select(PortfolioAssignment).filter(
            PortfolioAssignment.customer_id == customer.id, PortfolioAssignment.kind == "responsible",
            PortfolioAssignment.starts_at <= at,
            db.or_(PortfolioAssignment.ends_at.is_(None), PortfolioAssignment.ends_at > at),
        ).order_by(PortfolioAssignment.starts_at.desc(), PortfolioAssignment.id.desc()).limit(1))
    return row.user if row is not None else None


# Other modules add their open work to "My customers" (orders to verify, daily reports due today, survey
# follow-ups): fn(customer_ids, viewer, now) -> iterable of dicts with customer_id, label (translated kind),
# ref, title, due, overdue, endpoint, args. Register from the module's panels.py (models import only).
CUSTOMER_LINE_SOURCES: list = []


def register_customer_lines(fn):
    if fn not in CUSTOMER_LINE_SOURCES:
        CUSTOMER_LINE_SOURCES.append(fn)
    return fn


def backup_csrs(customers) -> dict[int, User]:
    """{customer id: backup CSR} of these customers at once (the latest open backup assignment of each)."""
    ids = [c.id for c in customers]
    if not ids:
        return {}
    rows = db.session.scalars(db.select(PortfolioAssignment).options(selectinload(PortfolioAssignment.user)).filter(
        PortfolioAssignment.customer_id.in_(ids), PortfolioAssignment.kind == "backup",
        PortfolioAssignment.ends_at.is_(None)).order_by(PortfolioAssignment.id))
    return {row.customer_id: row.user for row in rows}


def backup_csr(customer) -> User | None:
    row = db.session.scalar(db.select(PortfolioAssignment).filter_by(
        customer_id=customer.id, kind="backup", ends_at=None).order_by(PortfolioAssignment.id.desc()).limit(1))
    return row.user if row is not None else None


# --- the history of the responsible CSR, whoever changes Customer.csr_id ----------------------------

@event.listens_for(Session, "before_flush")
def _portfolio_history(session, flush_context, instances):
    for customer in [c for c in list(session.new) + list(session.dirty) if isinstance(c, Customer)]:
        state = inspect(customer)
        id_hist, rel_hist = state.attrs.csr_id.history, state.attrs.csr.history
        is_new = customer in session.new
        if id_hist.has_changes() and (id_hist.added or not rel_hist.has_changes()):
            target = ("id", id_hist.added[0] if id_hist.added else None)
            old = id_hist.deleted[0] if id_hist.deleted else None
        elif rel_hist.has_changes():
            added = rel_hist.added[0] if rel_hist.added else None
            target = ("user", added)
            old = getattr(rel_hist.deleted[0], "id", None) if rel_hist.deleted else None
        elif is_new and customer.csr_id:
            target, old = ("id", customer.csr_id), None
        else:
            continue
        new_id = target[1] if target[0] == "id" else getattr(target[1], "id", None)
        if target[1] is not None and new_id is not None and new_id == old:
            continue
        now = utcnow()
        handover = getattr(customer, "_dept_handover", None)
        if not is_new:
            with session.no_autoflush:
                for row in session.scalars(db.select(PortfolioAssignment).filter_by(
                        customer_id=customer.id, kind="responsible", ends_at=None)):
                    row.ends_at = now
        if target[1] is None:
            continue
        row = PortfolioAssignment(customer=customer, kind="responsible", starts_at=now, handover=handover)
        if target[0] == "id":
            row.user_id = target[1]
        else:
            row.user = target[1]
        session.add(row)


# --- the sources the core asks (portal/delegation.py) ----------------------------------------------

@register_role_source
def _acting_managers(now: datetime) -> dict:
    rows = db.session.scalars(db.select(ActingManager).filter(ActingManager.starts_at <= now, ActingManager.ends_at > now))
    out: dict[int, dict[str, str]] = {}
    for row in rows:
        if row.manager is not None and row.manager.active and "cs_manager" in row.manager.role_names:
            out.setdefault(row.deputy_id, {})["cs_manager"] = row.manager.username
    return out


def absence_loading():
    """Load options for showing absences: who is away, the cover for all, each customer's cover."""
    return (selectinload(Absence.user), selectinload(Absence.cover),
            selectinload(Absence.covers).selectinload(AbsenceCover.customer),
            selectinload(Absence.covers).selectinload(AbsenceCover.cover))


def absences_in_force(day: date, user_id: int | None = None, *, loaded: bool = False) -> list[Absence]:
    stmt = db.select(Absence).filter(Absence.cancelled_at.is_(None), Absence.starts_on <= day, Absence.ends_on >= day)
    if loaded:
        stmt = stmt.options(*absence_loading())
    if user_id is not None:
        stmt = stmt.filter(Absence.user_id == user_id)
    return list(db.session.scalars(stmt.order_by(Absence.starts_on, Absence.id)))


@register_cover_source
def _cover(user_id: int, customer_id: int | None, now: datetime) -> int | None:
    for absence in absences_in_force(local_day(now), user_id):
        cover = absence.cover_for(customer_id)
        if cover is None and customer_id is None and absence.covers:
            cover = absence.covers[0].cover_id
        if cover:
            return cover
    return None

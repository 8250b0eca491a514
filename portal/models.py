"""Declarative base, shared column types and mixins, users and roles, departments."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Optional

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, TypeDecorator
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .timeutil import utcnow

if TYPE_CHECKING:  # pragma: no cover
    pass

ROLES = ("admin", "cs_manager", "csr", "records_officer", "staff")
MANAGER_ROLES = frozenset({"admin", "cs_manager"})


def password_method() -> str:
    """scrypt with Werkzeug's cost by default; PASSWORD_HASH_METHOD (e.g. "scrypt:1024:8:1") can lower it for tests."""
    from flask import current_app, has_app_context

    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class CreatedByMixin:
    @declared_attr
    def created_by_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("user.id"), nullable=True)

    @declared_attr
    def created_by(cls) -> Mapped[Optional["User"]]:
        return relationship("User", foreign_keys=[cls.created_by_id])


class RestrictedMixin:
    """A record marked restricted is seen only by managers and the people named on it."""

    restricted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    def named_user_ids(self) -> set[int]:
        """Users named on the record (owner, assignee, ...). Override per model."""
        ids = set()
        for attr in ("created_by_id", "owner_id", "assigned_to_id"):
            value = getattr(self, attr, None)
            if value:
                ids.add(value)
        return ids

    def can_view(self, user) -> bool:
        if not getattr(self, "restricted", False):
            return True
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        return user.is_manager or user.id in self.named_user_ids()

    def acl_terms(self) -> list[str]:
        """Search acl terms: who may see this record."""
        if not self.restricted:
            return ["all"]
        return ["role:admin", "role:cs_manager"] + [f"user:{uid}" for uid in sorted(self.named_user_ids())]


user_roles = Table(
    "user_role",
    db.metadata,
    Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Integer, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)


class Role(db.Model):
    __tablename__ = "role"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)

    @classmethod
    def get_or_create(cls, name: str) -> "Role":
        if name not in ROLES:
            raise ValueError(f"unknown role {name!r}")
        role = db.session.scalar(db.select(cls).filter_by(name=name))
        if role is None:
            role = cls(name=name)
            db.session.add(role)
        return role


class Department(TimestampMixin, db.Model):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(120), default="", nullable=False)

    def display_name(self, locale: str | None = None) -> str:
        """The name in `locale`, by default the current user's language (English when no Chinese name)."""
        if locale is None:
            from flask_babel import get_locale

            locale = str(get_locale() or "")
        if locale and locale.startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name_en or self.name_zh

    @property
    def label(self) -> str:
        """"OPS 操作部" / "OPS Operations Department": for lists and drop-downs."""
        return f"{self.code} {self.display_name()}"

    def __str__(self) -> str:
        return self.label


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user"
    __audit_exclude__ = {"password_hash", "failed_logins", "locked_until", "last_login_at", "session_generation"}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    email: Mapped[str] = mapped_column(String(254), default="", nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    language: Mapped[Optional[str]] = mapped_column(String(10), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"), nullable=True)
    # Part of the id kept in every session (see get_id): raising it ends all sessions of the user.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    # Kinds of e-mail notice the user switched off (comma-separated names of portal.outbox.NOTICE_KINDS).
    notices_off: Mapped[str] = mapped_column(String(500), default="", server_default="", nullable=False)

    department: Mapped[Optional[Department]] = relationship()
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin", order_by=Role.name)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the id stored in the session
        return f"{self.id}:{self.session_generation or 0}"

    def end_sessions(self) -> None:
        """End every session of this user (a session started before carries the old generation)."""
        self.session_generation = (self.session_generation or 0) + 1

    @classmethod
    def from_session_id(cls, value: str) -> "User | None":
        """The active user a session id (from get_id) names, or None when it is stale or malformed."""
        ident, sep, generation = str(value or "").partition(":")
        if not sep or not ident.isdigit() or not generation.isdigit() or len(ident) > 18:
            return None
        user = db.session.get(cls, int(ident))
        if user is None or not user.active or (user.session_generation or 0) != int(generation):
            return None
        return user

    @property
    def role_names(self) -> set[str]:
        return {r.name for r in self.roles}

    def has_role(self, *names: str) -> bool:
        return bool(self.role_names & set(names))

    @property
    def is_manager(self) -> bool:
        return bool(self.role_names & MANAGER_ROLES)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def set_roles(self, names) -> None:
        self.roles = [Role.get_or_create(n) for n in sorted(set(names))]

    def acl_terms(self) -> list[str]:
        """The search acl terms this user matches."""
        return ["all", f"user:{self.id}"] + [f"role:{r}" for r in sorted(self.role_names)]

    def __repr__(self) -> str:  # pragma: no cover
        return f"<User {self.username}>"

"""Kinds the platform itself provides: people (public names only)."""
from __future__ import annotations

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..models import Department, User
from ..web import safe_url
from .registry import register_child, register_kind


def _user_document(u: User) -> dict:
    dept = u.department
    dept_text = f"{dept.name_en} {dept.name_zh}".strip() if dept else ""
    return {
        "title": f"{u.display_name} ({u.username})" if u.full_name else u.username,
        "body": dept_text,
        "refs": u.username,
        "tags": ["person"],
        "date": None,
    }


def _user_url(u: User) -> str:
    """The only page about a person is the administrators' edit page: linked for administrators only."""
    if has_request_context() and getattr(current_user, "is_authenticated", False) and current_user.has_role("admin"):
        return safe_url("admin.edit_user", user_id=u.id) or ""
    return ""


register_kind(
    "user",
    User,
    document=_user_document,
    url=_user_url,
    label=_l("Person"),
    acl=lambda u: ["all"],  # public names only; User.acl_terms() describes what the user may see
    query=lambda: select(User).where(User.active.is_(True)),
)
register_child(Department, parents=lambda d: list(d_users(d)))


def d_users(department: Department):
    from ..extensions import db

    if department.id is None:
        return []
    return db.session.scalars(select(User).where(User.department_id == department.id)).all()

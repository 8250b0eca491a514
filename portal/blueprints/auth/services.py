"""Sign-in with lockout (five failures lock an account for fifteen minutes) and sessions that end.
The password policy is in portal/passwords.py (the core: admin and the CLI apply it too)."""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ...extensions import db
from ...models import User, password_method
from ...timeutil import utcnow


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-password", method=method)


def authenticate(username: str, password: str) -> User | None:
    """Return the user when the password is right and the account is usable; count failures.

    Unknown users, wrong passwords, locked and deactivated accounts are indistinguishable to the caller.
    """
    user = db.session.scalar(db.select(User).filter(db.func.lower(User.username) == username.strip().lower()))
    if user is None:
        # Spend the same time as a real check so timing does not tell which names exist.
        check_password_hash(_dummy_hash(password_method()), password)
        return None
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return None
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
        return None
    if not user.active:
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def end_other_sessions(user: User) -> None:
    """End every session of the user; the caller signs the current one in again if it is theirs."""
    user.end_sessions()

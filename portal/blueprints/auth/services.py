"""Sign-in with lockout (five failures lock an account for fifteen minutes), where to go after
signing in, sessions that end, and the password policy."""
from __future__ import annotations

import string
from datetime import timedelta
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

from flask import current_app, request
from flask_babel import lazy_gettext as _l
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


_URL_SAFE = "/%:@!$&'()*+,;=-._~"


def safe_next_path(target: str | None) -> str | None:
    """The local path (with its query) to go to after signing in, rebuilt from its parts; None for
    anything that could leave the site.

    Browsers read a backslash as a slash and drop tabs and newlines, so `/\\evil`, `\\\\evil` and
    `http://host\\@evil/` leave the site: such values are refused outright, not normalised. An
    absolute URL is accepted only for this very host, and only its path and query are kept.
    """
    if not target or len(target) > 2000 or "\\" in target or target != target.strip() or target.startswith("//"):
        return None
    if any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029\ufeff" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in {"http", "https"} or parts.netloc != urlsplit(request.host_url).netloc:
            return None
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return None
    # Percent-encoded again (existing escapes kept), so the Location header is plain ASCII.
    return urlunsplit(("", "", quote(path, safe=_URL_SAFE), quote(parts.query, safe=_URL_SAFE + "?"), ""))


def end_other_sessions(user: User) -> None:
    """End every session of the user; the caller signs the current one in again if it is theirs."""
    user.end_sessions()


# --- the password policy ---------------------------------------------------------------------------
# Applied wherever a password is set: the account page, the admin's user form and reset, and
# `flask users create`. Following NIST SP 800-63B (5.1.1.2): a minimum length, no common or breached
# passwords, no repetitive passwords, nothing derived from the user name; no composition games beyond
# refusing all-letter or all-digit passwords.

MIN_PASSWORD = 10
MIN_ADMIN_PASSWORD = 12
MIN_DISTINCT = 5
_EDGE = string.digits + string.punctuation + " "


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of leaked password sets, as shipped by the maintained `zxcvbn`
    package (zxcvbn.frequency_lists, "passwords": Dropbox's zxcvbn list built from the Xato corpus of
    ten million leaked passwords). Loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, username: str = "", admin: bool = False):
    """Why this password may not be used (a translated message), or None when it may."""
    value = password or ""
    minimum = MIN_ADMIN_PASSWORD if admin else MIN_PASSWORD
    if len(value) < minimum:
        if admin:
            return _l("Administrators use at least %(n)s characters.", n=minimum)
        return _l("Use at least %(n)s characters.", n=minimum)
    if value.isdigit() or value.isalpha():
        return _l("Mix letters with digits or symbols.")
    lowered = value.lower()
    name = (username or "").strip().lower()
    if len(name) >= 3 and name in lowered:
        return _l("The password must not contain the user name.")
    if len(set(lowered)) < MIN_DISTINCT:
        return _l("Too repetitive: use at least %(n)s different characters.", n=MIN_DISTINCT)
    core = lowered.strip(_EDGE)
    if lowered in common_passwords() or core in common_passwords() or not core:
        return _l("This password is too common (it appears in lists of leaked passwords). Choose another.")
    return None

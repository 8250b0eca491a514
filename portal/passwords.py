"""The password policy, applied wherever a password is set: the account page, the admin's user form
and password reset, and `flask users create`.

Following NIST SP 800-63B (5.1.1.2): a minimum length (longer for administrators), no common or
breached passwords, nothing repetitive, nothing derived from the user name; no composition rules
beyond refusing all-letter or all-digit passwords.
"""
from __future__ import annotations

import string
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

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
    core = lowered.strip(_EDGE)  # "Password12!" is "password" dressed up
    if lowered in common_passwords() or core in common_passwords() or not core:
        return _l("This password is too common (it appears in lists of leaked passwords). Choose another.")
    return None


def check_password(value: str, *, username: str = "", admin: bool = False) -> None:
    """For form validators: raise a ValidationError when the policy refuses the value."""
    problem = password_problem(value, username=username, admin=admin)
    if problem is not None:
        raise ValidationError(problem)

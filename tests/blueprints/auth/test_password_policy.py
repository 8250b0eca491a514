"""The password policy (issue 12, item 7) in every place a password is set: the account page, the
admin's user form and password reset, and `flask users create`."""
from __future__ import annotations

import pytest

from portal.passwords import common_passwords, password_problem
from portal.extensions import db
from portal.models import User

PASSWORD = "test-password-123"
COMMON = "This password is too common"

# (password, the start of the reason it is refused) for a non-admin user named "wang"
REFUSED = [
    ("password12", COMMON),          # reported: in the list of leaked passwords
    ("aaaaaaaaaa1", "Too repetitive"),  # reported: ten times one letter and a digit
    ("Password12!", COMMON),         # a common password dressed up with capitals and symbols
    ("qwertyuiop1", COMMON),
    ("1q2w3e4r5t", COMMON),
    ("wang-2026-tanks", "The password must not contain the user name."),
    ("MyWANGpassword9", "The password must not contain the user name."),
    ("abab1212abab", "Too repetitive"),
    ("short1", "Use at least 10 characters."),
]


def test_the_list_comes_from_the_package_and_is_large():
    passwords = common_passwords()
    assert len(passwords) >= 30000
    assert "password12" in passwords and "123456" in passwords
    assert PASSWORD not in passwords, "the test suite's password must stay valid"


@pytest.mark.parametrize("password, reason", REFUSED)
def test_refused_passwords(app, password, reason):
    assert str(password_problem(password, username="wang")).startswith(reason)


def test_administrators_need_twelve_characters(app):
    assert password_problem("tank-farm-7x", username="wang", admin=True) is None  # 12 characters
    assert str(password_problem("tank-farm7x", username="wang", admin=True)).startswith("Administrators use at least 12")
    assert password_problem("tank-farm7x", username="wang") is None


@pytest.mark.parametrize("password", [PASSWORD, "fresh-tanker-ullage-7", "沿海储罐-2026-客服", "a-long-password-1"])
def test_accepted_passwords(app, password):
    assert password_problem(password, username="wang", admin=True) is None


def test_short_user_names_do_not_forbid_their_letters(app):
    assert password_problem("fresh-tanker-ullage-7", username="ul") is None


@pytest.mark.parametrize("password, reason", [("password12", COMMON), ("aaaaaaaaaa1", "Too repetitive")])
def test_the_account_page_refuses(client, login, password, reason):
    user = login("csr")
    old_hash = user.password_hash
    response = client.post("/auth/account", data={"pw-current": PASSWORD, "pw-new": password, "pw-confirm": password})
    assert response.status_code == 200
    assert reason in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash


def test_the_account_page_refuses_the_own_user_name(client, login, make_user):
    user = make_user("tankman", "csr")
    login(user)
    response = client.post("/auth/account", data={"pw-current": PASSWORD, "pw-new": "TankMan-2026-x", "pw-confirm": "TankMan-2026-x"})
    assert "The password must not contain the user name." in response.get_data(as_text=True)


def test_an_admin_changing_their_own_password_needs_twelve_characters(client, login):
    login("admin")
    response = client.post("/auth/account", data={"pw-current": PASSWORD, "pw-new": "ullage-7x-a", "pw-confirm": "ullage-7x-a"})
    assert "Administrators use at least 12 characters." in response.get_data(as_text=True)


def _new_user(**overrides):
    data = {"username": "wang", "full_name": "Wang", "email": "", "department_id": "0", "roles": ["csr"],
            "language": "", "active": "y", "password": "first-pass-123"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("password, roles, reason", [
    ("password12", ["csr"], COMMON),
    ("aaaaaaaaaa1", ["csr"], "Too repetitive"),
    ("wang-first-pass", ["csr"], "must not contain the user name"),
    ("ullage-7x-ab", ["admin"], None),
    ("ullage-7x-a", ["admin"], "Administrators use at least 12 characters."),
])
def test_the_admin_user_form_applies_the_policy(client, login, password, roles, reason):
    login("admin")
    response = client.post("/admin/users/new", data=_new_user(password=password, roles=roles))
    created = db.session.scalar(db.select(User).filter_by(username="wang"))
    if reason is None:
        assert response.status_code == 302 and created is not None
    else:
        assert response.status_code == 200 and created is None
        assert reason in response.get_data(as_text=True)


@pytest.mark.parametrize("password, reason", [("password12", COMMON), ("aaaaaaaaaa1", "Too repetitive")])
def test_the_admin_reset_applies_the_policy(client, login, make_user, password, reason):
    wang = make_user("wang", "csr")
    old_hash = wang.password_hash
    login("admin")
    response = client.post(f"/admin/users/{wang.id}/password", data={"reset-password": password})
    assert response.status_code == 200
    assert reason in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, wang.id).password_hash == old_hash


def test_an_admin_reset_of_an_administrator_needs_twelve_characters(client, login, make_user):
    other = make_user("chief", "admin")
    login("admin")
    response = client.post(f"/admin/users/{other.id}/password", data={"reset-password": "ullage-7x-a"})
    assert "Administrators use at least 12 characters." in response.get_data(as_text=True)


@pytest.mark.parametrize("password, roles, reason", [
    ("password12", ["csr"], COMMON),
    ("aaaaaaaaaa1", ["csr"], "Too repetitive"),
    ("wang-first-pass", ["csr"], "must not contain the user name"),
    ("ullage-7x-a", ["admin"], "Administrators use at least 12 characters."),
])
def test_flask_users_create_applies_the_policy(runner, password, roles, reason):
    args = ["users", "create", "wang", "--password-stdin"]
    for role in roles:
        args += ["--role", role]
    result = runner.invoke(args=args, input=password + "\n")
    assert result.exit_code != 0
    assert reason in result.output
    assert db.session.scalar(db.select(User).filter_by(username="wang")) is None

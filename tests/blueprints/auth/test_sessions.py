"""Sessions end: a cookie captured before sign-out, a password change or reset, a deactivation or a
change of roles no longer opens any page (issue 12, item 5). Each test copies the real session cookie
of one browser into another, as an attacker holding a stolen cookie would."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import User

PASSWORD = "test-password-123"
NEW_PASSWORD = "fresh-tanker-ullage-7"


def _copy_cookie(source, target) -> None:
    cookie = source.get_cookie("session")
    assert cookie is not None, "the source client is not signed in"
    target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def _signed_in(client) -> bool:
    return client.get("/customers/").status_code == 200


@pytest.fixture
def second(app):
    """A second browser of the same person (or a copy of their cookie jar)."""
    return app.test_client()


@pytest.fixture
def admin_client(app, make_user, login):
    admin_browser = app.test_client()
    login(make_user("boss", "admin"), client=admin_browser)
    return admin_browser


def test_a_copied_cookie_works_while_the_session_lives(client, second, login):
    login("csr")
    _copy_cookie(client, second)
    assert _signed_in(second)


def test_a_cookie_captured_before_sign_out_opens_nothing(client, second, login):
    login("csr")
    _copy_cookie(client, second)
    client.post("/auth/logout")
    assert not _signed_in(second)
    assert second.get("/").status_code == 302
    assert not _signed_in(client)


def test_signing_out_ends_the_other_sessions_too(app, client, second, login):
    user = login("csr")
    login(user, client=second)
    assert _signed_in(second)
    client.post("/auth/logout")
    assert not _signed_in(second)


def test_own_password_change_ends_the_other_sessions_and_keeps_this_one(client, second, login):
    user = login("csr")
    other = second.application.test_client()
    login(user, client=other)
    _copy_cookie(client, second)  # a cookie captured before the change
    response = client.post("/auth/account", data={"pw-current": PASSWORD, "pw-new": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _signed_in(client), "the session that changed the password stays signed in"
    assert not _signed_in(second)
    assert not _signed_in(other)


def test_an_admin_reset_ends_every_session_of_the_user(client, admin_client, login):
    user = login("csr")
    response = admin_client.post(f"/admin/users/{user.id}/password", data={"reset-password": NEW_PASSWORD})
    assert response.status_code == 302
    assert not _signed_in(client)
    assert _signed_in(admin_client)


def _user_form(user: User, **overrides) -> dict:
    data = {"username": user.username, "full_name": user.full_name, "email": "", "department_id": "0",
            "roles": sorted(user.role_names), "language": "", "active": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_deactivation_ends_every_session(client, admin_client, login):
    user = login("csr")
    assert admin_client.post(f"/admin/users/{user.id}", data=_user_form(user, active=None)).status_code == 302
    assert not _signed_in(client)


def test_a_role_change_ends_every_session(client, admin_client, login):
    user = login("csr")
    assert admin_client.post(f"/admin/users/{user.id}", data=_user_form(user, roles=["staff"])).status_code == 302
    assert not _signed_in(client)
    # Signing in again gives the new roles.
    login(user)
    assert client.get("/customers/new").status_code == 403


def test_an_edit_that_changes_neither_roles_nor_state_keeps_the_sessions(client, admin_client, login):
    user = login("csr")
    assert admin_client.post(f"/admin/users/{user.id}", data=_user_form(user, full_name="Wang Min")).status_code == 302
    assert _signed_in(client)


def test_reactivation_does_not_revive_an_old_cookie(client, second, admin_client, login):
    user = login("csr")
    _copy_cookie(client, second)
    admin_client.post(f"/admin/users/{user.id}", data=_user_form(user, active=None))
    db.session.expire_all()
    admin_client.post(f"/admin/users/{user.id}", data=_user_form(db.session.get(User, user.id)))
    assert db.session.get(User, user.id).active
    assert not _signed_in(second)


def test_an_admin_editing_their_own_roles_stays_signed_in(admin_client):
    me = db.session.scalar(db.select(User).filter_by(username="boss"))
    response = admin_client.post(f"/admin/users/{me.id}", data=_user_form(me, roles=["admin", "csr"]))
    assert response.status_code == 302
    assert _signed_in(admin_client)


@pytest.mark.parametrize("forged", ["1", "1:0:0", "x:0", "1:-1", "99999999999999999999999:0", ":", ""])
def test_a_forged_session_id_is_no_session(app, client, make_user, forged):
    make_user("alice", "csr")
    with client.session_transaction() as session:
        session["_user_id"] = forged
        session["_fresh"] = True
    assert not _signed_in(client)

"""CSRF protection is on in real use: a POST without the token is refused and changes nothing."""
from __future__ import annotations

import re

import pytest

from portal.blueprints.customers.models import Customer
from portal.extensions import db
from portal.models import User

PASSWORD = "test-password-123"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _sign_in(client, make_user):
    make_user("csr", "csr")
    token = _token(client, "/auth/login")
    response = client.post("/auth/login", data={"username": "csr", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def _count():
    return db.session.scalar(db.select(db.func.count(Customer.id)))


def test_sign_in_without_token_is_refused(client, make_user):
    make_user("csr", "csr")
    response = client.post("/auth/login", data={"username": "csr", "password": PASSWORD})
    assert response.status_code == 400
    assert "The form has expired or was not sent from this site" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_post_without_token_is_refused_and_changes_nothing(client, make_user):
    _sign_in(client, make_user)
    response = client.post("/customers/new", data={"code": "ACME", "name_en": "Acme"})
    assert response.status_code == 400
    assert _count() == 0


def test_a_post_with_a_wrong_token_is_refused(client, make_user):
    _sign_in(client, make_user)
    response = client.post("/customers/new", data={"code": "ACME", "name_en": "Acme", "csrf_token": "forged"})
    assert response.status_code == 400
    assert _count() == 0


def test_a_post_with_the_token_from_the_form_works(client, make_user):
    _sign_in(client, make_user)
    token = _token(client, "/customers/new")
    response = client.post("/customers/new", data={"code": "ACME", "name_en": "Acme", "csrf_token": token})
    assert response.status_code == 302
    assert _count() == 1


def test_htmx_posts_carry_the_token_in_a_header(client, make_user):
    _sign_in(client, make_user)
    page = client.get("/customers/new").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post("/customers/new", data={"code": "ACME", "name_en": "Acme"},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302
    assert _count() == 1


def test_sign_out_and_language_switch_need_the_token(client, make_user):
    _sign_in(client, make_user)
    assert client.post("/auth/logout").status_code == 400
    assert client.post("/language", data={"language": "zh_Hans"}).status_code == 400
    assert client.get("/").status_code == 200, "still signed in"


def test_both_forms_of_the_account_page_work_with_their_tokens(client, make_user):
    _sign_in(client, make_user)
    page = client.get("/auth/account").get_data(as_text=True)
    lang_token = re.search(r'name="lang-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    pw_token = re.search(r'name="pw-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/auth/account", data={"lang-language": "zh_Hans", "lang-csrf_token": lang_token})
    assert response.status_code == 302
    response = client.post("/auth/account", data={
        "pw-current": PASSWORD, "pw-new": "new-password-456", "pw-confirm": "new-password-456", "pw-csrf_token": pw_token,
    })
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).filter_by(username="csr"))
    db.session.refresh(user)
    assert user.language == "zh_Hans" and user.check_password("new-password-456")

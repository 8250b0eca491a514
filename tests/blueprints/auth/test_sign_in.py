"""Sign-in: lockout after five failures, no user enumeration, only local `next` URLs, own account page."""
from __future__ import annotations

import re
from urllib.parse import urlsplit
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.models import User

PASSWORD = "test-password-123"
FAILED = "Sign-in failed. Check the user name and password"


def _sign_in(client, username, password, **kw):
    return client.post("/auth/login", data={"username": username, "password": password}, **kw)


def _page_text(response, username):
    """The page as the user sees it, without the user name they typed (echoed back in the field) and
    without the CSRF tokens (signed with a timestamp, so they differ from one response to the next)."""
    text = response.get_data(as_text=True).replace(f'value="{username}"', 'value=""')
    text = re.sub(r'"X-CSRFToken": "[^"]*"', "", text)
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]*"', "", text)


def test_sign_in_with_the_right_password_opens_the_dashboard(client, make_user):
    make_user("alice", "csr")
    response = _sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Good day, Alice" in client.get("/").get_data(as_text=True)


def test_user_names_are_not_case_sensitive(client, make_user):
    make_user("alice", "csr")
    assert _sign_in(client, "ALICE", PASSWORD).status_code == 302


def test_unknown_user_and_wrong_password_look_the_same(client, make_user):
    make_user("alice", "csr")
    unknown = _sign_in(client, "nobody", PASSWORD)
    wrong = _sign_in(client, "alice", "wrong-password-1")
    assert unknown.status_code == wrong.status_code == 200
    assert FAILED in unknown.get_data(as_text=True)
    assert _page_text(unknown, "nobody") == _page_text(wrong, "alice")


def test_five_failures_lock_the_account_for_fifteen_minutes(client, make_user, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    make_user("alice", "csr")
    for _ in range(5):
        assert _sign_in(client, "alice", "wrong-password-1").status_code == 200
    locked = _sign_in(client, "alice", PASSWORD)
    assert locked.status_code == 200, "the right password must not open a locked account"
    unknown = _sign_in(client, "nobody", PASSWORD)
    assert _page_text(locked, "alice") == _page_text(unknown, "nobody")
    assert client.get("/").status_code == 302

    time_machine.move_to(datetime(2026, 3, 2, 9, 14, tzinfo=UTC), tick=False)
    assert _sign_in(client, "alice", PASSWORD).status_code == 200, "still locked after 14 minutes"

    time_machine.move_to(datetime(2026, 3, 2, 9, 15, 1, tzinfo=UTC), tick=False)
    response = _sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_four_failures_and_a_success_reset_the_counter(client, make_user):
    make_user("alice", "csr")
    for _ in range(4):
        _sign_in(client, "alice", "wrong-password-1")
    assert _sign_in(client, "alice", PASSWORD).status_code == 302
    client.post("/auth/logout")
    for _ in range(4):
        _sign_in(client, "alice", "wrong-password-1")
    assert _sign_in(client, "alice", PASSWORD).status_code == 302, "a success must reset the failure count"


def test_a_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user("alice", "csr")
    user.active = False
    db.session.commit()
    response = _sign_in(client, "alice", PASSWORD)
    assert response.status_code == 200
    assert FAILED in response.get_data(as_text=True)


def test_a_user_deactivated_while_signed_in_is_signed_out(client, make_user, login):
    user = login("csr")
    assert client.get("/customers/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/customers/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
     "https:evil.example", "javascript:alert(1)", "///evil.example",
     # the reported one: the check normalised a copy, the redirect used the raw value
     "http://localhost\\@evil.example/", "http://127.0.0.1:5000\\@evil.example/", "https://localhost\\@evil.example",
     "http://localhost@evil.example/", "http://evil.example\\@localhost/", "\\/evil.example", "/\\/evil.example",
     "//\\evil.example", "/\x0b/evil.example", "/\n/evil.example", "/\r//evil.example", "/\x7f/evil.example",
     "\x01//evil.example", " //evil.example", "//evil.example ", "/\u2028/evil.example", "\ufeff//evil.example",
     "https:/evil.example", "http:///evil.example", "JavaScript:alert(1)", "java\tscript:alert(1)",
     "data:text/html,<script>alert(1)</script>", "evil.example", "ftp://localhost/", "http://localhost:1/x"],
)
def test_off_site_next_is_ignored(client, make_user, target):
    make_user("alice", "csr")
    response = _sign_in(client, "alice", PASSWORD, query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    # The dashboard, or at most a path of this site: no scheme, no host, nothing a browser reads as one.
    assert location == "/" or (
        location.startswith("/") and not location.startswith("//") and "\\" not in location
        and all(32 < ord(c) < 127 for c in location) and "evil" not in urlsplit(location).netloc
    ), location


def test_the_reported_open_redirect_url_stays_on_the_site(client, make_user):
    """The raw query string of the report: %5C is a backslash, which browsers read as a slash."""
    make_user("alice", "csr")
    response = client.post("/auth/login?next=http://127.0.0.1:5000%5C@evil.example/",
                           data={"username": "alice", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_an_absolute_url_of_this_site_keeps_only_its_path_and_query(client, make_user):
    make_user("alice", "csr")
    response = _sign_in(client, "alice", PASSWORD, query_string={"next": "http://localhost/customers/?q=ACME#frag"})
    assert response.headers["Location"] == "/customers/?q=ACME"


def test_a_chinese_next_path_is_followed_percent_encoded(client, make_user):
    make_user("alice", "csr")
    response = _sign_in(client, "alice", PASSWORD, query_string={"next": "/customers/?q=中化"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/customers/?q=%E4%B8%AD%E5%8C%96"


@pytest.mark.parametrize("target", ["/customers/?q=ACME", "/auth/account"])
def test_local_next_is_followed(client, make_user, target):
    make_user("alice", "csr")
    response = _sign_in(client, "alice", PASSWORD, query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_the_redirect_to_sign_in_and_back(client, make_user):
    make_user("alice", "csr")
    to_login = client.get("/customers/?q=ACME")
    login_url = to_login.headers["Location"]
    response = client.post(login_url, data={"username": "alice", "password": PASSWORD})
    assert response.headers["Location"] == "/customers/?q=ACME"


def test_sign_in_cookie_is_http_only_and_same_site_lax(client, make_user):
    make_user("alice", "csr")
    response = _sign_in(client, "alice", PASSWORD)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


def test_sign_out(client, login):
    login("csr")
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_signed_in_users_visiting_sign_in_go_to_the_dashboard(client, login):
    login("csr")
    response = client.get("/auth/login")
    assert response.headers["Location"] == "/"


# --- the user's own account ------------------------------------------------------------------------

def test_users_change_their_own_password(client, login):
    user = login("csr")
    response = client.post("/auth/account", data={
        "pw-current": PASSWORD, "pw-new": "new-password-456", "pw-confirm": "new-password-456",
    })
    assert response.status_code == 302
    client.post("/auth/logout")
    assert _sign_in(client, user.username, PASSWORD).status_code == 200
    assert _sign_in(client, user.username, "new-password-456").status_code == 302


@pytest.mark.parametrize(
    "data, message",
    [
        ({"pw-current": "not-my-password", "pw-new": "new-password-456", "pw-confirm": "new-password-456"},
         "The current password is not right."),
        ({"pw-current": PASSWORD, "pw-new": "short1", "pw-confirm": "short1"}, "Use at least 10 characters."),
        ({"pw-current": PASSWORD, "pw-new": "onlyletterspassword", "pw-confirm": "onlyletterspassword"},
         "Mix letters with digits or symbols."),
        ({"pw-current": PASSWORD, "pw-new": "new-password-456", "pw-confirm": "new-password-789"},
         "The passwords differ."),
    ],
)
def test_a_bad_password_change_shows_the_reason_and_changes_nothing(client, login, data, message):
    user = login("csr")
    old_hash = user.password_hash
    response = client.post("/auth/account", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash


def test_users_change_their_own_language(client, login):
    user = login("csr")
    response = client.post("/auth/account", data={"lang-language": "zh_Hans"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "zh_Hans"
    assert '<html lang="zh-Hans">' in client.get("/").get_data(as_text=True)
    # The account page shows the saved choice.
    page = client.get("/auth/account").get_data(as_text=True)
    assert '<option selected value="zh_Hans">' in page


def test_an_invalid_language_is_refused(client, login):
    user = login("csr")
    response = client.post("/auth/account", data={"lang-language": "klingon"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).language is None


def test_the_language_switch_in_the_top_bar_is_kept_for_the_user(client, login):
    user = login("csr")
    response = client.post("/language", data={"language": "zh_Hans"}, headers={"Referer": "http://localhost/customers/"})
    assert response.status_code == 302
    assert response.headers["Location"] in {"http://localhost/customers/", "/customers/"}
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "zh_Hans"
    client.post("/auth/logout")
    login(user)
    assert '<html lang="zh-Hans">' in client.get("/").get_data(as_text=True)


def test_the_language_switch_works_on_the_sign_in_page(client):
    response = client.post("/language", data={"language": "zh_Hans"}, headers={"Referer": "http://localhost/auth/login"})
    assert response.status_code == 302
    assert '<html lang="zh-Hans">' in client.get("/auth/login").get_data(as_text=True)


def test_the_language_switch_does_not_redirect_off_site(client):
    response = client.post("/language", data={"language": "en"}, headers={"Referer": "https://evil.example/"})
    assert "evil" not in response.headers["Location"]


def test_a_locked_account_unlocks_with_an_admin_reset(client, make_user, login):
    user = make_user("alice", "csr")
    for _ in range(5):
        _sign_in(client, "alice", "wrong-password-1")
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None
    login("admin")
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Locked until" in page
    client.post(f"/admin/users/{user.id}/password", data={"reset-password": "fresh-password-1"})
    client.post("/auth/logout")
    assert _sign_in(client, "alice", "fresh-password-1").status_code == 302


def test_lock_time_is_stored_in_utc(client, make_user):
    make_user("alice", "csr")
    before = datetime.now(UTC)
    for _ in range(5):
        _sign_in(client, "alice", "wrong-password-1")
    db.session.expire_all()
    locked_until = db.session.scalar(db.select(User.locked_until).filter_by(username="alice"))
    assert timedelta(minutes=14) < locked_until - before <= timedelta(minutes=16)


def test_the_language_chosen_on_the_sign_in_page_survives_signing_in(client, make_user):
    make_user("alice", "csr")
    client.post("/language", data={"language": "zh_Hans"})
    _sign_in(client, "alice", PASSWORD)
    assert '<html lang="zh-Hans">' in client.get("/").get_data(as_text=True)
    client.post("/auth/logout")
    assert '<html lang="zh-Hans">' in client.get("/auth/login").get_data(as_text=True)

"""Error pages in both languages; user input never becomes a 500; database errors roll back."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from portal.blueprints.customers import services
from portal.blueprints.customers.models import Customer
from portal.extensions import db


def test_404_page(client, login):
    login("staff")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Not found" in page and "Back to the dashboard" in page
    assert '<html lang="en">' in page


def test_404_page_in_chinese(client, login, make_user):
    login(make_user("li", "staff", language="zh_Hans"))
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    assert "未找到" in page and "返回仪表板" in page


def test_403_page_in_both_languages(client, login, make_user):
    login("staff")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
    client.post("/auth/logout")
    login(make_user("li", "staff", language="zh_Hans"))
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "无权访问" in response.get_data(as_text=True)


def test_404_for_anonymous_users_is_a_sign_in_redirect(client):
    assert client.get("/no/such/page").status_code in (302, 404)


def test_405_is_friendly(client, login):
    login("staff")
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "This action is not available here." in response.get_data(as_text=True)


def test_413_is_friendly(client, login):
    login("csr")
    response = client.post("/customers/new", data={"notes": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "The upload is larger than the limit of 2 MB." in response.get_data(as_text=True)


def test_a_database_error_rolls_back_and_shows_the_friendly_page(client, login, monkeypatch):
    def broken(form, customer, user):
        db.session.add(Customer(code="HALF", name_en="Half saved"))
        db.session.flush()
        raise IntegrityError("INSERT INTO customer", {}, Exception("duplicate key"))

    monkeypatch.setattr(services, "save_customer", broken)
    login("csr")
    response = client.post("/customers/new", data={"code": "ACME", "name_en": "Acme"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "Nothing was saved" in page
    assert "IntegrityError" not in page and "duplicate key" not in page
    assert db.session.scalar(db.select(db.func.count(Customer.id))) == 0
    # The session is usable again for the next request.
    assert client.get("/customers/").status_code == 200


def test_an_unexpected_error_shows_the_friendly_page(client, login, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(services, "list_customers", boom)
    login("staff")
    response = client.get("/customers/")
    assert response.status_code == 500
    assert "secret detail" not in response.get_data(as_text=True)


def test_an_htmx_request_to_a_broken_page_gets_the_error_too(client, login, monkeypatch):
    monkeypatch.setattr(services, "list_customers", lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("x")))
    login("staff")
    response = client.get("/customers/", headers={"HX-Request": "true"})
    assert response.status_code == 500


def test_form_errors_are_200_not_500(client, login):
    login("csr")
    response = client.post("/customers/new", data={"code": "!!", "daily_report_time": "later", "csr_id": "x"})
    assert response.status_code == 200


def test_healthz_answers_ok_with_no_data(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers


def test_healthz_reports_an_unavailable_database(client, monkeypatch):
    def down(*a, **kw):
        raise RuntimeError("no database")

    monkeypatch.setattr(db.session, "execute", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "unavailable"

"""Customers: list with search-as-you-type, create, edit, contacts, validation with field errors."""
from __future__ import annotations

from datetime import time

import pytest

from portal.blueprints.customers import services
from portal.blueprints.customers.models import Customer, CustomerContact
from portal.extensions import db


def _customer(code="ACME", name_en="Acme Trading Co., Ltd.", name_zh="艾克美贸易有限公司", **kw):
    customer = Customer(code=code, name_en=name_en, name_zh=name_zh, **kw)
    db.session.add(customer)
    db.session.commit()
    return customer


def _form(**overrides):
    data = {"code": "ACME", "name_en": "Acme Trading Co., Ltd.", "name_zh": "艾克美贸易有限公司", "csr_id": "0",
            "daily_report_time": "09:30", "report_recipients": "stock@acme.example\nops@acme.example",
            "long_term": "y", "active": "y", "notes": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_list_shows_customers_in_code_order(client, login):
    _customer("ZETA", "Zeta Oil", "泽塔石油")
    _customer("ACME")
    login("staff")
    page = client.get("/customers/").get_data(as_text=True)
    assert page.index("ACME") < page.index("ZETA")
    assert "泽塔石油" in page


@pytest.mark.parametrize("q", ["acm", "ACME", "Trading", "艾克美"])
def test_the_filter_finds_by_code_or_either_name(client, login, q):
    _customer("ACME")
    _customer("ZETA", "Zeta Oil", "泽塔石油")
    login("staff")
    fragment = client.get("/customers/", query_string={"q": q}, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "ACME" in fragment and "ZETA" not in fragment


def test_a_filter_without_match_says_so(client, login):
    _customer("ACME")
    login("staff")
    fragment = client.get("/customers/", query_string={"q": "nothing"}, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "No customer matches “nothing”." in fragment


def test_the_search_box_asks_for_rows_as_you_type(client, login):
    login("staff")
    page = client.get("/customers/").get_data(as_text=True)
    assert 'hx-get="/customers/"' in page and 'hx-target="#customer-rows"' in page
    assert "input changed delay" in page


def test_an_empty_list_invites_csrs_to_create_the_first_customer(client, login):
    login("csr")
    assert "Create the first customer" in client.get("/customers/").get_data(as_text=True)


def test_staff_see_no_create_button(client, login):
    login("staff")
    page = client.get("/customers/").get_data(as_text=True)
    assert "/customers/new" not in page


def test_the_list_is_paginated(client, login):
    for i in range(30):
        db.session.add(Customer(code=f"C{i:02d}", name_en=f"Customer {i}"))
    db.session.commit()
    login("staff")
    page = client.get("/customers/", query_string={"per_page": 25}).get_data(as_text=True)
    assert "C24" in page and "C25" not in page and "30 in all" in page
    page = client.get("/customers/", query_string={"per_page": 25, "page": 2}).get_data(as_text=True)
    assert "C25" in page and "C24" not in page


def test_a_csr_creates_a_customer(client, login):
    user = login("csr")
    response = client.post("/customers/new", data=_form(csr_id=str(user.id)))
    assert response.status_code == 302
    customer = db.session.scalar(db.select(Customer).filter_by(code="ACME"))
    assert response.headers["Location"] == f"/customers/{customer.id}"
    assert customer.name_zh == "艾克美贸易有限公司"
    assert customer.daily_report_time == time(9, 30)
    assert customer.recipients == ["stock@acme.example", "ops@acme.example"]
    assert customer.long_term and customer.active
    assert customer.csr_id == user.id and customer.created_by_id == user.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Customer ACME created." in page and "stock@acme.example" in page


def test_the_code_is_upper_cased(client, login):
    login("csr")
    client.post("/customers/new", data=_form(code="acme"))
    assert db.session.scalar(db.select(Customer).filter_by(code="ACME")) is not None


def test_a_duplicate_code_is_a_field_error(client, login):
    _customer("ACME")
    login("csr")
    response = client.post("/customers/new", data=_form(code="acme", name_en="Another"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The code ACME is already used by Acme Trading Co., Ltd." in page
    assert "Please correct the marked fields." in page
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(db.select(db.func.count(Customer.id))) == 1


@pytest.mark.parametrize("recipients", ["not-an-address", "stock@acme.example\nbroken@", "a@b"])
def test_a_bad_e_mail_is_a_field_error(client, login, recipients):
    login("csr")
    response = client.post("/customers/new", data=_form(report_recipients=recipients))
    assert response.status_code == 200
    assert "is not a valid e-mail address." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Customer.id))) == 0


@pytest.mark.parametrize("field, value, message", [
    ("code", "", "This field is required."),
    ("code", "A", "Use 2-20 capital letters, digits, - or _."),
    ("code", "ACME CORP", "Use 2-20 capital letters, digits, - or _."),
    ("name_en", "   ", "This field is required."),
    ("daily_report_time", "25:99", "Not a valid time value."),
    ("name_en", "x" * 201, "Field cannot be longer than 200 characters."),
])
def test_other_field_errors(client, login, field, value, message):
    login("csr")
    response = client.post("/customers/new", data=_form(**{field: value}))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_edit_a_customer(client, login):
    customer = _customer()
    login("cs_manager")
    form_page = client.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert 'value="Acme Trading Co., Ltd."' in form_page
    response = client.post(f"/customers/{customer.id}/edit", data=_form(name_en="Acme Chemicals", long_term=None))
    assert response.status_code == 302
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    assert customer.name_en == "Acme Chemicals" and customer.long_term is False


def test_editing_keeps_its_own_code(client, login):
    customer = _customer()
    _customer("ZETA", "Zeta Oil", "")
    login("csr")
    assert client.post(f"/customers/{customer.id}/edit", data=_form()).status_code == 302
    response = client.post(f"/customers/{customer.id}/edit", data=_form(code="ZETA"))
    assert response.status_code == 200
    assert "The code ZETA is already used by Zeta Oil." in response.get_data(as_text=True)


def test_unknown_customers_are_404(client, login):
    login("csr")
    assert client.get("/customers/999").status_code == 404
    assert client.get("/customers/999/edit").status_code == 404


def test_add_and_remove_a_contact(client, login):
    customer = _customer()
    login("csr")
    response = client.post(f"/customers/{customer.id}/contacts", data={
        "contact-name": "Ms Wu Lan", "contact-position": "Stock controller",
        "contact-email": "Wu.Lan@Acme.example", "contact-phone": "+86 574 1234",
    })
    assert response.status_code == 302
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Ms Wu Lan" in page and "Stock controller" in page and "Contact added." in page
    contact = db.session.scalar(db.select(CustomerContact).filter_by(name="Ms Wu Lan"))
    assert contact.email == "Wu.Lan@acme.example"  # the domain is normalised
    response = client.post(f"/customers/{customer.id}/contacts/{contact.id}/delete")
    assert response.status_code == 302
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Ms Wu Lan" not in page and "Contact removed." in page


def test_a_bad_contact_shows_field_errors_on_the_customer_page(client, login):
    customer = _customer()
    login("csr")
    response = client.post(f"/customers/{customer.id}/contacts", data={"contact-name": "", "contact-email": "nope"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This field is required." in page and "nope is not a valid e-mail address." in page
    assert db.session.scalar(db.select(db.func.count(CustomerContact.id))) == 0


def test_a_contact_of_another_customer_cannot_be_removed_through_this_one(client, login):
    acme = _customer()
    zeta = _customer("ZETA", "Zeta Oil", "")
    contact = CustomerContact(customer=zeta, name="Mr Zhou")
    db.session.add(contact)
    db.session.commit()
    login("csr")
    response = client.post(f"/customers/{acme.id}/contacts/{contact.id}/delete")
    assert response.status_code == 404
    assert db.session.get(CustomerContact, contact.id) is not None


def test_staff_see_the_customer_but_no_edit_controls(client, login):
    customer = _customer()
    db.session.add(CustomerContact(customer=customer, name="Ms Wu"))
    db.session.commit()
    login("staff")
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Ms Wu" in page
    assert f"/customers/{customer.id}/edit" not in page
    assert "Add a contact" not in page and "Remove" not in page


def test_the_csr_choice_lists_only_active_csrs_and_managers(client, login, make_user):
    make_user("wang", "csr", full_name="Wang Fang")
    make_user("zhao", "staff", full_name="Zhao Lei")
    make_user("gone", "csr", full_name="Gone Away", active=False)
    login("csr")
    page = client.get("/customers/new").get_data(as_text=True)
    assert "Wang Fang" in page and "Zhao Lei" not in page and "Gone Away" not in page


def test_services_list_customers(app):
    _customer("ACME")
    _customer("ZETA", "Zeta Oil", "泽塔石油", active=False)
    assert [c.code for c in db.session.scalars(services.list_customers("oil"))] == ["ZETA"]
    assert [c.code for c in db.session.scalars(services.list_customers(active_only=True))] == ["ACME"]
    assert services.customer_choices() == [(1, "ACME 艾克美贸易有限公司 / Acme Trading Co., Ltd.")]


def test_wildcards_typed_in_the_filter_are_taken_literally(client, login):
    _customer("ACME")
    _customer("P_CT", "100% Palm Oil Ltd", "")
    login("staff")
    fragment = client.get("/customers/", query_string={"q": "%"}, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "P_CT" in fragment and "ACME" not in fragment
    fragment = client.get("/customers/", query_string={"q": "_"}, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "P_CT" in fragment and "ACME" not in fragment

"""Hypothesis: random strings in every field of the customer, contact and user forms give a page with field
errors or a saved record, never a server error."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.blueprints.customers.models import Customer
from portal.extensions import db
from portal.web import MAX_PAGE, parse_int

# Any text, including very long values, control characters and CJK; plus a few values that are
# almost valid, so the examples also reach the paths past the validators.
anything = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
    st.sampled_from(["", " ", "ACME", "acme-1", "09:00", "24:00", "a@b.example", "x@", "0", "-1", "999999",
                     "中化能源", "y", "on", "csr", "first-pass-123", "1", "\x00", "'; DROP TABLE customer; --", "<script>alert(1)</script>"]),
)

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])

CUSTOMER_FIELDS = ("code", "name_en", "name_zh", "long_term", "daily_report_time", "report_recipients",
                   "csr_id", "active", "notes")
CONTACT_FIELDS = ("contact-name", "contact-position", "contact-email", "contact-phone")
USER_FIELDS = ("username", "full_name", "email", "department_id", "roles", "language", "active", "password")


def _form(fields):
    return st.fixed_dictionaries({name: anything for name in fields})


def _ok(response, data):
    """A saved record (302) or the form again with errors (200); 400 only for NUL characters."""
    if response.status_code == 400:
        return any("\x00" in str(v) for v in data.values())
    return response.status_code in (200, 302)


@FUZZ
@given(data=_form(CUSTOMER_FIELDS))
def test_random_input_on_customer_create(client, login, data):
    login("csr")
    response = client.post("/customers/new", data=data)
    assert _ok(response, data), (response.status_code, data)
    if response.status_code == 200:
        assert 'class="errors"' in response.get_data(as_text=True)


@FUZZ
@given(data=_form(CUSTOMER_FIELDS))
def test_random_input_on_customer_edit(client, login, data):
    customer = db.session.scalar(db.select(Customer).filter_by(code="FUZZ"))
    if customer is None:
        customer = Customer(code="FUZZ", name_en="Fuzz Trading")
        db.session.add(customer)
        db.session.commit()
    login("csr")
    response = client.post(f"/customers/{customer.id}/edit", data=data)
    assert _ok(response, data), (response.status_code, data)


@FUZZ
@given(data=_form(CONTACT_FIELDS))
def test_random_input_on_the_contact_form(client, login, data):
    customer = db.session.scalar(db.select(Customer).filter_by(code="FUZZ"))
    if customer is None:
        customer = Customer(code="FUZZ", name_en="Fuzz Trading")
        db.session.add(customer)
        db.session.commit()
    login("csr")
    response = client.post(f"/customers/{customer.id}/contacts", data=data)
    assert _ok(response, data), (response.status_code, data)


@FUZZ
@given(data=_form(USER_FIELDS))
def test_random_input_on_the_admin_user_form(client, login, data):
    login("admin")
    response = client.post("/admin/users/new", data=data)
    assert _ok(response, data), (response.status_code, data)


@FUZZ
@given(q=anything)
def test_random_filters_on_the_customer_list(client, login, q):
    login("staff")
    response = client.get("/customers/", query_string={"q": q, "page": q}, headers={"HX-Request": "true"})
    page_ok = not q.strip() or parse_int(q, min=1, max=MAX_PAGE) is not None  # else the page does not exist
    assert response.status_code == (400 if "\x00" in q else 200 if page_ok else 404)

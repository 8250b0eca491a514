"""post_change: a posted state-change form validated, the service call run, committed, flashed and redirected;
a refusal rolled back and shown on the form (or flashed), a form that does not validate never running the call."""
from __future__ import annotations

from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired

from portal.blueprints.customers.models import Customer
from portal.extensions import db
from portal.services import ServiceError
from portal.web import post_change


class CodeForm(FlaskForm):
    code = StringField(validators=[DataRequired()])


def _add(code: str) -> Customer:
    customer = Customer(code=code, name_en=f"{code} Trading", name_zh="")
    db.session.add(customer)
    db.session.flush()
    return customer


def _refuse(code: str, field: str | None = None):
    _add(code)
    raise ServiceError("Refused.", field=field)


def _codes() -> set[str]:
    return set(db.session.scalars(select(Customer.code)))


def test_a_valid_form_commits_flashes_and_redirects_to_the_result(app):
    with app.test_request_context("/", method="POST", data={"code": "ACME"}):
        form = CodeForm()
        response = post_change(form, lambda: _add(form.code.data),
                               done=lambda c: (f"{c.code} added.", "info"), to=lambda c: f"/customers/{c.id}",
                               page=lambda: "page")
        assert response.status_code == 302 and response.location.startswith("/customers/")
        assert get_flashed_messages(with_categories=True) == [("info", "ACME added.")]
    db.session.rollback()
    assert _codes() == {"ACME"}


def test_a_refusal_rolls_back_and_shows_the_page_with_the_error_on_the_field(app):
    with app.test_request_context("/", method="POST", data={"code": "ACME"}):
        form = CodeForm()
        answer = post_change(form, lambda: _refuse("ACME", field="code"), done="Added.", to="/",
                             page=lambda: "page again")
        assert answer == "page again"
        assert form.code.errors == ["Refused."]
        assert get_flashed_messages() == []
    assert _codes() == set()


def test_without_a_page_a_refusal_is_flashed_and_the_answer_still_redirects(app):
    with app.test_request_context("/", method="POST", data={"code": "ACME"}):
        response = post_change(CodeForm(), lambda: _refuse("ACME", field="code"), done="Added.", to="/back")
        assert response.status_code == 302 and response.location == "/back"
        assert get_flashed_messages(with_categories=True) == [("error", "Refused.")]
    assert _codes() == set()


def test_a_form_that_does_not_validate_never_runs_the_call(app):
    ran = []
    with app.test_request_context("/", method="POST", data={}):
        answer = post_change(CodeForm(), lambda: ran.append(1), done="Added.", to="/", page=lambda: "page again")
        assert answer == "page again"
        response = post_change(CodeForm(), lambda: ran.append(1), done="Added.", to="/back")
        assert response.status_code == 302 and response.location == "/back"
        [(category, message)] = get_flashed_messages(with_categories=True)
        assert category == "error" and "expired" in message
    with app.test_request_context("/", method="GET"):
        assert post_change(CodeForm(), lambda: ran.append(1), done="Added.", to="/", page=lambda: "the form") == "the form"
    assert ran == []


def test_a_button_without_a_form_runs_the_call(app):
    with app.test_request_context("/", method="POST"):
        response = post_change(None, lambda: _add("BETA"), done="Added.", to="/back")
        assert response.status_code == 302
        assert get_flashed_messages(with_categories=True) == [("success", "Added.")]
    db.session.rollback()
    assert _codes() == {"BETA"}

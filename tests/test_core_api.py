"""The shared core pieces every domain uses: service errors on forms, downloads, bounded numbers and
dates, children of a parent, the XLSX writer, the upload policy, the filing and disposal contracts."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
from flask import get_flashed_messages, render_template_string
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.exceptions import Forbidden, NotFound
from wtforms import StringField

from portal import services as core
from portal.blueprints.customers.models import Customer
from portal.blueprints.customers.models import CustomerContact as Contact
from portal.extensions import db
from portal.permissions import load_child_or_404
from portal.uploads import UploadRejected, check_upload
from portal.web import arg_date, arg_int, content_disposition, page_args, send_download, service_errors
from portal.xlsx import workbook_bytes

MARKUP = '"><img src=x onerror=alert(1)>'


class NameForm(FlaskForm):
    name = StringField("Name")


def test_a_service_error_lands_on_its_field_and_rolls_back(app, customer):
    with app.test_request_context(method="POST", data={"name": "x"}):
        form = NameForm(meta={"csrf": False})
        with service_errors(form) as outcome:
            customer.name_en = "Changed"
            db.session.flush()
            raise core.ServiceError(_l("%(v)s is taken.", v=MARKUP), field="name")
        assert not outcome.ok
        assert [str(e) for e in form.name.errors] == [f"{MARKUP} is taken."]
        assert db.session.get(Customer, customer.id).name_en != "Changed"
        html = render_template_string('{% from "macros/ui.html" import field %}{{ field(form.name) }}', form=form)
        assert "<img" not in html and "&lt;img src=x" in html


def test_a_service_error_without_a_field_is_flashed_as_text(app):
    with app.test_request_context():
        with service_errors(NameForm(meta={"csrf": False}), field="nonexistent") as outcome:
            raise core.ServiceError(_l("Refused: %(v)s", v=MARKUP))
        assert not outcome.ok
        assert get_flashed_messages(with_categories=True) == [("error", f"Refused: {MARKUP}")]
    with app.test_request_context():
        with service_errors() as outcome:
            pass
        assert outcome.ok


def test_flashed_lazy_messages_are_escaped_on_the_next_page(client, login):
    login("staff")
    with client.session_transaction() as session:
        # what the session makes of a flashed lazy string: Markup
        session["_flashes"] = [("error", Markup(MARKUP))]
    body = client.get("/").get_data(as_text=True)
    assert "<img src=x" not in body and "&lt;img src=x" in body


@pytest.mark.parametrize("name", ["投诉证据（现场照片）.pdf", "报告 📄.pdf", "report \"final\" 'v2'.pdf", "plain.pdf"])
def test_downloads_carry_any_name(app, name):
    with app.test_request_context():
        response = send_download(b"%PDF-1.4 x", name)
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")
    assert header.startswith("attachment; filename=\"")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"
    if name.isascii() and '"' not in name:
        assert header == f'attachment; filename="{name}"'
    else:
        assert unquote(header.split("filename*=UTF-8''", 1)[1]) == name


def test_inline_only_for_documents_that_cannot_run():
    assert content_disposition("a.pdf", inline=True).startswith("inline")


def test_query_numbers_and_dates_are_bounded(app):
    with app.test_request_context("/?page=3&n=-1&big=99999999999999999999&d=2026-02-28&bad=9999-12-31&x=１２"):
        assert page_args() == (3, 25)
        assert arg_int("missing", 7) == 7
        assert arg_date("d") == date(2026, 2, 28)
        for call in (lambda: arg_int("n"), lambda: arg_int("big"), lambda: arg_date("bad"), lambda: arg_int("x")):
            with pytest.raises(NotFound):
                call()
        assert arg_int("n", min=-5) == -1


def test_ids_beyond_the_database_keys_are_not_found(client, login):
    login("staff")
    assert client.get("/customers/99999999999999999999").status_code == 404
    assert client.get(f"/customers/{2**63}").status_code == 404
    assert client.get(f"/customers/{2**63 - 1}").status_code == 404
    assert client.get(f"/customers/{2**31}").status_code == 404


def test_a_child_of_another_parent_is_not_found(app, customer, people):
    other = Customer(code="OTHER", name_en="Other Co.", name_zh="")
    db.session.add(other)
    db.session.flush()
    contact = Contact(customer_id=other.id, name="Li Wei")
    db.session.add(contact)
    db.session.commit()
    with app.test_request_context():
        login_user(people["staff"])
        assert load_child_or_404(Contact, contact.id, parent=other) is contact
        with pytest.raises(NotFound):
            load_child_or_404(Contact, contact.id, parent=customer)
        with pytest.raises(NotFound):
            load_child_or_404(Contact, 2**70, parent=other)


def test_a_child_is_checked_with_its_permission(app, customer, people, monkeypatch):
    contact = Contact(customer_id=customer.id, name="Li Wei")
    db.session.add(contact)
    db.session.commit()
    monkeypatch.setattr(Customer, "can_edit", lambda self, user: False)
    with app.test_request_context():
        login_user(people["staff"])
        with pytest.raises(Forbidden):
            load_child_or_404(Contact, contact.id, parent=customer, action="edit")


def test_xlsx_stores_formula_text_as_text_and_converts_times(app):
    values = ['=HYPERLINK("http://evil.example/","x")', "=cmd|' /C calc'!A0", "+1", "-1", "@x", "\tx", "\rx"]
    data = workbook_bytes([("Sheet", ["Value"], [[v] for v in values]
                            + [[datetime(2026, 11, 30, 23, 0, tzinfo=UTC)], [Decimal("12.500")], ["bell\x07"]])])
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    assert ws["A1"].font.b
    for cell, value in zip(cells, values):
        assert (cell.data_type, cell.value) == ("s", value)
    assert cells[len(values)].value == datetime(2026, 12, 1, 7, 0)  # Asia/Shanghai
    assert cells[len(values) + 1].value == Decimal("12.5") and cells[len(values) + 1].number_format == "0.000"
    assert cells[len(values) + 2].value == "bell"


def test_the_upload_policy_judges_content_not_names(app):
    with app.test_request_context():
        assert check_upload("../../etc/报告.pdf", b"%PDF-1.4 x") == ("报告.pdf", "application/pdf")
        assert check_upload("notes.txt", "巡检记录".encode()) == ("notes.txt", "text/plain")
        for name, data, words in [
            ("tool.pdf", b"MZ\x90\x00", "program"),
            ("scan.pdf", b"hello", "does not match"),
            ("empty.txt", b"", "empty"),
            ("big.pdf", b"%PDF" + b"0" * (2 * 1024 * 1024), "larger than 2 MB"),
        ]:
            with pytest.raises(UploadRejected, match=words) as exc:
                check_upload(name, data)
            assert isinstance(exc.value, core.ServiceError)


def test_filing_goes_through_the_registered_filer(monkeypatch):
    monkeypatch.setattr(core, "_FILER", [])
    with pytest.raises(core.NoFilerRegistered):
        core.file_record("inquiry", "Title", [("a.txt", b"a")], None)
    calls = []
    core.register_filer(lambda **kw: calls.append(kw) or "record")
    assert core.file_record("inquiry", "Title", [("a.txt", b"a")], None, source_key="k") == "record"
    assert calls == [{"kind": "inquiry", "title": "Title", "files": [("a.txt", b"a")], "user": None,
                      "source_key": "k"}]


def test_disposal_blockers_are_registered_once(monkeypatch):
    monkeypatch.setattr(core, "_BLOCKERS", [])

    def open_complaint(record):
        return "open complaint" if record == "r1" else None

    core.register_disposal_blocker(open_complaint)
    core.register_disposal_blocker(open_complaint)
    assert [fn("r1") for fn in core.disposal_blockers()] == ["open complaint"]

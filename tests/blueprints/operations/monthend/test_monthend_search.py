"""Tank dips (kind `dip`) and variance investigations (kind `variance_investigation`) are found by search once
saved (the after-commit sync), by tank code, by Chinese words and by their kind's name in either language; the
hits link to their pages, and a visitor who may not see the pages finds nothing."""
from __future__ import annotations

from flask_login import AnonymousUserMixin

from portal.blueprints.operations.monthend import services
from portal.extensions import db
from portal.search import search

from monthend_helpers import MONTH, book, calibrate, dip


def hits(query: str, user, kind: str) -> dict[str, str]:
    from flask import current_app

    with current_app.test_request_context():  # the hits' links are built as on the search page
        return {hit.key: hit.url for hit in search(query, user=user, kinds=[kind]).hits}


def test_a_saved_dip_is_found_by_tank_code_customer_certificate_and_remarks(terminal, people):
    calibrate(terminal.t2)
    saved = dip(terminal.t2, "4000.0")
    saved.remarks = "取样口结冰，延迟检尺"
    db.session.commit()
    staff = people["staff"]
    key = f"dip:{saved.id}"
    url = f"/operations/measure/tanks/{terminal.t2.id}/dips/{saved.id}"
    assert hits("T-102", staff, "dip") == {key: url}
    assert key in hits("CERT-T-102", staff, "dip")  # the calibration certificate it used
    assert key in hits("结冰", staff, "dip")  # a Chinese word of the remarks
    assert key in hits("中化能源", staff, "dip")  # the tank's leaseholder on the day
    assert key in {h.key for h in search("油罐检尺", user=staff).hits}  # the kind's name in Chinese
    assert key in {h.key for h in search("tank dip", user=staff).hits}  # and in English
    assert hits("T-102", AnonymousUserMixin(), "dip") == {}


def test_an_investigation_is_found_by_tank_code_and_a_chinese_cause_word(terminal, people):
    calibrate(terminal.t1)
    book(terminal.sino, terminal.t1, terminal.gasoil, "3355600", "4000.000")
    dip(terminal.t1, "3980.0")  # −0.5 %: over tolerance
    db.session.commit()
    period = services.prepare(MONTH, terminal.csr)
    db.session.commit()
    [inv] = services.open_investigations(period)
    key, url = f"variance_investigation:{inv.id}", f"/operations/month-end/investigations/{inv.id}"
    staff = people["staff"]
    assert hits("T-101", staff, "variance_investigation") == {key: url}
    assert hits("流量计", staff, "variance_investigation") == {}
    services.propose(inv, cause="流量计系数未更新", resolution="Meter factor applied, book re-run", user=terminal.csr)
    db.session.commit()  # indexed again after the commit
    assert hits("流量计", staff, "variance_investigation") == {key: url}
    assert key in {h.key for h in search("差异调查", user=staff).hits}  # the kind's name in Chinese
    assert key in {h.key for h in search("已提出处理意见", user=staff).hits}  # its state in Chinese
    assert hits("流量计", AnonymousUserMixin(), "variance_investigation") == {}


def test_the_search_page_lists_them_only_to_users_signed_in(terminal, client, login):
    calibrate(terminal.t2)
    dip(terminal.t2, "4000.0")
    db.session.commit()
    response = client.get("/search/?q=T-102")
    assert response.status_code == 302 and "/dips/" not in response.get_data(as_text=True)
    login("staff")
    page = client.get("/search/?q=T-102").get_data(as_text=True)
    assert f"/operations/measure/tanks/{terminal.t2.id}/dips/" in page

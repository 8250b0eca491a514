"""The berth plan page (window, today, bars without style attributes) and its published versions: numbering,
the parties told (e-mail with the PDF, or recorded as told), the "seen an older version" list, the PDF."""
from __future__ import annotations

import re
from datetime import timedelta

from portal.blueprints.operations.vessels import services
from portal.blueprints.operations.vessels.models import BerthPlanNotice, BerthPlanVersion
from portal.extensions import db
from portal.outbox import OutboxMessage
from portal.timeutil import local_today, utcnow

from vessels_clock import T0

URL = "/operations/vessels"
WINDOW = "from=2026-03-01&to=2026-03-07"


def _plan_section(page: str) -> str:
    return page[page.index('id="berth-plan"'):page.index('id="plan-table"')]


def test_default_window_is_seven_days_from_today_with_now_marked(client, login, harbour):
    call = harbour.announce(eta=utcnow() - timedelta(hours=3))
    login("staff")
    page = client.get(f"{URL}/plan").get_data(as_text=True)
    assert 'data-days="7"' in page
    assert f'value="{local_today().isoformat()}"' in page
    section = _plan_section(page)
    assert 'data-today="1"' in section
    assert f'data-call="{call.number}"' in section
    assert not re.search(r"\sstyle=", section)  # the CSP forbids inline styles: SVG attributes only
    assert "<script" not in section


def test_a_chosen_window_shows_its_calls_only(client, login, harbour):
    inside = harbour.announce(eta=T0)
    later = harbour.announce(vessel=harbour.small, eta=T0 + timedelta(days=20))
    login("staff")
    page = client.get(f"{URL}/plan?{WINDOW}").get_data(as_text=True)
    assert 'data-days="7"' in page and 'data-today="1"' not in page
    assert f'data-call="{inside.number}"' in page and f'data-call="{later.number}"' not in page
    ninety = client.get(f"{URL}/plan?from=2026-03-01&to=2026-05-29").get_data(as_text=True)
    assert 'data-days="90"' in ninety and f'data-call="{later.number}"' in ninety


def test_bad_windows(client, login, harbour):
    login("staff")
    assert client.get(f"{URL}/plan?from=2026-02-30").status_code == 404
    assert client.get(f"{URL}/plan?to=yesterday").status_code == 404
    swapped = client.get(f"{URL}/plan?from=2026-03-07&to=2026-03-01").get_data(as_text=True)
    assert 'data-days="7"' in swapped and "The end was before the start" in swapped
    long = client.get(f"{URL}/plan?from=2020-01-01&to=2026-01-01").get_data(as_text=True)
    assert 'data-days="366"' in long


def _publish(client, parties, how="email", **extra):
    data = {"publish-parties": parties, "publish-how": how, "publish-note": "", "publish-port_email": ""}
    data.update({f"publish-{k}": v for k, v in extra.items()})
    return client.post(f"{URL}/plan/publish?{WINDOW}", data=data)


def test_publishing_numbers_versions_sends_the_pdf_and_lists_who_holds_an_older_one(client, login, harbour, make_user):
    t = harbour.t
    call = harbour.announce(eta=T0, parcels=[(t.sino, t.gasoil, "9000")])
    make_user("opsdesk", "staff", email="opsdesk@terminal.example")
    login("csr")
    form = client.get(f"{URL}/plan/publish?{WINDOW}").get_data(as_text=True)
    assert 'id="publish-form"' in form and f'value="customer:{t.sino.id}"' in form and "v1" in form
    first = _publish(client, [f"customer:{t.sino.id}", f"agent:{harbour.agent.id}", "operations", "port"],
                     port_email="vts@port.example")
    assert first.status_code == 302
    v1 = db.session.scalar(db.select(BerthPlanVersion))
    assert v1.number == 1
    assert [c["number"] for b in v1.content["berths"] for c in b["calls"]] == [call.number]
    mails = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == "berth_plan")).all()
    assert {m.to_address for m in mails} == {"ops@sinochem.example", "agent@penavico.example",
                                             "opsdesk@terminal.example", "vts@port.example"}
    assert all(m.attachments and m.attachments[0]["mimetype"] == "application/pdf" for m in mails)
    assert {n.party_key for n in v1.notices} == {f"customer:{t.sino.id}", f"agent:{harbour.agent.id}", "operations",
                                                 "port"}
    # nobody holds an older version yet
    assert services.parties_behind() == []
    # the ETA moves; version 2 goes to operations only, by phone
    services.change_times(call, user=harbour.csr, eta=T0 + timedelta(hours=1))
    db.session.commit()
    assert _publish(client, ["operations"], how="phone").status_code == 302
    v2 = db.session.scalar(db.select(BerthPlanVersion).where(BerthPlanVersion.number == 2))
    assert v2 is not None and v2.notices[0].how == "phone"
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == len(mails)  # phone: no e-mail
    behind = {row["key"]: row["number"] for row in services.parties_behind()}
    assert behind == {f"customer:{t.sino.id}": 1, f"agent:{harbour.agent.id}": 1, "port": 1}
    page = client.get(f"{URL}/plan/versions").get_data(as_text=True)
    assert f'data-party="customer:{t.sino.id}"' in page and 'data-party="operations"' not in page
    # telling the customer of version 2 takes it off the list
    told = client.post(f"{URL}/plan/versions/{v2.id}/tell", data={"tell-parties": [f"customer:{t.sino.id}"],
                                                                    "tell-how": "phone", "tell-port_email": ""})
    assert told.status_code == 302
    assert {row["key"] for row in services.parties_behind()} == {f"agent:{harbour.agent.id}", "port"}


def test_a_version_keeps_what_was_published_and_its_pdf_is_bilingual(client, login, harbour):
    t = harbour.t
    call = harbour.announce(eta=T0, parcels=[(t.sino, t.gasoil, "9000")])
    login("csr")
    assert _publish(client, ["port"], how="other").status_code == 302
    version = db.session.scalar(db.select(BerthPlanVersion))
    services.change_times(call, user=harbour.csr, eta=T0 + timedelta(hours=1))
    db.session.commit()
    page = client.get(f"{URL}/plan/versions/{version.id}").get_data(as_text=True)
    assert "2026-03-02 12:00" in page and "2026-03-02 13:00" not in page
    pdf = client.get(f"{URL}/plan/versions/{version.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    from portal.blueprints.operations.vessels.plan import to_local_text
    with client.application.test_request_context():
        html = client.application.jinja_env.get_template("operations/vessels/pdf_plan.html").render(
            version=version, content=version.content, local_text=to_local_text, conflict_labels={})
    assert "泊位计划 Berth plan" in html and call.number in html and "2026-03-02 12:00" in html


def test_email_to_a_party_without_an_address_is_refused_and_nothing_is_published(client, login, harbour):
    harbour.announce(eta=T0)
    login("csr")
    response = _publish(client, ["port"], how="email")
    assert response.status_code == 422
    assert "has no e-mail address" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(BerthPlanVersion.id))) == 0
    assert db.session.scalar(db.select(db.func.count(BerthPlanNotice.id))) == 0
    unknown = _publish(client, ["customer:999"], how="phone")
    assert unknown.status_code == 422
    nobody = _publish(client, [], how="phone")
    assert nobody.status_code == 422 and "Choose at least one party." in nobody.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(BerthPlanVersion.id))) == 0


def test_only_csrs_and_managers_publish(client, login, harbour):
    harbour.announce(eta=T0)
    login("staff")
    page = client.get(f"{URL}/plan?{WINDOW}").get_data(as_text=True)
    assert 'id="publish-link"' not in page
    assert client.get(f"{URL}/plan/publish?{WINDOW}").status_code == 403
    assert _publish(client, ["port"], how="phone").status_code == 403
    assert db.session.scalar(db.select(db.func.count(BerthPlanVersion.id))) == 0
    assert client.get(f"{URL}/plan/versions").status_code == 200
    assert client.get(f"{URL}/plan/versions/99999").status_code == 404

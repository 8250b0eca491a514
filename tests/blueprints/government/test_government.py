"""Government relations: authorities, visits with follow-up actions, certificates with expiry warnings."""
from __future__ import annotations

from datetime import date

import time_machine

from portal.blueprints.government import services
from portal.blueprints.government.models import Authority, Permit, Visit
from portal.extensions import db


def _permits(users):
    auth = Authority(name_en="Ningbo Customs", name_zh="宁波海关")
    db.session.add(auth)
    for number, expires in (("A-1", date(2027, 1, 20)), ("B-2", date(2027, 2, 20)), ("C-3", date(2027, 6, 1)),
                            ("D-4", date(2026, 11, 1))):
        db.session.add(Permit(number=number, title=f"Licence {number}", authority=auth, expires_on=expires))
    db.session.commit()


def test_expiry_warnings_by_date(app, users):
    _permits(users)
    today = date(2026, 12, 31)
    warnings = {p.number: p.warning(today) for p in db.session.scalars(db.select(Permit))}
    assert warnings == {"A-1": "30", "B-2": "90", "C-3": None, "D-4": "expired"}
    assert [p.number for p in services.expiring_permits(today)] == ["D-4", "A-1", "B-2"]
    assert [p.number for p in services.expiring_permits(date(2026, 6, 1))] == []


def test_dashboard_shows_expiring_certificates(client, login, users):
    _permits(users)
    with time_machine.travel("2026-12-31 02:00:00+00:00", tick=False):
        login(users["csr"])
        html = client.get("/").get_data(as_text=True)
        assert "Certificates expiring" in html and "Licence A-1" in html and "within 30 days" in html
        assert "Licence B-2" in html and "within 90 days" in html and "Licence C-3" not in html
        client.post("/auth/logout")
        login(users["staff"])
        assert "Certificates expiring" not in client.get("/").get_data(as_text=True)
        client.post("/auth/logout")
    with time_machine.travel("2026-06-01 02:00:00+00:00", tick=False):
        login(users["csr"])
        assert "Licence A-1" not in client.get("/").get_data(as_text=True)


def test_visit_log_with_follow_up_actions(client, login, users):
    auth = Authority(name_en="Ningbo MSA", name_zh="宁波海事局")
    db.session.add(auth)
    db.session.commit()
    login(users["csr"])
    response = client.post("/knowledge/gov/visits/new", data={"authority_id": str(auth.id), "visit_date": "2026-11-20",
                                                             "topics": "Dangerous-goods declarations 靠泊前申报"})
    assert response.status_code == 302
    visit = db.session.scalar(db.select(Visit))
    response = client.post(f"/knowledge/gov/visits/{visit.id}/actions",
                           data={"description": "Renew hose certificates", "owner_id": str(users["csr"].id),
                                 "due_date": "2026-12-01"})
    assert response.status_code == 302
    assert [a.description for a in services.open_actions()] == ["Renew hose certificates"]
    client.post(f"/knowledge/gov/actions/{visit.actions[0].id}/done")
    assert services.open_actions() == []
    assert "Renew hose certificates" in client.get(f"/knowledge/gov/visits/{visit.id}").get_data(as_text=True)
    # empty topics re-render with an error
    response = client.post("/knowledge/gov/visits/new", data={"authority_id": str(auth.id), "visit_date": "2026-11-20"})
    assert response.status_code == 200 and "Please correct the marked fields." in response.get_data(as_text=True)


def test_certificate_form_validates_dates_and_roles(client, login, users):
    login(users["csr"])
    response = client.post("/knowledge/gov/certificates/new",
                           data={"number": "X-1", "title": "Port licence", "authority_id": "0", "department_id": "0",
                                 "issued_on": "2026-01-01", "expires_on": "2025-01-01"})
    assert response.status_code == 200 and "Expiry cannot be before the issue date." in response.get_data(as_text=True)
    response = client.post("/knowledge/gov/certificates/new",
                           data={"number": "X-1", "title": "Port licence", "authority_id": "0", "department_id": "0",
                                 "issued_on": "2026-01-01", "expires_on": "2029-01-01"})
    assert response.status_code == 302
    permit = db.session.scalar(db.select(Permit))
    client.post("/auth/logout")
    login(users["staff"])
    assert client.get(f"/knowledge/gov/certificates/{permit.id}").status_code == 200
    assert client.post(f"/knowledge/gov/certificates/{permit.id}", data={"number": "Y"}).status_code == 403
    assert client.get("/knowledge/gov/certificates/new").status_code == 403


def test_certificate_links_to_its_scan_in_the_archive(client, login, users):
    from portal.blueprints.archive.services import file_document

    scan = file_document(kind="certificate", title="Port operation licence scan",
                         files=[("licence.txt", "港口经营许可证 扫描件".encode())], user=users["manager"])
    secret = file_document(kind="certificate", title="Restricted scan", files=[("secret.txt", b"secret scan")],
                           user=users["manager"], restricted=True)
    db.session.add(Permit(number="P-1", title="Port operation licence", archive_ref=scan.reference))
    db.session.add(Permit(number="P-2", title="Other licence", archive_ref=secret.reference))
    db.session.commit()

    login(users["staff"])
    page = client.get("/knowledge/gov").get_data(as_text=True)
    assert f'href="/archive/records/{scan.id}"' in page
    # A scan the reader may not see stays a plain reference, never a link.
    assert f'href="/archive/records/{secret.id}"' not in page
    assert secret.reference in page

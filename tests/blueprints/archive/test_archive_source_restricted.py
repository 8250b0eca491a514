"""A record filed from a complaint that is restricted afterwards: its own flag stays off, yet every archive list,
count, schedule, batch, hold, due list and search suggestion treats it as the record page does (only who may open
the complaint sees its title), in SQL, for many records at once."""
from __future__ import annotations

from datetime import date

import pytest

from portal.blueprints.archive import services
from portal.blueprints.archive.models import ArchiveRecord
from portal.extensions import db

TITLE = "8D report Zhang Wei overfill"


@pytest.fixture
def filed(app, people, new_complaint):
    complaint = new_complaint(title="Overfill at bay 3")
    record = services.file_document(kind="complaint_report", title=TITLE, files=[("8d.txt", b"8D overfill report")],
                                    user=people["csr"], source_key=f"complaint:{complaint.id}:8d-report",
                                    record_date=date(2014, 3, 1), event_date=date(2014, 4, 1))
    plain = services.file_document(kind="complaint_report", title="8D report tank 12 sample", user=people["csr"],
                                   files=[("8d-2.txt", b"another report")], record_date=date(2014, 3, 2),
                                   event_date=date(2014, 4, 1))
    db.session.commit()
    batch = services.propose_batch(user=people["officer"], record_ids=[record.id, plain.id], as_of=services.today())
    services.place_hold(user=people["manager"], reason="Insurance claim", record=record)
    complaint.restricted = True  # restricted after the report was filed
    db.session.commit()
    return record, plain, batch


def _client(app, login, user):
    client = app.test_client()
    login(user, client=client)
    return client


def test_who_may_not_open_the_complaint_sees_no_title_in_any_archive_list(app, login, people, filed):
    record, plain, batch = filed
    assert record.restricted is False
    series = f"/archive/series/{record.series_id}"
    officer = _client(app, login, people["officer"])  # keeps the archive, not named on the complaint
    staff = _client(app, login, people["staff"])
    for client, urls in ((staff, ["/archive/", "/archive/?q=Zhang", series, "/search/suggest?q=Zhang",
                                  "/search/?q=overfill"]),
                         (officer, ["/archive/", "/archive/?q=Zhang", series, "/archive/schedule", "/archive/holds",
                                    f"/archive/batches/{batch.id}", "/due/records-due", "/search/suggest?q=Zhang"])):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            assert TITLE not in body and record.reference not in body, url
        assert client.get(f"/archive/records/{record.id}").status_code == 403
    assert "tank 12 sample" in staff.get("/archive/").get_data(as_text=True)
    body = officer.get("/archive/schedule").get_data(as_text=True)
    assert "1 restricted record(s) you may not open" in body and "tank 12 sample" in body
    assert "(restricted record)" in officer.get(f"/archive/batches/{batch.id}").get_data(as_text=True)
    assert "(restricted record)" in officer.get("/archive/holds").get_data(as_text=True)
    assert "1 restricted record(s)" in staff.get("/archive/plan").get_data(as_text=True)


@pytest.mark.parametrize("who", ["manager", "csr"])
def test_who_may_open_the_complaint_sees_the_record_in_the_lists(app, login, people, filed, who):
    record, _plain, batch = filed
    client = _client(app, login, people[who])  # a manager, and the CSR named on the complaint
    assert client.get(f"/archive/records/{record.id}").status_code == 200
    urls = ["/archive/", "/archive/?q=Zhang", f"/archive/series/{record.series_id}", "/search/suggest?q=Zhang"]
    if who == "manager":
        urls += ["/archive/schedule", "/archive/holds", f"/archive/batches/{batch.id}"]
    for url in urls:
        assert TITLE in client.get(url).get_data(as_text=True), url


def test_the_lists_rule_is_the_record_pages_rule(app, people, filed):
    own = services.file_document(kind="document", title="Restricted letter", user=people["csr2"], restricted=True,
                                 files=[("letter.txt", b"letter")])
    db.session.commit()
    everything = db.session.scalars(db.select(ArchiveRecord)).all()
    assert own in everything
    for name in ("staff", "officer", "csr", "csr2", "manager"):
        user = people[name]
        listed = set(db.session.scalars(services.visible_records(db.select(ArchiveRecord.id), user)))
        may_open = services.opener(user)
        assert listed == {r.id for r in everything if r.can_view(user)}, name
        assert {r.id for r in everything if may_open(r)} == listed, name
        # the schedule's due records (read as rows) answer as the records themselves
        due = {item.record.id: item.record for item in services.schedule(services.today())}
        assert due and {rid: r.can_view(user) for rid, r in due.items()} == {
            r.id: r.can_view(user) for r in everything if r.id in due}, name
        assert {rid for rid, r in due.items() if may_open(r)} == listed & set(due), name

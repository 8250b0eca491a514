"""Restricted records on the schedule, in batches and in the file plan: counted, never named, to who may not open them."""
from datetime import date

import pytest

from portal.blueprints.archive import services
from portal.blueprints.archive.models import DisposalBatch
from portal.extensions import db

AS_OF = "2026-06-01"


@pytest.fixture
def records(app, make_user):
    csr = make_user("writer", "csr")
    hidden = services.file_document(kind="inquiry", title="Driver Zhang named in incident", user=csr, restricted=True,
                                    files=[("secret.txt", b"restricted inquiry")], record_date=date(2020, 1, 1))
    open_ = services.file_document(kind="inquiry", title="Plain inquiry", user=csr,
                                   files=[("open.txt", b"open inquiry")], record_date=date(2020, 2, 1))
    db.session.commit()
    return hidden, open_


def test_schedule_counts_restricted_records_without_naming_them(app, client, login, records):
    hidden, open_ = records
    login("records_officer")
    body = client.get(f"/archive/schedule?as_of={AS_OF}").get_data(as_text=True)
    assert open_.reference in body and "Plain inquiry" in body
    assert hidden.reference not in body and "Driver Zhang" not in body
    assert f'value="{hidden.id}"' not in body
    assert "1 restricted record(s) you may not open" in body


def test_officer_includes_restricted_records_without_seeing_them_and_the_manager_sees_them(
        app, client, login, make_user, records):
    hidden, open_ = records
    officer = login("records_officer")
    # an id of a record the officer may not open is not taken from the ticked boxes
    response = client.post("/archive/batches", data={"as_of": AS_OF, "record_id": [str(open_.id), str(hidden.id)]})
    batch = db.session.scalar(db.select(DisposalBatch))
    assert [i.record_id for i in batch.items] == [open_.id]
    response = client.post("/archive/batches", data={"as_of": "2026-06-02", "include_restricted": "y"})
    assert response.status_code == 302
    second = db.session.scalar(db.select(DisposalBatch).filter(DisposalBatch.id != batch.id))
    assert [i.record_id for i in second.items] == [hidden.id]
    assert second.proposed_by_id == officer.id
    page = client.get(f"/archive/batches/{second.id}").get_data(as_text=True)
    assert hidden.reference not in page and "Driver Zhang" not in page and "(restricted record)" in page

    manager_client = app.test_client()
    login("cs_manager", client=manager_client)
    page = manager_client.get(f"/archive/batches/{second.id}").get_data(as_text=True)
    assert hidden.reference in page and "Driver Zhang" in page


def test_file_plan_counts_only_what_the_user_may_open(app, client, login, records):
    login("records_officer")
    body = client.get("/archive/plan").get_data(as_text=True)
    assert "1 record(s)" in body and "1 restricted record(s)" in body
    assert "2 record(s)" not in body
    manager_client = app.test_client()
    login("cs_manager", client=manager_client)
    assert "2 record(s)" in manager_client.get("/archive/plan").get_data(as_text=True)


def test_holds_do_not_name_restricted_records(app, client, login, make_user, records):
    hidden, _open = records
    manager = make_user("boss", "cs_manager")
    services.place_hold(user=manager, reason="Litigation", record=hidden)
    db.session.commit()
    login("records_officer")
    body = client.get("/archive/holds").get_data(as_text=True)
    assert "Litigation" in body and hidden.reference not in body and "(restricted record)" in body
    response = client.post("/archive/holds", data={"scope": "record", "record_ref": hidden.reference,
                                                   "reason": "probe"})
    body = response.get_data(as_text=True)
    assert "No record with this reference." in body  # its existence is not confirmed


def test_the_dashboard_counts_the_records_due_as_the_due_list_lists_them(app, make_user, records):
    """The summary of "Records due for disposal": every record due and not skipped (restricted ones as lines), and
    the first due date among those the reader may open; a held record is left out of both."""
    from portal.panels import DueSummary, due_list

    hidden, open_ = records
    writer = make_user("writer")
    held = services.file_document(kind="inquiry", title="Held inquiry", user=writer, files=[("h.txt", b"held")],
                                  record_date=date(2019, 1, 1))
    services.place_hold(user=writer, reason="Claim", record=held)
    db.session.commit()
    listed = due_list("records-due")
    officer, manager = make_user("keeper", "records_officer"), make_user("boss", "cs_manager")
    for user in (officer, manager, writer):
        with app.test_request_context():
            rows, summary = listed.rows(user), listed.summarise(user)
            if user is writer:
                assert rows is None and summary is None
                continue
            dues = [row.due for row in rows if row.due is not None]
            assert summary == DueSummary(len(rows), min(dues)), user.username
            assert summary.count == 2 and not any("Held inquiry" in row.title for row in rows)
            named = [row.title for row in rows if row.url]
            assert named == ([f"{open_.reference} Plain inquiry"] if user is officer else
                             [f"{hidden.reference} Driver Zhang named in incident", f"{open_.reference} Plain inquiry"])
            due = {item.record.id: item.due for item in services.schedule_today()}
            assert summary.first_due == (due[open_.id] if user is officer else min(due[hidden.id], due[open_.id]))


def test_the_dashboard_counts_the_holds_as_their_list_lists_them(app, make_user, records):
    """A hold on a record the reader may not open is a line without a date: the first date is the next hold's."""
    from portal.panels import DueSummary, due_list

    hidden, open_ = records
    officer, admin = make_user("keeper", "records_officer"), make_user("root", "admin")
    first = services.place_hold(user=officer, reason="Named person", record=hidden)
    second = services.place_hold(user=officer, reason="Claim", record=open_)
    db.session.commit()
    listed = due_list("holds")
    with app.test_request_context():
        for user, due in ((officer, second.placed_at), (admin, first.placed_at)):
            rows = listed.rows(user)
            assert listed.summarise(user) == DueSummary(len(rows), min(r.due for r in rows if r.due)) == \
                DueSummary(2, due), user.username

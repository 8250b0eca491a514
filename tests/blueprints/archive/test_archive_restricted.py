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

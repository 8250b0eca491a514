"""Two-person disposal, dry run, holds, crash and resume, certificate; fixity."""
from datetime import date

import pytest

from portal.blueprints.archive import services
from portal.blueprints.archive.models import ArchiveRecord, DisposalBatch
from portal.extensions import db

AS_OF = date(2026, 6, 1)


@pytest.fixture
def due_records(app, officer):
    records = [
        services.file_document(kind="inquiry", title=f"Inquiry {i}", files=[(f"q{i}.txt", f"inquiry {i}".encode())],
                               user=officer, record_date=date(2020, 1 + i, 1))
        for i in range(3)
    ]
    db.session.commit()
    return records


def _approved(officer, manager, records):
    batch = services.propose_batch(user=officer, record_ids=[r.id for r in records], as_of=AS_OF)
    services.decide_batch(batch, user=manager, approve=True)
    db.session.commit()
    return batch


def test_the_proposer_cannot_approve_even_as_admin(app, make_user, due_records):
    boss = make_user("boss", "records_officer", "cs_manager", "admin")
    batch = services.propose_batch(user=boss, record_ids=[due_records[0].id], as_of=AS_OF)
    with pytest.raises(services.DisposalError, match="another manager"):
        services.decide_batch(batch, user=boss, approve=True)
    assert batch.status == "proposed"


def test_execution_needs_approval_and_staff_cannot_propose(app, officer, make_user, due_records):
    with pytest.raises(services.DisposalError):
        services.propose_batch(user=make_user("staffer", "staff"), record_ids=[due_records[0].id], as_of=AS_OF)
    batch = services.propose_batch(user=officer, record_ids=[due_records[0].id], as_of=AS_OF)
    with pytest.raises(services.DisposalError, match="approved"):
        services.execute_batch(batch, user=officer)
    services.decide_batch(batch, user=make_user("manager", "cs_manager"), approve=False, note="Keep for now")
    with pytest.raises(services.DisposalError):
        services.execute_batch(batch, user=officer)


def test_records_not_due_cannot_be_proposed(app, officer, make_user):
    r = services.file_document(kind="inquiry", title="Fresh", files=[("f.txt", b"fresh")], user=officer,
                               record_date=date(2026, 1, 1))
    with pytest.raises(services.DisposalError):
        services.propose_batch(user=officer, record_ids=[r.id], as_of=AS_OF)


def test_dry_run_changes_nothing(app, officer, manager, due_records):
    batch = _approved(officer, manager, due_records)
    steps = services.execute_batch(batch, user=officer, dry_run=True)
    db.session.commit()
    assert [s.skipped for s in steps] == [False, False, False]
    assert all("destroy" in s.outcome for s in steps)
    assert batch.status == "approved"
    assert all(r.status == "active" for r in due_records)
    assert all(services.store().exists(r.files[0].sha256) for r in due_records)


def test_execution_destroys_keeps_tombstone_and_files_a_permanent_certificate(app, officer, manager, due_records):
    batch = _approved(officer, manager, due_records)
    sha = due_records[0].files[0].sha256
    services.execute_batch(batch, user=officer, checkpoint=db.session.commit)
    db.session.commit()
    record = db.session.get(ArchiveRecord, due_records[0].id)
    assert record.status == "destroyed" and record.title == "Inquiry 0" and record.files[0].sha256 == sha
    assert record.disposal_batch_id == batch.id
    assert not services.store().exists(sha)
    assert batch.status == "executed"
    cert = batch.certificate
    assert cert.series.code == "CS-10-01" and services.due_date(cert) is None
    with services.store().open(cert.files[0].sha256) as fh:
        assert fh.read(5) == b"%PDF-"
    assert batch.number in cert.extracted_text and sha[:20] in cert.extracted_text.replace("\n", "")
    # running it again does nothing more
    services.execute_batch(batch, user=officer)
    assert db.session.scalar(db.select(db.func.count(ArchiveRecord.id)).filter_by(kind="disposal_certificate")) == 1


def test_a_hold_placed_after_approval_still_blocks_destruction(app, officer, manager, due_records):
    batch = _approved(officer, manager, due_records)
    services.place_hold(user=manager, reason="Customs inquiry", customer_id=None, record=due_records[1])
    db.session.commit()
    services.execute_batch(batch, user=make_admin(app), checkpoint=db.session.commit)
    assert due_records[1].status == "active"
    assert services.store().exists(due_records[1].files[0].sha256)
    assert [i.state for i in batch.items] == ["done", "skipped", "done"]


def make_admin(app):
    from portal.models import User

    user = User(username="root", full_name="Root")
    user.set_password("x" * 12)
    user.set_roles(["admin"])
    db.session.add(user)
    db.session.commit()
    return user


def test_a_crash_after_the_first_file_then_a_rerun_completes_the_batch(app, officer, manager, due_records,
                                                                      monkeypatch):
    batch = _approved(officer, manager, due_records)
    batch_id = batch.id
    from portal.storage import ContentStore

    real_delete = ContentStore.delete
    calls = []

    def crashing_delete(self, sha):
        calls.append(sha)
        result = real_delete(self, sha)
        if len(calls) == 1:
            raise KeyboardInterrupt("power cut")  # the process dies right after the first file
        return result

    monkeypatch.setattr(ContentStore, "delete", crashing_delete)
    with pytest.raises(KeyboardInterrupt):
        services.execute_batch(batch, user=officer, checkpoint=db.session.commit)
    db.session.rollback()
    monkeypatch.setattr(ContentStore, "delete", real_delete)

    batch = db.session.get(DisposalBatch, batch_id)
    assert batch.status == "executing"
    assert not services.store().exists(due_records[0].files[0].sha256)  # gone from disk, not yet marked done
    services.execute_batch(batch, user=officer, checkpoint=db.session.commit)
    db.session.commit()
    assert batch.status == "executed"
    assert [i.state for i in batch.items] == ["done", "done", "done"]
    assert all(db.session.get(ArchiveRecord, r.id).status == "destroyed" for r in due_records)
    assert batch.certificate is not None


def test_shared_content_survives_when_another_record_still_holds_it(app, officer, manager):
    a = services.file_document(kind="inquiry", title="Old copy", files=[("a.txt", b"same bytes")], user=officer,
                               record_date=date(2019, 1, 1))
    b = services.file_document(kind="meeting_minutes", title="Kept copy", files=[("b.txt", b"same bytes")],
                               user=officer, record_date=date(2025, 1, 1))
    batch = _approved(officer, manager, [a])
    services.execute_batch(batch, user=officer)
    db.session.commit()
    assert a.status == "destroyed" and services.store().exists(b.files[0].sha256)


def test_review_items_need_a_decision_and_extend_moves_the_due_date(app, officer, manager):
    r = services.file_document(kind="meeting_minutes", title="Minutes 2012", files=[("m.txt", b"minutes")],
                               user=officer, record_date=date(2012, 5, 1))
    batch = _approved(officer, manager, [r])
    assert batch.items[0].action == "review"
    with pytest.raises(services.DisposalError, match="review decision"):
        services.execute_batch(batch, user=officer)
    services.record_review_decision(batch.items[0], decision="extend", until=date(2030, 1, 1))
    services.execute_batch(batch, user=officer)
    db.session.commit()
    assert r.status == "active" and services.due_date(r) == date(2030, 1, 1)


def test_verify_detects_a_flipped_byte_and_a_missing_file(app, officer, due_records):
    run = services.verify_files(actor="test")
    assert run.ok and run.checked == 3
    store = services.store()
    path = store.path_for(due_records[0].files[0].sha256)
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    store.path_for(due_records[1].files[0].sha256).unlink()
    run = services.verify_files(actor="test")
    db.session.commit()
    assert (run.altered, run.missing, run.ok) == (1, 1, False)
    assert due_records[0].reference in run.details and due_records[1].reference in run.details
    assert services.last_fixity_run().id == run.id


def test_transfer_marks_the_record_with_the_receiving_party(app, officer, manager):
    from portal.blueprints.archive.models import Series

    series = db.session.scalar(db.select(Series).filter_by(code="CS-11")) or services.series_for_kind("document")
    series.disposition = "transfer"
    r = services.file_document(kind="correspondence", title="Letters 2019", files=[("l.txt", b"letters")],
                               user=officer, record_date=date(2019, 1, 1))
    batch = services.propose_batch(user=officer, record_ids=[r.id], as_of=AS_OF, transfer_to="Ningbo City Archives")
    services.decide_batch(batch, user=manager, approve=True)
    services.execute_batch(batch, user=officer)
    db.session.commit()
    assert (r.status, r.transferred_to) == ("transferred", "Ningbo City Archives")
    assert services.store().exists(r.files[0].sha256)


def test_a_customer_hold_skips_all_its_records(app, officer, manager):
    from portal.blueprints.customers.models import Customer

    customer = Customer(code="HMCHEM", name_en="Huamei")
    db.session.add(customer)
    db.session.flush()
    r = services.file_document(kind="inquiry", title="Huamei inquiry", files=[("h.txt", b"h")], user=officer,
                               record_date=date(2019, 1, 1), customer_id=customer.id)
    services.place_hold(user=officer, reason="Quantity dispute", customer_id=customer.id)
    db.session.commit()
    item = services.schedule(AS_OF)[0]
    assert item.record.id == r.id and "Quantity dispute" in item.reasons[0]
    with pytest.raises(services.DisposalError):
        services.propose_batch(user=officer, record_ids=[r.id], as_of=AS_OF)


def test_destroyed_records_leave_the_search_index(app, officer, manager):
    from portal.search import search

    r = services.file_document(kind="inquiry", title="Styrene berth inquiry", user=officer,
                               files=[("s.txt", "苯乙烯 berth window for MT Ocean Star".encode())],
                               record_date=date(2019, 1, 1))
    db.session.commit()
    assert [h.key for h in search("Ocean Star", user=manager).hits] == [f"record:{r.id}"]
    batch = services.propose_batch(user=officer, record_ids=[r.id], as_of=AS_OF)
    services.decide_batch(batch, user=manager, approve=True)
    services.execute_batch(batch, user=officer)
    db.session.commit()
    assert search("Ocean Star", user=manager).total == 0
    assert r.title == "Styrene berth inquiry" and r.extracted_text == ""


def test_a_certificate_listing_a_restricted_record_is_restricted(app, officer, manager, make_user):
    r = services.file_document(kind="inquiry", title="Inquiry naming a driver", files=[("d.txt", b"driver")],
                               user=officer, record_date=date(2019, 1, 1), restricted=True)
    batch = _approved(officer, manager, [r])
    services.execute_batch(batch, user=officer)
    db.session.commit()
    assert batch.certificate.restricted
    assert not batch.certificate.can_view(make_user("staffer", "staff"))
    assert batch.certificate.can_view(manager)

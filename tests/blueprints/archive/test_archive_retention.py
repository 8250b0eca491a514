"""Due dates for every trigger kind, with an injected date; the schedule and holds."""
from datetime import UTC, date, datetime

import pytest

from portal.blueprints.archive import services
from portal.blueprints.archive.models import ArchiveRecord, Series
from portal.blueprints.archive.plan import ensure_starter_plan
from portal.extensions import db


def _series(code, kind="period", amount=None, unit="years", trigger="filed", disposition="destroy"):
    s = Series(code=code, title_en=code, retention_kind=kind, retention_amount=amount, retention_unit=unit,
               trigger=trigger, disposition=disposition)
    db.session.add(s)
    db.session.flush()
    return s


_COUNTER = [0]


def _record(series, record_date, *, filed=None, event=None):
    _COUNTER[0] += 1
    r = ArchiveRecord(reference=f"T-{_COUNTER[0]}", series=series, title="t", record_date=record_date, event_date=event,
                      filed_at=filed or datetime(record_date.year, record_date.month, record_date.day, 4, tzinfo=UTC))
    db.session.add(r)
    db.session.flush()
    return r


def test_filed_date_trigger_in_years_months_and_days(app):
    r = _record(_series("A", amount=3), date(2020, 2, 29), filed=datetime(2020, 2, 29, 3, tzinfo=UTC))
    assert services.due_date(r) == date(2023, 2, 28)  # no 29 February in 2023
    r = _record(_series("B", amount=6, unit="months"), date(2024, 8, 31))
    assert services.due_date(r) == date(2025, 2, 28)
    r = _record(_series("C", amount=30, unit="days"), date(2024, 1, 10))
    assert services.due_date(r) == date(2024, 2, 9)


def test_filed_date_uses_the_local_day_not_utc(app):
    # 2023-12-31 20:00 UTC is already 1 January 2024 in Shanghai
    r = _record(_series("A", amount=1), date(2023, 12, 31), filed=datetime(2023, 12, 31, 20, tzinfo=UTC))
    assert services.due_date(r) == date(2025, 1, 1)


def test_calendar_year_end_counts_from_the_first_day_of_the_next_year(app):
    s = _series("CY", amount=3, trigger="calendar_year_end")
    assert services.due_date(_record(s, date(2021, 1, 5))) == date(2025, 1, 1)
    assert services.due_date(_record(s, date(2021, 12, 31))) == date(2025, 1, 1)


def test_fiscal_year_end_defaults_to_the_calendar_year(app):
    s = _series("FY", amount=10, trigger="fiscal_year_end")
    assert services.due_date(_record(s, date(2016, 3, 1))) == date(2027, 1, 1)


@pytest.mark.parametrize("app_config", [{"FISCAL_YEAR_END": "06-30"}])
def test_fiscal_year_end_is_configurable(app):
    s = _series("FY", amount=5, trigger="fiscal_year_end")
    assert services.due_date(_record(s, date(2020, 6, 30))) == date(2025, 7, 1)
    assert services.due_date(_record(s, date(2020, 7, 1))) == date(2026, 7, 1)
    assert services.fiscal_year_end(date(2021, 2, 1), (2, 29)) == date(2021, 2, 28)


def test_event_trigger_waits_for_the_event_date(app):
    s = _series("EV", amount=10, trigger="event")
    r = _record(s, date(2015, 1, 1))
    assert services.due_date(r) is None
    r.event_date = date(2016, 5, 20)
    assert services.due_date(r) == date(2026, 5, 20)


def test_permanent_and_until_trigger_event(app):
    assert services.due_date(_record(_series("P", kind="permanent", disposition="permanent"), date(2000, 1, 1))) is None
    s = _series("U", kind="until_event", amount=0, trigger="event")
    r = _record(s, date(2020, 1, 1))
    assert services.due_date(r) is None
    r.event_date = date(2024, 4, 1)
    assert services.due_date(r) == date(2024, 4, 1)


def test_review_extension_moves_the_due_date(app):
    r = _record(_series("A", amount=1), date(2020, 1, 1))
    r.extend_until = date(2030, 1, 1)
    assert services.due_date(r) == date(2030, 1, 1)


def test_schedule_lists_due_records_and_the_reason_held_ones_are_skipped(app, make_user):
    user = make_user("records", "records_officer")
    ensure_starter_plan()
    services.file_document(kind="inquiry", title="Old inquiry", files=[("a.txt", b"old inquiry")], user=user,
                           record_date=date(2020, 3, 1))
    held = services.file_document(kind="inquiry", title="Held inquiry", files=[("b.txt", b"held inquiry")],
                                  user=user, record_date=date(2020, 4, 1))
    services.file_document(kind="inquiry", title="New inquiry", files=[("c.txt", b"new")], user=user,
                           record_date=date(2025, 4, 1))
    services.file_document(kind="disposal_certificate", title="Cert", files=[("d.txt", b"cert")], user=user,
                           record_date=date(2010, 1, 1))
    services.place_hold(user=user, reason="Litigation with customer", record=held)
    db.session.commit()
    items = {i.record.title: i for i in services.schedule(date(2026, 6, 1))}
    assert set(items) == {"Old inquiry", "Held inquiry"}  # not the new one, not the permanent certificate
    assert items["Old inquiry"].due == date(2024, 1, 1) and not items["Old inquiry"].skipped
    assert "Litigation" in items["Held inquiry"].reasons[0]
    assert services.schedule(date(2023, 12, 31)) == []


def test_a_series_hold_covers_sub_series_and_release_lifts_it(app, make_user):
    user = make_user("records", "records_officer")
    r = services.file_document(kind="inquiry", title="Inquiry", files=[("a.txt", b"x")], user=user,
                               record_date=date(2019, 1, 1))
    parent = db.session.scalar(db.select(Series).filter_by(code="CS-03"))
    hold = services.place_hold(user=user, reason="Audit", series=parent)
    db.session.commit()
    assert services.holds_for(r) == [hold]
    services.release_hold(hold, user=user, note="Audit closed")
    db.session.commit()
    assert services.holds_for(r) == []
    from portal.audit import history_for
    assert any("released_at" in e.change_map for e in history_for("archive_hold", hold.id))


def test_disposal_blockers_of_other_domains_skip_records(app, make_user, monkeypatch):
    """Other domains (complaints: an open complaint of the customer) block disposal through the core registry."""
    import portal.services as core
    from portal.blueprints.customers.models import Customer

    monkeypatch.setattr(core, "_BLOCKERS", [])
    assert services.register_skip_rule is core.register_disposal_blocker
    open_cases = {"VITOLAP"}

    @core.register_disposal_blocker
    def open_case(record):
        if record.customer is not None and record.customer.code in open_cases:
            return "Open complaint of this customer: CMP-00001"
        return None

    user = make_user("records", "records_officer")
    customer = Customer(code="VITOLAP", name_en="Vitol Asia")
    db.session.add(customer)
    db.session.flush()
    record = services.file_document(kind="inquiry", title="Vitol inquiry", files=[("v.txt", b"v")], user=user,
                                    record_date=date(2019, 1, 1), customer_id=customer.id)
    db.session.commit()
    item = services.schedule(date(2026, 6, 1))[0]
    assert item.record.id == record.id and "CMP-00001" in item.reasons[0]
    with pytest.raises(services.DisposalError, match="cannot be disposed"):
        services.propose_batch(user=user, record_ids=[record.id], as_of=date(2026, 6, 1))
    open_cases.clear()
    assert not services.schedule(date(2026, 6, 1))[0].skipped


def test_the_archive_imports_no_other_domain_s_services_or_routes():
    """No domain cycle: the archive reaches other domains through the core contracts only."""
    import ast
    from pathlib import Path

    package = Path(services.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                domain, _, rest = node.module.partition(".")
                assert rest in ("models", ""), f"{path.name} imports {node.module}"
                assert rest == "models", f"{path.name} imports the {domain} package"


def test_a_review_decision_to_destroy_puts_the_record_on_the_destroy_list(app, make_user):
    officer = make_user("records", "records_officer")
    manager = make_user("manager", "cs_manager")
    r = services.file_document(kind="meeting_minutes", title="Minutes 2012", files=[("m.txt", b"minutes 2012")],
                               user=officer, record_date=date(2012, 5, 1))
    batch = services.propose_batch(user=officer, record_ids=[r.id], as_of=date(2026, 6, 1))
    services.decide_batch(batch, user=manager, approve=True)
    services.record_review_decision(batch.items[0], decision="destroy", note="No further value")
    services.execute_batch(batch, user=officer)
    db.session.commit()
    assert r.status == "active"
    [item] = services.schedule(date(2026, 6, 1))
    assert item.record.id == r.id and item.action == "destroy" and not item.skipped

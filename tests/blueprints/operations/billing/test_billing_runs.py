"""The monthly billing run: draft → reviewed → agreed → exported; the export read back; a locked month;
corrections in the next month's run; the period lock hook."""
from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest

from portal.blueprints.archive.models import ArchiveRecord
from portal.blueprints.operations.billing import services as billing
from portal.extensions import db
from portal.timeutil import utcnow

from billing_terminal import MARCH, local

D = Decimal
APRIL = date(2026, 4, 1)


def _exported(bt, people):
    bt.march()
    run = billing.prepare_run(bt.a, MARCH, people["csr"])
    billing.review_run(run, people["csr"])
    billing.record_agreement(run, people["manager"], by_name="Ms. Li Na", at=utcnow() - timedelta(hours=1), how="email")
    export = billing.export_run(run, people["csr"])
    db.session.commit()
    return run, export


def test_a_run_walks_from_draft_to_exported_and_records_who_and_when(bt, people):
    bt.march()
    run = billing.prepare_run(bt.a, MARCH, people["csr"])
    with pytest.raises(billing.BillingError):
        billing.export_run(run, people["csr"])  # not agreed
    with pytest.raises(billing.BillingError):
        billing.record_agreement(run, people["csr"], by_name="X", at=utcnow(), how="email")  # not reviewed
    billing.review_run(run, people["csr"])
    with pytest.raises(billing.BillingError) as bad:
        billing.record_agreement(run, people["csr"], by_name="  ", at=utcnow(), how="email")
    assert bad.value.field == "by_name"
    with pytest.raises(billing.BillingError) as bad:
        billing.record_agreement(run, people["csr"], by_name="Li", at=utcnow() + timedelta(days=1), how="email")
    assert bad.value.field == "at"
    billing.record_agreement(run, people["manager"], by_name="Ms. Li Na", at=utcnow() - timedelta(hours=2), how="phone",
                             note="Agreed on the phone")
    assert run.state == "agreed" and run.agreed_by_name == "Ms. Li Na" and run.agreement_recorded_by_id == people["manager"].id
    export = billing.export_run(run, people["csr"])
    db.session.commit()
    assert run.state == "exported" and export.version == 1 and export.total == run.total == D("549475.04")
    assert billing.period_locked(bt.a.id, MARCH) and not billing.period_locked(bt.b.id, MARCH)


def test_the_export_reads_back_in_the_documented_layout_and_is_filed(bt, people):
    run, export = _exported(bt, people)
    data = billing.read_export(export)
    assert hashlib.sha256(data).hexdigest() == export.sha256 and len(data) == export.size
    book = openpyxl.load_workbook(io.BytesIO(data))
    lines, summary = book.worksheets
    rows = list(lines.iter_rows(values_only=True))
    assert list(rows[0]) == billing.EXPORT_HEADER
    assert len(rows) - 1 == len(run.lines) == export.line_count
    first = dict(zip(billing.EXPORT_HEADER, rows[1]))
    assert first["结算单 Run"] == "BR-202603-SINOCHEM" and first["月份 Month"] == "2026-03"
    assert first["类别 Kind"] == "storage" and first["油罐 Tank"] == "T-101" and first["币种 Currency"] == "CNY"
    assert D(str(first["金额 Amount"])) == D("147096.77") and first["除数 Divisor"] == 31
    assert first["来源 Sources"] == "2026-03-01..2026-03-16"
    assert first["数量 Quantity"] == 160000 and first["数量单位 Quantity unit"] == "m3_day"
    assert D(str(first["费率 Rate"])) == D("28.50") and first["费率单位 Rate unit"] == "m3_month"
    deliveries = next(dict(zip(billing.EXPORT_HEADER, r)) for r in rows[1:] if r[6] == "GO · 出库 deliveries")
    assert D(str(deliveries["数量 Quantity"])) == D("1210.555") and deliveries["产品 Product"] == "GO"
    assert deliveries["来源 Sources"].count("ORD-B-") == 2
    total = sum(D(str(r[15])) for r in rows[1:])
    assert total == run.total
    facts = {r[0]: r[1] for r in summary.iter_rows(min_row=2, values_only=True)}
    assert D(str(facts["合计 Total"])) == run.total and facts["客户确认人 Agreed by (customer)"] == "Ms. Li Na"
    record = db.session.get(ArchiveRecord, export.archive_record_id)
    assert record is not None and record.customer_id == bt.a.id
    assert export.sha256 in {f.sha256 for f in record.current_files}


def test_a_re_export_is_a_new_version_and_the_month_stays_locked(bt, people):
    run, first = _exported(bt, people)
    second = billing.export_run(run, people["manager"])
    db.session.commit()
    assert (first.version, second.version) == (1, 2) and second.total == first.total
    assert [e.version for e in run.exports] == [1, 2]
    with pytest.raises(billing.BillingError):
        billing.prepare_run(bt.a, MARCH, people["csr"])
    with pytest.raises(billing.BillingError):
        billing.reopen_run(run, people["csr"])
    with pytest.raises(billing.BillingError) as refused:
        billing.record_service(customer=bt.a, day=date(2026, 3, 30), kind="extra", description="late", quantity=D(1),
                               unit="job", user=people["csr"])
    assert refused.value.field == "day"


def test_corrections_go_into_the_next_run_linked_to_the_line_and_survive_preparing_again(bt, people):
    run, _export = _exported(bt, people)
    storage = run.lines[0]
    credit = billing.add_correction(storage, people["csr"], amount=D("-1200.00"), reason="Valve repair, 2 days")
    db.session.commit()
    april = credit.run
    assert april.month == APRIL and april.state == "draft" and credit.corrects_id == storage.id
    assert credit.kind == "storage" and credit.amount == D("-1200.00")
    billing.prepare_run(bt.a, APRIL, people["csr"], today=date(2026, 5, 2))
    db.session.commit()
    kept = [line for line in april.lines if line.is_correction]
    assert [(c.id, c.amount, c.position) for c in kept] == [(credit.id, D("-1200.00"), len(april.lines))]
    assert april.total == sum((line.amount for line in april.lines), D(0))
    assert billing.corrections_of(storage) == [credit]
    # the exported March did not change
    assert run.total == D("549475.04") and len(run.lines) == 8 and run.state == "exported"


def test_a_correction_skips_a_locked_next_month_and_refuses_bad_input(bt, people):
    run, _export = _exported(bt, people)
    line = run.lines[0]
    for amount, field in ((D("0"), "amount"), (D("1.234"), "amount")):
        with pytest.raises(billing.BillingError) as bad:
            billing.add_correction(line, people["csr"], amount=amount, reason="x")
        assert bad.value.field == field
    with pytest.raises(billing.BillingError) as bad:
        billing.add_correction(line, people["csr"], amount=D("5"), reason=" ")
    assert bad.value.field == "reason"
    april = billing.prepare_run(bt.a, APRIL, people["csr"], today=date(2026, 5, 2))
    billing.review_run(april, people["csr"])
    with pytest.raises(billing.BillingError):
        billing.add_correction(line, people["csr"], amount=D("5"), reason="reviewed April must be reopened")
    locked = {(bt.a.id, APRIL)}
    hook = billing.register_period_lock(lambda customer_id, month: (customer_id, month) in locked)
    try:
        assert billing.period_locked(bt.a.id, APRIL)
        with pytest.raises(billing.BillingError):
            billing.prepare_run(bt.a, APRIL, people["csr"], today=date(2026, 5, 2))
        debit = billing.add_correction(line, people["csr"], amount=D("80.00"), reason="Extra day")
        assert debit.run.month == date(2026, 5, 1)
    finally:
        billing._PERIOD_LOCKS.remove(hook)


def test_reopen_clears_review_and_agreement(bt, people):
    bt.march()
    run = billing.prepare_run(bt.a, MARCH, people["csr"])
    billing.review_run(run, people["csr"])
    with pytest.raises(billing.BillingError):
        billing.prepare_run(bt.a, MARCH, people["csr"])  # reviewed: reopen first
    billing.record_agreement(run, people["manager"], by_name="Li", at=utcnow(), how="email")
    billing.reopen_run(run, people["csr"])
    assert run.state == "draft" and run.reviewed_at is None and run.agreed_by_name == "" and run.agreed_at is None
    bt.order("truck_loading", bt.a, bt.t101, "1000", local("2026-03-28"))
    assert not billing.is_current(run)
    billing.prepare_run(bt.a, MARCH, people["csr"])
    assert billing.is_current(run)


def test_mixed_currencies_in_one_month_are_refused(bt, people):
    from portal.blueprints.operations.models import Contract, RateItem

    bt.ca.ends_on = date(2026, 3, 15)
    usd = Contract(customer_id=bt.a.id, number="SA-2026-SINO-B", starts_on=date(2026, 3, 16), currency="USD")
    usd.rate_items.append(RateItem(kind="storage", rate=D("4.10"), unit="m3_month"))
    db.session.add(usd)
    db.session.commit()
    with pytest.raises(billing.BillingError):
        billing.prepare_run(bt.a, MARCH, people["csr"])

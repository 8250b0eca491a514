"""Pricing of each kind of rate item against figures computed by hand (March 2026, 31 days), and each
line traceable to its sources."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.blueprints.operations.billing import services as billing
from portal.extensions import db

from billing_terminal import MARCH, local

D = Decimal


def _lines(customer):
    return [(d.kind, d.description, d.quantity, d.divisor, d.amount) for d in billing.compute_lines(customer.id, MARCH)]


def _service(bt, customer, day, kind, qty, unit, text="Work"):
    return billing.record_service(customer=customer, day=day, kind=kind, description=text, quantity=D(qty), unit=unit,
                                  user=None, today=date(2026, 4, 2))


def test_leased_capacity_storage_by_days_and_shares(bt):
    """T-101 (10,000 m³) alone for 16 days, shared with VITOL for 15; T-301 (5,000 m³) for 31 days, 28.50 CNY
    per m³ per month: 10,000 × 16 × 28.50 ÷ 31 = 147,096.77; 10,000 × 15 × 28.50 ÷ (31 × 2) = 68,951.61;
    5,000 × 31 × 28.50 ÷ 31 = 142,500.00."""
    storage = [d for d in billing.compute_lines(bt.a.id, MARCH) if d.kind == "storage"]
    assert [(d.description, d.quantity, d.divisor, d.amount) for d in storage] == [
        ("T-101 · 10000 m³", D("160000"), 31, D("147096.77")),
        ("T-101 · 10000 m³ · 1/2", D("150000"), 62, D("68951.61")),
        ("T-301 · 5000 m³", D("155000"), 31, D("142500.00")),
    ]
    shared = storage[1]
    assert [(s["day"], s["day_to"]) for s in shared.sources] == [(date(2026, 3, 17), date(2026, 3, 31))]


def test_throughput_counts_receipts_and_deliveries_of_the_month_only(bt):
    """12.00 CNY per t: received GO 5,000 t and FO 2,000 t; delivered GO 1,200.555 + 10 t (the order of the
    last evening of March, not the one after midnight), FO 500 t; the tank-to-tank transfer is not throughput."""
    bt.march()
    lines = [(d.description, d.quantity, d.amount, [s["note"] for s in d.sources])
             for d in billing.compute_lines(bt.a.id, MARCH) if d.kind == "throughput"]
    assert [(desc, qty, amount) for desc, qty, amount, _n in lines] == [
        ("FO380 · 进库 receipts", D("2000"), D("24000.00")),
        ("GO · 进库 receipts", D("5000"), D("60000.00")),
        ("FO380 · 出库 deliveries", D("500"), D("6000.00")),
        ("GO · 出库 deliveries", D("1210.555"), D("14526.66")),
    ]
    assert len(lines[3][3]) == 2  # the two GO deliveries, by order number


def test_heating_is_tonnes_times_days_in_heated_tanks(bt):
    """T-301 is heated: 2,000 t from 5 to 19 March (15 days), 1,500 t from 20 to 31 March (12 days):
    48,000 t × days × 1.80 CNY = 86,400.00. T-101 is not heated: no heating line for it."""
    bt.march()
    heating = [d for d in billing.compute_lines(bt.a.id, MARCH) if d.kind == "heating"]
    assert [(d.description, d.quantity, d.amount) for d in heating] == [("T-301 · 27 d", D("48000"), D("86400.00"))]
    assert len(heating[0].sources) == 27 and heating[0].sources[0]["day"] == date(2026, 3, 5)


def test_storage_on_average_book_stock(bt):
    """VITOL pays 30.00 USD per t per month of average stock: 100 t held from February for 16 days, then
    1,100 t for 15 days: (1,600 + 16,500) t × days × 30.00 ÷ 31 = 17,516.13; no lease line (no such item)."""
    bt.march()
    lines = _lines(bt.b)
    assert lines == [("storage", "T-101 · 31 d", D("18100"), 31, D("17516.13"))]


def test_services_priced_by_the_rate_item_of_their_kind_and_unit(bt):
    """Tank cleaning, 1 job × 38,000; blending 350.5 t × 15.00 = 5,257.50; an extra service per m³ has no rate
    item in the contract: not billed, and listed as unpriced on the run."""
    cleaning = _service(bt, bt.a, date(2026, 3, 25), "tank_cleaning", "1", "job", "Cleaning T-101")
    _service(bt, bt.a, date(2026, 3, 26), "blending", "350.5", "t")
    _service(bt, bt.a, date(2026, 3, 27), "extra", "10", "m3")
    _service(bt, bt.a, date(2026, 4, 1), "tank_cleaning", "1", "job")  # April
    db.session.commit()
    lines = [(d.kind, d.quantity, d.amount) for d in billing.compute_lines(bt.a.id, MARCH)
             if d.kind in ("tank_cleaning", "blending", "extra")]
    assert lines == [("blending", D("350.5"), D("5257.50")), ("tank_cleaning", D("1"), D("38000.00"))]
    first = next(d for d in billing.compute_lines(bt.a.id, MARCH) if d.kind == "tank_cleaning")
    assert first.sources[0]["service_id"] == cleaning.id
    run = billing.prepare_run(bt.a, MARCH, None)
    assert [s.kind for s in billing.unpriced_services(run)] == ["extra"]


def test_the_whole_month_and_its_total(bt):
    """Every line of SINOCHEM's March added up by hand: storage 358,548.38 + throughput 104,526.66 + heating
    86,400.00 + services 43,257.50 = 592,732.54 CNY."""
    bt.march()
    _service(bt, bt.a, date(2026, 3, 25), "tank_cleaning", "1", "job")
    _service(bt, bt.a, date(2026, 3, 26), "blending", "350.5", "t")
    db.session.commit()
    run = billing.prepare_run(bt.a, MARCH, None)
    db.session.commit()
    assert run.currency == "CNY" and run.total == D("592732.54")
    assert [line.kind for line in run.lines] == ["storage"] * 3 + ["throughput"] * 4 + ["heating", "blending",
                                                                                       "tank_cleaning"]
    assert [line.position for line in run.lines] == list(range(1, 11))


def test_rounding_happens_once_on_the_line(bt):
    """Three deliveries of 0.001 t at 12.00: the line is 0.003 t × 12 = 0.036 → 0.04 (rounding each order
    first would give 0.00)."""
    bt.order("pipeline_receipt", bt.a, bt.t101, "1", local("2026-03-02"))
    for hour in (8, 9, 10):
        bt.order("truck_loading", bt.a, bt.t101, "0.001", local("2026-03-03", hour), density=D("845"))
    db.session.commit()
    out = next(d for d in billing.compute_lines(bt.a.id, MARCH) if d.description == "GO · 出库 deliveries")
    assert out.quantity == D("0.003") and out.amount == D("0.04")


def test_no_contract_no_lines_and_a_month_not_over_is_refused(bt):
    assert billing.compute_lines(bt.a.id, date(2025, 12, 1)) == []  # before the contract
    with pytest.raises(billing.BillingError):
        billing.prepare_run(bt.a, date(2026, 3, 1), None, today=date(2026, 3, 20))

"""The stock book: completed orders post movements, book stock at any time, reversals, adjustments."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.models import MovementImmutable, StockDaily, StockMovement
from portal.blueprints.operations.stock.quantities import QuantityError, kg_to_t, to_kg_m3
from portal.extensions import db

from stock_clock import at

D = Decimal


def t(value) -> D:
    return D(str(value)) * 1000


# -------------------------------------------------------------------------------- quantities

def test_conversions_are_decimal_and_rounded_for_the_book():
    # 1 bbl = 42 US gallons = 42 x 3.785411784 L = 158.987294928 L (the US gallon is 231 in³ exactly)
    assert to_kg_m3(D("1000"), "bbl", D("800")) == (D("127190"), D("158.987"))
    assert to_kg_m3(D("1000"), "t", D("845.0")) == (D("1000000"), D("1183.432"))  # 1,000,000 / 845 = 1183.4319...
    assert to_kg_m3(D("1183.432"), "m3", D("845.0")) == (D("1000000"), D("1183.432"))  # 1,000,000.04 kg
    assert to_kg_m3(D("2.5"), "kg", D("1000")) == (D("2"), D("0.002"))  # half to even: 2.5 kg, 0.0025 m³
    with pytest.raises(QuantityError):
        to_kg_m3(D("10"), "t", None)
    with pytest.raises(QuantityError):
        to_kg_m3(D("10"), "gallon", D("800"))
    with pytest.raises(QuantityError):
        to_kg_m3(10.5, "t", D("800"))  # floats are refused: quantities are Decimal
    assert kg_to_t(D("1234567")) == D("1234.567")


# -------------------------------------------------------------------------------- posting orders

def test_receipt_and_delivery_move_the_book(terminal):
    a, t101 = terminal.a, terminal.t101
    terminal.order("ship_discharge", a, t101, "5000", at("2026-03-02", 4))
    terminal.order("truck_loading", a, t101, "120.5", at("2026-03-03", 2))
    db.session.commit()
    assert stock.book_stock(customer_id=a.id, tank_id=t101.id) == (t("4879.5"), D("5774.556"))
    # before the receipt, between the two, after both
    assert stock.book_stock(customer_id=a.id, at=at("2026-03-02", 3)) == (0, 0)
    assert stock.book_stock(customer_id=a.id, at=at("2026-03-02", 4))[0] == t("5000")
    assert stock.book_stock(customer_id=a.id, at=at("2026-03-03", 1))[0] == t("5000")
    assert stock.book_stock(customer_id=a.id, at=at("2026-03-03", 2))[0] == t("4879.5")
    # per tank, per product, per customs status
    assert stock.book_stock(tank_id=t101.id)[0] == t("4879.5")
    assert stock.book_stock(product_id=terminal.methanol.id)[0] == 0
    assert stock.book_stock(customs_status="bonded")[0] == 0
    assert stock.closing_on(at("2026-03-02").date(), customer_id=a.id)[0] == t("5000")


def test_transfer_between_tanks_and_ownership_transfer(terminal):
    a, b = terminal.a, terminal.b
    terminal.order("ship_discharge", a, terminal.t101, "3000", at("2026-03-02"))
    terminal.order("tank_transfer", a, terminal.t101, "1000", at("2026-03-03"), to_tank=terminal.t102)
    terminal.order("ownership_transfer", a, terminal.t102, "400", at("2026-03-04"), counterparty=b)
    db.session.commit()
    assert stock.book_stock(customer_id=a.id, tank_id=terminal.t101.id)[0] == t("2000")
    assert stock.book_stock(customer_id=a.id, tank_id=terminal.t102.id)[0] == t("600")
    assert stock.book_stock(customer_id=b.id, tank_id=terminal.t102.id)[0] == t("400")
    assert stock.book_stock(tank_id=terminal.t102.id)[0] == t("1000")  # the ownership transfer moved nothing
    assert stock.book_stock(customer_id=a.id, at=at("2026-03-03", 23))[0] == t("3000")  # a transfer keeps the total
    kinds = sorted(m.kind for m in db.session.scalars(db.select(StockMovement)))
    assert kinds == ["ownership_in", "ownership_out", "receipt", "transfer_in", "transfer_out"]


def test_delivery_beyond_book_stock_is_refused_and_changes_nothing(terminal, request_ctx):
    a = terminal.a
    terminal.order("ship_discharge", a, terminal.t101, "100", at("2026-03-02"))
    db.session.commit()
    with pytest.raises(stock.StockError, match="Not enough book stock") as exc:
        terminal.order("truck_loading", a, terminal.t101, "100.001", at("2026-03-03"))
    assert "SINOCHEM" in str(exc.value) and "T-101" in str(exc.value)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(StockMovement.id))) == 1
    # nor may a delivery be booked before the stock arrived (backdated), even when it is there today
    with pytest.raises(stock.StockError):
        terminal.order("truck_loading", a, terminal.t101, "50", at("2026-03-01"))
    db.session.rollback()
    # another customer's stock in the same tank does not count
    with pytest.raises(stock.StockError):
        terminal.order("truck_loading", terminal.b, terminal.t101, "1", at("2026-03-03"))


def test_backdated_posting_updates_the_later_days(terminal):
    a = terminal.a
    terminal.order("ship_discharge", a, terminal.t101, "1000", at("2026-03-05"))
    terminal.order("pipeline_receipt", a, terminal.t101, "200", at("2026-03-01"))
    db.session.commit()
    assert stock.book_stock(customer_id=a.id, at=at("2026-03-03"))[0] == t("200")
    assert stock.book_stock(customer_id=a.id, at=at("2026-03-06"))[0] == t("1200")
    closings = [r.closing_kg for r in db.session.scalars(db.select(StockDaily).order_by(StockDaily.day))]
    assert closings == [t("200"), t("1200")]
    # a delivery between them may not take what arrives later
    with pytest.raises(stock.StockError):
        terminal.order("truck_loading", a, terminal.t101, "300", at("2026-03-03"))


def test_an_order_posts_once_and_a_reversal_corrects_it(terminal, people, request_ctx):
    a = terminal.a
    order = terminal.order("ship_discharge", a, terminal.t101, "1000", at("2026-03-02"))
    db.session.commit()
    with pytest.raises(stock.StockError, match="already in the stock book"):
        stock.post_order(order, people["csr"])
    with pytest.raises(stock.StockError, match="reason"):
        stock.reverse_order(order, people["csr"], "  ")
    reversal = stock.reverse_order(order, people["csr"], "Wrong tank: it went to T-102", at=at("2026-03-04"))
    db.session.commit()
    assert reversal.reverses.order_id == order.id and reversal.movements[0].qty_kg == -t("1000")
    # the days before the reversal keep what was reported then; the book today is corrected
    assert stock.book_stock(customer_id=a.id, at=at("2026-03-03"))[0] == t("1000")
    assert stock.book_stock(customer_id=a.id)[0] == 0
    with pytest.raises(stock.StockError, match="already been reversed"):
        stock.reverse_posting(reversal.reverses, people["csr"], "again")
    with pytest.raises(stock.StockError, match="cannot be reversed"):
        stock.reverse_posting(reversal, people["csr"], "undo")
    # once reversed, the corrected order can be posted again
    order.tank_id = terminal.t102.id
    stock.post_order(order, people["csr"])
    db.session.commit()
    assert stock.book_stock(tank_id=terminal.t102.id)[0] == t("1000")
    assert stock.check_balances() == []


def test_reversing_a_receipt_already_delivered_is_refused(terminal, people):
    a = terminal.a
    receipt = terminal.order("ship_discharge", a, terminal.t101, "1000", at("2026-03-02"))
    terminal.order("ship_loading", a, terminal.t101, "800", at("2026-03-03"))
    db.session.commit()
    with pytest.raises(stock.StockError):
        stock.reverse_order(receipt, people["csr"], "Wrong quantity", at=at("2026-03-04"))


def test_movements_are_never_changed_or_deleted(terminal):
    terminal.order("ship_discharge", terminal.a, terminal.t101, "10", at("2026-03-02"))
    db.session.commit()
    movement = db.session.scalar(db.select(StockMovement))
    movement.qty_kg = D("1")
    with pytest.raises(MovementImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(db.select(StockMovement)))
    with pytest.raises(MovementImmutable):
        db.session.flush()
    db.session.rollback()
    for statement in ("UPDATE ops_stock_movement SET qty_kg = 1", "DELETE FROM ops_stock_movement"):
        with pytest.raises(Exception, match="immutable"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(db.select(StockMovement.qty_kg)) == t("10")


def test_rebuilding_the_balances_from_the_ledger_gives_the_same_book(terminal):
    a, b = terminal.a, terminal.b
    terminal.order("ship_discharge", a, terminal.t101, "3000", at("2026-03-02"))
    terminal.order("tank_transfer", a, terminal.t101, "1000", at("2026-03-03"), to_tank=terminal.t102)
    terminal.order("ownership_transfer", a, terminal.t102, "400", at("2026-03-03", 20), counterparty=b)
    terminal.order("pipeline_receipt", b, terminal.t201, "800", at("2026-03-01"), product=terminal.methanol,
                   customs_status="bonded", density=D("791.8"))
    db.session.commit()
    before = sorted((r.customer_id, r.tank_id, r.day, r.closing_kg, r.closing_m3, r.receipt_kg, r.ownership_in_kg)
                    for r in db.session.scalars(db.select(StockDaily)))
    assert stock.rebuild_balances() == len(before)
    after = sorted((r.customer_id, r.tank_id, r.day, r.closing_kg, r.closing_m3, r.receipt_kg, r.ownership_in_kg)
                   for r in db.session.scalars(db.select(StockDaily)))
    assert after == before
    assert stock.check_balances() == []


# -------------------------------------------------------------------------------- adjustments

def _adjust(terminal, user, direction="loss", qty="2.5", **kw):
    values = dict(customer_id=terminal.a.id, tank_id=terminal.t101.id, product_id=terminal.diesel.id,
                  customs_status="duty_paid", direction=direction, quantity=D(qty), unit="t", density_20=D("845"),
                  occurred_at=at("2026-03-03"), reason="Evaporation loss found at the month-end dip", user=user)
    values.update(kw)
    return stock.request_adjustment(**values)


def test_an_adjustment_posts_only_when_another_manager_approves(terminal, people, request_ctx):
    terminal.order("ship_discharge", terminal.a, terminal.t101, "1000", at("2026-03-02"))
    adj = _adjust(terminal, people["csr"])
    db.session.commit()
    assert adj.state == "pending" and stock.book_stock(customer_id=terminal.a.id)[0] == t("1000")
    with pytest.raises(stock.StockError, match="CS manager"):
        stock.decide_adjustment(adj, people["csr2"], approve=True)
    with pytest.raises(stock.StockError, match="reason for the rejection"):
        stock.decide_adjustment(adj, people["manager"], approve=False)
    stock.decide_adjustment(adj, people["manager"], approve=True, note="Agreed with the tank dip")
    db.session.commit()
    assert adj.state == "approved" and adj.decided_by_id == people["manager"].id
    assert stock.book_stock(customer_id=terminal.a.id)[0] == t("997.5")
    posting = stock.adjustment_posting(adj)
    assert posting.movements[0].kind == "adjustment" and posting.movements[0].qty_kg == -t("2.5")
    with pytest.raises(stock.StockError, match="already been decided"):
        stock.decide_adjustment(adj, people["manager"], approve=True)


def test_a_manager_does_not_approve_their_own_adjustment(terminal, people, make_user, request_ctx):
    terminal.order("ship_discharge", terminal.a, terminal.t101, "1000", at("2026-03-02"))
    adj = _adjust(terminal, people["manager"], direction="gain")
    with pytest.raises(stock.StockError, match="another manager"):
        stock.decide_adjustment(adj, people["manager"], approve=True)
    other = make_user("manager2", "cs_manager")
    stock.decide_adjustment(adj, other, approve=True)
    assert stock.book_stock(customer_id=terminal.a.id)[0] == t("1002.5")


def test_a_loss_beyond_the_book_is_refused_and_bad_requests_are_named(terminal, people, request_ctx):
    terminal.order("ship_discharge", terminal.a, terminal.t101, "1", at("2026-03-02"))
    adj = _adjust(terminal, people["csr"], qty="2")
    with pytest.raises(stock.StockError, match="Not enough book stock"):
        stock.decide_adjustment(adj, people["manager"], approve=True)
    for kw, field in ((dict(quantity=D("0")), "quantity"), (dict(reason=" "), "reason"),
                      (dict(direction="up"), "direction"), (dict(unit="gal"), "quantity")):
        with pytest.raises(stock.StockError) as exc:
            _adjust(terminal, people["csr"], **kw)
        assert exc.value.field == field

"""Customs clearance in the stock book: a release moves bonded stock to duty-paid (never more than there is),
verification refuses deliveries customs have not cleared, transfers between bonded owners, the customs
stock, the daily check list and the entries' rules."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.blueprints.operations import services, verification
from portal.blueprints.operations.customs import services as customs
from portal.blueprints.operations.customs.models import CustomsEntry
from portal.blueprints.operations.stock.models import StockPosting
from portal.extensions import db
from portal.timeutil import local_today, utcnow

from customs_world import HOUR, completed_order, entry_values, lodge, release, split

T = Decimal(1000)


def _rule(order, name):
    return next(r for r in verification.run_rules(verification.draft_from_order(order)) if r.rule == name)


def test_duty_paid_delivery_refused_then_allowed_after_a_release(terminal, make_order, request_ctx):
    completed_order(terminal, make_order, qty="1000", customs_status="bonded")
    delivery = make_order(kind="truck_loading", tank_id=terminal.t2.id, quantity=Decimal("300"))
    result = _rule(delivery, "customs_release")
    assert result.outcome == "error"
    text = verification.english(result.message)
    assert "covers 0.000 t" in text and "1,000.000 t is still bonded" in text and "customs must release it" in text
    check = services.verify_order(delivery, terminal.csr)
    db.session.commit()
    assert not check.passed and delivery.state == "received"

    entry = lodge(terminal, quantity=Decimal("400"))
    assert entry.status == "lodged" and split(terminal)["duty_paid"] == (0, 0)  # lodging posts nothing
    release(terminal, entry)
    assert entry.status == "released" and entry.posting_id is not None
    book = split(terminal)
    assert book["bonded"][0] == 600 * T and book["duty_paid"][0] == 400 * T and book["all"][0] == 1000 * T
    assert book["bonded"][1] + book["duty_paid"][1] == book["all"][1]

    assert _rule(delivery, "customs_release").outcome == "ok"
    check = services.verify_order(delivery, terminal.csr)
    db.session.commit()
    assert check.passed and delivery.state == "verified"
    posting = db.session.get(StockPosting, entry.posting_id)
    assert posting.kind == "customs" and {m.kind for m in posting.movements} == {"customs_out", "customs_in"}


def test_a_release_never_exceeds_the_bonded_stock(terminal, make_order, request_ctx):
    completed_order(terminal, make_order, qty="500", customs_status="bonded")
    first = release(terminal, lodge(terminal, quantity=Decimal("200")))
    too_much = lodge(terminal, declaration_no="310420260001234568", quantity=Decimal("300.001"))
    with pytest.raises(customs.CustomsError) as refused:
        customs.release_entry(too_much, utcnow() - HOUR, terminal.csr)
    db.session.rollback()
    message = str(refused.value.args[0])
    assert "exceeds the bonded stock of GASOIL for SINOCHEM in T-102" in message
    assert "300.001 t" in message and "300.000 t bonded" in message
    assert db.session.get(CustomsEntry, too_much.id).status == "lodged"
    assert split(terminal)["duty_paid"][0] == 200 * T and first.status == "released"
    # Before the bonded stock arrived there was nothing to release.
    early = lodge(terminal, declaration_no="310420260001234569", quantity=Decimal("1"),
                  lodged_on=local_today() - timedelta(days=2))
    with pytest.raises(customs.CustomsError, match="0.000 t bonded"):
        customs.release_entry(early, utcnow() - 3 * HOUR, terminal.csr)
    db.session.rollback()
    # Exactly the rest is fine, in m³ too: the whole key moves, both measures.
    rest = lodge(terminal, declaration_no="310420260001234570", quantity=split(terminal)["bonded"][1], unit="m3")
    release(terminal, rest)
    book = split(terminal)
    assert book["bonded"] == (0, 0) and book["duty_paid"] == book["all"]


def test_bonded_delivery_must_be_a_released_re_export(terminal, make_order, request_ctx):
    completed_order(terminal, make_order, qty="800", customs_status="bonded")
    export = make_order(kind="ship_loading", tank_id=terminal.t2.id, quantity=Decimal("500"), customs_status="bonded",
                        vessel_name="MT Eastern Jade", truck_plates="", customs_released=True)
    result = _rule(export, "customs_release")
    assert result.outcome == "error"
    assert "Bonded stock leaves only as a re-export released by customs" in verification.english(result.message)
    assert "cover 0.000 t, 500.000 t needed" in verification.english(result.message)

    entry = lodge(terminal, kind="re_export", order_number=export.number, quantity=Decimal("500"))
    assert "re-export entry 310420260001234567 is lodged but not yet released" in verification.english(
        _rule(export, "customs_release").message)
    release(terminal, entry)
    assert export.customs_released is True
    assert entry.posting_id is None and split(terminal)["bonded"][0] == 800 * T  # stock leaves with the order
    check = services.verify_order(export, terminal.csr)
    db.session.commit()
    assert check.passed, [verification.english(r.message) for r in verification.run_rules(
        verification.draft_from_order(export)) if r.outcome == "error"]
    # A second bonded delivery is not covered by the first order's entry.
    other = make_order(kind="ship_loading", tank_id=terminal.t2.id, quantity=Decimal("100"), customs_status="bonded",
                       vessel_name="MT Eastern Jade", truck_plates="")
    assert _rule(other, "customs_release").outcome == "error"
    # The released re-export waits on the daily check until its order is completed.
    assert [e.id for e in customs.check_list().reexports_open] == [entry.id]


def test_transfer_between_bonded_owners(terminal, make_order, request_ctx):
    completed_order(terminal, make_order, qty="700", customs_status="bonded")
    transfer = lodge(terminal, kind="bond_transfer", to_customer_id=terminal.vitol.id, quantity=Decimal("250"))
    release(terminal, transfer)
    assert split(terminal)["bonded"][0] == 450 * T
    vitol = split(terminal, customer=terminal.vitol)
    assert vitol["bonded"][0] == 250 * T and vitol["duty_paid"] == (0, 0)
    with pytest.raises(customs.CustomsError, match="receiving customer must differ"):
        customs.lodge_entry(entry_values(terminal, declaration_no="X-2", kind="bond_transfer",
                                         to_customer_id=terminal.sino.id), terminal.csr)
    with pytest.raises(customs.CustomsError, match="needs the customer who receives"):
        customs.lodge_entry(entry_values(terminal, declaration_no="X-3", kind="bond_transfer"), terminal.csr)


def test_entries_are_checked_when_lodged(terminal, make_order, request_ctx):
    lodge(terminal)
    cases = [
        (dict(declaration_no="310420260001234567"), "declaration_no", "already registered"),
        (dict(declaration_no="a"), "declaration_no", "3 to 40"),
        (dict(tank_id=terminal.t1.id), "tank_id", "T-101 is not bonded"),
        (dict(kind="re_export"), "order_number", "give the order number"),
        (dict(order_number="ORD-1999-99999"), "order_number", "There is no order ORD-1999-99999"),
        (dict(broker_name=""), "broker_name", "Name the customs broker"),
        (dict(quantity=Decimal("0")), "quantity", "must be positive"),
        (dict(unit="bbl"), "unit", "t or m³"),
        (dict(lodged_on=local_today() + timedelta(days=1)), "lodged_on", "in the future"),
    ]
    for over, field, fragment in cases:
        values = entry_values(terminal, **{"declaration_no": "NEW-1", **over})
        with pytest.raises(customs.CustomsError) as refused:
            customs.lodge_entry(values, terminal.csr)
        assert refused.value.field == field and fragment in str(refused.value.args[0]), (over, refused.value.args)
    duty_paid = make_order(kind="truck_loading", tank_id=terminal.t2.id)
    with pytest.raises(customs.CustomsError, match="cannot be cleared by this kind"):
        customs.lodge_entry(entry_values(terminal, declaration_no="NEW-2", kind="bonded_entry",
                                         order_number=duty_paid.number), terminal.csr)
    with pytest.raises(customs.CustomsError, match="for duty-paid cargo"):
        customs.lodge_entry(entry_values(terminal, declaration_no="NEW-3", kind="re_export",
                                         order_number=duty_paid.number), terminal.csr)
    vitol = make_order(kind="truck_loading", tank_id=terminal.t2.id, customer_id=terminal.vitol.id)
    with pytest.raises(customs.CustomsError, match="another customer, product or tank"):
        customs.lodge_entry(entry_values(terminal, declaration_no="NEW-4", order_number=vitol.number), terminal.csr)
    assert db.session.scalar(db.select(db.func.count(CustomsEntry.id))) == 1


def test_status_goes_lodged_released_closed(terminal, make_order, request_ctx):
    completed_order(terminal, make_order, qty="100", customs_status="bonded")
    entry = lodge(terminal, quantity=Decimal("10"))
    with pytest.raises(customs.CustomsError, match="Only a released entry can be closed"):
        customs.close_entry(entry, local_today(), terminal.csr)
    customs.update_entry(entry, entry_values(terminal, quantity=Decimal("20")), terminal.csr)
    with pytest.raises(customs.CustomsError, match="in the future"):
        customs.release_entry(entry, utcnow() + HOUR, terminal.csr)
    release(terminal, entry)
    assert split(terminal)["duty_paid"][0] == 20 * T
    with pytest.raises(customs.CustomsError, match="already released"):
        customs.release_entry(entry, utcnow(), terminal.csr)
    with pytest.raises(customs.CustomsError, match="Only a lodged entry can be changed"):
        customs.update_entry(entry, entry_values(terminal, quantity=Decimal("30")), terminal.csr)
    customs.close_entry(entry, local_today(), terminal.csr)
    db.session.commit()
    assert entry.status == "closed" and entry.closed_on == local_today()


def test_customs_stock_ties_to_the_book_and_the_daily_check(terminal, make_order, request_ctx):
    completed_order(terminal, make_order, qty="1000", customs_status="bonded", at=utcnow() - 10 * HOUR)
    old = release(terminal, lodge(terminal, declaration_no="R-OLD", quantity=Decimal("300")), utcnow() - 8 * HOUR)
    new = release(terminal, lodge(terminal, declaration_no="R-NEW", quantity=Decimal("200")), utcnow() - 6 * HOUR)
    waiting = lodge(terminal, declaration_no="R-WAIT", quantity=Decimal("100"),
                    lodged_on=local_today() - timedelta(days=5))
    # 350 t delivered duty-paid: the older release is used up first, then 50 t of the newer one.
    completed_order(terminal, make_order, kind="truck_loading", qty="350", at=utcnow() - 4 * HOUR)
    rows = customs.customs_stock(customer_id=terminal.sino.id)
    assert len(rows) == 1
    row = rows[0]
    assert (row.bonded_kg, row.duty_paid_kg, row.book_kg) == (500 * T, 150 * T, 650 * T)
    assert row.ties and row.awaiting_kg == 100 * T
    checklist = customs.check_list()
    assert [e.declaration_no for e in checklist.waiting] == ["R-WAIT"] and waiting.status == "lodged"
    assert [(u.entry.declaration_no, u.unused_kg) for u in checklist.unused] == [("R-NEW", 150 * T)]
    assert old.status == "released" and new.status == "released"


def test_customs_entries_are_found_by_search(terminal, make_order, people, request_ctx):
    from portal.search import search

    entry = lodge(terminal, declaration_no="223320260000456789", broker_name="Huayang Brokerage")
    staff = people["staff"]
    keys = [hit.key for hit in search("223320260000456789", user=staff, kinds=["customs_entry"]).hits]
    assert keys == [f"customs_entry:{entry.id}"]
    assert [hit.key for hit in search("Huayang", user=staff, kinds=["customs_entry"]).hits] == keys


def test_duty_paid_stock_leaves_first_in_first_out(terminal, make_order, request_ctx):
    """Duty-paid stock received after a release does not keep the release unused: the oldest goes first."""
    completed_order(terminal, make_order, qty="1000", customs_status="bonded", at=utcnow() - 10 * HOUR)
    release(terminal, lodge(terminal, declaration_no="R-FIRST", quantity=Decimal("100")), utcnow() - 8 * HOUR)
    completed_order(terminal, make_order, qty="500", at=utcnow() - 6 * HOUR)  # duty-paid receipt
    assert [u.entry.declaration_no for u in customs.check_list().unused] == ["R-FIRST"]
    completed_order(terminal, make_order, kind="truck_loading", qty="100", at=utcnow() - 4 * HOUR)
    assert customs.check_list().unused == []
    later = release(terminal, lodge(terminal, declaration_no="R-LATER", quantity=Decimal("300")), utcnow() - 3 * HOUR)
    completed_order(terminal, make_order, kind="truck_loading", qty="600", at=utcnow() - 2 * HOUR)
    # 900 t in (100 + 500 + 300), 700 t out: the last 200 t of R-LATER are still there.
    assert [(u.entry.id, u.unused_kg, u.fully_unused) for u in customs.check_list().unused] == \
        [(later.id, 200 * T, False)]

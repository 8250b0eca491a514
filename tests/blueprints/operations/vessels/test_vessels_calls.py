"""Vessel calls: announcing one, changing its times and berth (revisions and their listeners), the status
workflow, cargo parcels linked to ship orders, ETA changes to tell customers (list, dashboard, order page)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.blueprints.operations import services as ops
from portal.blueprints.operations.vessels import services
from portal.blueprints.operations.vessels.models import CallRevision, VesselCall
from portal.extensions import db
from portal.panels import due_list
from portal.services import ServiceError

from vessels_clock import T0

URL = "/operations/vessels"


def _new_call_data(h, **over):
    data = {"vessel_id": h.big.id, "agent_contact_id": h.agent.id, "owner_id": 0, "berth_id": h.b1.id,
            "last_port": "Singapore", "next_port": "Qingdao", "eta": "2026-03-02T12:00", "etb": "2026-03-02T16:00",
            "etc": "", "etd": "2026-03-03T18:00", "remarks": ""}
    data.update(over)
    return data


def test_announce_a_call(client, login, harbour):
    login("csr")
    response = client.post(f"{URL}/calls/new", data=_new_call_data(harbour))
    assert response.status_code == 302
    call = db.session.scalar(db.select(VesselCall))
    assert call.number == "VC-2026-0001" and call.status == "announced" and call.berth == harbour.b1
    assert call.eta == T0  # 12:00 in Shanghai is 04:00 UTC
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "MT Ocean Pioneer" in page and "9074729" in page and "Penavico agent desk" in page


def test_times_out_of_order_are_refused_on_the_field(client, login, harbour):
    login("csr")
    response = client.post(f"{URL}/calls/new", data=_new_call_data(harbour, etb="2026-03-02T08:00"))
    assert response.status_code == 200
    assert "This time is before the one it follows" in response.get_data(as_text=True)
    no_eta = client.post(f"{URL}/calls/new", data=_new_call_data(harbour, eta="", etb=""))
    assert "The ETA is needed." in no_eta.get_data(as_text=True)
    garbage = client.post(f"{URL}/calls/new", data=_new_call_data(harbour, eta="tomorrow"))
    assert garbage.status_code == 200
    assert db.session.scalar(db.select(db.func.count(VesselCall.id))) == 0


def _times(call, **over):
    data = {f"times-{k}": "" for k in ("eta", "etb", "etc", "etd", "nor_at", "all_fast_at", "hoses_on_at",
                                          "hoses_off_at", "departed_at", "note")}
    data.update({"times-eta": "2026-03-02T12:00", "times-etb": "2026-03-02T14:00", "times-etd": "2026-03-03T14:00",
                 "times-berth_id": str(call.berth_id or 0)})
    data.update({f"times-{k}": v for k, v in over.items()})
    return data


def test_a_time_change_is_a_revision_on_the_call_page_and_listeners_see_it(client, login, harbour):
    call = harbour.announce()
    seen = []

    def listener(c, revision):
        # inside the transaction, after flush: the revision has its id and the call its new ETA
        seen.append((c.number, revision.id, dict(revision.changes), c.eta))

    services.register_call_listener(listener)
    try:
        login("csr")
        response = client.post(f"{URL}/calls/{call.id}/times",
                               data=_times(call, eta="2026-03-02T13:00", note="Agent: fog at Shengsi"))
        assert response.status_code == 302
    finally:
        services._call_listeners.remove(listener)
    revision = db.session.scalar(db.select(CallRevision).order_by(CallRevision.id.desc()).limit(1))
    assert revision.user_id is not None and set(revision.changes) == {"eta"}
    assert seen == [(call.number, revision.id, revision.changes, T0 + timedelta(hours=1))]
    page = client.get(f"{URL}/calls/{call.id}").get_data(as_text=True)
    assert "ETA (arrival) 2026-03-02 12:00 → 2026-03-02 13:00" in page
    assert "Agent: fog at Shengsi" in page
    # the same values again: nothing changed, no revision
    client.post(f"{URL}/calls/{call.id}/times", data=_times(call, eta="2026-03-02T13:00"))
    assert db.session.scalar(db.select(db.func.count(CallRevision.id))) == 2  # the announcement and the change


def test_announcing_a_call_is_its_first_revision_and_listeners_see_it(harbour):
    seen = []
    services.register_call_listener(lambda c, r: seen.append((c.number, dict(r.changes))))
    try:
        call = harbour.announce()
    finally:
        services._call_listeners.pop()
    assert seen == [(call.number, {"eta": [None, T0.isoformat()], "etb": [None, (T0 + timedelta(hours=2)).isoformat()],
                                   "etd": [None, (T0 + timedelta(hours=26)).isoformat()],
                                   "berth_id": [None, harbour.b1.id]})]
    # the announcement is no ETA change to tell anyone
    assert services.latest_eta_revision(call) is None


def test_a_failing_listener_undoes_the_change(harbour, request_ctx):
    call = harbour.announce()

    def refuse(c, revision):
        raise ServiceError("the due times cannot move")

    services.register_call_listener(refuse)
    try:
        with pytest.raises(ServiceError):
            services.change_times(call, user=harbour.csr, eta=T0 + timedelta(hours=3))
        db.session.rollback()
    finally:
        services._call_listeners.remove(refuse)
    db.session.expire_all()
    assert db.session.get(VesselCall, call.id).eta == T0
    assert db.session.scalar(db.select(db.func.count(CallRevision.id))) == 1  # the announcement only


def test_a_berth_change_is_a_revision_too(client, login, harbour):
    call = harbour.announce(vessel=harbour.small)
    login("csr")
    client.post(f"{URL}/calls/{call.id}/times", data=_times(call, berth_id=str(harbour.b2.id)))
    assert db.session.get(VesselCall, call.id).berth_id == harbour.b2.id
    page = client.get(f"{URL}/calls/{call.id}").get_data(as_text=True)
    assert "Berth B1 → B2" in page


def test_status_moves_only_along_the_allowed_transitions(client, login, harbour):
    call = harbour.announce()
    login("csr")
    skip = client.post(f"{URL}/calls/{call.id}/status", data={"status-status": "operating"})
    assert skip.status_code == 422  # not a choice for an announced call
    assert db.session.get(VesselCall, call.id).status == "announced"
    for status in ("arrived", "berthed", "operating", "completed", "departed"):
        assert client.post(f"{URL}/calls/{call.id}/status", data={"status-status": status}).status_code == 302
        assert db.session.get(VesselCall, call.id).status == status
    # a departed call is closed: no status, no time change
    assert client.post(f"{URL}/calls/{call.id}/status", data={"status-status": "cancelled",
                                                               "status-reason": "x"}).status_code == 422
    closed = client.post(f"{URL}/calls/{call.id}/times", data=_times(call, eta="2026-03-02T13:00"))
    assert closed.status_code == 422 and "The call is closed" in closed.get_data(as_text=True)


def test_cancelling_needs_a_reason(client, login, harbour):
    call = harbour.announce()
    login("csr")
    response = client.post(f"{URL}/calls/{call.id}/status", data={"status-status": "cancelled"})
    assert response.status_code == 422 and "Give the reason for cancelling the call." in response.get_data(as_text=True)
    client.post(f"{URL}/calls/{call.id}/status", data={"status-status": "cancelled", "status-reason": "Cargo sold"})
    assert db.session.get(VesselCall, call.id).status == "cancelled"


def _ship_order(t, customer, **over):
    values = dict(kind="ship_discharge", customer_id=customer.id, product_id=t.gasoil.id, tank_id=t.t1.id,
                  quantity=Decimal("9000"), unit="t", customs_status="duty_paid",
                  customs_released=False, planned_start=T0, planned_end=None, vessel_name="MT Ocean Pioneer",
                  truck_plates="", instruction_ref="", remarks="")
    values.update(over)
    order = ops.create_order(values, t.csr)
    db.session.commit()
    return order


def _parcel(order, customer, t):
    return {"parcel-customer_id": customer.id, "parcel-order_id": order.id if order else 0,
            "parcel-product_id": t.gasoil.id, "parcel-tank_id": t.t1.id, "parcel-quantity": "9000", "parcel-unit": "t"}


def test_a_parcel_links_the_customers_ship_order_and_the_order_page_shows_the_call(client, login, harbour):
    t = harbour.t
    call = harbour.announce()
    order = _ship_order(t, t.sino)
    login("csr")
    wrong = client.post(f"{URL}/calls/{call.id}/parcels", data=_parcel(order, t.vitol, t))
    assert wrong.status_code == 422 and f"Order {order.number} is another customer&#39;s." in wrong.get_data(as_text=True)
    assert client.post(f"{URL}/calls/{call.id}/parcels", data=_parcel(order, t.sino, t)).status_code == 302
    assert [p.order_id for p in db.session.get(VesselCall, call.id).parcels] == [order.id]
    order_page = client.get(f"/operations/orders/{order.id}").get_data(as_text=True)
    assert 'id="order-vessel-call"' in order_page and call.number in order_page
    assert 'id="order-eta-change"' not in order_page
    # the ETA moves: the order page shows the change and that the customer has not been told yet
    client.post(f"{URL}/calls/{call.id}/times", data=_times(call, eta="2026-03-03T06:00", etb="2026-03-03T08:00",
                                                             etd="2026-03-04T08:00"))
    order_page = client.get(f"/operations/orders/{order.id}").get_data(as_text=True)
    assert "from 2026-03-02 12:00 to 2026-03-03 06:00" in order_page
    assert "The customer has not been told yet." in order_page


def _due(app, user):
    with app.test_request_context():
        return due_list("vessel-eta-changes").rows(user)


def test_eta_changes_to_tell_until_each_customer_is_marked_informed(app, client, login, harbour):
    t = harbour.t
    call = harbour.announce(parcels=[(t.sino, t.gasoil, "9000"), (t.vitol, t.jet, "5000")])
    untouched = harbour.announce(vessel=harbour.small, berth=harbour.b2, parcels=[(t.sino, t.methanol, "900")])
    csr = login("csr")
    client.post(f"{URL}/calls/{call.id}/times", data=_times(call, eta="2026-03-02T20:00", etb="2026-03-02T22:00"))
    listed = client.get(f"{URL}/eta-changes").get_data(as_text=True)
    assert f'data-call="{call.number}" data-customer="SINOCHEM"' in listed
    assert f'data-call="{call.number}" data-customer="VITOLAP"' in listed
    assert untouched.number not in listed
    rows = _due(app, csr)
    assert len(rows) == 2 and listed.count("data-customer=") == 2
    response = client.post(f"{URL}/calls/{call.id}/informed", data={"inform-customer_id": t.sino.id,
                                                                     "inform-how": "phone"})
    assert response.status_code == 302
    listed = client.get(f"{URL}/eta-changes").get_data(as_text=True)
    assert 'data-customer="SINOCHEM"' not in listed and 'data-customer="VITOLAP"' in listed
    assert len(_due(app, csr)) == 1
    # a later ETA change needs telling again
    client.post(f"{URL}/calls/{call.id}/times", data=_times(call, eta="2026-03-03T02:00", etb="2026-03-03T04:00"))
    assert len(_due(app, csr)) == 2
    # the due list is the CSRs' (operations staff do not tell customers)
    assert _due(app, harbour.t.people["staff"]) is None


def test_marking_a_customer_without_cargo_is_refused(client, login, harbour):
    t = harbour.t
    call = harbour.announce(parcels=[(t.sino, t.gasoil, "9000")])
    login("csr")
    client.post(f"{URL}/calls/{call.id}/times", data=_times(call, eta="2026-03-02T20:00", etb="2026-03-02T22:00"))
    response = client.post(f"{URL}/calls/{call.id}/informed", data={"inform-customer_id": t.vitol.id,
                                                                     "inform-how": "phone"})
    assert response.status_code == 422
    assert not db.session.get(VesselCall, call.id).informed


def test_roles_and_bad_input(client, login, harbour):
    call = harbour.announce()
    assert client.get(f"{URL}/calls/{call.id}").status_code in (302, 401)
    login("staff")
    assert client.get(f"{URL}/calls/{call.id}").status_code == 200
    assert client.get(f"{URL}/").status_code == 200
    assert client.post(f"{URL}/calls/{call.id}/times", data=_times(call, eta="2026-03-09T12:00")).status_code == 403
    assert client.post(f"{URL}/calls/{call.id}/status", data={"status-status": "arrived"}).status_code == 403
    assert client.get(f"{URL}/calls/new").status_code == 403
    assert db.session.get(VesselCall, call.id).eta == T0
    assert client.get(f"{URL}/calls/99999999999").status_code == 404
    assert client.get(f"{URL}/?from=2026-02-30").status_code == 404
    assert client.get(f"{URL}/?berth=abc").status_code == 404


def test_bad_input_on_a_call_answers_with_errors_not_500(client, login, harbour):
    call = harbour.announce()
    login("csr")
    bad = client.post(f"{URL}/calls/{call.id}/times", data=_times(call, eta="02/03/2026 noon"))
    assert bad.status_code == 422
    other = harbour.announce(vessel=harbour.small, berth=harbour.b2)
    parcel = services.add_parcel(other, customer=harbour.t.sino, product=harbour.t.methanol, quantity=1)
    db.session.commit()
    # a parcel of another call answers 404 and stays
    assert client.post(f"{URL}/calls/{call.id}/parcels/{parcel.id}/delete").status_code == 404
    assert len(db.session.get(VesselCall, other.id).parcels) == 1


def test_calls_list_filters(client, login, harbour):
    a = harbour.announce()
    b = harbour.announce(vessel=harbour.small, berth=harbour.b2, eta=T0 + timedelta(days=3))
    login("staff")

    def numbers(query):
        page = client.get(f"{URL}/{query}").get_data(as_text=True)
        return {c.number for c in (a, b) if f'data-call="{c.number}"' in page}

    assert numbers("") == {a.number, b.number}
    assert numbers(f"?berth={harbour.b2.id}") == {b.number}
    assert numbers("?q=jade") == {b.number}
    assert numbers("?q=9074729") == {a.number}
    assert numbers("?from=2026-03-04") == {b.number}
    assert numbers("?status=departed") == set()


def _told_reference(limit: int = 500) -> list[tuple[str, str]]:
    """The rows call by call, as a call's page gives them: each open call (soonest ETA first) and its customers not
    told of its latest ETA change (by code)."""
    calls = db.session.scalars(db.select(VesselCall).where(VesselCall.status.in_(services.OPEN_CALL_STATUSES))
                               .order_by(VesselCall.eta, VesselCall.id).limit(limit)).all()
    return [(call.number, customer.code) for call in calls for customer in services.customers_to_inform(call)]


def test_eta_changes_rows_summary_and_count_agree_with_each_calls_own_rule(app, client, login, harbour):
    """The ETA changes list gives exactly the pairs each call's page gives: the latest ETA change only,
    a customer told of an earlier change still listed, a customer with two parcels once, a later change of other
    times not hiding it, closed calls, announcements and changes of other times left out; the dashboard's count
    and first ETA, and the calls page's notice, agree."""
    from portal.panels import DueSummary

    t, csr = harbour.t, harbour.csr
    a = harbour.announce(parcels=[(t.vitol, t.jet, "5000"), (t.sino, t.gasoil, "9000")])
    b = harbour.announce(vessel=harbour.small, berth=harbour.b2, eta=T0 + timedelta(days=3),
                         parcels=[(t.sino, t.methanol, "900"), (t.sino, t.methanol, "300")])
    harbour.announce(vessel=harbour.huge, eta=T0 + timedelta(days=5), parcels=[(t.sino, t.gasoil, "100")])  # announced only
    gone = harbour.announce(vessel=harbour.huge, eta=T0 + timedelta(days=8), parcels=[(t.vitol, t.gasoil, "100")])
    other = harbour.announce(vessel=harbour.small, berth=harbour.b2, eta=T0 + timedelta(days=10),
                             parcels=[(t.vitol, t.methanol, "100")])
    soon = harbour.announce(vessel=harbour.big, berth=harbour.b2, eta=T0 + timedelta(days=12),
                            parcels=[(t.vitol, t.methanol, "100"), (t.sino, t.methanol, "50")])

    def move(call, **times):
        return services.change_times(call, user=csr, **times)

    def shift(call, delta):  # the ETA and ETB together (they stay in order)
        return move(call, eta=call.eta + delta, etb=call.etb + delta)

    shift(a, timedelta(hours=2))
    services.mark_informed(a, t.sino, how="phone", user=csr)  # told of the first change only
    services.mark_informed(a, t.vitol, how="phone", user=csr)
    shift(a, timedelta(hours=1))
    services.mark_informed(a, t.vitol, how="email", user=csr)  # told of the latest
    shift(b, timedelta(hours=5))
    move(b, berth_id=harbour.b1.id)  # a later revision that is not an ETA change
    shift(gone, timedelta(hours=3))
    services.set_status(gone, "cancelled", user=csr, reason="Charter failed")
    move(other, etb=other.etb + timedelta(hours=1))  # not the ETA
    shift(soon, -timedelta(days=11, hours=22))  # now before every other call
    db.session.commit()

    expected = [(soon.number, "SINOCHEM"), (soon.number, "VITOLAP"), (a.number, "SINOCHEM"), (b.number, "SINOCHEM")]
    assert _told_reference() == expected
    with app.test_request_context():
        rows = services.eta_change_rows()
        assert [(r["call"].number, r["customer"].code) for r in rows] == expected
        assert [r["old"] for r in rows][2] == "2026-03-02 14:00"  # the ETA before a's latest change
        assert rows[-1]["revision"].changes["eta"][0] is not None
        item = due_list("vessel-eta-changes")
        due = item.rows(csr)
        assert [d.due for d in due] == [r["call"].eta for r in rows]
        assert item.summarise(csr) == DueSummary(4, soon.eta) == DueSummary(len(due), min(d.due for d in due))
        assert item.summarise(t.people["staff"]) is None
        assert services.eta_changes_to_tell_count() == 3
        assert [(c.number, [x.code for x in cs]) for c, cs in services.eta_changes_to_tell()] == [
            (soon.number, ["SINOCHEM", "VITOLAP"]), (a.number, ["SINOCHEM"]), (b.number, ["SINOCHEM"])]
    assert _told_reference(limit=1) == expected[:2]  # the list reads the soonest calls first
    with app.test_request_context():
        assert [(r["call"].number, r["customer"].code) for r in services.eta_change_rows(limit=1)] == expected[:2]
    login("csr")
    listed = client.get(f"{URL}/eta-changes").get_data(as_text=True)
    assert listed.count("data-customer=") == 4
    assert "3 calls have an ETA change not yet told to every customer." in client.get(f"{URL}/").get_data(as_text=True)
    services.mark_informed(a, t.sino, how="phone", user=csr)
    db.session.commit()
    with app.test_request_context():
        assert due_list("vessel-eta-changes").summarise(csr) == DueSummary(3, soon.eta)
    assert "2 calls have an ETA change" in client.get(f"{URL}/").get_data(as_text=True)

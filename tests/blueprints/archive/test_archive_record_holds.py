"""A record's holds: its own, its series' (or a parent's) and its customer's, in the order placed; not others'."""
from __future__ import annotations

from datetime import date

from portal.blueprints.archive import services
from portal.blueprints.archive.models import Series
from portal.blueprints.customers.models import Customer
from portal.extensions import db


def test_record_holds_are_its_own_its_series_and_its_customers(app, client, login, make_user):
    user = make_user("records", "records_officer")
    acme = Customer(code="ACME", name_en="Acme")
    other = Customer(code="OTHER", name_en="Other")
    db.session.add_all([acme, other])
    db.session.flush()

    def filed(title, customer=None):
        return services.file_document(kind="inquiry", title=title, files=[(f"{title}.txt", title.encode())], user=user,
                                      record_date=date(2019, 1, 1), customer_id=customer.id if customer else None)

    record, neighbour, stranger = filed("Mine", acme), filed("Neighbour", acme), filed("Stranger", other)
    on_customer = services.place_hold(user=user, reason="Customer dispute", customer_id=acme.id)
    on_record = services.place_hold(user=user, reason="Record subpoena", record=record)
    services.place_hold(user=user, reason="Neighbour only", record=neighbour)
    on_other = services.place_hold(user=user, reason="Other customer", customer_id=other.id)
    other_series = db.session.scalar(db.select(Series).filter(Series.id != record.series_id,
                                                              Series.parent_id.is_(None)).order_by(Series.code))
    if other_series is not None and other_series.id not in {s.id for s in _chain(record.series)}:
        services.place_hold(user=user, reason="Another series", series=other_series)
    on_parent = services.place_hold(user=user, reason="Series audit", series=_chain(record.series)[-1])
    db.session.commit()

    assert services.holds_for(record) == [on_record, on_parent, on_customer]
    assert services.holds_for(stranger) == [on_parent, on_other]  # the same series, another customer
    login(user)
    page = client.get(f"/archive/records/{record.id}").get_data(as_text=True)
    assert all(reason in page for reason in ("Record subpoena", "Series audit", "Customer dispute"))
    assert not any(reason in page for reason in ("Neighbour only", "Other customer", "Another series"))
    services.release_hold(on_record, user=user, note="done")
    db.session.commit()
    assert services.holds_for(record) == [on_parent, on_customer]


def _chain(series):
    out = []
    while series is not None:
        out.append(series)
        series = series.parent
    return out

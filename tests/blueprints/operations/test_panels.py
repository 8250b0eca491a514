"""The operations register's dashboard panel of orders waiting for the department: the first eight of each group
(soonest planned start first, unplanned last) and each group's count, as a user sees them."""
from __future__ import annotations

from datetime import timedelta

from portal.blueprints.operations.models import Order
from portal.blueprints.operations.panels import orders_waiting
from portal.extensions import db
from portal.timeutil import utcnow


def _reference():
    """The groups as the orders' own properties give them, every order in the four states read in Python."""
    rows = db.session.scalars(db.select(Order).filter(Order.state.in_(("received", "verified", "handed_over",
                                                                       "in_execution")))).all()
    rows = sorted(rows, key=lambda o: (o.planned_start is None, o.planned_start or utcnow(), o.id))
    groups = ([o for o in rows if o.state == "received"], [o for o in rows if o.state == "verified"],
              [o for o in rows if o.ops_behind])
    return tuple([o.number for o in g[:8]] for g in groups), tuple(len(g) for g in groups)


def _shown(ctx):
    return tuple([o.number for o in ctx[k]] for k in ("to_verify", "to_hand_over", "behind")), ctx["counts"]


def test_the_orders_panel_shows_the_first_eight_of_each_group_and_counts_them_all(app, terminal, make_order, people):
    now = utcnow()
    staff = people["staff"]
    with app.test_request_context():
        assert orders_waiting(staff) is None  # nothing behind: operations staff see no panel
        assert orders_waiting(people["officer"]) is None
    made = []
    for i in range(30):
        made.append(make_order(planned_start=None if i % 7 == 0 else now + timedelta(hours=(i * 5) % 23 - 11)))
    states = ["received"] * 11 + ["verified"] * 9 + ["handed_over"] * 5 + ["in_execution"] * 3 + ["completed", "cancelled"]
    for order, state in zip(made, states):
        order.state = state
    # Amended after the hand-over: operations hold an older version (or none); the others are up to date.
    for order in made[20:28]:
        order.version, order.acknowledged_version = 2, (1 if order.id % 2 else None)
    made[21].acknowledged_version = 2
    made[28].version = 3  # completed: never behind
    db.session.commit()
    expected = _reference()
    assert expected[1] == (11, 9, 7) and [len(g) for g in expected[0]] == [8, 8, 7]
    with app.test_request_context():
        for name in ("csr", "manager"):
            ctx = orders_waiting(people[name])
            assert _shown(ctx) == expected, name
            assert all(o.customer.code and o.product.code and o.tank.code for o in ctx["to_verify"])
        ctx = orders_waiting(staff)
        assert _shown(ctx) == (([], [], expected[0][2]), (0, 0, 7))
    for order in made[20:28]:
        order.acknowledged_version = order.version
    db.session.commit()
    with app.test_request_context():
        assert orders_waiting(staff) is None
        assert _shown(orders_waiting(people["csr"])) == _reference()

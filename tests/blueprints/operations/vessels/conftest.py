"""A small harbour for the vessel call tests, on top of the operations tests' terminal: two berths, three
vessels with real IMO numbers, a ship's agent (a customer contact), and a helper that announces a call."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from portal.blueprints.customers.models import CustomerContact
from portal.blueprints.operations.vessels import services
from portal.extensions import db

from vessels_clock import T0

D = Decimal


@pytest.fixture
def harbour(terminal):
    csr = terminal.csr
    b1 = services.save_berth(None, {"code": "B1", "name_en": "Berth 1", "name_zh": "1号泊位", "max_loa_m": D("200"),
                                    "max_draught_m": D("12.0"), "active": True, "notes": ""},
                             [terminal.gasoil, terminal.jet], csr)
    b2 = services.save_berth(None, {"code": "B2", "name_en": "Berth 2", "name_zh": "2号泊位", "max_loa_m": D("120"),
                                    "max_draught_m": D("8.0"), "active": True, "notes": ""}, [terminal.methanol], csr)
    big = services.save_vessel(None, {"name": "MT Ocean Pioneer", "imo": "9074729", "flag": "Panama", "loa_m": D("182"),
                                      "draught_m": D("11.2"), "dwt": 47000}, csr)
    small = services.save_vessel(None, {"name": "MT Eastern Jade", "imo": "9415167", "flag": "Singapore",
                                        "loa_m": D("110"), "draught_m": D("7.5"), "dwt": 9900}, csr)
    huge = services.save_vessel(None, {"name": "MT Golden Crane", "imo": "9143518", "flag": "Liberia", "loa_m": D("244"),
                                       "draught_m": D("14.2"), "dwt": 105000}, csr)
    agent = CustomerContact(customer=terminal.vitol, name="Penavico agent desk", email="agent@penavico.example")
    db.session.add_all([agent, CustomerContact(customer=terminal.sino, name="Sino ops", email="ops@sinochem.example")])
    db.session.commit()

    def announce(vessel=None, berth=b1, eta=T0, hours=24, parcels=(), **kw):
        call = services.create_call(vessel or big, eta=eta, etb=eta + timedelta(hours=2),
                                    etd=eta + timedelta(hours=2 + hours), berth=berth, agent=agent, user=csr, **kw)
        for customer, product, qty in parcels:
            services.add_parcel(call, customer=customer, product=product, quantity=D(qty))
        db.session.commit()
        return call

    return SimpleNamespace(b1=b1, b2=b2, big=big, small=small, huge=huge, agent=agent, csr=csr, announce=announce,
                           t=terminal)

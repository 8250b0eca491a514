"""Fixtures of the government applications tests: the common application types, a vessel and its calls, and a
helper that changes a call's times through the vessel-call register (a revision, then the call listeners)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.blueprints.operations.applications import services
from portal.blueprints.operations.applications.models import ApplicationType
from portal.blueprints.operations.vessels import services as vessel_services
from portal.blueprints.operations.vessels.models import Vessel, VesselCall
from portal.extensions import db


@pytest.fixture
def ga(app, people):
    """The common types, a tanker, and make_call(eta=..., **times) / move(call, user, **times)."""
    csr = people["csr"]
    services.seed_types(csr)
    vessel = Vessel(name="MT Ocean Pioneer", imo="9074729", flag="Panama")
    db.session.add(vessel)
    db.session.commit()
    types = {t.code: t for t in db.session.scalars(db.select(ApplicationType))}
    numbers = iter(range(1, 10000))

    def make_call(eta, *, status="announced", owner=None, create=True, **times):
        call = VesselCall(number=f"VC-2026-{next(numbers):04d}", vessel_id=vessel.id, status=status, eta=eta,
                          owner_id=(owner or csr).id, **times)
        db.session.add(call)
        db.session.flush()
        if create:
            services.ensure_applications(call, csr)
        db.session.commit()
        return call

    def move(call, user=None, **times):
        """Change the call's times through the vessel-call register (a revision, then the call listeners)."""
        revision = vessel_services.change_times(call, user=user or csr, **times)
        db.session.commit()
        return revision

    return SimpleNamespace(csr=csr, vessel=vessel, types=types, make_call=make_call, move=move, people=people)

"""Fixtures for the customer service tests: a customer, people, and a complaint walked through its states."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.blueprints.complaints import services
from portal.blueprints.customers.models import Customer
from portal.extensions import db


@pytest.fixture
def customer(app):
    c = Customer(code="SINOCHEM", name_en="Sinochem Energy Trading Co., Ltd.", name_zh="中化能源贸易有限公司", long_term=True)
    db.session.add(c)
    db.session.commit()
    return c


@pytest.fixture
def people(make_user):
    return {
        "csr": make_user("csr", "csr"),
        "csr2": make_user("csr2", "csr"),
        "manager": make_user("manager", "cs_manager"),
        "staff": make_user("staff", "staff"),
    }


@pytest.fixture
def new_complaint(customer, people):
    def factory(**fields):
        defaults = dict(
            customer_id=customer.id, title="Short delivery on truck loading", category="quantity",
            description="Customer reports 2.1 t less diesel received than loaded.", user=people["csr"],
            received_at=datetime(2025, 6, 3, 2, 0, tzinfo=UTC),
        )
        defaults.update(fields)
        complaint = services.create_complaint(**defaults)
        db.session.commit()
        return complaint

    return factory


def walk_to(complaint, state: str, people) -> None:
    """Move a complaint along the normal path up to ``state`` (for tests)."""
    csr, manager = people["csr"], people["manager"]
    path = ["acknowledge", "investigate", "start_actions", "request_check", "close"]
    targets = ["acknowledged", "investigating", "actions_in_progress", "awaiting_effectiveness", "closed"]
    sources = ["received"] + targets[:-1]
    for source, action, target in zip(sources, path, targets):
        if complaint.state == state:
            break
        if complaint.state != source:
            continue
        if action == "start_actions":
            services.save_investigation(complaint, csr, root_cause="Meter not calibrated", cause_category="equipment")
        if action == "request_check" and not complaint.actions:
            a = services.add_action(complaint, csr, kind="corrective", description="Recalibrate meter", owner_id=csr.id,
                                    due_date=date(2025, 7, 1))
            services.update_action(a, csr, status="done", completion_note="Calibrated by the vendor")
            services.verify_action(a, manager, accept=True, note="Calibration certificate seen")
        note = ""
        if action == "close":
            services.evaluate(complaint, manager, text="No short deliveries in three months")
            note = "" if complaint.reports else "Customer asked for no written report"
        services.transition(complaint, action, manager if action == "close" else csr, note=note)
        assert complaint.state == target
    db.session.commit()


@pytest.fixture
def walk(people):
    return lambda complaint, state: walk_to(complaint, state, people)


@pytest.fixture(autouse=True)
def _request_context(app):
    """Services raise translatable messages; reading them needs the locale of a request."""
    with app.test_request_context():
        yield


@pytest.fixture
def archive_filer(app):
    """The archive's filing service behind the core ``file_record`` (registered here when the archive does not yet)."""
    from portal.services import has_filer, register_filer

    if not has_filer():
        from portal.blueprints.archive.services import file_document

        register_filer(file_document)

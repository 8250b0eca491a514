"""Fixtures for the management-of-change tests: a customer, people, a complaint to raise a change from."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.blueprints.complaints import services as complaint_services
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
        "manager": make_user("manager", "cs_manager"),
        "staff": make_user("staff", "staff"),
    }


@pytest.fixture
def complaint(customer, people):
    c = complaint_services.create_complaint(
        customer_id=customer.id, title="Short delivery on truck loading", category="quantity",
        description="Customer reports 2.1 t less diesel received than loaded.", user=people["csr"],
        received_at=datetime(2025, 6, 3, 2, 0, tzinfo=UTC),
    )
    db.session.commit()
    return c


@pytest.fixture(autouse=True)
def _request_context(app):
    """Services raise translatable messages; reading them needs the locale of a request."""
    with app.test_request_context():
        yield

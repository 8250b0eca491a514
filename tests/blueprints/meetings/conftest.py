"""Fixtures for the review meeting tests."""
from __future__ import annotations

import pytest

from portal.blueprints.customers.models import Customer
from portal.extensions import db


@pytest.fixture
def customer(app):
    c = Customer(code="VITOLAP", name_en="Vitol Asia Pte Ltd", name_zh="维多亚洲有限公司", long_term=True,
                 report_recipients="stock@vitolap.example")
    db.session.add(c)
    db.session.commit()
    return c


@pytest.fixture
def people(make_user):
    return {"csr": make_user("csr", "csr"), "manager": make_user("manager", "cs_manager"), "staff": make_user("staff", "staff")}


@pytest.fixture(autouse=True)
def _request_context(app):
    """Services raise translatable messages; reading them needs the locale of a request."""
    with app.test_request_context():
        yield

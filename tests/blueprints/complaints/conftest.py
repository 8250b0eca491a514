"""Fixtures for the customer service tests (``customer``, ``people``, ``new_complaint`` and ``walk`` are shared,
from tests/conftest.py)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _request_context(app):
    """Services raise translatable messages; reading them needs the locale of a request."""
    with app.test_request_context():
        yield

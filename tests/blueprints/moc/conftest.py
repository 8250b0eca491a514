"""Fixtures for the management-of-change tests: a complaint to raise a change from (made by the shared
``new_complaint`` of tests/conftest.py, with its ``customer`` and ``people``)."""
from __future__ import annotations

import pytest


@pytest.fixture
def complaint(new_complaint):
    return new_complaint()


@pytest.fixture(autouse=True)
def _request_context(app):
    """Services raise translatable messages; reading them needs the locale of a request."""
    with app.test_request_context():
        yield

"""Fixtures of the billing tests: the small terminal of billing_terminal.py."""
from __future__ import annotations

import pytest

from billing_terminal import BillingTerminal


@pytest.fixture
def bt(app):
    return BillingTerminal()

"""Fixtures of the monthly report tests: the hand-built month of monthly_month.py."""
from __future__ import annotations

import pytest

from monthly_month import Month


@pytest.fixture
def mm(app):
    return Month()

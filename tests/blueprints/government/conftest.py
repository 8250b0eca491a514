"""Government relations fixtures."""
from __future__ import annotations

import pytest


@pytest.fixture
def users(make_user):
    return {
        "csr": make_user("csr", "csr"),
        "manager": make_user("manager", "cs_manager"),
        "staff": make_user("staff", "staff"),
    }

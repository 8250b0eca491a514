"""Knowledge fixtures: users and a few ready-made pages (the public corpus is the shared corpus_dir)."""
from __future__ import annotations

import pytest

from portal.extensions import db


@pytest.fixture
def users(make_user):
    return {
        "csr": make_user("csr", "csr"),
        "manager": make_user("manager", "cs_manager"),
        "staff": make_user("staff", "staff"),
        "trainee": make_user("trainee", "csr"),
    }


@pytest.fixture
def procedure(app, users):
    from portal.blueprints.knowledge import services

    page = services.create_page(kind="procedure", title="Verifying a customer order", title_zh="客户订单核对",
                                body="## Steps\n\nCheck the tank and the ullage.\n", user=users["csr"],
                                slug="verify-order", owner_department="CSD")
    db.session.commit()
    return page


@pytest.fixture
def approve_draft():
    """approve_draft(page, csr, manager, today): submit the draft and approve it."""
    from portal.blueprints.knowledge import services

    def do(page, csr, manager, today):
        services.submit_for_review(page, csr)
        rev = services.approve(page, manager, today=today)
        db.session.commit()
        return rev

    return do

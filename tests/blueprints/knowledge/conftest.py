"""Knowledge fixtures: the public corpus folders and a few ready-made pages."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from portal.extensions import db

ROOT = Path(__file__).resolve().parents[3]
CORPUS = Path(os.environ.get("PORTAL_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "regulations-zh").is_dir():
        pytest.skip("the shared corpus is not available")
    return CORPUS


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

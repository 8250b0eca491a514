"""The demo knowledge base loads idempotently, and every knowledge page renders for each role."""
from __future__ import annotations

import pytest

from portal.blueprints.government.models import Permit, Visit
from portal.blueprints.knowledge import services
from portal.blueprints.knowledge.models import Announcement, Page, Revision, TrainingAssignment, TrainingPlan
from portal.extensions import db


@pytest.fixture
def demo(demo_app):
    """The demonstration terminal, loaded once per run (a private copy per test)."""
    return demo_app


@pytest.fixture
def runner(demo):
    return demo.test_cli_runner()


@pytest.fixture
def client(demo):
    return demo.test_client()


def test_demo_load_is_idempotent(demo, runner):
    counts = [db.session.scalar(db.select(db.func.count(m.id))) for m in (Page, Revision, Announcement, Permit)]
    assert counts[0] >= 8 and counts[2] == 1 and counts[3] == 4
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert counts == [db.session.scalar(db.select(db.func.count(m.id))) for m in (Page, Revision, Announcement, Permit)]
    a = db.session.scalar(db.select(TrainingAssignment))
    assert a.user.username == "trainee" and 0 < services.progress_summary(a)["done"] < len(a.plan.steps)


def _urls():
    urls = ["/knowledge/", "/knowledge/?kind=procedure", "/knowledge/review", "/knowledge/announcements",
            "/knowledge/announcements/overdue", "/knowledge/training", "/knowledge/training/new", "/knowledge/gov",
            "/knowledge/gov/visits/new", "/knowledge/gov/certificates/new", "/knowledge/gov/authorities/new",
            "/knowledge/new?kind=regulation", "/"]
    for page in db.session.scalars(db.select(Page)):
        urls += [f"/knowledge/p/{page.slug}", f"/knowledge/p/{page.slug}/history", f"/knowledge/p/{page.slug}/diff",
                 f"/knowledge/p/{page.slug}/edit", f"/knowledge/p/{page.slug}/announce"]
    for plan in db.session.scalars(db.select(TrainingPlan)):
        urls += [f"/knowledge/training/{plan.id}", f"/knowledge/training/{plan.id}/edit"]
        for a in plan.assignments:
            urls.append(f"/knowledge/training/assignments/{a.id}")
            urls += [f"/knowledge/training/assignments/{a.id}/steps/{s.id}" for s in plan.steps]
    urls += [f"/knowledge/announcements/{a.id}" for a in db.session.scalars(db.select(Announcement))]
    urls += [f"/knowledge/gov/visits/{v.id}" for v in db.session.scalars(db.select(Visit))]
    urls += [f"/knowledge/gov/certificates/{p.id}" for p in db.session.scalars(db.select(Permit))]
    return urls


@pytest.mark.parametrize("username", ["manager", "csr", "staff", "trainee"])
def test_every_page_renders(demo, client, username):
    from portal.blueprints.admin.demo import DEMO_USERS

    password = {u: p for u, _f, _r, p, _d in DEMO_USERS}[username]
    assert client.post("/auth/login", data={"username": username, "password": password}).status_code == 302
    for lang in ("en", "zh_Hans"):
        client.post("/language", data={"language": lang})
        for url in _urls():
            response = client.get(url)
            assert response.status_code in (200, 403), (url, response.status_code)

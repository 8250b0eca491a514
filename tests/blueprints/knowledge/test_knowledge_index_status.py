"""The knowledge list shows each page's status from its revisions (read without their text)."""
from __future__ import annotations

import re
from datetime import date

from portal.blueprints.knowledge import services
from portal.extensions import db

TODAY = date(2026, 11, 27)
ROW = re.compile(r'<a href="/knowledge/p/([a-z0-9-]+)">.*?<span class="badge badge-(\w+)">([^<]+)</span>', re.S)


def _statuses(html: str) -> dict[str, str]:
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")
    found = {}
    for row in rows:
        match = ROW.search(row)
        if match:
            found[match.group(1)] = match.group(3)
    return found


def test_list_shows_draft_in_review_approved_guide_and_regulation(client, login, users, approve_draft):
    csr, manager = users["csr"], users["manager"]
    draft = services.create_page(kind="procedure", title="A draft", body="x", user=csr, slug="a-draft")
    waiting = services.create_page(kind="procedure", title="B waiting", body="x", user=csr, slug="b-waiting")
    approved = services.create_page(kind="procedure", title="C approved", body="x", user=csr, slug="c-approved")
    amended = services.create_page(kind="procedure", title="D amended", body="x", user=csr, slug="d-amended")
    services.create_page(kind="guide", title="E guide", body="x", user=csr, slug="e-guide")
    db.session.commit()
    services.submit_for_review(waiting, csr)
    db.session.commit()
    approve_draft(approved, csr, manager, TODAY)
    approve_draft(amended, csr, manager, TODAY)
    services.add_revision(amended, title=amended.title, body="y", user=csr, note="second")
    services.submit_for_review(amended, csr)
    db.session.commit()
    assert draft.status == "draft"

    login(manager)
    statuses = _statuses(client.get("/knowledge/?per_page=200").get_data(as_text=True))
    assert {k: v for k, v in statuses.items() if k in {"a-draft", "b-waiting", "c-approved", "d-amended", "e-guide"}} == {
        "a-draft": "draft", "b-waiting": "in review", "c-approved": "approved", "d-amended": "in review",
        "e-guide": "published"}
    client.post("/auth/logout")
    login(users["staff"])  # readers see the pages with an approved version only
    statuses = _statuses(client.get("/knowledge/?per_page=200").get_data(as_text=True))
    assert "a-draft" not in statuses and "b-waiting" not in statuses
    assert statuses["c-approved"] == "approved" and statuses["d-amended"] == "in review"

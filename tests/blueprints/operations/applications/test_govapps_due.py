"""Due times of the government applications: computed from the call's current times, stored in UTC, shown in the
portal's time zone, and moving (with the move shown) when the call's times move."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.blueprints.operations.applications import services
from portal.blueprints.operations.applications.models import Application, ApplicationDueChange
from portal.extensions import db

from govapps_support import utc


def _apps(call) -> dict[str, Application]:
    return {a.type.code: a for a in services.for_call(call)}


def test_a_call_gets_one_declaration_of_each_active_type_with_its_due_time(ga):
    # ETA 2026-03-02 01:00 in Shanghai is 2026-03-01 17:00 UTC.
    call = ga.make_call(utc(2026, 3, 1, 17, 0), etb=utc(2026, 3, 1, 21, 0), etd=utc(2026, 3, 3, 5, 0))
    apps = _apps(call)
    assert set(apps) == {"MSA-DG-ARR", "PORT-OPS", "MSA-DEP"}
    assert apps["MSA-DG-ARR"].due_at == utc(2026, 2, 28, 17, 0)  # 24 h before the ETA
    assert apps["PORT-OPS"].due_at == utc(2026, 3, 1, 9, 0)  # 12 h before the ETB
    assert apps["MSA-DEP"].due_at == utc(2026, 3, 3, 1, 0)  # 4 h before the ETD
    assert all(a.state == "draft" for a in apps.values())
    assert services.ensure_applications(call) == []  # asking again creates nothing


def test_due_time_is_shown_in_the_portal_time_zone_on_the_local_day_across_midnight(ga, client, login):
    # 24 h before an ETA of 01:00 local on 2 March is 01:00 local on 1 March (17:00 UTC on 28 February).
    call = ga.make_call(utc(2026, 3, 1, 17, 0))
    app = _apps(call)["MSA-DG-ARR"]
    login(ga.csr)
    page = client.get(f"/operations/applications/{app.id}").get_data(as_text=True)
    assert "2026-03-01 01:00" in page
    assert "2026-02-28 17:00" not in page


@pytest.mark.parametrize("app_config", [{"TIMEZONE": "UTC"}])
def test_the_same_due_time_in_a_utc_portal_is_shown_on_the_previous_day(ga, client, login):
    call = ga.make_call(utc(2026, 3, 1, 17, 0))
    app = _apps(call)["MSA-DG-ARR"]
    login(ga.csr)
    page = client.get(f"/operations/applications/{app.id}").get_data(as_text=True)
    assert "2026-02-28 17:00" in page
    assert "2026-03-01 01:00" not in page


@pytest.mark.parametrize("app_config", [{"TIMEZONE": "Europe/Berlin"}])
def test_lead_time_counts_elapsed_hours_across_a_daylight_saving_change(ga, client, login):
    """Berlin moves to summer time at 02:00 on 29 March 2026: 24 hours before 12:00 CEST is 11:00 CET."""
    call = ga.make_call(datetime(2026, 3, 29, 10, 0, tzinfo=UTC))  # 12:00 CEST
    app = _apps(call)["MSA-DG-ARR"]
    assert app.due_at == datetime(2026, 3, 28, 10, 0, tzinfo=UTC)
    login(ga.csr)
    page = client.get(f"/operations/applications/{app.id}").get_data(as_text=True)
    assert "2026-03-28 11:00" in page


def test_due_time_moves_with_the_eta_across_midnight_and_the_move_is_kept(ga, client, login):
    call = ga.make_call(utc(2026, 3, 1, 17, 0))  # ETA 2 March 01:00 local
    app = _apps(call)["MSA-DG-ARR"]
    # The ship is faster: ETA 1 March 23:00 local, i.e. before midnight.
    revision = ga.move(call, eta=utc(2026, 3, 1, 15, 0))
    db.session.refresh(app)
    assert app.due_at == utc(2026, 2, 28, 15, 0)  # 28 Feb 23:00 local
    change = db.session.scalars(db.select(ApplicationDueChange).filter_by(application_id=app.id)).one()
    assert change.old_due_at == utc(2026, 2, 28, 17, 0) and change.new_due_at == utc(2026, 2, 28, 15, 0)
    assert change.revision_id == revision.id and change.user_id == ga.csr.id
    assert change.reason == "ETA 2026-03-02 01:00 → 2026-03-01 23:00"

    login(ga.csr)
    page = client.get(f"/operations/applications/{app.id}").get_data(as_text=True)
    due = re.search(r'<dd id="app-due"[^>]*>(.*?)</dd>', page, re.S).group(1)
    assert "2026-02-28 23:00" in due
    assert "<del>2026-03-01 01:00</del>" in due  # the previous due time, struck through
    assert "ETA 2026-03-02 01:00 → 2026-03-01 23:00" in due


def test_a_time_that_does_not_anchor_the_declaration_moves_nothing(ga):
    call = ga.make_call(utc(2026, 3, 1, 17, 0), etb=utc(2026, 3, 1, 21, 0), etd=utc(2026, 3, 3, 5, 0))
    ga.move(call, etd=utc(2026, 3, 3, 9, 0))
    apps = _apps(call)
    assert apps["MSA-DG-ARR"].due_changes == [] and apps["PORT-OPS"].due_changes == []
    assert apps["MSA-DEP"].due_at == utc(2026, 3, 3, 5, 0)
    assert len(apps["MSA-DEP"].due_changes) == 1


def test_without_an_etb_the_port_application_is_due_from_the_eta_until_the_etb_is_known(ga, client, login):
    call = ga.make_call(utc(2026, 3, 1, 17, 0))
    app = _apps(call)["PORT-OPS"]
    assert (app.due_at, app.due_basis) == (utc(2026, 3, 1, 5, 0), "eta")
    login(ga.csr)
    page = client.get(f"/operations/applications/{app.id}").get_data(as_text=True)
    assert "ETB (berthing) not known yet" in page
    ga.move(call, etb=utc(2026, 3, 2, 3, 0))
    db.session.refresh(app)
    assert (app.due_at, app.due_basis) == (utc(2026, 3, 1, 15, 0), "etb")
    assert app.due_changes[-1].reason.startswith("ETB — → ")


def test_answered_applications_keep_their_due_time(ga):
    call = ga.make_call(utc(2026, 3, 1, 17, 0))
    app = _apps(call)["MSA-DG-ARR"]
    services.submit(app, ga.csr, reference_no="MSA-1", at=utc(2026, 2, 27, 9, 0))
    services.approve(app, ga.csr, approval_no="A-1", at=utc(2026, 2, 27, 12, 0))
    db.session.commit()
    ga.move(call, eta=utc(2026, 3, 4, 17, 0))
    db.session.refresh(app)
    assert app.due_at == utc(2026, 2, 28, 17, 0) and app.due_changes == []


def test_a_manager_changing_the_lead_time_moves_open_declarations(ga, client, login):
    call = ga.make_call(utc(2026, 3, 1, 17, 0))
    login(ga.people["manager"])
    t = ga.types["MSA-DG-ARR"]
    response = client.post(f"/operations/applications/types/{t.id}/edit", data={
        "code": t.code, "name_en": t.name_en, "name_zh": t.name_zh, "authority": "msa", "anchor": "eta",
        "lead_hours": "-48", "documents": t.documents, "description": "", "sort_order": "10", "active": "y"})
    assert response.status_code == 302
    app = _apps(call)["MSA-DG-ARR"]
    assert app.due_at == utc(2026, 2, 27, 17, 0)
    assert "48 h before ETA" in app.due_changes[-1].reason


def test_due_now_lists_overdue_and_next_24_hours_only(ga):
    now = datetime.now(UTC)
    soon = ga.make_call(now + timedelta(hours=30))  # DG declaration due in 6 h
    late = ga.make_call(now + timedelta(hours=20))  # DG declaration due 4 h ago
    later = ga.make_call(now + timedelta(days=5))  # nothing due yet
    due = services.due_now(now)
    codes = {(a.call_id, a.type.code) for a in due}
    assert (soon.id, "MSA-DG-ARR") in codes and (late.id, "MSA-DG-ARR") in codes
    assert not any(a.call_id == later.id for a in due)
    overdue = [a for a in due if a.is_overdue(now)]
    assert {a.call_id for a in overdue if a.type.code == "MSA-DG-ARR"} == {late.id}


def test_a_call_announced_in_the_register_has_its_declarations_at_once(ga):
    from portal.blueprints.operations.vessels import services as vessels

    call = vessels.create_call(ga.vessel, eta=utc(2026, 5, 10, 2, 0), etb=utc(2026, 5, 10, 8, 0), user=ga.csr)
    db.session.commit()
    apps = _apps(call)
    assert set(apps) == {"MSA-DG-ARR", "PORT-OPS", "MSA-DEP"}
    assert apps["PORT-OPS"].due_at == utc(2026, 5, 9, 20, 0)
    assert apps["MSA-DEP"].due_basis == "etb"  # no ETD or ETC yet: from the ETB, and said so
    assert all(a.due_changes == [] for a in apps.values())  # the announcement is not a move
    assert [a for a in services.due_now(utc(2026, 5, 9, 12, 0)) if a.call_id == call.id]

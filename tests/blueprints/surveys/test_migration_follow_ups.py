"""The migration ``capa18_action_source`` carries the former survey follow-ups over into CAPA actions (and the
downgrade carries them back)."""
from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timezone

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.config import normalise_database_url
from portal.blueprints.complaints.models import CapaAction
from portal.blueprints.customers.models import Customer, CustomerContact
from portal.blueprints.surveys import services
from portal.blueprints.surveys.models import SurveyAnswer
from portal.extensions import db
from portal.models import User

BEFORE = "wire20_order_owner"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    base = make_url(normalise_database_url(PG_URL))
    name = f"portal_capa_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _answers(user, kit):
    customer = Customer(code="ACME", name_en="Acme Trading", name_zh="阿克米贸易")
    customer.contacts.append(CustomerContact(name="Jane Doe", email="jane@acme.example"))
    db.session.add(customer)
    db.session.flush()
    _q, version = kit.build_version(user)
    _campaign, invitations = kit.open_campaign(version, user, customer)
    questions = {q.key: q for q in version.questions}
    services.save_answers(invitations[0], {questions["order_handling"].id: {"value": 1},
                                           questions["recommend"].id: {"value": 3},
                                           questions["comments"].id: {"text": "Too slow"}}, submit=True, language="en")
    db.session.commit()
    return {a.question.key: a.id for a in db.session.scalars(db.select(SurveyAnswer))}


def test_old_follow_ups_become_capa_actions_and_come_back_on_downgrade(tmp_path, kit, empty_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": empty_database,
                      "INSTANCE_PATH": str(tmp_path / "instance"), "SEARCH_INDEX_DIR": str(tmp_path / "index"),
                      "ARCHIVE_DIR": str(tmp_path), "KNOWLEDGE_DIR": str(tmp_path), "WTF_CSRF_ENABLED": False})
    with app.app_context(), app.test_request_context():
        upgrade(revision=BEFORE)
        owner = User(username="owner", full_name="Owner")
        owner.set_password("x" * 12)
        owner.set_roles(("csr",))
        db.session.add(owner)
        db.session.commit()
        ids = _answers(owner, kit)
        done_at = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
        rows = [(ids["order_handling"], "Call the customer", "open", "", None),
                (ids["recommend"], "Agree an improvement plan", "done", "Agreed on 2 March", done_at),
                (ids["comments"], "Nothing to do", "cancelled", "", None)]
        with db.engine.begin() as conn:
            for answer_id, description, status, note, completed in rows:
                conn.execute(text(
                    "INSERT INTO sv_follow_up (answer_id, description, owner_id, due_date, status, completion_note, "
                    "completed_at, created_at, updated_at, created_by_id) VALUES (:a, :d, :o, :due, :s, :n, :c, "
                    ":at, :at, :o)"), {"a": answer_id, "d": description, "o": owner.id, "due": date(2026, 3, 31),
                                       "s": status, "n": note, "c": completed, "at": datetime(2026, 2, 1, tzinfo=timezone.utc)})
        db.session.remove()

        upgrade()
        actions = {a.description: a for a in db.session.scalars(db.select(CapaAction))}
        assert set(actions) == {"Call the customer", "Agree an improvement plan", "Nothing to do"}
        for a in actions.values():
            assert a.complaint_id is None and a.kind == "corrective" and a.owner_id == owner.id
            assert a.due_date == date(2026, 3, 31) and a.created_by_id == owner.id
        assert actions["Call the customer"].survey_answer_id == ids["order_handling"]
        assert actions["Call the customer"].status == "open"
        moved = actions["Agree an improvement plan"]
        # done, never verified by a second person: it waits for verification, the loop is not closed yet
        assert (moved.status, moved.completion_note, moved.completed_at) == ("done", "Agreed on 2 March", done_at)
        assert moved.verified_by_id is None
        assert actions["Nothing to do"].status == "cancelled"
        answer = db.session.get(SurveyAnswer, ids["recommend"])
        assert services.loop_status(answer, []) == "verifying"
        with db.engine.connect() as conn:
            assert "sv_follow_up" not in db.inspect(conn).get_table_names()
        db.session.remove()

        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT answer_id, description, status, completion_note FROM sv_follow_up "
                                     "ORDER BY answer_id")).all()
            assert sorted(back) == sorted((a, d, s, n) for a, d, s, n, _c in rows)
            assert conn.execute(text("SELECT count(*) FROM cs_capa_action")).scalar() == 0
        db.engine.dispose()

"""The audit trail: who changed what, with old and new values, written with the change; append-only."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from portal.audit import AuditEntry, AuditImmutable, acting_as, history_for
from portal.blueprints.customers.models import Customer, CustomerContact
from portal.extensions import db
from portal.models import User


def _entries(entity, entity_id=None, action=None):
    stmt = db.select(AuditEntry).filter_by(entity=entity).order_by(AuditEntry.id)
    if entity_id is not None:
        stmt = stmt.filter_by(entity_id=str(entity_id))
    if action:
        stmt = stmt.filter_by(action=action)
    return list(db.session.scalars(stmt))


def _customer(code="ACME", **kw):
    customer = Customer(code=code, name_en=kw.pop("name_en", "Acme Trading"), **kw)
    db.session.add(customer)
    db.session.commit()
    return customer


def test_creating_a_customer_through_the_page_is_recorded_with_its_values(client, login):
    user = login("csr")
    client.post("/customers/new", data={"code": "ACME", "name_en": "Acme Trading", "name_zh": "艾克美贸易"})
    customer = db.session.scalar(db.select(Customer).filter_by(code="ACME"))
    [entry] = _entries("customer", customer.id)
    assert entry.action == "insert"
    assert entry.user_id == user.id and entry.actor == "csr"
    assert entry.change_map["code"] == [None, "ACME"]
    assert entry.change_map["name_zh"] == [None, "艾克美贸易"]
    assert abs((datetime.now(UTC) - entry.at).total_seconds()) < 60


def test_editing_a_name_records_old_and_new_value_only_for_what_changed(client, login):
    customer = _customer()
    login("csr")
    client.post(f"/customers/{customer.id}/edit", data={"code": "ACME", "name_en": "Acme Chemicals", "active": "y"})
    [entry] = _entries("customer", customer.id, "update")
    assert entry.change_map == {"name_en": ["Acme Trading", "Acme Chemicals"]}
    assert entry.actor == "csr"


def test_saving_without_changes_writes_no_entry(client, login):
    customer = _customer()
    login("csr")
    client.post(f"/customers/{customer.id}/edit", data={"code": "ACME", "name_en": "Acme Trading", "active": "y"})
    assert _entries("customer", customer.id, "update") == []


def test_removing_a_contact_records_the_deleted_values(client, login):
    customer = _customer()
    contact = CustomerContact(customer=customer, name="Ms Wu", email="wu@acme.example", phone="123")
    db.session.add(contact)
    db.session.commit()
    contact_id = contact.id
    login("csr")
    response = client.post(f"/customers/{customer.id}/contacts/{contact_id}/delete")
    assert response.status_code == 302
    [entry] = _entries("customer_contact", contact_id, "delete")
    assert entry.change_map["name"] == ["Ms Wu", None]
    assert entry.change_map["email"] == ["wu@acme.example", None]
    assert entry.actor == "csr"


def test_a_delete_of_an_expired_record_still_records_its_values(app):
    customer = _customer()
    db.session.expire_all()
    db.session.delete(db.session.get(Customer, customer.id))
    db.session.expire(customer)  # nothing loaded when the flush happens
    db.session.commit()
    [entry] = _entries("customer", customer.id, "delete")
    assert entry.change_map["code"] == ["ACME", None]


def test_a_contact_dropped_from_its_customer_is_recorded_as_deleted(app):
    customer = _customer()
    customer.contacts.append(CustomerContact(name="Ms Wu"))
    db.session.commit()
    contact_id = customer.contacts[0].id
    customer.contacts.clear()  # delete-orphan: deleted by the flush, never passed to session.delete()
    db.session.commit()
    assert db.session.get(CustomerContact, contact_id) is None
    [entry] = _entries("customer_contact", contact_id, "delete")
    assert entry.change_map["name"] == ["Ms Wu", None]


def test_an_update_after_commit_knows_the_old_value(app):
    customer = _customer()  # committed: every attribute expired
    with acting_as(name="script"):
        customer.name_en = "Acme Chemicals"
        db.session.commit()
    [entry] = _entries("customer", customer.id, "update")
    assert entry.change_map == {"name_en": ["Acme Trading", "Acme Chemicals"]}
    assert entry.actor == "script"


def test_changing_a_users_roles_is_recorded(client, login, make_user):
    bob = make_user("bob", "staff")
    login("admin")
    response = client.post(f"/admin/users/{bob.id}", data={
        "username": "bob", "full_name": "Bob", "roles": ["csr", "records_officer"], "active": "y", "department_id": "0",
    })
    assert response.status_code == 302
    [entry] = _entries("user", bob.id, "update")
    assert entry.change_map["roles"] == [["staff"], ["csr", "records_officer"]]
    assert entry.actor == "admin"


def test_password_hashes_never_reach_the_trail(client, login, make_user):
    bob = make_user("bob", "staff")
    login("admin")
    client.post(f"/admin/users/{bob.id}/password", data={"reset-password": "another-pass-99"})
    for entry in _entries("user", bob.id):
        assert "scrypt" not in entry.changes


def test_changes_from_the_cli_name_the_actor(app):
    with acting_as(name="cli"):
        _customer()
    [entry] = _entries("customer")
    assert entry.actor == "cli" and entry.user_id is None


def test_the_entry_is_in_the_same_transaction_as_the_change(app):
    db.session.add(Customer(code="ACME", name_en="Acme"))
    db.session.flush()
    assert len(_entries("customer")) == 1
    db.session.rollback()
    assert _entries("customer") == []
    assert db.session.scalar(db.select(db.func.count(Customer.id))) == 0


# --- append-only ----------------------------------------------------------------------------------

def test_the_orm_refuses_to_change_an_entry(app):
    _customer()
    entry = _entries("customer")[0]
    entry.actor = "someone else"
    with pytest.raises(AuditImmutable):
        db.session.flush()
    db.session.rollback()
    assert _entries("customer")[0].actor != "someone else"


def test_the_orm_refuses_to_delete_an_entry(app):
    _customer()
    db.session.delete(_entries("customer")[0])
    with pytest.raises(AuditImmutable):
        db.session.flush()
    db.session.rollback()
    assert len(_entries("customer")) == 1


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entry SET actor = 'mallory'",
    "DELETE FROM audit_entry",
])
def test_the_database_refuses_raw_sql_changes(app, statement):
    _customer()
    with pytest.raises(DatabaseError, match="audit entries are immutable"):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    [entry] = _entries("customer")
    assert entry.actor != "mallory"


def test_bulk_orm_statements_are_refused_too(app):
    _customer()
    with pytest.raises(DatabaseError):
        db.session.execute(db.update(AuditEntry).values(actor="mallory"))
    db.session.rollback()
    with pytest.raises(DatabaseError):
        db.session.execute(db.delete(AuditEntry))
    db.session.rollback()
    assert len(_entries("customer")) == 1


def test_no_route_can_change_audit_rows(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/audit"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


# --- pages ----------------------------------------------------------------------------------------

def _seed_trail(make_user):
    alice = make_user("alice", "csr")
    bob = make_user("bob", "csr")
    with acting_as(alice):
        db.session.add(Customer(code="ALPHA", name_en="Alpha"))
        db.session.commit()
    with acting_as(bob):
        db.session.add(Customer(code="BRAVO", name_en="Bravo"))
        db.session.add(User(username="carol", password_hash="x"))
        db.session.commit()
    return alice, bob


def test_the_audit_log_filters_by_user(client, login, make_user):
    _seed_trail(make_user)
    login("cs_manager")
    page = client.get("/admin/audit", query_string={"user": "alice"}).get_data(as_text=True)
    assert "ALPHA" in page and "BRAVO" not in page


def test_the_audit_log_filters_by_entity(client, login, make_user):
    _seed_trail(make_user)
    login("cs_manager")
    page = client.get("/admin/audit", query_string={"entity": "customer"}).get_data(as_text=True)
    assert "ALPHA" in page and "BRAVO" in page and "carol" not in page
    page = client.get("/admin/audit", query_string={"entity": "user", "user": "bob"}).get_data(as_text=True)
    assert "carol" in page and "BRAVO" not in page


def test_the_audit_log_filters_by_date(client, login, make_user, time_machine):
    time_machine.move_to(datetime(2026, 1, 5, 2, 0, tzinfo=UTC), tick=False)  # 10:00 in Shanghai
    _customer("OLD")
    time_machine.move_to(datetime(2026, 2, 5, 2, 0, tzinfo=UTC), tick=False)
    _customer("NEW")
    login("admin")
    page = client.get("/admin/audit", query_string={"date_from": "2026-02-01"}).get_data(as_text=True)
    assert "NEW" in page and "OLD" not in page
    page = client.get("/admin/audit", query_string={"date_to": "2026-01-05", "entity": "customer"}).get_data(as_text=True)
    assert "OLD" in page and "NEW" not in page
    page = client.get("/admin/audit", query_string={"date_from": "2026-01-06", "date_to": "2026-02-04"}).get_data(as_text=True)
    assert "No audit entries match these filters." in page


def test_a_bad_date_in_the_filter_is_a_field_error_not_a_crash(client, login):
    login("admin")
    response = client.get("/admin/audit", query_string={"date_from": "yesterday"})
    assert response.status_code == 200


@pytest.mark.parametrize("args", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}, {"date_to": "2026-02-30"}])
def test_dates_out_of_range_in_the_filter_are_field_errors(client, login, args):
    login("admin")
    assert client.get("/admin/audit", query_string=args).status_code == 200


def test_the_audit_log_is_paginated(client, login):
    for i in range(30):
        db.session.add(Customer(code=f"C{i:02d}", name_en=f"Customer {i}"))
    db.session.commit()
    login("admin")
    first = client.get("/admin/audit", query_string={"per_page": 20, "entity": "customer"}).get_data(as_text=True)
    assert "30 in all" in first
    assert "C29" in first and "C00" not in first, "newest first"
    second = client.get("/admin/audit", query_string={"per_page": 20, "entity": "customer", "page": 2}).get_data(as_text=True)
    assert "C00" in second and "C29" not in second


def test_the_audit_log_filter_returns_rows_for_htmx(client, login, make_user):
    _seed_trail(make_user)
    login("admin")
    fragment = client.get("/admin/audit", query_string={"user": "alice"}, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "ALPHA" in fragment and "<html" not in fragment


def test_the_history_of_a_record(client, login):
    customer = _customer()
    login("csr")
    client.post(f"/customers/{customer.id}/edit", data={"code": "ACME", "name_en": "Acme Chemicals", "active": "y"})
    page = client.get(f"/admin/audit/customer/{customer.id}").get_data(as_text=True)
    assert "History of Customer: ACME Acme Chemicals" in page
    timeline = page[page.index('<ol class="timeline">'):]
    assert "Acme Trading" in timeline and "Acme Chemicals" in timeline
    assert timeline.index("created") < timeline.index("changed")


def test_the_customer_page_links_to_its_history(client, login):
    customer = _customer()
    login("staff")
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f"/admin/audit/customer/{customer.id}" in page
    assert client.get(f"/admin/audit/customer/{customer.id}").status_code == 200


def test_history_of_unknown_records_is_404(client, login):
    login("admin")
    assert client.get("/admin/audit/customer/999").status_code == 404
    assert client.get("/admin/audit/no_such_table/1").status_code == 404


def test_history_of_users_is_for_managers_only(client, login, make_user):
    bob = make_user("bob", "staff")
    login("staff")
    assert client.get(f"/admin/audit/user/{bob.id}").status_code == 403


def test_history_for_helper(app):
    customer = _customer()
    customer.name_en = "Renamed"
    db.session.commit()
    assert [e.action for e in history_for("customer", customer.id)] == ["insert", "update"]


def test_setting_a_relationship_records_the_foreign_key(app, make_user):
    wang = make_user("wang", "csr")
    customer = _customer()
    customer.csr = wang
    db.session.commit()
    [entry] = _entries("customer", customer.id, "update")
    assert entry.change_map == {"csr_id": [None, wang.id]}


# --- records named by kind and title, not by table (issue 12, item 15) ----------------------------

def test_every_audited_model_has_a_kind_label(app):
    """A new model must name its records in the trail: register_record_kind or __audit_label__."""
    from portal.audit import _KINDS

    missing = [m.class_.__tablename__ for m in db.Model.registry.mappers
               if getattr(m.class_, "__audit__", True) and hasattr(m.class_, "__table__")
               and m.class_.__tablename__ not in _KINDS and not getattr(m.class_, "__audit_label__", None)]
    assert missing == []


def test_the_audit_log_names_kind_and_title(client, login):
    customer = _customer(name_zh="阿克米贸易")
    customer.contacts.append(CustomerContact(name="Jane Doe"))
    db.session.commit()
    login("admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Customer: ACME 阿克米贸易 / Acme Trading" in page
    assert "Customer contact: Jane Doe (ACME)" in page
    assert f"customer #{customer.id}" not in page and "customer_contact #" not in page
    # the record type filter offers kinds, not table names
    assert '<option value="customer_contact" >Customer contact</option>' in page


def test_a_deleted_record_keeps_its_title_from_the_trail(client, login):
    customer = _customer()
    contact = CustomerContact(name="Jane Doe")
    customer.contacts.append(contact)
    db.session.commit()
    contact_id = contact.id
    db.session.delete(contact)
    db.session.commit()
    login("admin")
    page = client.get(f"/admin/audit/customer_contact/{contact_id}").get_data(as_text=True)
    assert "History of Customer contact: Jane Doe" in page


def test_an_archived_file_is_named_by_its_record(app, make_user):
    from portal.audit import record_label
    from portal.blueprints.archive import services as archive

    user = make_user("records", "records_officer")
    with acting_as(user):
        record = archive.file_document(kind="daily_report", title="Daily stock report 2025-03-02",
                                       files=[("report.txt", b"opening closing")], user=user)
        db.session.commit()
    file_id = record.files[0].id
    assert record_label("archive_record_file", file_id, user) == "Archived file: Daily stock report 2025-03-02"
    assert record_label("archive_record", record.id, user).startswith("Archived record: ")


def test_restricted_titles_are_not_shown_to_who_may_not_see_them(app, make_user):
    from portal.audit import record_label

    class Restricted:
        is_manager = False
        is_authenticated = True
        id = -1

    customer = _customer()
    customer.can_view = lambda user: False  # as a restricted record answers for an outsider
    assert record_label("customer", customer.id, Restricted()) == f"Customer #{customer.id}"


def test_unknown_tables_read_as_words(app):
    from portal.audit import kind_label

    assert kind_label("some_new_table") == "Some new table"


def test_the_chinese_audit_log_shows_field_labels_states_yes_no_roles_and_actors(client, login, make_user):
    from portal.blueprints.complaints.models import Complaint

    with acting_as(name="cli"):
        customer = _customer()
        complaint = Complaint(customer_id=customer.id, title="Tank 7 odour", category="quality",
                              received_at=datetime(2026, 11, 1, tzinfo=UTC), ack_due_at=datetime(2026, 11, 2, tzinfo=UTC),
                              state="awaiting_effectiveness")
        db.session.add(complaint)
        db.session.commit()
        complaint.state = "closed"
        complaint.closed_at = datetime(2026, 11, 20, tzinfo=UTC)
        customer.active = False
        db.session.commit()
    bob = make_user("bob", "staff")
    login(make_user("boss", "admin", language="zh_Hans"))
    client.post(f"/admin/users/{bob.id}", data={
        "username": "bob", "full_name": "Bob", "roles": ["cs_manager", "records_officer"], "active": "y",
        "department_id": "0",
    })
    page = client.get(f"/admin/audit/cs_complaint/{complaint.id}").get_data(as_text=True)
    timeline = page[page.index('<ol class="timeline">'):]
    assert "closed_at" not in timeline and "关闭时间" in timeline
    assert "awaiting_effectiveness" not in timeline and "待效果验证" in timeline and "已关闭" in timeline
    assert "命令行" in timeline and "· cli ·" not in timeline
    page = client.get(f"/admin/audit/customer/{customer.id}").get_data(as_text=True)
    assert "客户：ACME" in page and "客户: ACME" not in page  # the record's label in one Chinese format
    timeline = page[page.index('<ol class="timeline">'):]
    assert "启用" in timeline and "True" not in timeline and "False" not in timeline
    assert "<del>是</del> → <ins>否</ins>" in timeline
    page = client.get(f"/admin/audit/user/{bob.id}").get_data(as_text=True)
    timeline = page[page.index('<ol class="timeline">'):]
    assert "客服经理" in timeline and "档案管理员" in timeline and "cs_manager" not in timeline


def test_every_audited_column_has_a_translatable_label(app):
    """Walks every audited model: a column the audit log can show is named by a label the catalogue
    translates, never by its column name in English words (a new model is covered from its first column)."""
    from flask_babel import force_locale

    from portal.audit import _audited_class, field_label

    unlabelled, untranslated = [], []
    with app.test_request_context():
        for mapper in db.Model.registry.mappers:
            cls = mapper.class_
            if not _audited_class(cls):
                continue
            skip = set(getattr(cls, "__audit_exclude__", set())) | {"id", "updated_at"}
            for column in cls.__table__.columns:
                if column.key in skip:
                    continue
                fallback = (column.key[:-3] if column.key.endswith("_id") else column.key).replace("_", " ").strip().capitalize()
                english = field_label(cls.__tablename__, column.key)
                with force_locale("zh_Hans"):
                    chinese = field_label(cls.__tablename__, column.key)
                if english == fallback and chinese == fallback:
                    unlabelled.append(f"{cls.__tablename__}.{column.key}")
                elif chinese == english and not english.isupper():
                    untranslated.append(f"{cls.__tablename__}.{column.key}: {english}")
    assert not unlabelled, f"audited columns without a label: {unlabelled}"
    assert not untranslated, f"labels without a Chinese translation: {untranslated}"

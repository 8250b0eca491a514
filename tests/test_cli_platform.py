"""`flask users create` and `flask demo load`."""
from __future__ import annotations

from portal.audit import AuditEntry
from portal.blueprints.customers.models import Customer
from portal.extensions import db
from portal.models import Department, User


def _count(model):
    return db.session.scalar(db.select(db.func.count(model.id)))


def test_users_create_reads_the_password_from_stdin(app, runner, client):
    result = runner.invoke(args=["users", "create", "wang", "--role", "csr", "--role", "records_officer",
                                 "--password-stdin", "--full-name", "Wang Fang"], input="a-long-password-1\n")
    assert result.exit_code == 0, result.output
    assert "created wang (csr, records_officer)" in result.output
    user = db.session.scalar(db.select(User).filter_by(username="wang"))
    assert user.role_names == {"csr", "records_officer"} and user.full_name == "Wang Fang"
    response = client.post("/auth/login", data={"username": "wang", "password": "a-long-password-1"})
    assert response.status_code == 302
    entry = db.session.scalar(db.select(AuditEntry).filter_by(entity="user", entity_id=str(user.id)))
    assert entry.actor == "cli" and entry.action == "insert"


def test_a_duplicate_user_is_refused(app, runner, make_user):
    make_user("wang", "staff")
    result = runner.invoke(args=["users", "create", "WANG", "--role", "csr", "--password-stdin"], input="a-long-password-1\n")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert _count(User) == 1


def test_a_short_password_is_refused(app, runner):
    result = runner.invoke(args=["users", "create", "wang", "--role", "csr", "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert _count(User) == 0


def test_an_unknown_role_is_refused(app, runner):
    result = runner.invoke(args=["users", "create", "wang", "--role", "boss", "--password-stdin"], input="a-long-password-1\n")
    assert result.exit_code != 0
    assert _count(User) == 0


def test_users_list(app, runner, make_user):
    make_user("wang", "csr")
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert "wang\tcsr\tactive" in result.output


def test_demo_load_is_idempotent(demo_app):
    # demo_app holds one load already (the shared copy): a second load changes nothing
    counts = {m.__name__: _count(m) for m in (User, Department, Customer)}
    assert counts["User"] >= 7 and counts["Customer"] >= 10 and counts["Department"] >= 6
    audit_rows = _count(AuditEntry)
    second = demo_app.test_cli_runner().invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "Demo sign-ins" in second.output and "admin-demo-2026" in second.output
    assert {m.__name__: _count(m) for m in (User, Department, Customer)} == counts
    assert _count(AuditEntry) == audit_rows, "a second load changes nothing"


def test_demo_customers_have_both_names_and_demo_users_sign_in(demo_app):
    sinochem = db.session.scalar(db.select(Customer).filter_by(code="SINOCHEM"))
    assert sinochem.name_zh == "中化能源贸易有限公司" and sinochem.contacts
    client = demo_app.test_client()
    assert client.post("/auth/login", data={"username": "manager", "password": "manager-demo-2026"}).status_code == 302


def test_demo_load_if_empty_skips_a_used_database(app, runner, make_user):
    make_user("someone", "staff")
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0
    assert _count(Customer) == 0

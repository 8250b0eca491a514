"""Administration: users (create, roles, deactivate, reset password) and departments."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import Department, User

PASSWORD = "test-password-123"


def _user_form(**overrides):
    data = {"username": "wang", "full_name": "Wang Fang 王芳", "email": "wang@terminal.example",
            "department_id": "0", "roles": ["csr"], "language": "", "active": "y", "password": "first-pass-123"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _get_user(name):
    db.session.expire_all()
    return db.session.scalar(db.select(User).filter_by(username=name))


def _sign_in(client, username, password):
    return client.post("/auth/login", data={"username": username, "password": password})


def test_the_user_list(client, login, make_user):
    make_user("wang", "csr", full_name="Wang Fang")
    login("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Wang Fang" in page and "csr" in page and "New user" in page


def test_admin_creates_a_user_who_can_sign_in(client, login):
    login("admin")
    dep = Department(code="CSD", name_en="Customer Service Department", name_zh="客服部")
    db.session.add(dep)
    db.session.commit()
    response = client.post("/admin/users/new", data=_user_form(roles=["csr", "records_officer"], department_id=str(dep.id)))
    assert response.status_code == 302
    user = _get_user("wang")
    assert user.role_names == {"csr", "records_officer"}
    assert user.department.code == "CSD"
    assert "User wang created." in client.get("/admin/users").get_data(as_text=True)
    client.post("/auth/logout")
    assert _sign_in(client, "wang", "first-pass-123").status_code == 302


@pytest.mark.parametrize("overrides, message", [
    ({"username": "admin"}, "This user name is taken."),
    ({"username": "ADMIN"}, "This user name is taken."),
    ({"username": "wang fang"}, "Letters, digits, dot, dash and underscore only."),
    ({"roles": []}, "Choose at least one role."),
    ({"roles": ["overlord"]}, "is not a valid choice for this field."),
    ({"password": ""}, "Set an initial password."),
    ({"password": "short1"}, "Use at least 10 characters."),
    ({"email": "wang@"}, "wang@ is not a valid e-mail address."),
    ({"department_id": "abc"}, "Invalid Choice: could not coerce."),
    ({"department_id": "999"}, "Not a valid choice."),
])
def test_user_form_errors(client, login, overrides, message):
    login("admin")
    response = client.post("/admin/users/new", data=_user_form(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _get_user(overrides.get("username", "wang")) is None or overrides.get("username") in ("admin", "ADMIN")


def test_admin_edits_roles(client, login, make_user):
    wang = make_user("wang", "staff")
    login("admin")
    page = client.get(f"/admin/users/{wang.id}").get_data(as_text=True)
    assert 'value="staff" checked' in page or 'checked id="roles-4"' in page or "checked" in page
    response = client.post(f"/admin/users/{wang.id}", data=_user_form(roles=["cs_manager"], password=None))
    assert response.status_code == 302
    assert _get_user("wang").role_names == {"cs_manager"}


def test_a_deactivated_user_cannot_sign_in(client, login, make_user):
    wang = make_user("wang", "csr")
    login("admin")
    client.post(f"/admin/users/{wang.id}", data=_user_form(active=None, password=None))
    assert _get_user("wang").active is False
    assert "deactivated" in client.get("/admin/users").get_data(as_text=True)
    client.post("/auth/logout")
    response = _sign_in(client, "wang", PASSWORD)
    assert response.status_code == 200
    assert "Sign-in failed." in response.get_data(as_text=True)


def test_a_deactivated_user_is_signed_out_of_a_running_session(app, make_user, login):
    wang = make_user("wang", "csr")
    wang_client = app.test_client()
    login(wang, client=wang_client)
    assert wang_client.get("/customers/").status_code == 200
    admin_client = app.test_client()
    login("admin", client=admin_client)
    admin_client.post(f"/admin/users/{wang.id}", data=_user_form(active=None, password=None))
    assert wang_client.get("/customers/").status_code == 302


def test_admins_cannot_lock_themselves_out(client, login):
    me = login("admin")
    response = client.post(f"/admin/users/{me.id}", data=_user_form(username="admin", roles=["staff"], password=None))
    assert response.status_code == 200
    assert "You cannot remove your own administrator role or deactivate yourself." in response.get_data(as_text=True)
    assert "admin" in _get_user("admin").role_names
    response = client.post(f"/admin/users/{me.id}", data=_user_form(username="admin", roles=["admin"], active=None, password=None))
    assert response.status_code == 200
    assert _get_user("admin").active is True


def test_admin_resets_a_password(client, login, make_user):
    wang = make_user("wang", "csr")
    login("admin")
    response = client.post(f"/admin/users/{wang.id}/password", data={"reset-password": "brand-new-pass-1"})
    assert response.status_code == 302
    client.post("/auth/logout")
    assert _sign_in(client, "wang", PASSWORD).status_code == 200
    assert _sign_in(client, "wang", "brand-new-pass-1").status_code == 302


def test_a_weak_reset_password_is_a_field_error(client, login, make_user):
    wang = make_user("wang", "csr")
    login("admin")
    response = client.post(f"/admin/users/{wang.id}/password", data={"reset-password": "1234567890"})
    assert response.status_code == 200
    assert "Mix letters with digits or symbols." in response.get_data(as_text=True)


def test_unknown_users_are_404(client, login):
    login("admin")
    assert client.get("/admin/users/999").status_code == 404


# --- departments ----------------------------------------------------------------------------------

def test_create_and_edit_a_department(client, login):
    login("admin")
    response = client.post("/admin/departments", data={"code": "OPS", "name_en": "Operations", "name_zh": "操作部"})
    assert response.status_code == 302
    page = client.get("/admin/departments").get_data(as_text=True)
    assert "Department OPS added." in page and "操作部" in page
    dep = db.session.scalar(db.select(Department).filter_by(code="OPS"))
    response = client.post(f"/admin/departments/{dep.id}", data={"code": "OPS", "name_en": "Operations Department", "name_zh": "操作部"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Department, dep.id).name_en == "Operations Department"


@pytest.mark.parametrize("data, message", [
    ({"code": "CSD", "name_en": "Again"}, "This code is already used."),
    ({"code": "ops", "name_en": "Lower"}, "Capital letters, digits and dashes only."),
    ({"code": "NEW", "name_en": ""}, "This field is required."),
])
def test_department_form_errors(client, login, data, message):
    db.session.add(Department(code="CSD", name_en="Customer Service Department"))
    db.session.commit()
    login("admin")
    response = client.post("/admin/departments", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Department.id))) == 1


def test_renaming_a_department_to_a_used_code_is_refused(client, login):
    db.session.add_all([Department(code="CSD", name_en="CSD"), Department(code="OPS", name_en="OPS")])
    db.session.commit()
    ops = db.session.scalar(db.select(Department).filter_by(code="OPS"))
    login("admin")
    response = client.post(f"/admin/departments/{ops.id}", data={"code": "CSD", "name_en": "OPS"})
    assert response.status_code == 200
    assert "This code is already used." in response.get_data(as_text=True)


def test_departments_are_named_in_the_users_language(client, login, make_user):
    ops = Department(code="OPS", name_en="Operations Department", name_zh="操作部")
    db.session.add(ops)
    db.session.commit()
    make_user("wang", "staff", department_id=ops.id)
    admin = login("admin")
    assert "OPS Operations Department" in client.get("/admin/users").get_data(as_text=True)
    admin.language = "zh_Hans"
    db.session.commit()
    assert "OPS 操作部" in client.get("/admin/users").get_data(as_text=True)
    assert '<option value="%d">OPS 操作部</option>' % ops.id in client.get("/admin/users/new").get_data(as_text=True)


def test_staff_choices_of_customer_service_are_those_has_role_admits(app, make_user, monkeypatch):
    """The owner and assignee lists: active users by name; with cs_only, those holding a CSR's or CS manager's
    role, of their own or for someone else right now (as User.has_role decides), in one query."""
    from portal import delegation
    from portal.blueprints.admin.services import staff_choices

    make_user("zhou", "csr", full_name="Zhou Min")
    make_user("amy", "cs_manager", full_name="Amy Lin")
    make_user("ops", "staff", full_name="Bo Ops")
    make_user("acting", "staff", full_name="Cai Acting")
    make_user("gone", "csr", full_name="Dai Gone", active=False)
    make_user("noname", "csr", full_name="")
    acting_id = db.session.scalar(db.select(User.id).filter_by(username="acting"))
    monkeypatch.setattr(delegation, "_ROLE_SOURCES", [lambda now: {acting_id: {"cs_manager": "amy"}}])
    with app.test_request_context():
        everyone = staff_choices()
        assert everyone[0] == (0, "—")
        by_name = db.session.scalars(db.select(User).filter(User.active.is_(True)).order_by(User.full_name, User.username))
        assert everyone[1:] == [(u.id, u.display_name) for u in by_name]
        assert {"Zhou Min", "Amy Lin", "Bo Ops", "Cai Acting", "noname"} <= {name for _id, name in everyone}
        assert "Dai Gone" not in {name for _id, name in everyone}
        cs = staff_choices(cs_only=True, blank=False)
        users = {u.id: u for u in db.session.scalars(db.select(User).filter(User.active.is_(True)))}
        assert [user_id for user_id, _name in cs] == [
            user_id for user_id, _name in everyone[1:] if users[user_id].has_role("csr", "cs_manager")]
        assert {name for _id, name in cs} >= {"Zhou Min", "Amy Lin", "Cai Acting", "noname"}
        assert "Bo Ops" not in {name for _id, name in cs}

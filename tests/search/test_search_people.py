"""People's public names are searchable; a department rename re-indexes its members."""
from portal import search
from portal.extensions import db
from portal.models import Department


def test_people_by_name_username_and_department(app, make_user):
    dept = Department(code="CSD", name_en="Customer Service", name_zh="客服部")
    db.session.add(dept)
    db.session.commit()
    reader = make_user("reader", "staff")
    wang = make_user("wangfang", "csr", full_name="Wang Fang 王芳", department_id=dept.id)
    assert [h.key for h in search.search("王芳", user=reader).hits] == [f"user:{wang.id}"]
    assert f"user:{wang.id}" in {h.key for h in search.search("wangfang", user=reader).hits}
    assert f"user:{wang.id}" in {h.key for h in search.search("客服部", user=reader).hits}
    dept.name_zh = "客户服务部"
    db.session.commit()
    assert f"user:{wang.id}" in {h.key for h in search.search("客户服务部", user=reader).hits}
    wang.active = False
    db.session.commit()
    assert search.search("王芳", user=reader).total == 0


def test_person_links_to_the_edit_page_for_administrators_only(client, login, make_user):
    make_user("wangfang", "csr", full_name="Wang Fang")
    login("csr")
    html = client.get("/search/?q=wangfang").get_data(as_text=True)
    assert "Wang Fang" in html and "/admin/users/" not in html
    client.post("/auth/logout")
    login("admin")
    html = client.get("/search/?q=wangfang").get_data(as_text=True)
    assert "/admin/users/" in html

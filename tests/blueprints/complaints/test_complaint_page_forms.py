"""The complaint page lists colleagues and departments in its action and lesson forms, at the states that show them."""
from __future__ import annotations

import re

from portal.extensions import db
from portal.models import Department


def _options(page: str, name: str) -> set[str]:
    """The values offered by a select or a list of checkboxes named ``name``."""
    boxes = {re.search(r'value="(\d+)"', tag).group(1) for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)}
    at = page.find(f'<select id="{name}"')
    if at < 0:
        return boxes
    return boxes | set(re.findall(r'<option[^>]*value="(\d+)"', page[at:page.index("</select>", at)]))


def test_action_and_lesson_forms_list_staff_and_departments(client, login, new_complaint, walk, people):
    dept = Department(code="OPS", name_en="Operations", name_zh="操作部")
    db.session.add(dept)
    db.session.commit()
    received = new_complaint()
    investigating = new_complaint(title="Second")
    walk(investigating, "investigating")
    closed = new_complaint(title="Third")
    walk(closed, "closed")
    csr = people["csr"]
    login(csr)
    page = client.get(f"/complaints/{received.id}").get_data(as_text=True)
    assert "Short delivery" in page and 'id="action-form"' not in page
    page = client.get(f"/complaints/{investigating.id}").get_data(as_text=True)
    assert 'id="action-form"' in page
    assert str(csr.id) in _options(page, "act-owner_id") and str(dept.id) in _options(page, "act-department_id")
    page = client.get(f"/complaints/{closed.id}").get_data(as_text=True)
    assert str(csr.id) in _options(page, "les-user_ids") and str(dept.id) in _options(page, "les-department_ids")
    client.post("/auth/logout")
    login(people["staff"])  # readers see the page without the forms
    page = client.get(f"/complaints/{investigating.id}").get_data(as_text=True)
    assert "Second" in page and 'id="action-form"' not in page

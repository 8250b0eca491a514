"""The tank list in pages (filters kept), the choice lists of the operations forms read from columns alone, the tank
page's stock and lease form: the same rows, labels and order as the whole records give."""
from __future__ import annotations

import re
from decimal import Decimal

from portal.blueprints.customers.models import Customer
from portal.blueprints.customers.services import customer_choices
from portal.blueprints.operations import services
from portal.blueprints.operations.models import Contract, Product, Tank
from portal.extensions import db

HX = {"HX-Request": "true"}
ROW = re.compile(r'<td><a href="/operations/tanks/(\d+)">([^<]+)</a></td>')


def _codes(page: str) -> list[str]:
    return [code for _id, code in ROW.findall(page)]


def _add_tanks(n: int, area: str = "Z") -> list[str]:
    codes = [f"X-{i:03d}" for i in range(1, n + 1)]
    db.session.add_all([Tank(code=c, area=area, nominal_m3=Decimal("100"), safe_fill_m3=Decimal("90")) for c in codes])
    db.session.commit()
    return codes


def test_tank_list_pages_keep_the_filters_order_and_count(client, login, terminal):
    codes = _add_tanks(60)
    login("staff")
    first = client.get("/operations/tanks?area=Z").get_data(as_text=True)
    assert _codes(first) == codes[:50]
    assert "60 tank(s)" in first
    assert 'href="/operations/tanks?area=Z&amp;page=2"' in first  # the pager keeps the filter
    second = client.get("/operations/tanks?area=Z&page=2").get_data(as_text=True)
    assert _codes(second) == codes[50:] and "60 tank(s)" in second
    # every tank once, in code order, over the pages: what the whole list showed
    everything = [t.code for t in db.session.scalars(db.select(Tank).order_by(Tank.code))]
    seen = []
    for page in (1, 2, 3):
        seen += _codes(client.get(f"/operations/tanks?page={page}").get_data(as_text=True))
    assert seen == everything and len(everything) == 64
    assert _codes(client.get("/operations/tanks?per_page=200").get_data(as_text=True)) == everything
    # the other filters still apply, with the pages
    assert _codes(client.get(f"/operations/tanks?customer={terminal.sino.id}").get_data(as_text=True)) == [
        "T-101", "T-102", "T-201", "T-202"]
    assert _codes(client.get(f"/operations/tanks?product={terminal.gasoil.id}&q=10").get_data(as_text=True)) == [
        "T-101", "T-102"]
    assert client.get("/operations/tanks?page=x").status_code == 404
    # htmx gets the rows and the pager alone
    fragment = client.get("/operations/tanks?area=Z&page=2", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="tank-area"' not in fragment and _codes(fragment) == codes[50:]


def test_tank_list_filter_form_lists_areas_customers_and_products(client, login, terminal):
    login("staff")
    page = client.get("/operations/tanks").get_data(as_text=True)
    assert '<option value="A" >A</option>' in page and '<option value="B" >B</option>' in page
    assert f'<option value="{terminal.gone.id}" >GONE Gone Trading</option>' in page  # former customers too
    assert f'<option value="{terminal.gasoil.id}" >GASOIL 柴油 / Gasoil 10 ppm</option>' in page
    assert f'value="{terminal.old.id}"' not in page  # retired products are not offered


def test_choice_lists_give_the_labels_of_the_records(app, terminal):
    tanks = db.session.scalars(db.select(Tank).order_by(Tank.code)).all()
    assert services.tank_choices() == [(t.id, t.choice_label) for t in tanks]
    assert ("T-202 (B)", "T-101 (A · GASOIL)") == (dict(services.tank_choices())[terminal.t4.id],
                                                   dict(services.tank_choices())[terminal.t1.id])
    nameless = Product(code="BASE", name_en="Base oil", name_zh="", product_class="lubricant")
    db.session.add(nameless)
    db.session.commit()
    products = db.session.scalars(db.select(Product).order_by(Product.code)).all()
    assert services.product_choices() == [(p.id, p.choice_label) for p in products if not p.retired]
    assert services.product_choices(terminal.old.id) == [(p.id, p.choice_label) for p in products]
    assert dict(services.product_choices())[nameless.id] == "BASE Base oil"
    db.session.add_all([Customer(code="ZHONLY", name_en="", name_zh="只有中文"), Customer(code="ENONLY", name_en="English only")])
    db.session.commit()
    customers = db.session.scalars(db.select(Customer).order_by(Customer.code)).all()
    assert customer_choices(active_only=False) == [(c.id, c.choice_label) for c in customers]
    assert customer_choices() == [(c.id, c.choice_label) for c in customers if c.active]
    assert dict(customer_choices())[terminal.sino.id] == "SINOCHEM 中化能源贸易有限公司 / Sinochem Energy Trading Co., Ltd."
    assert {label for _id, label in customer_choices()} >= {"ZHONLY 只有中文", "ENONLY English only"}
    contracts = db.session.scalars(services.list_contracts()).all()
    assert services.contract_choices() == [(c.id, f"{c.number} · {c.customer.code}") for c in contracts]
    assert services.contract_choices(terminal.sino.id) == [(terminal.c1.id, "SC-2020-001 · SINOCHEM")]
    assert len(contracts) == 3 and db.session.get(Contract, terminal.c1.id) in contracts


def test_tank_page_stock_of_customers_with_orders_but_no_lease(client, login, terminal, receive):
    receive("300", customer=terminal.vitol, tank=terminal.t3, product=terminal.methanol, density="792")
    receive("200", tank=terminal.t3, product=terminal.methanol, density="792")
    login("staff")
    page = client.get(f"/operations/tanks/{terminal.t3.id}").get_data(as_text=True)
    stock = page[page.index('id="stock"'):page.index('id="leases"')]
    assert "VITOLAP" in stock and "SINOCHEM" in stock and "300.000" in stock and "200.000" in stock
    assert stock.index("SINOCHEM") < stock.index("VITOLAP")  # by customer code


def test_lease_form_only_for_those_who_edit_the_tank(client, login, terminal):
    login("staff")
    page = client.get(f"/operations/tanks/{terminal.t1.id}").get_data(as_text=True)
    assert "SINOCHEM" in page and "SC-2020-001" in page  # the leases are shown
    assert 'name="lease-customer_id"' not in page and "Add a lease" not in page
    client.post("/auth/logout")
    login(terminal.csr)
    page = client.get(f"/operations/tanks/{terminal.t1.id}").get_data(as_text=True)
    assert 'name="lease-customer_id"' in page
    assert f'value="{terminal.c1.id}">SC-2020-001 · SINOCHEM</option>' in page
    assert f'value="{terminal.gone.id}"' not in page.split('name="lease-customer_id"')[1].split("</select>")[0]


def test_order_list_filter_choices_on_the_page_not_in_the_fragment(client, login, terminal, make_order):
    order = make_order()
    login("staff")
    page = client.get("/operations/orders").get_data(as_text=True)
    assert f'<option value="{terminal.t1.id}" >T-101 (A · GASOIL)</option>' in page
    assert f'<option value="{terminal.t4.id}" >T-202 (B)</option>' in page
    assert f'<option value="{terminal.gone.id}" >GONE Gone Trading</option>' in page
    page = client.get(f"/operations/orders?tank={terminal.t3.id}&customer={terminal.sino.id}&product={terminal.jet.id}"
                      ).get_data(as_text=True)
    for select, chosen in (("f-tank", terminal.t3.id), ("f-customer", terminal.sino.id), ("f-product", terminal.jet.id)):
        options = page.split(f'id="{select}"', 1)[1].split("</select>", 1)[0]
        assert re.findall(r'<option value="(\d+)" selected>', options) == [str(chosen)]
    fragment = client.get("/operations/orders", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="f-tank"' not in fragment and order.number in fragment


def test_long_select_writes_the_html_of_the_usual_select(app):
    from wtforms.widgets import Select

    from portal.blueprints.operations.forms import LeaseForm, OrderForm

    tricky = [(1, 'A&B "Trading" <Co> 中文'), (2, "O'Neil / 2"), (3, ""), (40, "Plain")]
    with app.test_request_context():
        for form, name in ((LeaseForm(customer_choices=tricky, contract_choices=tricky), "customer_id"),
                           (LeaseForm(customer_choices=tricky, contract_choices=tricky), "contract_id"),
                           (OrderForm(customer_choices=tricky, tank_choices=tricky), "tank_id")):
            field = getattr(form, name)
            for data in (None, 0, 2, 40):
                field.data = data
                fast = str(field(class_="x", aria_invalid="true"))
                usual = str(Select()(field, class_="x", aria_invalid="true"))
                assert fast == usual and "<option" in fast
            assert 'selected value="40">Plain</option>' in fast and "&#34;Trading&#34; &lt;Co&gt;" in fast

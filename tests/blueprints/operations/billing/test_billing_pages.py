"""The billing pages: customer service prepares, reviews, records the agreement, exports and corrects;
staff may not see billing; bad input answers field errors or 404, never a 500."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import openpyxl

from portal.blueprints.operations.billing import services as billing
from portal.blueprints.operations.billing.models import BillingRun, BillingService
from portal.blueprints.operations.models import Order
from portal.extensions import db
from portal.timeutil import local_now

from billing_terminal import MARCH

D = Decimal


def _run(bt):
    return db.session.scalar(db.select(BillingRun).where(BillingRun.customer_id == bt.a.id, BillingRun.month == MARCH))


def test_staff_and_anonymous_users_cannot_see_billing(bt, client, login, people):
    assert client.get("/operations/billing/").status_code == 302  # to sign-in
    bt.march()
    run = billing.prepare_run(bt.a, MARCH, people["csr"])
    db.session.commit()
    login("staff")
    for url in ("/operations/billing/", f"/operations/billing/runs/{run.id}", f"/operations/billing/lines/{run.lines[0].id}",
                "/operations/billing/services"):
        assert client.get(url).status_code == 403, url
    assert client.post("/operations/billing/prepare", data={"customer_id": bt.a.id, "month": "2026-03"}).status_code == 403
    assert client.post(f"/operations/billing/runs/{run.id}/review").status_code == 403
    assert _run(bt).state == "draft"


def test_a_csr_prepares_a_run_and_reads_its_lines_and_sources(bt, client, login):
    bt.march()
    login("csr")
    page = client.post("/operations/billing/prepare", data={"customer_id": bt.a.id, "month": "2026-3"})
    assert page.status_code == 200 and "YYYY-MM" in page.get_data(as_text=True)
    page = client.post("/operations/billing/prepare", data={"customer_id": 0, "month": "2026-03"})
    assert page.status_code == 200 and "Choose the customer." in page.get_data(as_text=True)
    future = f"{local_now():%Y-%m}"
    page = client.post("/operations/billing/prepare", data={"customer_id": bt.a.id, "month": future})
    assert "A month is billed once it is over." in page.get_data(as_text=True)
    response = client.post("/operations/billing/prepare", data={"customer_id": bt.a.id, "month": "2026-03"})
    assert response.status_code == 302
    run = _run(bt)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("BR-202603-SINOCHEM", "Storage", "Throughput", "Heating", "549,475.04", "147,096.77", "Subtotal"):
        assert text in page, text
    heating = next(line for line in run.lines if line.kind == "heating")
    page = client.get(f"/operations/billing/lines/{heating.id}").get_data(as_text=True)
    assert "48,000.000000" in page and "86,400.00" in page and f"/operations/tanks/{bt.t301.id}" in page
    assert "/operations/stock/movements?" in page
    throughput = next(line for line in run.lines if line.kind == "throughput")
    order_id = throughput.sources[0].order_id
    page = client.get(f"/operations/billing/lines/{throughput.id}").get_data(as_text=True)
    assert f"/operations/orders/{order_id}" in page
    listing = client.get(f"/operations/billing/?customer={bt.a.id}&state=draft&month=2026-03").get_data(as_text=True)
    assert "BR-202603-SINOCHEM" in listing
    assert "BR-202603-SINOCHEM" not in client.get("/operations/billing/?state=exported").get_data(as_text=True)
    assert client.get("/operations/billing/?month=2026-13").status_code == 404
    assert client.get("/operations/billing/?month=abc").status_code == 404


def test_review_agreement_export_and_download_through_the_pages(bt, client, login, people):
    bt.march()
    run = billing.prepare_run(bt.a, MARCH, people["csr"])
    db.session.commit()
    login("csr")
    assert client.post(f"/operations/billing/runs/{run.id}/review").status_code == 302
    assert _run(bt).state == "reviewed"
    agreed = (local_now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(f"/operations/billing/runs/{run.id}/agree", data={"by_name": "", "at": agreed, "how": "email"})
    assert page.status_code == 200 and _run(bt).state == "reviewed"
    tomorrow = (local_now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(f"/operations/billing/runs/{run.id}/agree", data={"by_name": "Li", "at": tomorrow, "how": "email"})
    assert "This time is in the future." in page.get_data(as_text=True)
    client.post("/auth/logout")
    login(people["manager"])
    response = client.post(f"/operations/billing/runs/{run.id}/agree",
                           data={"by_name": "Ms. Li Na <finance>", "at": agreed, "how": "email", "note": "By e-mail"})
    assert response.status_code == 302
    page = client.get(f"/operations/billing/runs/{run.id}").get_data(as_text=True)
    assert "Ms. Li Na &lt;finance&gt;" in page and "Export to finance" in page
    assert client.post(f"/operations/billing/runs/{run.id}/export").status_code == 302
    run = _run(bt)
    assert run.state == "exported" and len(run.exports) == 1
    download = client.get(f"/operations/billing/runs/{run.id}/exports/{run.exports[0].id}")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    assert book.worksheets[0].cell(row=2, column=1).value == "BR-202603-SINOCHEM"
    other = billing.prepare_run(bt.b, MARCH, people["csr"])
    db.session.commit()
    assert client.get(f"/operations/billing/runs/{other.id}/exports/{run.exports[0].id}").status_code == 404
    page = client.post(f"/operations/billing/runs/{run.id}/prepare", follow_redirects=True).get_data(as_text=True)
    assert "locked" in page and _run(bt).state == "exported"


def test_a_correction_through_the_line_page_lands_in_the_next_run(bt, client, login, people):
    bt.march()
    run = billing.prepare_run(bt.a, MARCH, people["csr"])
    billing.review_run(run, people["csr"])
    billing.record_agreement(run, people["manager"], by_name="Li", at=run.reviewed_at, how="phone")
    billing.export_run(run, people["csr"])
    db.session.commit()
    line = run.lines[0]
    login("csr")
    url = f"/operations/billing/lines/{line.id}/correct"
    for data in ({"direction": "credit", "amount": "abc", "reason": "x"},
                 {"direction": "credit", "amount": "10.005", "reason": "x"},
                 {"direction": "credit", "amount": "10", "reason": ""},
                 {"direction": "sideways", "amount": "10", "reason": "x"}):
        assert client.post(url, data=data).status_code == 200, data
    response = client.post(url, data={"direction": "credit", "amount": "1200.50", "reason": "Valve repair, 2 days"})
    assert response.status_code == 302
    april = db.session.scalar(db.select(BillingRun).where(BillingRun.customer_id == bt.a.id,
                                                          BillingRun.month == date(2026, 4, 1)))
    assert response.headers["Location"].endswith(f"/operations/billing/runs/{april.id}")
    page = client.get(f"/operations/billing/runs/{april.id}").get_data(as_text=True)
    assert "-1,200.50" in page and "Valve repair, 2 days" in page
    page = client.get(f"/operations/billing/lines/{line.id}").get_data(as_text=True)
    assert "Corrections of this line" in page and "BR-202604-SINOCHEM/1" in page


def test_recording_a_service_checks_its_order_and_month(bt, client, login, people):
    bt.march()
    order = db.session.scalar(db.select(Order).where(Order.customer_id == bt.a.id))
    login("csr")
    base = {"customer_id": bt.a.id, "day": "2026-03-25", "kind": "tank_cleaning", "description": "Cleaning T-101",
            "quantity": "1", "unit": "job", "tank_id": bt.t101.id}
    page = client.post("/operations/billing/services/new", data={**base, "order_number": "ORD-NOPE"})
    assert page.status_code == 200 and "No order ORD-NOPE of this customer." in page.get_data(as_text=True)
    page = client.post("/operations/billing/services/new", data={**base, "quantity": "-1"})
    assert page.status_code == 200
    tomorrow = (local_now() + timedelta(days=1)).date().isoformat()
    page = client.post("/operations/billing/services/new", data={**base, "day": tomorrow})
    assert "This day is in the future." in page.get_data(as_text=True)
    response = client.post("/operations/billing/services/new", data={**base, "order_number": order.number})
    assert response.status_code == 302
    service = db.session.scalar(db.select(BillingService))
    assert service.order_id == order.id and service.tank_id == bt.t101.id
    listing = client.get(f"/operations/billing/services?customer={bt.a.id}&month=2026-03").get_data(as_text=True)
    assert "Cleaning T-101" in listing and order.number in listing
    run = billing.prepare_run(bt.a, MARCH, people["csr"])
    db.session.commit()
    assert any(line.kind == "tank_cleaning" and line.amount == D("38000.00") for line in run.lines)
    billing.review_run(run, people["csr"])
    db.session.commit()
    page = client.post(f"/operations/billing/services/{service.id}/delete", follow_redirects=True)
    assert "no longer a draft" in page.get_data(as_text=True)
    assert db.session.get(BillingService, service.id) is not None


def test_a_service_can_name_an_abnormal_event_of_its_order(bt, client, login):
    from portal.blueprints.operations.models import OrderEvent

    bt.march()
    orders = list(db.session.scalars(db.select(Order).where(Order.customer_id == bt.a.id).order_by(Order.id)))
    first, second = orders[0], orders[1]
    event = OrderEvent(order_id=first.id, kind="equipment_failure", occurred_at=first.completed_at,
                       description="Pump seal leak: product recovered and tank cleaned")
    other = OrderEvent(order_id=second.id, kind="delay", occurred_at=second.completed_at, description="Late truck")
    db.session.add_all([event, other])
    db.session.commit()
    login("csr")
    page = client.get(f"/operations/billing/services/new?customer={bt.a.id}&order={first.number}&event={event.id}")
    select = re.search(r'<select[^>]*name="event_id".*?</select>', page.get_data(as_text=True), re.S).group(0)
    assert "Equipment failure" in select and "Delay" not in select  # only the named order's events
    assert any(f'value="{event.id}"' in o and "selected" in o for o in re.findall(r"<option[^>]*>", select))
    base = {"customer_id": bt.a.id, "day": "2026-03-25", "kind": "extra", "description": "Clean-up after the leak",
            "quantity": "1", "unit": "job", "tank_id": 0, "order_number": first.number}
    page = client.post("/operations/billing/services/new", data={**base, "event_id": other.id})
    assert page.status_code == 200 and db.session.scalar(db.select(BillingService)) is None
    assert client.post("/operations/billing/services/new", data={**base, "event_id": event.id}).status_code == 302
    service = db.session.scalar(db.select(BillingService))
    assert (service.order_id, service.event_id) == (first.id, event.id)
    assert "Equipment failure" in client.get("/operations/billing/services").get_data(as_text=True)

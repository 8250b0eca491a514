"""Browser test, from dip entry to sign-off: a CSR records the month-end dip of a tank, imports the terminal
system's book stock, sees the reconciliation with the variance over tolerance, proposes the investigation's
resolution; the manager approves it and signs the month off, and the month shows as locked."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.extensions import db

pytestmark = pytest.mark.e2e


def _tank(live_app):
    from portal.blueprints.customers.models import Customer
    from portal.blueprints.operations.models import Tank

    with live_app.app_context():
        tank = db.session.scalar(db.select(Tank).filter_by(code="T-101"))
        customer = db.session.scalar(db.select(Customer).filter_by(active=True).order_by(Customer.code))
        return tank.id, tank.product.code, customer.code


def _physical(live_app, month):
    from portal.blueprints.operations.monthend import services

    with live_app.app_context():
        dips = services.month_end_dips(month)
        return {d.tank.code: (d.v20_m3, d.mass_air_kg) for d in dips.values()}


def test_from_dip_entry_to_sign_off(page, sign_in, live_app, browser, live_server):
    month = date(date.today().year - 1, 1, 1)
    label = f"{month:%Y-%m}"
    tank_id, product, customer = _tank(live_app)

    sign_in(page, "csr")
    page.goto(f"/operations/measure/tanks/{tank_id}/dips/new")
    page.fill("#taken_at", f"{month.year}-01-31T16:30")
    page.select_option("#method", "innage")
    page.fill("#reading_mm", "5000.0")
    page.fill("#water_mm", "0")
    page.fill("#temperatures", "20.0")
    page.select_option("#density_mode", "lab20")
    page.fill("#density", "838.6")
    page.get_by_role("button", name="Compute and record").click()
    page.wait_for_url(lambda url: "/dips/new" not in url)

    v20, kg = _physical(live_app, month)["T-101"]
    book_m3, book_kg = (v20 * Decimal("1.01")).quantize(Decimal("0.001")), (kg * Decimal("1.01")).quantize(Decimal("1"))
    page.goto(f"/operations/month-end/{label}")
    import_form = page.locator("form[action$='/import']")
    import_form.locator("select[name=source]").select_option("pepi")
    import_form.locator("input[type=file]").set_input_files(files=[{
        "name": "pepi.csv", "mimeType": "text/csv",
        "buffer": f"tank_code,customer_code,product_code,kg,m3\nT-101,{customer},{product},{book_kg},{book_m3}\n".encode()}])
    import_form.get_by_role("button", name="Import").click()
    page.get_by_text("1 row(s) imported.").wait_for()
    page.get_by_role("button", name="Prepare the reconciliation").click()
    page.get_by_text("1 investigation(s) open").wait_for()
    row = page.locator(f"tr[data-key='T-101/{customer}/{product}']")
    assert "-0.990" in row.inner_text()  # (physical − book) / book = −1/1.01
    assert f"{v20:,.3f}" in row.inner_text() or str(v20) in row.inner_text()
    row.get_by_role("link").click()
    page.fill("#cause", "Book stock in the terminal system took the receipt of 30 January twice")
    page.fill("#resolution", "Terminal system corrected; the February book is right")
    page.get_by_role("button", name="Propose the resolution").click()
    page.get_by_text("Resolution proposed").first.wait_for()

    context = browser.new_context(base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900})
    manager = context.new_page()
    manager.set_default_timeout(15000)
    sign_in(manager, "manager")
    manager.goto(f"/operations/month-end/{label}")
    manager.locator(f"tr[data-key='T-101/{customer}/{product}']").get_by_role("link").click()
    manager.get_by_role("button", name="Approve the resolution").click()
    manager.get_by_text("Resolution approved.").wait_for()
    manager.goto(f"/operations/month-end/{label}")
    manager.fill("#note", "Reconciled with the surveyor's figures")
    manager.get_by_role("button", name=f"Sign off {label}").click()
    manager.get_by_text(f"{label} is signed off and locked.").wait_for()
    assert manager.locator("[data-state=signed_off]").count() == 1
    context.close()

    # the CSR can no longer dip that month
    page.goto(f"/operations/measure/tanks/{tank_id}/dips/new")
    page.fill("#taken_at", f"{month.year}-01-31T18:00")
    page.fill("#reading_mm", "5001.0")
    page.fill("#temperatures", "20.0")
    page.fill("#density", "838.6")
    page.get_by_role("button", name="Compute and record").click()
    page.get_by_text("is signed off and locked").first.wait_for()

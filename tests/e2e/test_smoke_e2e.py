def test_sign_in_and_dashboard(page, sign_in):
    sign_in(page, "csr")
    assert page.locator("h1").first.inner_text().startswith("Good day")
    page.click("text=Customers")
    page.wait_for_url("**/customers/")
    assert page.locator("table").count() == 1

"""Browser test: typing into the search page updates results, facets and highlights live."""
import re

import pytest

pytestmark = pytest.mark.e2e


def test_typing_updates_results_facets_and_highlights(page, sign_in):
    sign_in(page, "csr")
    page.goto("/search/")
    assert page.locator(".search-help").count() == 1
    box = page.locator("#search-q")
    box.fill("")
    box.type("甲醇", delay=40)
    first = page.locator("#search-results .hit").first
    first.wait_for()
    page.wait_for_url(re.compile(r"q=%E7%94%B2%E9%86%87"))  # the URL follows the query
    assert "DGMETH" in page.locator("#search-results").inner_text()
    assert page.locator("#search-results .facet-kind li").count() >= 1
    assert page.locator("#search-results .hit mark").count() >= 1
    assert page.locator("#search-results .hit mark").first.inner_text() in ("甲醇", "甲", "醇")
    before = page.locator(".hit-title").all_inner_texts()

    box.fill("")
    box.type("duty-paid stock", delay=30)
    page.wait_for_url(re.compile(r"q=duty-paid(\+|%20)stock"))
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#search-results .hit mark'))"
        ".some(m => m.textContent.toLowerCase().includes('stock'))")
    after = page.locator(".hit-title").all_inner_texts()
    assert after != before and any("SINOCHEM" in t for t in after)
    marks = [m.lower() for m in page.locator("#search-results .hit mark").all_inner_texts()]
    assert any("stock" in m for m in marks)
    customers = page.locator("#search-results .facet-customer li")
    assert customers.count() >= 2

    # a facet narrows the results and the back button returns to the wider list
    customers.filter(has_text="VITOLAP").first.click()
    page.wait_for_url(re.compile(r"customer=VITOLAP"))
    assert "SINOCHEM" not in page.locator(".hits").inner_text()
    assert "VITOLAP" in page.locator(".hits").inner_text()
    page.go_back()
    page.wait_for_function("() => document.querySelector('.hits') && document.querySelector('.hits').innerText.includes('SINOCHEM')")


def test_top_bar_suggestions(page, sign_in):
    sign_in(page, "csr")
    page.goto("/")
    page.locator(".topsearch input[name=q]").type("Vito", delay=50)
    link = page.locator("#suggestions a").first
    link.wait_for()
    assert "Vitol" in page.locator("#suggestions").inner_text()

"""The records officer files a PDF, the manager approves a disposal batch, the officer executes it and
downloads the destruction certificate."""
import re

import pytest

from portal.blueprints.archive.demo import minimal_pdf

pytestmark = pytest.mark.e2e


def test_file_approve_execute_and_download_the_certificate(page, browser, live_server, sign_in, tmp_path):
    page.on("dialog", lambda dialog: dialog.accept())

    # 1. the records officer files a PDF
    sign_in(page, "records")
    page.goto("/archive/file")
    page.set_input_files("#files", files=[{"name": "Berth plan notice.pdf", "mimeType": "application/pdf",
                                           "buffer": minimal_pdf(["Berth plan notice for MT Ocean Star"])}])
    value = page.locator("#series_id option", has_text="CS-11 ·").first.get_attribute("value")
    page.select_option("#series_id", value=value)
    page.fill("#title", "Berth plan notice MT Ocean Star")
    page.fill("#record_date", "2026-03-02")
    page.click("form button[type=submit]:has-text('File')")
    page.wait_for_url(re.compile(r"/archive/records/\d+$"))
    assert "Berth plan notice MT Ocean Star" in page.locator("h1").inner_text()
    assert page.locator("a:has-text('Berth plan notice.pdf')").count() == 1

    # 2. the officer proposes a batch with one due record
    page.goto("/archive/schedule")
    boxes = page.locator("input[name=record_id]")
    assert boxes.count() > 0
    for i in range(boxes.count()):
        boxes.nth(i).uncheck()
    boxes.first.check()
    page.fill("#note", "Browser test batch")
    page.click("button:has-text('Propose batch')")
    page.wait_for_url(re.compile(r"/archive/batches/\d+$"))
    batch_url = page.url
    number = re.search(r"DB-\d{4}-\d{3}", page.locator("h1").inner_text()).group(0)
    assert "awaiting approval" in page.content()
    assert page.locator("button:has-text('Approve')").count() == 0  # the officer cannot approve

    # 3. the manager approves it, in another browser session
    manager_context = browser.new_context(base_url=live_server, locale="en-GB")
    manager = manager_context.new_page()
    sign_in(manager, "manager")
    manager.goto(batch_url)
    manager.fill("#note", "Checked")
    manager.click("button:has-text('Approve')")
    manager.wait_for_selector(f"text=Batch {number} approved.")
    manager_context.close()

    # 4. the officer runs a dry run, executes the batch and downloads the certificate
    page.goto(batch_url)
    page.click("button:has-text('Dry run')")
    page.wait_for_selector("text=Dry run: nothing was changed")
    page.click("button:has-text('Execute batch')")
    page.wait_for_selector("text=destruction certificate is filed as")
    assert "executed" in page.locator("h1").inner_text()
    with page.expect_download() as info:
        page.click("a:has-text('Download destruction certificate')")
    download = info.value
    target = tmp_path / "certificate.pdf"
    download.save_as(target)
    assert target.read_bytes()[:5] == b"%PDF-"
    assert download.suggested_filename == f"{number}-destruction-certificate.pdf"


def test_record_page_polls_until_the_text_is_extracted(page, live_app, sign_in):
    """Filed now, extracted later: the record page says so and updates itself (htmx) when the text is in."""
    from portal.blueprints.archive import extract

    live_app.config["ARCHIVE_EXTRACT_MODE"] = "command"  # nothing extracts until the test says so
    try:
        sign_in(page, "records")
        page.goto("/archive/file")
        page.set_input_files("#files", files=[{"name": "tank-note.txt", "mimeType": "text/plain",
                                               "buffer": b"Numbat tank cleaning note"}])
        value = page.locator("#series_id option", has_text="CS-11 ·").first.get_attribute("value")
        page.select_option("#series_id", value=value)
        page.fill("#title", "Tank cleaning note")
        page.fill("#record_date", "2026-03-02")
        page.click("form button[type=submit]:has-text('File')")
        page.wait_for_url(re.compile(r"/archive/records/\d+$"))
        assert page.locator("#extraction").inner_text().startswith("text being extracted")
        assert extract.run_pending(live_app) >= 1
        page.wait_for_selector("#extraction:has-text('Text extracted')")  # swapped in by the poll, no reload
        page.reload()
        assert "Numbat tank cleaning note" in page.content()
    finally:
        live_app.config["ARCHIVE_EXTRACT_MODE"] = "thread"

"""portal.pdf: Chinese and English text in the PDF, and a fetcher that serves static files only."""
from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

import flask
import pytest
from flask_babel import Babel
from jinja2 import ChoiceLoader, DictLoader
from pypdf import PdfReader
from weasyprint.urls import URLFetchingError

from portal.pdf import BASE_URL, StaticOnlyFetcher, render_pdf

PORTAL = Path(__file__).resolve().parent.parent / "portal"
STATIC = PORTAL / "static"

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)

TEST_TEMPLATES = {
    "pdf/test_complaint.html": """{% extends "pdf/base.html" %}
{% block title %}{{ _('Complaint') }} {{ number }}{% endblock %}
{% block content %}
<h1>{{ heading }}</h1>
<p>{{ _('Customer') }}: {{ customer }}</p>
<p>Tank T-101 overflow alarm. 储罐 投诉 纠正措施</p>
<div style="break-before: page"><p>{{ body }}</p></div>
{% endblock %}
""",
    "pdf/test_hostile.html": """{% extends "pdf/base.html" %}
{% block head %}<link rel="stylesheet" href="http://example.com/x.css">
<link rel="stylesheet" href="file:///etc/passwd">{% endblock %}
{% block content %}<p>Hostile resources</p>
<img src="file:///etc/passwd"><img src="https://portal.invalid/static/../../../etc/passwd">
<img src="data:image/png;base64,{{ png }}">{% endblock %}
""",
}


@pytest.fixture
def pdf_app() -> flask.Flask:
    """A minimal app with the portal's templates, static folder and Babel."""
    app = flask.Flask(__name__, template_folder=str(PORTAL / "templates"), static_folder=str(STATIC))
    app.config.update(TESTING=True, BABEL_DEFAULT_LOCALE="en")
    app.jinja_loader = ChoiceLoader([DictLoader(TEST_TEMPLATES), app.jinja_loader])
    Babel(app)
    return app


def pdf_text(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]


# render_pdf

def test_render_pdf_keeps_chinese_and_english_text(pdf_app):
    with pdf_app.test_request_context():
        data = render_pdf(
            "pdf/test_complaint.html",
            number="CMP-2025-0042",
            heading="储罐 投诉 纠正措施 / Corrective action",
            customer="华东石化 East China Petrochem",
            body="第二页：纠正措施已完成。Second page.",
            generated_at="2025-10-09 10:00",
        )
    assert data.startswith(b"%PDF-")
    pages = pdf_text(data)
    assert len(pages) == 2
    first = pages[0]
    for expected in ("储罐 投诉 纠正措施", "Corrective action", "华东石化", "East China Petrochem",
                     "Tank T-101 overflow alarm", "Terminal CSD", "Complaint CMP-2025-0042",
                     "Page 1 of 2", "Printed 2025-10-09 10:00"):
        assert expected in first, (expected, first)
    assert "第二页：纠正措施已完成。" in pages[1]
    assert "Page 2 of 2" in pages[1]


def test_render_pdf_embeds_cjk_font(pdf_app):
    with pdf_app.app_context():
        data = render_pdf("pdf/test_complaint.html", number="1", heading="储罐", customer="x", body="y")
    reader = PdfReader(io.BytesIO(data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in name for name in fonts), fonts


def test_render_pdf_refuses_hostile_resources(pdf_app, caplog):
    caplog.set_level(logging.ERROR, logger="weasyprint")
    with pdf_app.app_context():
        data = render_pdf("pdf/test_hostile.html", png=base64.b64encode(PNG).decode())
    assert "Hostile resources" in pdf_text(data)[0]
    assert b"root:" not in data
    messages = caplog.text
    assert "http://example.com/x.css" in messages
    assert "file:///etc/passwd" in messages
    assert "refused" in messages


# StaticOnlyFetcher

def test_fetcher_serves_static_file():
    fetcher = StaticOnlyFetcher(STATIC)
    response = fetcher.fetch(BASE_URL + "static/css/print-pdf.css")
    try:
        assert response.read() == (STATIC / "css" / "print-pdf.css").read_bytes()
        assert response.content_type == "text/css"
    finally:
        response.close()


def test_fetcher_ignores_query_and_decodes_percent(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "储罐 1.png").write_bytes(PNG)
    fetcher = StaticOnlyFetcher(tmp_path)
    response = fetcher.fetch("https://portal.invalid/static/img/%E5%82%A8%E7%BD%90%201.png?v=3")
    assert response.read() == PNG
    assert response.content_type == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/x.css",
        "https://example.com/static/css/print-pdf.css",
        "http://portal.invalid/static/css/print-pdf.css",
        "https://portal.invalid:8443/static/css/print-pdf.css",
        "https://user@portal.invalid/static/css/print-pdf.css",
        "https://portal.invalid/complaints/1",
        "https://portal.invalid/static/",
        "https://portal.invalid/static/../../../../etc/passwd",
        "https://portal.invalid/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "https://portal.invalid/static/css/..%2F..%2F..%2Fpyproject.toml",
        "https://portal.invalid/static//etc/passwd",
        "https://portal.invalid/static/css/%00print-pdf.css",
        "https://portal.invalid/static/css/does-not-exist.css",
        "ftp://portal.invalid/static/css/print-pdf.css",
        "data:text/html,<script>alert(1)</script>",
        "data:text/css,body{}",
        "data:,hello",
    ],
)
def test_fetcher_refuses(url):
    with pytest.raises((URLFetchingError, ValueError)):
        StaticOnlyFetcher(STATIC).fetch(url)


def test_fetcher_refuses_symlink_out_of_static(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    (static / "leak.css").symlink_to(secret)
    with pytest.raises(URLFetchingError):
        StaticOnlyFetcher(static).fetch(BASE_URL + "static/leak.css")


def test_fetcher_without_static_folder_refuses_everything():
    with pytest.raises(URLFetchingError):
        StaticOnlyFetcher(None).fetch(BASE_URL + "static/css/print-pdf.css")


def test_fetcher_allows_image_data_urls():
    fetcher = StaticOnlyFetcher(STATIC)
    response = fetcher.fetch("data:image/png;base64," + base64.b64encode(PNG).decode())
    assert response.read() == PNG
    assert response.content_type == "image/png"
    svg = fetcher.fetch("data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E")
    assert svg.read() == b'<svg xmlns="http://www.w3.org/2000/svg"/>'


def test_render_pdf_with_the_portal_app(app):
    """The same template through the real app factory (its Jinja setup and static folder)."""
    app.jinja_loader = ChoiceLoader([DictLoader(TEST_TEMPLATES), app.jinja_loader])
    with app.test_request_context():
        data = render_pdf("pdf/test_complaint.html", number="7", heading="储罐 投诉", customer="ACME", body="纠正措施")
    pages = pdf_text(data)
    assert "储罐 投诉" in pages[0]
    assert "Terminal CSD" in pages[0]
    assert "Page 1 of 2" in pages[0]
    assert "纠正措施" in pages[1]


def test_warm_up_renders_chinese_in_the_cjk_faces(app):
    """What a gunicorn worker renders when it starts (deploy/gunicorn.conf.py): regular and bold CJK text."""
    from portal.pdf import warm_up

    with app.app_context():
        data = warm_up()
    reader = PdfReader(io.BytesIO(data))
    assert "储罐" in reader.pages[0].extract_text()
    fonts = {str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any("CJK" in name and "Bold" in name for name in fonts), fonts
    assert any("CJK" in name and "Bold" not in name for name in fonts), fonts


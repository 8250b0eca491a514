"""portal.markdown: rendering, sanitising, internal links, plain text."""
from __future__ import annotations

import pytest
from markupsafe import Markup

from portal.markdown import render_markdown, render_markdown_with_toc, to_plain_text


def resolver(slug: str) -> str | None:
    return {"tank-cleaning": "/knowledge/tank-cleaning", "投诉流程": "/knowledge/complaints"}.get(slug)


# Sanitising

@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", ["<script", "alert(1)"]),
        ("before <script>alert(1)</script> after", ["<script", "alert"]),
        ("<img src=x onerror=alert(1)>", ["onerror", "alert"]),
        ("[x](javascript:alert(1))", ["javascript", "alert"]),
        ("[x](JaVaScRiPt:alert(1))", ["javascript", "alert"]),
        ("<a href=\"javascript:alert(1)\">x</a>", ["javascript", "alert"]),
        ("![x](javascript:alert(1))", ["javascript", "alert"]),
        ("<iframe src=\"https://evil.example/\"></iframe>", ["<iframe", "evil.example"]),
        ("<style>body { display: none }</style>", ["<style", "display"]),
        ("<div onclick=\"alert(1)\" style=\"color:red\">x</div>", ["onclick", "style", "alert"]),
        ("<svg><script>alert(1)</script></svg>", ["<svg", "<script", "alert"]),
        ("<form action=\"/x\"><input name=a></form>", ["<form", "<input"]),
        ("<!-- <script>alert(1)</script> -->", ["<!--", "alert"]),
        ("<object data=\"x.swf\"></object><embed src=\"x\">", ["<object", "<embed"]),
    ],
)
def test_xss_payloads_come_out_inert(source, forbidden):
    html = render_markdown(source)
    lowered = html.lower()
    for fragment in forbidden:
        assert fragment.lower() not in lowered, (fragment, html)


def test_link_gets_rel_and_keeps_title():
    html = render_markdown('[site](https://example.com/a "Example")')
    assert 'href="https://example.com/a"' in html
    assert 'title="Example"' in html
    assert 'rel="noopener noreferrer"' in html


def test_images_only_from_relative_or_http_urls():
    html = render_markdown(
        "![a](/static/a.png) ![b](https://example.com/b.png) ![c](data:image/png;base64,AAAA)"
        " ![d](ftp://example.com/d.png)"
    )
    assert 'src="/static/a.png"' in html
    assert 'src="https://example.com/b.png"' in html
    assert "data:" not in html
    assert "ftp:" not in html
    assert 'alt="c"' in html


def test_unknown_classes_are_dropped_and_known_kept():
    html = render_markdown('<span class="missing-link btn-danger">x</span><div class="alert toc">y</div>')
    assert 'class="missing-link"' in html
    assert 'class="toc"' in html
    assert "btn-danger" not in html
    assert "alert" not in html


def test_returns_markup():
    assert isinstance(render_markdown("*x*"), Markup)
    assert render_markdown("") == Markup("")


# Markdown features

def test_table_renders_without_style_or_align():
    html = render_markdown("| Tank | 容量 |\n|:-----|-----:|\n| T-101 | 5000 m³ |\n")
    assert "<table>" in html
    assert "<th>Tank</th>" in html
    assert "<td>5000 m³</td>" in html
    assert "style=" not in html
    assert "align=" not in html


def test_fenced_code_is_escaped_and_keeps_language():
    html = render_markdown('```python\nprint("<b>储罐</b>")\n```\n')
    assert '<pre><code class="language-python">' in html
    assert "&lt;b&gt;储罐&lt;/b&gt;" in html


def test_sane_lists_and_inline_formatting():
    html = render_markdown("1. one\n2. two\n\n* a\n* b\n\n**bold** *em* `code` H<sub>2</sub>O x<sup>2</sup> <del>old</del>")
    assert "<ol>" in html and "<ul>" in html
    for tag in ("<strong>bold</strong>", "<em>em</em>", "<code>code</code>", "<sub>2</sub>", "<sup>2</sup>", "<del>old</del>"):
        assert tag in html


def test_headings_get_ids_and_toc():
    html, toc = render_markdown_with_toc("# Tank Cleaning\n\n## Safety checks\n\n## Safety checks\n")
    assert '<h1 id="tank-cleaning">Tank Cleaning</h1>' in html
    assert '<h2 id="safety-checks">' in html
    assert '<h2 id="safety-checks_1">' in html
    assert 'class="toc"' in toc
    assert 'href="#tank-cleaning"' in toc
    assert 'href="#safety-checks_1"' in toc
    assert "¶" not in html


def test_chinese_headings_get_usable_ids():
    html, toc = render_markdown_with_toc("# 储罐 投诉\n\n## 纠正措施\n\n## Tank 3 纠正措施\n")
    assert '<h1 id="储罐-投诉">储罐 投诉</h1>' in html
    assert '<h2 id="纠正措施">纠正措施</h2>' in html
    assert '<h2 id="tank-3-纠正措施">' in html
    assert 'href="#储罐-投诉"' in toc
    assert 'id=""' not in html


def test_toc_marker_and_empty_toc():
    html = render_markdown("[TOC]\n\n# A\n\ntext")
    assert '<div class="toc">' in html
    _, toc = render_markdown_with_toc("no headings here")
    assert toc == Markup("")


def test_heading_text_is_sanitised_in_toc():
    html, toc = render_markdown_with_toc("# Title <script>alert(1)</script> <img src=x onerror=alert(2)>\n")
    for fragment in ("<script", "onerror", "</script"):
        assert fragment not in html
        assert fragment not in toc
    assert "alert(1)" not in html


# Internal links

def test_internal_links_resolve():
    html = render_markdown("See [[tank-cleaning]] and [[投诉流程|投诉 处理]].", link_resolver=resolver)
    assert '<a href="/knowledge/tank-cleaning" rel="noopener noreferrer">tank-cleaning</a>' in html
    assert '<a href="/knowledge/complaints" rel="noopener noreferrer">投诉 处理</a>' in html


def test_unresolved_internal_links_are_plain_text():
    html = render_markdown("[[no-such-page]] and [[gone|Old page]]", link_resolver=resolver)
    assert '<span class="missing-link">no-such-page</span>' in html
    assert '<span class="missing-link">Old page</span>' in html
    assert "<a" not in html


def test_internal_links_without_resolver_are_missing():
    assert '<span class="missing-link">tank-cleaning</span>' in render_markdown("[[tank-cleaning]]")


def test_internal_link_label_is_escaped_and_resolver_url_sanitised():
    html = render_markdown("[[x|<b>*bold*</b>]]", link_resolver=lambda slug: "javascript:alert(1)")
    assert "javascript" not in html
    assert "<b>" not in html
    assert "&lt;b&gt;*bold*&lt;/b&gt;" in html


def test_internal_links_inside_code_are_left_alone():
    html = render_markdown("`[[tank-cleaning]]`\n\n    [[tank-cleaning]]\n", link_resolver=resolver)
    assert "<a" not in html
    assert html.count("[[tank-cleaning]]") == 2


# Plain text

def test_to_plain_text_strips_markup_and_keeps_chinese():
    text = to_plain_text(
        "# 储罐 投诉\n\n**纠正措施**已完成，see [the procedure](/knowledge/x).\n\n"
        "- 第一步\n- Step two\n\n| 罐号 | 状态 |\n|---|---|\n| T-101 | 清洗 |\n\n"
        "<script>alert(1)</script>\n\n[[tank-cleaning|清罐 规程]]\n"
    )
    assert text.splitlines() == [
        "储罐 投诉",
        "纠正措施已完成，see the procedure.",
        "第一步",
        "Step two",
        "罐号 状态",
        "T-101 清洗",
        "清罐 规程",
    ]


def test_to_plain_text_unescapes_entities_and_keeps_code_lines():
    text = to_plain_text("A &amp; B < C\n\n```\nline 1\nline 2\n```\n")
    assert text.splitlines() == ["A & B < C", "line 1", "line 2"]


def test_to_plain_text_skips_toc_and_handles_empty():
    assert to_plain_text("[TOC]\n\n# 标题\n\n正文") == "标题\n正文"
    assert to_plain_text("") == ""

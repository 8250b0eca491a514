"""Markdown to sanitised HTML (python-markdown, then nh3 with an allow-list) and to plain text.

Pages link to each other with ``[[slug]]`` or ``[[slug|label]]``; a ``link_resolver(slug)``
turns the slug into a URL, and links it cannot resolve show as
``<span class="missing-link">``.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urlsplit

import markdown as md_lib
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString
from markupsafe import Markup

LinkResolver = Callable[[str], str | None]

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_TAGS = _HEADINGS | {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "table", "thead", "tbody", "tr", "th", "td", "a", "img", "div", "span", "del", "sup", "sub",
}
_ATTRIBUTES: dict[str, set[str]] = {
    **{h: {"id"} for h in _HEADINGS},
    "a": {"href", "title"},
    "img": {"src", "alt"},
    "div": {"class"},
    "span": {"class"},
    "code": {"class"},
}
_CLASSES: dict[str, frozenset[str]] = {
    "div": frozenset({"toc"}),
    "span": frozenset({"toctitle", "missing-link"}),
}
_CODE_CLASS = re.compile(r"language-[\w+#.-]{1,40}")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Keep only known class names, and images from relative or http(s) URLs."""
    if attribute == "class":
        if tag == "code":
            kept = [c for c in value.split() if _CODE_CLASS.fullmatch(c)]
        else:
            kept = [c for c in value.split() if c in _CLASSES.get(tag, ())]
        return " ".join(kept) or None
    if tag == "img" and attribute == "src":
        scheme = urlsplit(value.strip()).scheme.lower()
        return value if scheme in {"", "http", "https"} else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style", "iframe", "template", "noscript"},
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
    strip_comments=True,
)

WIKI_LINK_RE = r"\[\[([^\[\]|\n]+?)(?:\|([^\[\]\n]+?))?\]\]"


class _WikiLinkProcessor(InlineProcessor):
    """``[[slug]]`` and ``[[slug|label]]`` to a link, or a missing-link span."""

    def __init__(self, pattern: str, resolver: LinkResolver | None) -> None:
        super().__init__(pattern)
        self.resolver = resolver

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element, int, int]:  # noqa: N802
        slug = m.group(1).strip()
        label = (m.group(2) or "").strip() or slug
        url = self.resolver(slug) if self.resolver and slug else None
        if url:
            el = etree.Element("a", {"href": url})
        else:
            el = etree.Element("span", {"class": "missing-link"})
        el.text = AtomicString(label)
        return el, m.start(0), m.end(0)


class WikiLinkExtension(Extension):
    """Registers the ``[[slug]]`` pattern ahead of reference links."""

    def __init__(self, resolver: LinkResolver | None = None) -> None:
        super().__init__()
        self.resolver = resolver

    def extendMarkdown(self, md: md_lib.Markdown) -> None:  # noqa: N802
        md.inlinePatterns.register(_WikiLinkProcessor(WIKI_LINK_RE, self.resolver), "wikilink", 175)


def _converter(link_resolver: LinkResolver | None) -> md_lib.Markdown:
    return md_lib.Markdown(
        extensions=["tables", "toc", "fenced_code", "sane_lists", WikiLinkExtension(link_resolver)],
        extension_configs={"toc": {"permalink": False, "slugify": slugify_unicode}},
        output_format="html",
    )


def clean_html(html: str) -> Markup:
    """Sanitise an HTML fragment with the same allow-list as rendered Markdown."""
    return Markup(_CLEANER.clean(html))


def render_markdown_with_toc(
    text: str, *, link_resolver: LinkResolver | None = None
) -> tuple[Markup, Markup]:
    """Sanitised HTML of ``text`` and of its table of contents (empty when there are no headings)."""
    converter = _converter(link_resolver)
    html = converter.convert(text or "")
    toc = converter.toc if getattr(converter, "toc_tokens", None) else ""  # type: ignore[attr-defined]
    return clean_html(html), clean_html(toc) if toc else Markup("")


def render_markdown(text: str, *, link_resolver: LinkResolver | None = None) -> Markup:
    """Sanitised HTML of the Markdown ``text``."""
    return render_markdown_with_toc(text, link_resolver=link_resolver)[0]


_BLOCK_TAGS = _HEADINGS | {
    "p", "div", "br", "hr", "pre", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr",
}
_CELL_TAGS = {"td", "th"}


class _TextExtractor(HTMLParser):
    """Collects text, with line breaks at block boundaries; skips the table of contents."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_depth:
            if tag == "div":
                self.skip_depth += 1
            return
        if tag == "div" and "toc" in (dict(attrs).get("class") or "").split():
            self.skip_depth = 1
            return
        if tag == "pre":
            self.pre_depth += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            if tag == "div":
                self.skip_depth -= 1
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data if self.pre_depth else data.replace("\n", " "))


def to_plain_text(text: str) -> str:
    """Markdown to plain text for search and snippets: one line per block, markup removed."""
    parser = _TextExtractor()
    parser.feed(str(render_markdown(text)))
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)

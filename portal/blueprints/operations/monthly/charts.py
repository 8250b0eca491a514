"""Server-rendered SVG charts of the monthly report (horizontal bars per category, grouped two-series bars).

The same approach as the surveys' chart writer (presentation attributes only: no <style>, no script, so
the CSP holds inline; the same markup goes into the PDF; labels escaped here; the CJK font stack so
Chinese labels render). A domain may not import another domain's modules, hence a small writer here.
"""
from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

FONT = "Noto Sans CJK SC, Noto Sans SC, WenQuanYi Micro Hei, sans-serif"
COLOURS = ("#2f6f9f", "#c0792b")
TRACK = "#f3f5f7"
INK = "#1f2328"


def _width(text: str, size: int) -> float:
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in str(text))


def _fit(text, px: float, size: int) -> str:
    text = str(text)
    if _width(text, size) <= px:
        return text
    while text and _width(text + "…", size) > px:
        text = text[:-1]
    return text + "…"


def _num(v) -> str:
    return f"{float(v):.1f}".rstrip("0").rstrip(".")


def _text(x, y, content, *, size=11, anchor="start", weight=None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-family={quoteattr(FONT)} font-size="{size}" '
            f'text-anchor="{anchor}" fill="{INK}"{extra}>{escape(str(content))}</text>')


def _svg(width, height, title, body: list[str]) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
                  f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(str(title))}>'
                  f'<title>{escape(str(title))}</title>' + "".join(body) + "</svg>")


def bars(rows: list[tuple[str, list[Decimal | int | float]]], title: str, series: list[str], *,
         width: int = 620) -> Markup:
    """Horizontal bars: one row per category, one bar per series value (e.g. receipts and deliveries in t),
    all on one scale, with a legend of ``series``."""
    row_h = 10 + 12 * max(len(series), 1)
    top = 28 + (16 if len(series) > 1 else 0)
    label_w = int(min(width * 0.4, max([100.0] + [_width(name, 11) + 12 for name, _v in rows])))
    plot_w = width - label_w - 70
    height = top + row_h * max(len(rows), 1) + 8
    peak = max([float(v or 0) for _n, values in rows for v in values] + [1.0])
    body = [_text(4, 16, _fit(title, width - 8, 13), size=13, weight="bold")]
    if len(series) > 1:
        x = 4
        for n, name in enumerate(series):
            body.append(f'<rect x="{x}" y="{24}" width="10" height="10" fill="{COLOURS[n % len(COLOURS)]}"/>')
            body.append(_text(x + 14, 33, name, size=10))
            x += 24 + _width(name, 10)
    if not rows:
        body.append(_text(label_w, top + 14, "—"))
    for i, (name, values) in enumerate(rows):
        y = top + row_h * i
        body.append(_text(label_w - 6, y + row_h / 2 + 4, _fit(name, label_w - 8, 11), size=11, anchor="end"))
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="{row_h - 6}" fill="{TRACK}"/>')
        for n, value in enumerate(values):
            w = plot_w * float(value or 0) / peak
            by = y + 5 + 12 * n
            body.append(f'<rect x="{label_w}" y="{_num(by)}" width="{_num(w)}" height="10" '
                        f'fill="{COLOURS[n % len(COLOURS)]}"><title>{escape(f"{name}: {value}")}</title></rect>')
            body.append(_text(label_w + w + 4, by + 9, str(value), size=9))
    return _svg(width, height, title, body)

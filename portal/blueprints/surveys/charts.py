"""Server-rendered SVG charts: bar charts of distributions, horizontal bars per category, the trend line.

Our own small writer rather than a charting package: three chart shapes need ~150 lines, the SVG uses only
presentation attributes (no <style>, no script, so the portal's CSP holds when it is inlined in a page), the
same markup goes into WeasyPrint's PDFs, and every label is escaped here. Text is drawn with the CJK fonts
the PDFs already use, so Chinese labels render.
"""
from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

FONT = "Noto Sans CJK SC, Noto Sans SC, WenQuanYi Micro Hei, sans-serif"
BAR = "#2f6f9f"
FLAG = "#c0392b"
GRID = "#d0d7de"
INK = "#1f2328"
SERIES = ("#2f6f9f", "#c0392b", "#2e8b57", "#b8860b", "#6a5acd", "#8b4513", "#008b8b", "#696969")


def _text_width(text: str, size: int) -> float:
    """A rough width in pixels: CJK characters are square, Latin ones a little over half the size."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in str(text))


def _fit(text, px: float, size: int) -> str:
    """Shorten ``text`` with an ellipsis to fit ``px`` pixels."""
    text = str(text)
    if _text_width(text, size) <= px:
        return text
    while text and _text_width(text + "…", size) > px:
        text = text[:-1]
    return text + "…"


def _num(v) -> str:
    return f"{float(v):.1f}".rstrip("0").rstrip(".")


def _text(x, y, content, *, size=12, anchor="start", fill=INK, weight=None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-family={quoteattr(FONT)} font-size="{size}" '
            f'text-anchor="{anchor}" fill="{fill}"{extra}>{escape(str(content))}</text>')


def _svg(width, height, title, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(str(title))}>'
            f'<title>{escape(str(title))}</title>')
    return Markup(head + "".join(body) + "</svg>")


def bar_chart(bars: list[tuple[str, int | float | Decimal]], title: str, *, flagged: set[int] = frozenset(),
              width: int = 420, height: int = 200) -> Markup:
    """Vertical bars (e.g. how many answered 1, 2, ... 5); bars whose index is in ``flagged`` are red."""
    top, bottom, left, right = 28, 36, 34, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([float(v) for _l, v in bars] + [1.0])
    if all(float(v).is_integer() for _l, v in bars):  # counts: whole-number gridlines
        peak = max(4, -(-int(peak) // 4) * 4)
    body = [_text(left, 16, _fit(title, width - left - right, 13), size=13, weight="bold")]
    for k in range(5):
        y = top + plot_h * k / 4
        body.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(left - 4, y + 4, _num(peak * (4 - k) / 4), size=10, anchor="end"))
    slot = plot_w / max(len(bars), 1)
    for i, (name, value) in enumerate(bars):
        h = plot_h * float(value) / peak
        x = left + slot * i + slot * 0.15
        body.append(f'<rect x="{_num(x)}" y="{_num(top + plot_h - h)}" width="{_num(slot * 0.7)}" height="{_num(h)}" '
                    f'fill="{FLAG if i in flagged else BAR}"><title>{escape(f"{name}: {_num(value)}")}</title></rect>')
        if value:
            body.append(_text(x + slot * 0.35, top + plot_h - h - 3, _num(value), size=10, anchor="middle"))
        body.append(_text(left + slot * (i + 0.5), height - bottom + 14, _fit(name, slot - 2, 10), size=10, anchor="middle"))
    return _svg(width, height, title, body)


def hbar_chart(rows: list[tuple[str, Decimal | None]], title: str, *, scale_max: float = 5.0, width: int = 520,
               reference: list[Decimal | None] | None = None) -> Markup:
    """Horizontal bars of means per category (0..scale_max); ``reference`` draws a tick per row (e.g. the
    average of all customers beside one customer's bar)."""
    row_h, top = 24, 28
    label_w = int(min(width * 0.55, max([120.0] + [_text_width(name, 11) + 12 for name, _v in rows])))
    height = top + row_h * max(len(rows), 1) + 10
    plot_w = width - label_w - 40
    body = [_text(4, 16, _fit(title, width - 8, 13), size=13, weight="bold")]
    for i, (name, value) in enumerate(rows):
        y = top + row_h * i
        body.append(_text(label_w - 6, y + 15, _fit(name, label_w - 8, 11), size=11, anchor="end"))
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row_h - 8}" fill="#f3f5f7"/>')
        if value is not None:
            w = plot_w * float(value) / scale_max
            body.append(f'<rect x="{label_w}" y="{y + 4}" width="{_num(w)}" height="{row_h - 8}" '
                        f'fill="{FLAG if float(value) < 3 else BAR}"/>')
            body.append(_text(label_w + w + 4, y + 15, _num(value), size=10))
        if reference and i < len(reference) and reference[i] is not None:
            rx = label_w + plot_w * float(reference[i]) / scale_max
            body.append(f'<line x1="{_num(rx)}" y1="{y + 1}" x2="{_num(rx)}" y2="{y + row_h - 1}" stroke="{INK}" '
                        f'stroke-width="2"><title>{escape(_num(reference[i]))}</title></line>')
    return _svg(width, height, title, body)


def line_chart(x_labels: list[str], series: list[tuple[str, list[Decimal | None]]], title: str, *,
               y_min: float = 1.0, y_max: float = 5.0, width: int = 560, height: int = 260) -> Markup:
    """One line per series over the x labels (campaigns); a None is a gap (the question was not asked)."""
    top, left, right = 28, 36, 10
    legend_h = 16 * len(series)
    bottom = 30 + legend_h
    plot_w, plot_h = width - left - right, height - top - bottom
    body = [_text(left, 16, _fit(title, width - left - right, 13), size=13, weight="bold")]
    span = (y_max - y_min) or 1.0
    for k in range(5):
        y = top + plot_h * k / 4
        body.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(left - 4, y + 4, _num(y_max - span * k / 4), size=10, anchor="end"))
    step = plot_w / max(len(x_labels), 1)

    def px(i):
        return left + step * (i + 0.5)

    def py(v):
        return top + plot_h * (1 - (float(v) - y_min) / span)

    for i, name in enumerate(x_labels):
        body.append(_text(px(i), top + plot_h + 14, name, size=10, anchor="middle"))
    for n, (name, values) in enumerate(series):
        colour = SERIES[n % len(SERIES)]
        points = [(px(i), py(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                        f'points="{" ".join(f"{_num(x)},{_num(y)}" for x, y in points)}"/>')
        for (x, y), v in zip(points, [v for v in values if v is not None]):
            body.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{colour}"><title>{escape(f"{name}: {_num(v)}")}</title></circle>')
        ly = top + plot_h + 30 + 16 * n
        body.append(f'<rect x="{left}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>')
        body.append(_text(left + 16, ly, _fit(name, width - left - 20, 11), size=11))
    return _svg(width, height, title, body)

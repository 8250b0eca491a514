"""Server-rendered SVG charts for pages and PDFs: vertical bars, horizontal bars per category, grouped bars of
several series, and a line chart.

The portal's one chart writer (surveys, monthly reports): a charting package would bring a client library or
raster images for four shapes that take ~200 lines. The SVG uses presentation attributes only (no <style>, no
script, so the portal's CSP holds when it is inlined in a page), the same markup goes into WeasyPrint's PDFs,
and every label is escaped here. Text is drawn with the CJK fonts the PDFs already use, so Chinese labels
render.

Cheap to print: WeasyPrint lays out and draws every SVG element on its own, so the bars of a series are one
``<path>`` (one sub-path per bar), the background tracks and grid lines one ``<path>`` each, and only labels and
values are ``<text>``; the value of each bar is printed beside it rather than kept in a hover title.
"""
from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

FONT = "Noto Sans CJK SC, Noto Sans SC, WenQuanYi Micro Hei, sans-serif"
BAR = "#2f6f9f"
FLAG = "#c0392b"
GRID = "#d0d7de"
TRACK = "#f3f5f7"
INK = "#1f2328"
SERIES = ("#2f6f9f", "#c0792b", "#2e8b57", "#b8860b", "#6a5acd", "#8b4513", "#008b8b", "#696969")

Number = int | float | Decimal


def text_width(text: str, size: int) -> float:
    """A rough width in pixels: CJK characters are square, Latin ones a little over half the size."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in str(text))


def fit(text, px: float, size: int) -> str:
    """Shorten ``text`` with an ellipsis to fit ``px`` pixels."""
    text = str(text)
    if text_width(text, size) <= px:
        return text
    while text and text_width(text + "…", size) > px:
        text = text[:-1]
    return text + "…"


def _num(v) -> str:
    return f"{float(v):.1f}".rstrip("0").rstrip(".")


def _text(x, y, content, *, size=12, anchor="start", fill=INK, weight=None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-family={quoteattr(FONT)} font-size="{size}" '
            f'text-anchor="{anchor}" fill="{fill}"{extra}>{escape(str(content))}</text>')


def _rect(x, y, w, h) -> str:
    """One rectangle as a closed sub-path."""
    return f"M{_num(x)} {_num(y)}h{_num(w)}v{_num(h)}h{_num(-w)}z"


def _path(parts: list[str], fill: str) -> str:
    return f'<path d="{"".join(parts)}" fill="{fill}"/>' if parts else ""


def _hlines(x1, x2, ys) -> str:
    if not ys:
        return ""
    d = "".join(f"M{_num(x1)} {_num(y)}H{_num(x2)}" for y in ys)
    return f'<path d="{d}" fill="none" stroke="{GRID}" stroke-width="1"/>'


def _svg(width, height, title, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(str(title))}>'
            f'<title>{escape(str(title))}</title>')
    return Markup(head + "".join(body) + "</svg>")


def bar_chart(bars: list[tuple[str, Number]], title: str, *, flagged: set[int] = frozenset(),
              width: int = 420, height: int = 200) -> Markup:
    """Vertical bars (e.g. how many answered 1, 2, ... 5); bars whose index is in ``flagged`` are red."""
    top, bottom, left, right = 28, 36, 34, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([float(v) for _l, v in bars] + [1.0])
    if all(float(v).is_integer() for _l, v in bars):  # counts: whole-number gridlines
        peak = max(4, -(-int(peak) // 4) * 4)
    body = [_text(left, 16, fit(title, width - left - right, 13), size=13, weight="bold")]
    grid = [top + plot_h * k / 4 for k in range(5)]
    body.append(_hlines(left, width - right, grid))
    body += [_text(left - 4, y + 4, _num(peak * (4 - k) / 4), size=10, anchor="end") for k, y in enumerate(grid)]
    slot = plot_w / max(len(bars), 1)
    plain, red, labels = [], [], []
    for i, (name, value) in enumerate(bars):
        h = plot_h * float(value) / peak
        x = left + slot * i + slot * 0.15
        (red if i in flagged else plain).append(_rect(x, top + plot_h - h, slot * 0.7, h))
        if value:
            labels.append(_text(x + slot * 0.35, top + plot_h - h - 3, _num(value), size=10, anchor="middle"))
        labels.append(_text(left + slot * (i + 0.5), height - bottom + 14, fit(name, slot - 2, 10), size=10,
                            anchor="middle"))
    body += [_path(plain, BAR), _path(red, FLAG)] + labels
    return _svg(width, height, title, body)


def hbar_chart(rows: list[tuple[str, Decimal | None]], title: str, *, scale_max: float = 5.0, width: int = 520,
               reference: list[Decimal | None] | None = None) -> Markup:
    """Horizontal bars of means per category (0..scale_max), red under 3; ``reference`` draws a tick per row
    (e.g. the average of all customers beside one customer's bar)."""
    row_h, top = 24, 28
    label_w = int(min(width * 0.55, max([120.0] + [text_width(name, 11) + 12 for name, _v in rows])))
    height = top + row_h * max(len(rows), 1) + 10
    plot_w = width - label_w - 40
    body = [_text(4, 16, fit(title, width - 8, 13), size=13, weight="bold")]
    tracks, plain, red, ticks, labels = [], [], [], [], []
    for i, (name, value) in enumerate(rows):
        y = top + row_h * i
        labels.append(_text(label_w - 6, y + 15, fit(name, label_w - 8, 11), size=11, anchor="end"))
        tracks.append(_rect(label_w, y + 4, plot_w, row_h - 8))
        if value is not None:
            w = plot_w * float(value) / scale_max
            (red if float(value) < 3 else plain).append(_rect(label_w, y + 4, w, row_h - 8))
            labels.append(_text(label_w + w + 4, y + 15, _num(value), size=10))
        if reference and i < len(reference) and reference[i] is not None:
            rx = label_w + plot_w * float(reference[i]) / scale_max
            ticks.append(_rect(rx - 1, y + 1, 2, row_h - 2))
    body += [_path(tracks, TRACK), _path(plain, BAR), _path(red, FLAG), _path(ticks, INK)] + labels
    return _svg(width, height, title, body)


def grouped_bars(rows: list[tuple[str, list[Number | None]]], title: str, series: list[str], *,
                 width: int = 620) -> Markup:
    """Horizontal bars: one row per category, one bar per series value (e.g. receipts and deliveries in t), all
    on one scale, each value printed beside its bar, with a legend of ``series`` when there are several."""
    row_h = 10 + 12 * max(len(series), 1)
    top = 28 + (16 if len(series) > 1 else 0)
    label_w = int(min(width * 0.4, max([100.0] + [text_width(name, 11) + 12 for name, _v in rows])))
    plot_w = width - label_w - 70
    height = top + row_h * max(len(rows), 1) + 8
    peak = max([float(v or 0) for _n, values in rows for v in values] + [1.0])
    body = [_text(4, 16, fit(title, width - 8, 13), size=13, weight="bold")]
    bars: list[list[str]] = [[] for _ in series]
    if len(series) > 1:
        x = 4
        for n, name in enumerate(series):
            bars[n].append(_rect(x, 24, 10, 10))
            body.append(_text(x + 14, 33, name, size=10))
            x += 24 + text_width(name, 10)
    if not rows:
        body.append(_text(label_w, top + 14, "—"))
    tracks = []
    for i, (name, values) in enumerate(rows):
        y = top + row_h * i
        body.append(_text(label_w - 6, y + row_h / 2 + 4, fit(name, label_w - 8, 11), size=11, anchor="end"))
        tracks.append(_rect(label_w, y + 3, plot_w, row_h - 6))
        for n, value in enumerate(values[:len(series)]):
            w = plot_w * float(value or 0) / peak
            by = y + 5 + 12 * n
            bars[n].append(_rect(label_w, by, w, 10))
            body.append(_text(label_w + w + 4, by + 9, str(value if value is not None else "—"), size=9))
    body[1:1] = [_path(tracks, TRACK)] + [_path(parts, SERIES[n % len(SERIES)]) for n, parts in enumerate(bars)]
    return _svg(width, height, title, body)


def line_chart(x_labels: list[str], series: list[tuple[str, list[Decimal | None]]], title: str, *,
               y_min: float = 1.0, y_max: float = 5.0, width: int = 560, height: int = 260) -> Markup:
    """One line per series over the x labels (e.g. campaigns); a None is a gap (the value was not there)."""
    top, left, right = 28, 36, 10
    legend_h = 16 * len(series)
    bottom = 30 + legend_h
    plot_w, plot_h = width - left - right, height - top - bottom
    body = [_text(left, 16, fit(title, width - left - right, 13), size=13, weight="bold")]
    span = (y_max - y_min) or 1.0
    grid = [top + plot_h * k / 4 for k in range(5)]
    body.append(_hlines(left, width - right, grid))
    body += [_text(left - 4, y + 4, _num(y_max - span * k / 4), size=10, anchor="end") for k, y in enumerate(grid)]
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
            body.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{colour}">'
                        f'<title>{escape(f"{name}: {_num(v)}")}</title></circle>')
        ly = top + plot_h + 30 + 16 * n
        body.append(_path([_rect(left, ly - 9, 10, 10)], colour))
        body.append(_text(left + 16, ly, fit(name, width - left - 20, 11), size=11))
    return _svg(width, height, title, body)

"""The core SVG chart writer (portal/charts.py) shared by the surveys and the monthly reports."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from portal import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_grouped_bars_print_every_value_and_label_with_one_path_per_series():
    svg = charts.grouped_bars([("柴油 GASOIL", [Decimal("1234.567"), Decimal("89.5")]), ("航煤 <JET>", [Decimal("0"), None])],
                              "吞吐量（吨）Throughput (t)", ["收货 Receipts", "发货 Deliveries"])
    root = ET.fromstring(str(svg))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"柴油 GASOIL", "航煤 <JET>", "1234.567", "89.5", "0", "—", "收货 Receipts", "发货 Deliveries"} <= set(texts)
    fills = [p.get("fill") for p in root.iter(f"{SVG}path")]
    # the background tracks, then one path per series, whatever the number of rows
    assert fills == [charts.TRACK, charts.SERIES[0], charts.SERIES[1]]
    assert not list(root.iter(f"{SVG}rect"))
    assert "<JET>" not in str(svg) and "style=" not in str(svg) and "<script" not in str(svg)


def test_an_empty_chart_says_so():
    root = ET.fromstring(str(charts.grouped_bars([], "泊位占用率（%）Berth occupancy (%)", ["%"])))
    assert "—" in [t.text for t in root.iter(f"{SVG}text")]

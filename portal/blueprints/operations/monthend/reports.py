"""The month-end reconciliation report: a bilingual PDF (portal/pdf.py) and an XLSX (portal/xlsx.py)."""
from __future__ import annotations

from datetime import date

from ....pdf import render_pdf_anywhere
from ....xlsx import workbook_bytes
from . import services
from .models import COMPARISON_WORDS, INVESTIGATION_STATES

HEADER = ["油罐 Tank", "客户 Customer", "产品 Product", "实测 Physical m³ (20 °C)", "实测 Physical t",
          "账面 Book m³ (20 °C)", "账面 Book t", "海关 Customs m³ (20 °C)", "海关 Customs t",
          "差异 Variance m³", "差异 Variance t", "差异 Variance %",
          "实测−海关 Physical − customs m³", "实测−海关 Physical − customs t", "实测−海关 Physical − customs %",
          "账面−海关 Book − customs m³", "账面−海关 Book − customs t", "账面−海关 Book − customs %",
          "保税比例 Bonded share %", "允差 Tolerance %", "超差 Over tolerance", "调查 Investigation"]


def _over(r: services.Variance) -> str:
    over = r.comparisons_over
    return "; ".join(COMPARISON_WORDS[c] for c in over) if over else "否 no"


def _investigations(r: services.Variance) -> str:
    return "; ".join(f"{COMPARISON_WORDS.get(c, c)}: {INVESTIGATION_STATES.get(state, state)}"
                     for c, (_id, state) in sorted(r.investigations.items(), key=lambda i: list(COMPARISON_WORDS).index(i[0])
                                                   if i[0] in COMPARISON_WORDS else 9))


def _rows(rows: list[services.Variance]) -> list[list]:
    return [[r.tank_code, r.customer_code or "—", r.product_code, r.physical_m3, r.physical_t, r.book_m3, r.book_t,
             r.customs_m3, r.customs_t, r.variance_m3, r.variance_t, r.variance_pct,
             r.pc_variance_m3, r.pc_variance_t, r.pc_pct, r.bc_variance_m3, r.bc_variance_t, r.bc_pct,
             r.bonded_share_pct, r.tolerance_pct, _over(r), _investigations(r)] for r in rows]


def report_xlsx(month: date) -> bytes:
    rows = services.variances(month)
    t = services.totals(rows)
    total = ["合计 Total", "", "", t["physical_m3"], t["physical_t"], t["book_m3"], t["book_t"], t["customs_m3"],
             t["customs_t"], t["variance_m3"], t["variance_t"], None, None, None, None, None, None, None, None, None,
             "", ""]
    period = services.period_for(month)
    invs = services.investigation_rows(period) if period else []
    return workbook_bytes([
        (f"{month:%Y-%m}", HEADER, _rows(rows) + [total]),
        ("调查 Investigations", ["油罐 Tank", "客户 Customer", "产品 Product", "对比 Comparison", "状态 State", "原因 Cause",
                               "处理 Resolution", "接受理由 Reason for accepting"], invs),
    ])


def report_pdf(month: date, signer=None) -> bytes:
    rows = services.variances(month)
    period = services.period_for(month)
    return render_pdf_anywhere("operations/monthend/pdf_report.html", month=month, rows=rows,
                               comparison_words=COMPARISON_WORDS,
                               totals=services.totals(rows), period=period, signer=signer,
                               investigations=services.investigation_rows(period) if period else [])


def report_files(month: date, user) -> list[tuple[str, bytes]]:
    return [(f"month-end-{month:%Y-%m}.pdf", report_pdf(month, signer=user)),
            (f"month-end-{month:%Y-%m}.xlsx", report_xlsx(month))]

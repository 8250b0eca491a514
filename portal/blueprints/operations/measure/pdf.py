"""The bilingual PDF of a dip's computation (every step, as on the page)."""
from __future__ import annotations

from ....pdf import render_pdf_anywhere
from ....timeutil import to_local
from . import services
from .models import Dip

STEP_LABELS = {
    "innage": "实高 Innage",
    "tov": "总视体积 Total observed volume (TOV)",
    "water": "游离水 Free water (FW)",
    "temperature": "油品平均温度 Average product temperature",
    "density_observed": "视密度 Observed density",
    "density_base": "标准密度 Density at the base temperature",
    "roof": "浮顶修正 Floating-roof correction",
    "gov": "毛视体积 Gross observed volume (GOV)",
    "vcf": "体积修正系数 Volume correction factor (VCF)",
    "gsv": "毛标准体积 Gross standard volume (GSV)",
    "mass_vacuum": "真空中质量 Mass in vacuum",
    "mass_air": "空气中质量 Mass in air",
    "v20": "20 °C 体积 Volume at 20 °C",
}
STANDARD_TEXT = {
    "gbt": "GB/T 1885-1998 石油计量表 (20 °C), API MPMS 11.1-2004 correlation",
    "astm": "ASTM D1250-04 / API MPMS 11.1-2004 (15 °C)",
}
METHOD_TEXT = {"innage": "实高 Innage", "ullage": "空高 Ullage"}


def filename(dip: Dip) -> str:
    return f"dip-{dip.tank.code}-{to_local(dip.taken_at).strftime('%Y%m%d-%H%M')}.pdf"


def dip_pdf(dip: Dip) -> bytes:
    result = services.recompute(dip)
    return render_pdf_anywhere("operations/measure/pdf_dip.html", dip=dip, result=result, labels=STEP_LABELS,
                               standard_text=STANDARD_TEXT[dip.standard], method_text=METHOD_TEXT[dip.method])

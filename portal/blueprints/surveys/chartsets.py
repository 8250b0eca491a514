"""The charts of a campaign's results and of the year-on-year trend, labelled in one language or both."""
from __future__ import annotations

from ... import charts
from .models import CATEGORIES_BI, RATING_LABELS


def _cat(code: str, lang: str) -> str:
    zh, en = CATEGORIES_BI.get(code, (code, code))
    return {"zh": zh, "en": en}.get(lang, f"{zh} {en}")


def _q(question, lang: str) -> str:
    if lang == "bi":
        return f"{question.text_zh} / {question.text_en}"
    return question.text(lang)


def _words(lang: str, zh: str, en: str) -> str:
    return {"zh": zh, "en": en}.get(lang, f"{zh} / {en}")


def campaign_charts(res: dict, *, lang: str = "bi") -> dict:
    """{"question_charts": {question id: svg}, "category_chart": svg or None}."""
    out = {}
    for s in res["stats"]:
        q = s["question"]
        if q.kind == "rating":
            bars = [(f"{k} {RATING_LABELS[k][0] if lang != 'en' else ''}".strip(), n) for k, n in s["distribution"].items()]
            out[q.id] = charts.bar_chart(bars, _q(q, lang), flagged={0, 1})
        elif q.kind == "nps":
            bars = [(str(k), n) for k, n in s["distribution"].items()]
            out[q.id] = charts.bar_chart(bars, _q(q, lang), flagged=set(range(7)), width=480)
        elif q.kind in ("single", "multiple"):
            bars = [((q.choices[i][1] if lang == "en" else q.choices[i][0])[:12], n) for i, n in s["choice_counts"].items()]
            out[q.id] = charts.bar_chart(bars, _q(q, lang))
    cats = res["categories"]
    category_chart = charts.hbar_chart([(_cat(c, lang), v) for c, v in cats.items()],
                                       _words(lang, "各服务类别平均分", "Mean rating per service category")) if cats else None
    return {"question_charts": out, "category_chart": category_chart}


def customer_chart(cust: dict, *, lang: str) -> object | None:
    rows = cust["categories"]
    if not rows:
        return None
    return charts.hbar_chart([(_cat(c, lang), mine) for c, mine, _all in rows],
                             _words(lang, "本客户（条）与全体平均（竖线）", "This customer (bar) beside the average of all (tick)"),
                             reference=[a for _c, _m, a in rows])


def trend_charts(tr: dict, *, lang: str) -> dict:
    labels = [str(c.year or c.opens_on.year) for c in tr["campaigns"]]
    out = {}
    if tr["categories"]:
        out["categories"] = charts.line_chart(labels, [(_cat(c, lang), v) for c, v in tr["categories"].items()],
                                              _words(lang, "各服务类别逐年平均分", "Mean rating per category, year on year"))
    if any(v is not None for v in tr["nps"]):
        out["nps"] = charts.line_chart(labels, [("NPS", tr["nps"])], _words(lang, "净推荐值逐年", "Net promoter score, year on year"),
                                       y_min=-100, y_max=100)
    qs = [(k, v) for k, v in tr["questions"].items() if tr["question_info"][k].kind == "rating"]
    if qs:
        out["questions"] = charts.line_chart(
            labels, [(_q(tr["question_info"][k], lang)[:40], v) for k, v in qs],
            _words(lang, "各问题逐年平均分", "Mean rating per question, year on year"), height=260 + 16 * len(qs))
    return out


def page_lang() -> str:
    from ...i18n import is_chinese

    return "zh" if is_chinese() else "en"


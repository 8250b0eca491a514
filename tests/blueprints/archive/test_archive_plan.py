"""File plan import: the three real schedules, the shipped starter plan, and rows that cannot be understood."""
import io

import pytest

from portal.blueprints.archive.models import Series
from portal.blueprints.archive.plan import STARTER_PLAN, import_plan, parse_rule
from portal.extensions import db


@pytest.mark.parametrize("name, count", [
    ("cn-accounting-archives-retention-2015.csv", 16),
    ("us-va-general-schedules.csv", 217),
    ("us-nc-functional-schedule-2025.csv", 406),
])
def test_the_real_schedules_load_completely(app, corpus, name, count):
    result = import_plan(corpus / name)
    db.session.commit()
    assert (result.created, result.errors) == (count, [])
    assert db.session.scalar(db.select(db.func.count(Series.id)).filter_by(plan=name)) == count


def test_chinese_accounting_rows_are_read_correctly(app, corpus):
    import_plan(corpus / "cn-accounting-archives-retention-2015.csv")
    vouchers = db.session.scalar(db.select(Series).filter_by(code="CN-AT1-01"))
    assert (vouchers.title_en, vouchers.title_zh) == ("Accounting vouchers / Original vouchers", "会计凭证 / 原始凭证")
    assert (vouchers.retention_kind, vouchers.retention_amount, vouchers.trigger) == ("period", 30, "fiscal_year_end")
    assert vouchers.disposition == "review"  # 期满鉴定 = appraise at expiry
    cards = db.session.scalar(db.select(Series).filter_by(code="CN-AT1-06"))
    assert (cards.trigger, cards.retention_amount) == ("event", 5) and "报废" in cards.trigger_label
    annual = db.session.scalar(db.select(Series).filter_by(code="CN-AT1-09"))
    assert annual.retention_kind == "permanent"


def test_us_rows_until_trigger_event_and_calendar_year(app, corpus):
    import_plan(corpus / "us-va-general-schedules.csv")
    import_plan(corpus / "us-nc-functional-schedule-2025.csv")
    acks = db.session.scalar(db.select(Series).filter_by(code="VA-GS-101-100301"))
    assert (acks.retention_amount, acks.retention_unit, acks.trigger) == (3, "months", "calendar_year_end")
    superseded = db.session.scalar(db.select(Series).filter_by(code="NC-112.S"))
    assert (superseded.retention_kind, superseded.trigger, superseded.trigger_label) == (
        "until_event", "event", "Superseded/Obsolete")


def test_reimport_updates_instead_of_duplicating(app, corpus):
    import_plan(corpus / "cn-accounting-archives-retention-2015.csv")
    result = import_plan(corpus / "cn-accounting-archives-retention-2015.csv")
    assert (result.created, result.updated) == (0, 16)


BAD = """series_code,series_title,retention,trigger,disposition,source
X-1,Good row,3 years,end of calendar year,Destroy,rule
X-2,Unspecified period,Unspecified,,Destroy,rule
X-3,Vague period,about 3 years,end of calendar year,Destroy,rule
X-4,No trigger,10 years,,Destroy,rule
X-5,Odd disposition,3 years,closed,Shelve it,rule
,No code,3 years,closed,Destroy,rule
X-1,Repeated,3 years,closed,Destroy,rule
X-8,,3 years,closed,Destroy,rule
"""


def test_rows_that_cannot_be_understood_are_reported_not_guessed(app):
    result = import_plan(io.StringIO(BAD), plan_name="bad.csv")
    assert result.created == 1
    lines = {line: reason for line, _code, reason in result.errors}
    assert set(lines) == {3, 4, 5, 6, 7, 8, 9}
    assert "Unspecified" in lines[3] and "about 3 years" in lines[4] and "no trigger" in lines[5]
    assert "Shelve" in lines[6] and "repeated" in lines[8]
    assert db.session.scalar(db.select(db.func.count(Series.id))) == 1


def test_missing_columns_are_reported(app):
    result = import_plan(io.StringIO("code,title\nA,B\n"))
    assert result.loaded == 0 and "missing columns" in result.errors[0][2]


def test_the_starter_plan_is_hierarchical_and_bilingual(app):
    result = import_plan(STARTER_PLAN)
    assert result.errors == []
    investigations = db.session.scalar(db.select(Series).filter_by(code="CS-03-02"))
    assert investigations.parent.code == "CS-03" and investigations.parent.parent.code == "CS"
    assert investigations.title_zh == "投诉调查"
    certs = db.session.scalar(db.select(Series).filter_by(code="CS-10-01"))
    assert certs.retention_kind == "permanent"
    invoicing = db.session.scalar(db.select(Series).filter_by(code="CS-09-01"))
    assert (invoicing.retention_amount, invoicing.trigger) == (30, "fiscal_year_end")  # 原始凭证 30 years


def test_parse_rule_permanent_and_until_transfer():
    assert parse_rule("Permanent", "", "Permanent, Archives").retention_kind == "permanent"
    rule = parse_rule("Until transfer", "", "Transfer to Personnel File")
    assert (rule.retention_kind, rule.trigger, rule.disposition) == ("until_event", "event", "transfer")


def test_cli_import_plan_reports_counts(runner, corpus):
    result = runner.invoke(args=["archive", "import-plan", str(corpus / "us-va-general-schedules.csv")])
    assert result.exit_code == 0, result.output
    assert "217 series loaded" in result.output


def test_plan_import_page(client, login):
    login("records_officer")
    response = client.post("/archive/plan/import", data={"csv_file": (io.BytesIO(BAD.encode()), "bad.csv")},
                           content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Shelve it" in body and "Rows not understood" in body

"""`flask knowledge import` / `export`: front matter, idempotency, revisions, round trip, the real corpus."""
from __future__ import annotations

from pathlib import Path

from portal.blueprints.knowledge import services
from portal.blueprints.knowledge.models import APPROVED, Page, Revision
from portal.extensions import db

PROCEDURE = """---
slug: month-end-dip
kind: procedure
title: Month-end tank dip reconciliation
title_zh: 月末检尺对账
owner_department: CSD
version: "1.0"
status: approved
next_review: 2027-03-31
cites: [hazchem]
---
## Steps

1. Manual dip of every tank.
2. Compare physical, book and customs stock.
"""

REGULATION = """---
slug: hazchem
kind: regulation
title: 危险化学品安全管理条例
doc_number: 国务院令第344号
authority: 国务院
jurisdiction: national
issued: 2002-01-26
status: in_force
---
第一条 为了加强危险化学品的安全管理，制定本条例。
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_front_matter_and_idempotency(app, runner, tmp_path):
    src = tmp_path / "src"
    _write(src, "a.md", PROCEDURE)
    _write(src, "b.md", REGULATION)
    result = runner.invoke(args=["knowledge", "import", str(src)])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    proc = services.page_by_slug("month-end-dip")
    assert proc.kind == "procedure" and proc.status == APPROVED and proc.title_zh == "月末检尺对账"
    assert str(proc.next_review_date) == "2027-03-31"
    assert [c.target.slug for c in proc.citations] == ["hazchem"]
    reg = services.page_by_slug("hazchem")
    assert reg.doc_number == "国务院令第344号" and str(reg.issued_on) == "2002-01-26"

    again = runner.invoke(args=["knowledge", "import", str(src)])
    assert again.exit_code == 0 and "2 unchanged" in again.output
    assert db.session.scalar(db.select(db.func.count(Revision.id))) == 2

    _write(src, "a.md", PROCEDURE.replace("2. Compare", "2. Investigate variances, then compare"))
    changed = runner.invoke(args=["knowledge", "import", str(src)])
    assert "updated\tmonth-end-dip" in changed.output
    db.session.expire_all()
    proc = services.page_by_slug("month-end-dip")
    assert [r.number for r in proc.revisions] == [1, 2]
    assert "Investigate variances" in proc.current_revision.body


def test_import_without_front_matter_takes_first_heading(app, runner, tmp_path):
    path = _write(tmp_path, "tank-basics.md", "# Tank basics\n\nUllage is the empty space.\n")
    result = runner.invoke(args=["knowledge", "import", str(path), "--kind", "guide"])
    assert result.exit_code == 0, result.output
    page = services.page_by_slug("tank-basics")
    assert page.title == "Tank basics" and page.current_revision.body.startswith("Ullage")


def test_import_errors_are_clean(app, runner, tmp_path):
    result = runner.invoke(args=["knowledge", "import", str(tmp_path / "missing")])
    assert result.exit_code != 0
    _write(tmp_path / "bad", "x.md", "---\nkind: memo\n---\nbody\n")
    result = runner.invoke(args=["knowledge", "import", str(tmp_path / "bad")])
    assert result.exit_code != 0 and "unknown kind" in result.output


def test_export_import_round_trip(app, runner, tmp_path, corpus_dir):
    src = tmp_path / "src"
    _write(src, "a.md", PROCEDURE)
    _write(src, "b.md", REGULATION)
    runner.invoke(args=["knowledge", "import", str(src)])
    runner.invoke(args=["knowledge", "import", str(corpus_dir / "regulations-en"), "--kind", "regulation"])
    out = tmp_path / "out"
    result = runner.invoke(args=["knowledge", "export", str(out)])
    assert result.exit_code == 0 and "exported 5 pages" in result.output
    assert (out / "month-end-dip.md").read_text(encoding="utf-8").startswith("---\nslug: month-end-dip\n")

    # importing the export into the same database changes nothing
    again = runner.invoke(args=["knowledge", "import", str(out)])
    assert "5 unchanged" in again.output, again.output

    # and into an empty database it gives the same pages, which export to the same files
    before = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    db.session.execute(db.update(Page).values(current_revision_id=None, superseded_by_id=None))
    for table in ("kb_citation", "kb_revision", "kb_page"):
        db.session.execute(db.metadata.tables[table].delete())
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Page.id))) == 0
    runner.invoke(args=["knowledge", "import", str(out)])
    out2 = tmp_path / "out2"
    runner.invoke(args=["knowledge", "export", str(out2)])
    after = {p.name: p.read_text(encoding="utf-8") for p in out2.iterdir()}
    assert after == before


def test_corpus_imports_cleanly_with_metadata(app, runner, corpus_dir):
    for folder in ("regulations-zh", "regulations-en"):
        result = runner.invoke(args=["knowledge", "import", str(corpus_dir / folder), "--kind", "regulation"])
        assert result.exit_code == 0, result.output
    pages = db.session.scalars(db.select(Page)).all()
    assert len(pages) == len(list((corpus_dir / "regulations-zh").glob("*.md"))) + len(list((corpus_dir / "regulations-en").glob("*.md")))
    haz = services.page_by_slug("hazardous-chemicals-safety-regulations")
    assert haz.title == "危险化学品安全管理条例" and haz.doc_number == "国务院令第344号" and haz.authority == "国务院"
    assert haz.lang == "zh" and haz.reg_status == "in_force"
    customs = services.page_by_slug("customs-law")
    assert customs.authority == "全国人民代表大会常务委员会" and str(customs.effective_on) == "2021-04-29"
    psm = services.page_by_slug("29-cfr-1910-119-process-safety-management")
    assert psm.doc_number == "29 CFR 1910.119" and psm.lang == "en"
    again = runner.invoke(args=["knowledge", "import", str(corpus_dir / "regulations-zh"), "--kind", "regulation"])
    assert "unchanged" in again.output and "created" not in again.output and "updated" not in again.output


def test_page_view_of_imported_regulation(client, login, runner, corpus_dir):
    runner.invoke(args=["knowledge", "import", str(corpus_dir / "regulations-zh" / "hazardous-chemicals-safety-regulations.md"),
                        "--kind", "regulation"])
    login("staff")
    html = client.get("/knowledge/p/hazardous-chemicals-safety-regulations").get_data(as_text=True)
    assert "国务院令第344号" in html and "第一章 总则" in html and 'id="第一章-总则"' in html


def test_reimporting_an_approved_file_leaves_a_portal_draft_alone(app, runner, tmp_path, make_user):
    src = tmp_path / "src"
    _write(src, "a.md", PROCEDURE)
    runner.invoke(args=["knowledge", "import", str(src)])
    page = services.page_by_slug("month-end-dip")
    services.add_revision(page, title=page.title, body="Draft in the portal.", user=make_user("csr", "csr"))
    db.session.commit()
    result = runner.invoke(args=["knowledge", "import", str(src)])
    assert "1 unchanged" in result.output
    db.session.expire_all()
    page = services.page_by_slug("month-end-dip")
    assert [r.status for r in page.revisions] == ["approved", "draft"]

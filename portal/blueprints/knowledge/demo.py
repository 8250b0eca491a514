"""Demo knowledge base: the starter pages, some real regulations from the shared corpus (when present),
one announcement, one training plan in progress, authorities, a visit and certificates near expiry."""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from flask import current_app

from ...demo import register
from ...extensions import db
from ...models import Department, User
from ...timeutil import local_today
from . import services
from .models import Announcement, Authority, Permit, TrainingPlan, Visit

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]

# Regulations a tank terminal's CSD consults most (file stems in the corpus folders).
CORPUS_PICK = {
    "regulations-zh": [
        "hazardous-chemicals-safety-regulations", "customs-law", "customs-audit-regulations", "port-law",
        "work-safety-law", "fire-protection-law", "metrology-law", "archives-law", "accounting-law",
        "work-safety-accident-reporting-investigation-regulations", "maritime-traffic-safety-law",
    ],
    "regulations-en": [
        "29-cfr-1910-119-process-safety-management", "33-cfr-154-facilities-transferring-oil-hazmat-bulk-selected",
        "40-cfr-112-7-spcc-plan-general-requirements",
    ],
}

PLAN_TITLE = "New CSR onboarding"


def corpus_dir() -> Path | None:
    """The shared corpus: KNOWLEDGE_CORPUS_DIR (PORTAL_KNOWLEDGE_CORPUS_DIR) or ../shared/corpus."""
    configured = current_app.config.get("KNOWLEDGE_CORPUS_DIR") or os.environ.get("PORTAL_KNOWLEDGE_CORPUS_DIR")
    path = Path(configured) if configured else ROOT.parent / "shared" / "corpus"
    return path if (path / "regulations-zh").is_dir() else None


def _user(name: str) -> User | None:
    return db.session.scalar(db.select(User).filter_by(username=name))


@register(60, "knowledge base")
def load():
    today = local_today()
    corpus = corpus_dir()
    if corpus is not None:
        for folder, stems in CORPUS_PICK.items():
            for stem in stems:
                path = corpus / folder / f"{stem}.md"
                if path.is_file():
                    services.import_text(path.read_bytes().decode("utf-8"), default_slug=stem, kind="regulation",
                                         source=path.name)
    services.import_knowledge_dir()
    db.session.flush()

    manager, csr, trainee = _user("manager"), _user("csr"), _user("trainee")
    _announcement(manager, today)
    _training(manager, trainee, today)
    _government(csr, today)
    db.session.flush()


def _announcement(manager, today) -> None:
    page = services.page_by_slug("verify-customer-order")
    if manager is None or page is None or page.current_revision is None:
        return
    if db.session.scalar(db.select(Announcement.id).filter_by(page_id=page.id)) is not None:
        return
    services.announce(page, manager, roles=["csr"], due_date=today + timedelta(days=7),
                      message="Version 2.0 adds the customs release check for bonded deliveries. "
                              "第2.0版增加了保税货物出库前核对海关放行的要求。")


def _training(manager, trainee, today) -> None:
    slugs = ["new-staff-onboarding", "glossary", "verify-customer-order", "morning-stock-check",
             "inquiry-one-working-day"]
    if any(services.page_by_slug(s) is None for s in slugs):
        return
    plan = db.session.scalar(db.select(TrainingPlan).filter_by(title=PLAN_TITLE))
    if plan is None:
        plan = services.create_plan(title=PLAN_TITLE, title_zh="新客服代表入职培训", user=manager, pass_mark=80,
                                    description="The first two weeks of a new customer service representative.",
                                    page_slugs=slugs)
        steps = {s.page.slug: s for s in plan.steps}
        services.add_question(steps["glossary"], text="What is ullage (空高)?",
                              choices=["The empty space above the liquid in a tank", "The water at the tank bottom",
                                       "The stock per the records"], correct=[0])
        services.add_question(steps["glossary"], text="Which are columns of the daily stock report?",
                              choices=["Opening 期初", "Receipts 进库", "Storage fee 仓储费", "Closing 期末"],
                              correct=[0, 1, 3])
        services.add_question(steps["verify-customer-order"],
                              text="A customer asks to deliver bonded product. What must you have before passing the order to Operations?",
                              choices=["The customs release", "The customer's invoice", "Nothing more"], correct=[0])
        services.add_question(steps["verify-customer-order"], text="Which items do you check on every order?",
                              choices=["Tank and product", "Quantity against stock or ullage", "Customs status",
                                       "The weather forecast"], correct=[0, 1, 2])
        services.add_question(steps["morning-stock-check"],
                              text="Book and gauged stock differ by more than the tolerance. What do you do first?",
                              choices=["Ask Operations for a manual dip and record the variance",
                                       "Send the report unchanged", "Change the book stock to match"], correct=[0])
    if trainee is not None and not plan.assignments:
        assignment = services.assign(plan, trainee, due_date=today + timedelta(days=14), user=manager)
        services.mark_read(assignment, plan.steps[0])  # in progress: the first page is read


def _government(csr, today) -> None:
    authorities = {
        "customs": ("Ningbo Customs", "宁波海关", "Bonded supervision section 保税监管科", "Tel. +86 574 0000 1001"),
        "msa": ("Ningbo Maritime Safety Administration", "宁波海事局", "Dangerous goods section 危防处", "Tel. +86 574 0000 2002"),
        "ema": ("Emergency Management Bureau", "应急管理局", "Hazardous chemicals division 危化品监管处", "Tel. +86 574 0000 3003"),
        "port": ("Port Administration Bureau", "港航管理局", "Port operations 港口经营科", "Tel. +86 574 0000 4004"),
    }
    rows = {}
    for key, (en, zh, dept, contacts) in authorities.items():
        row = db.session.scalar(db.select(Authority).filter_by(name_en=en))
        if row is None:
            row = Authority(name_en=en, name_zh=zh, department=dept, contacts=contacts)
            db.session.add(row)
        rows[key] = row
    db.session.flush()

    if db.session.scalar(db.select(Visit.id)) is None:
        visit = Visit(authority=rows["msa"], visit_date=today - timedelta(days=12), created_by_id=getattr(csr, "id", None),
                      attendees="MSA inspectors (2); CS manager Li Wei; Operations supervisor",
                      topics="Dangerous-goods declarations for berth 1 vessel calls; jetty hose certificates.\n"
                             "靠泊前申报资料抽查；码头软管检验证书。",
                      outcomes="Declarations in order. Two hose test certificates to be renewed.")
        db.session.add(visit)
        db.session.flush()
        services.add_action(visit, description="Renew hose test certificates for berth 1 and send copies to MSA",
                            owner_id=getattr(csr, "id", None), due_date=today + timedelta(days=10))
        services.add_action(visit, description="Update the berth 1 dangerous-goods checklist",
                            owner_id=getattr(csr, "id", None), due_date=today - timedelta(days=2))

    ops = db.session.scalar(db.select(Department).filter_by(code="OPS"))
    csd = db.session.scalar(db.select(Department).filter_by(code="CSD"))
    sheq = db.session.scalar(db.select(Department).filter_by(code="SHEQ"))
    permits = [
        ("(甬)港经证(0123)号", "Port operation licence", "港口经营许可证", "port", 25, ops),
        ("甬危化经字[2024]000456", "Hazardous chemicals business licence", "危险化学品经营许可证", "ema", 70, sheq),
        ("(浙)WH安许证字[2025]0789", "Work safety licence", "安全生产许可证", "ema", 400, sheq),
        ("NBBS-2024-017", "Bonded warehouse registration", "保税仓库注册登记证书", "customs", 200, csd),
    ]
    for number, en, zh, auth, days, dept in permits:
        if db.session.scalar(db.select(Permit.id).filter_by(number=number)) is not None:
            continue
        db.session.add(Permit(number=number, title=en, title_zh=zh, authority=rows[auth],
                              issued_on=today + timedelta(days=days) - timedelta(days=3 * 365),
                              expires_on=today + timedelta(days=days), department=dept))

"""Demo knowledge base: the starter pages, some real regulations from the shared corpus (when present),
one announcement and one training plan in progress."""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from flask import current_app

from ...demo import register
from ...extensions import db
from ...models import User
from ...timeutil import local_today
from . import glossary, services
from .models import Announcement, TrainingPlan

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
    glossary.load_demo()
    db.session.flush()

    manager, trainee = _user("manager"), _user("trainee")
    _announcement(manager, today)
    _training(manager, trainee, today)
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

"""Demo government relations: four authorities, a recent visit with follow-up actions, and certificates
of which some are near expiry."""
from __future__ import annotations

from datetime import timedelta

from ...demo import register
from ...extensions import db
from ...models import Department, User
from ...timeutil import local_today
from . import services
from .models import Authority, Permit, Visit


@register(62, "government relations")
def load():
    csr = db.session.scalar(db.select(User).filter_by(username="csr"))
    _government(csr, local_today())
    db.session.flush()


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

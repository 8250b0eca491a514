"""Demo data: two MOC requests (one implemented after a short-delivery complaint, one temporary and open)."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from ...demo import register
from ...extensions import db
from ...models import User
from ...timeutil import local_today, tz
from ..complaints.models import Complaint
from ..customers.models import Customer
from . import services
from .models import MocRequest


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=tz()).astimezone(UTC)


@register(51, "management of change")
def load():
    if db.session.scalar(db.select(db.func.count(MocRequest.id))):
        return
    customers = {c.code: c for c in db.session.scalars(db.select(Customer))}
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    if not customers or "csr" not in users or "manager" not in users:
        return
    csr, csr2, manager = users["csr"], users.get("csr2", users["csr"]), users["manager"]
    today = local_today()
    first = db.session.scalar(db.select(Complaint).filter_by(title="汽车装车柴油短量").order_by(Complaint.id))
    moc1 = services.save_moc(
        None, manager, title="Second (check) flow meter on truck loading bay 3 / 3号鹤位加装核对流量计",
        description="Install a check meter in series with the custody meter on bay 3.",
        technical_basis="Repeated short-delivery complaints; meter drift 0.3 % found at calibration.",
        safety_health_impact="Hot work during installation under permit; no change to the process conditions.",
        procedure_changes="Loading procedure LP-07: compare both meters, stop if the difference exceeds 0.1 %.",
        customer_impact="Bay 3 closed for two days; loading moved to bays 1 and 2.",
        period="permanent", valid_until=None, meeting_date=today - timedelta(days=200),
        attendees="Li Wei (CSD)\nZhang Min (CSD)\nOperations supervisor\nSHE&Q engineer\nSinochem operations (external)",
        agenda="1. Technical basis\n2. Safety review\n3. Procedure change\n4. Training",
        minutes="## Discussion\n\n- Check meter type agreed: Coriolis.\n- Installation in the weekend window.\n\n## 讨论\n\n- 核对流量计采用科里奥利质量流量计。",
        decisions="Approved; installation in the next weekend window.",
        customer_id=customers["SINOCHEM"].id if "SINOCHEM" in customers else None,
        complaint_id=first.id if first else None,
    )
    services.approve_moc(moc1, manager, now=_at(today - timedelta(days=199), 10))
    i1 = services.add_moc_item(moc1, kind="training", description="Loading crew: reading and comparing the two meters",
                               owner_id=csr.id, due_date=today - timedelta(days=180))
    i2 = services.add_moc_item(moc1, kind="action", description="Update loading procedure LP-07", owner_id=csr2.id,
                               due_date=today - timedelta(days=185))
    services.set_moc_item(i1, True)
    services.set_moc_item(i2, True)
    services.implement_moc(moc1, manager, now=_at(today - timedelta(days=170), 16))

    moc2 = services.save_moc(
        None, csr, title="Temporary use of T-412 for MEG during T-410 inspection / T-410检验期间临时用T-412存放乙二醇",
        description="Move MEG service to T-412 for the statutory inspection of T-410.",
        technical_basis="T-412 cleaned and inspected; compatible coating.",
        safety_health_impact="Nitrogen blanket required; update the tank's hazard data sheet.",
        procedure_changes="Temporary tank allocation in the daily stock report; labelling of T-412.",
        customer_impact="Customer to approve the temporary tank; no change to fees.",
        period="temporary", valid_until=today + timedelta(days=90), meeting_date=today + timedelta(days=5),
        attendees="Li Wei (CSD)\nChen Jing (CSD)\nOperations\nOrient Chem (external)", agenda="1. Tank readiness\n2. Customer approval",
        minutes="", decisions="", customer_id=customers["OCTSTY"].id if "OCTSTY" in customers else None,
    )
    services.add_moc_item(moc2, kind="training", description="Operators: nitrogen blanket on T-412", owner_id=csr2.id,
                          due_date=today + timedelta(days=10))
    services.add_moc_item(moc2, kind="action", description="Customer approval of the temporary tank", owner_id=csr2.id,
                          due_date=today + timedelta(days=7))
    db.session.flush()

"""Demonstration data of the government applications: the common declaration types, and the declarations of the
vessel calls of the vessels demo (order 62) in every state: past calls approved, a few waiting for the authority,
one returned, one resubmitted, one withdrawn, drafts due soon and one overdue. Due times that moved with an ETA
change of the vessels demo show that move (replayed from the call's revisions)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ....demo import register
from ....extensions import db
from ....models import User
from ....services import has_filer
from ....timeutil import from_local, utcnow
from ..vessels.models import CallRevision, VesselCall
from . import services
from .models import Application, ApplicationDueChange

# A one-page PDF: the scanned approval of the demo (the real ones come from the authorities' systems).
_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n")
AUTHORITY_PREFIX = {"msa": "MSA-NB", "port_authority": "NBPA", "customs": "NBCUS", "border": "NBBI",
                    "quarantine": "NBQ", "other": "REF"}


@register(63, "government applications")
def load():
    csr = db.session.scalar(select(User).filter_by(username="csr"))
    services.seed_types(csr)
    if db.session.scalar(select(Application.id).filter(Application.state != "draft").limit(1)) is not None:
        return  # loaded before (declarations the call listener made during the vessels demo are still drafts)
    calls = list(db.session.scalars(select(VesselCall).order_by(VesselCall.eta, VesselCall.id)))
    if not calls:
        return
    now = utcnow()
    apps: list[Application] = []
    for call in calls:
        if call.status == "cancelled":
            continue
        _replay_moves(call, _create(call, csr))
        apps.extend(services.for_call(call))
    _states(apps, now, csr)
    db.session.flush()


def _create(call: VesselCall, csr) -> list[Application]:
    if call.status not in ("departed",):
        return services.ensure_applications(call, csr)
    out = []
    for app_type in services.missing_types(call):  # a departed call's declarations were all made: history
        due, basis = services.compute_due(call, app_type)
        app = Application(call=call, type=app_type, state="draft", due_at=due, due_basis=basis,
                          created_by_id=getattr(csr, "id", None))
        db.session.add(app)
        out.append(app)
    db.session.flush()
    return out


def _parse(value) -> datetime | None:
    if isinstance(value, datetime):
        return services._aware(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return services._aware(parsed) if parsed.tzinfo else from_local(parsed)


def _replay_moves(call: VesselCall, apps: list[Application]) -> None:
    """The due time moves the call's ETA/ETB/ETC/ETD revisions of the vessels demo caused."""
    revisions = list(db.session.scalars(select(CallRevision).filter(CallRevision.call_id == call.id)
                                        .order_by(CallRevision.at, CallRevision.id)))
    for app in apps:
        if app.due_changes:
            continue  # moved by the call listener itself
        for rev in revisions:
            pair = services._revision_changes(rev).get(app.due_basis)
            if not isinstance(pair, list) or len(pair) != 2:
                continue
            old, new = _parse(pair[0]), _parse(pair[1])
            if old is None or new is None or old == new:
                continue
            lead = timedelta(hours=app.type.lead_hours)
            db.session.add(ApplicationDueChange(
                application=app, at=rev.at, revision_id=rev.id, user_id=rev.user_id, old_due_at=old + lead,
                new_due_at=new + lead, basis=app.due_basis, reason=services.revision_reason(rev, (app.due_basis,))))


def _number(app: Application, n: int, kind: str) -> str:
    prefix = AUTHORITY_PREFIX.get(app.type.authority, "REF")
    year = (app.due_at or utcnow()).year
    return f"{prefix}-{kind}-{year}-{n:05d}"


def _states(apps: list[Application], now: datetime, csr) -> None:
    apps = sorted(apps, key=lambda a: (a.due_at is None, a.due_at or now, a.id))
    past = [a for a in apps if a.due_at is not None and a.due_at < now]
    future = [a for a in apps if a.due_at is not None and a.due_at >= now]
    # The latest past one of a call still in port stays a draft: overdue.
    in_port = [a for a in past if a.call.status != "departed"]
    overdue = in_port[-1] if in_port else None
    special = {"submitted": None, "returned": None, "resubmitted": None}
    recent = [a for a in reversed(in_port) if a is not overdue]
    for key, app in zip(("submitted", "returned", "resubmitted"), recent):
        special[key] = app
    filed = 0
    for n, app in enumerate(past, start=1):
        if app is overdue:
            continue
        submitted_at = min(app.due_at - timedelta(hours=6), now - timedelta(hours=3))
        services.submit(app, csr, reference_no=_number(app, n, "S"), at=submitted_at)
        if app is special["submitted"]:
            continue
        if app in (special["returned"], special["resubmitted"]):
            services.return_(app, csr, at=submitted_at + timedelta(hours=1),
                             reason="Cargo manifest does not match the SDS list: add the SDS of the second grade.")
            if app is special["resubmitted"]:
                services.resubmit(app, csr, reference_no=_number(app, n, "R"), at=submitted_at + timedelta(hours=2))
            continue
        approved_at = min(submitted_at + timedelta(hours=3), now - timedelta(hours=1))
        document = None
        if filed < 2 and has_filer() and app.call.status != "departed":
            document = (f"{app.call.number}-{app.type.code}-approval.pdf", _PDF)
            filed += 1
        services.approve(app, csr, approval_no=_number(app, n, "A"), at=approved_at, document=document)
    # Of those still to come: one submitted early, one withdrawn; the rest are drafts (due soon ones in amber).
    for app in future[3:4]:
        services.submit(app, csr, reference_no=_number(app, 900, "S"), at=now - timedelta(minutes=30))
    withdrawable = [a for a in future[4:] if a.type.code == "PORT-OPS"]
    for app in withdrawable[-1:]:
        services.withdraw(app, csr, reason="Lay-by berth only, no cargo operation at this call: no port operation "
                                           "application needed.")

"""Vessel calls: the IMO number check, berths and vessels, calls with their parcels, times and status,
the revisions of a call's times and berth (with their listeners), customers told of an ETA change.

Services flush, never commit: the route commits.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Callable, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from ....extensions import db
from ....services import ServiceError
from ....timeutil import utcnow
from ..models import SHIP_KINDS, Order, Product
from .models import (
    ACTUAL_TIMES,
    CALL_STATUSES,
    CALL_TRANSITIONS,
    OPEN_CALL_STATUSES,
    PARCEL_UNITS,
    PLAN_TIMES,
    TOLD_HOW,
    Berth,
    CallCustomerInformed,
    CallParcel,
    CallRevision,
    Vessel,
    VesselCall,
)


class VesselError(ServiceError):
    """A vessel call, berth or vessel change the rules refuse."""


_call_listeners: list[Callable] = []


def register_call_listener(fn: Callable) -> Callable:
    """``fn(call, revision)`` runs inside the transaction (after flush) whenever a call's times or berth change."""
    if fn not in _call_listeners:
        _call_listeners.append(fn)
    return fn


def call_times(call: VesselCall) -> dict:
    """The call's current planned times (UTC, aware): eta, etb, etc, etd."""
    return {"eta": call.eta, "etb": call.etb, "etc": call.etc, "etd": call.etd}


# ---------------------------------------------------------------------------------------- IMO numbers

def imo_valid(imo: str) -> bool:
    """An IMO ship number: 7 digits, the last one the sum of the first six times 7..2, modulo 10."""
    text = (imo or "").strip()
    if len(text) != 7 or not text.isascii() or not text.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(text[:6], range(7, 1, -1)))
    return total % 10 == int(text[6])


def normalise_imo(value: str) -> str:
    """``IMO 9074729`` / ``9074729`` -> ``9074729`` (spaces and the prefix dropped)."""
    text = (value or "").strip().upper().replace(" ", "")
    return text[3:] if text.startswith("IMO") else text


# -------------------------------------------------------------------------------------------- berths

def save_berth(berth: Optional[Berth], values: dict, products: Iterable[Product], user) -> Berth:
    code = values["code"]
    clash = db.session.scalar(select(Berth.id).where(Berth.code == code))
    if clash is not None and (berth is None or clash != berth.id):
        raise VesselError(_l("Berth %(code)s exists already.", code=code), field="code")
    if berth is None:
        berth = Berth(created_by=user if getattr(user, "is_authenticated", False) else None)
        db.session.add(berth)
    for key in ("code", "name_en", "name_zh", "max_loa_m", "max_draught_m", "active", "notes"):
        setattr(berth, key, values[key])
    berth.products = sorted(products, key=lambda p: p.code)
    db.session.flush()
    return berth


def berths(active_only: bool = False) -> list[Berth]:
    query = select(Berth).options(selectinload(Berth.products)).order_by(Berth.code)
    if active_only:
        query = query.where(Berth.active.is_(True))
    return list(db.session.scalars(query))


# ------------------------------------------------------------------------------------------- vessels

def save_vessel(vessel: Optional[Vessel], values: dict, user) -> Vessel:
    imo = normalise_imo(values["imo"])
    if not imo_valid(imo):
        raise VesselError(_l("Not a valid IMO number (7 digits with a check digit)."), field="imo")
    clash = db.session.scalar(select(Vessel.id).where(Vessel.imo == imo))
    if clash is not None and (vessel is None or clash != vessel.id):
        raise VesselError(_l("A vessel with IMO number %(imo)s exists already.", imo=imo), field="imo")
    if vessel is None:
        vessel = Vessel(created_by=user if getattr(user, "is_authenticated", False) else None)
        db.session.add(vessel)
    vessel.imo = imo
    for key in ("name", "flag", "loa_m", "draught_m", "dwt"):
        setattr(vessel, key, values[key])
    db.session.flush()
    return vessel


# --------------------------------------------------------------------------------------------- calls

def next_call_number(year: int) -> str:
    prefix = f"VC-{year}-"
    last = db.session.scalar(select(func.max(VesselCall.number)).where(VesselCall.number.like(prefix + "%")))
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def _check_order(times: dict) -> None:
    """ETA <= ETB <= ETC <= ETD, as far as they are known; the field named is the later one."""
    known = [(k, times[k]) for k in PLAN_TIMES if times.get(k) is not None]
    for (_a, ta), (b, tb) in zip(known, known[1:]):
        if tb < ta:
            raise VesselError(_l("This time is before the one it follows (ETA, ETB, ETC, ETD in this order)."),
                              field=b)


def create_call(vessel: Vessel, *, eta: datetime, user, berth: Optional[Berth] = None, agent=None,
                etb=None, etc=None, etd=None, last_port: str = "", next_port: str = "", owner=None,
                remarks: str = "", now: Optional[datetime] = None) -> VesselCall:
    if eta is None:
        raise VesselError(_l("The ETA is needed."), field="eta")
    _check_order({"eta": eta, "etb": etb, "etc": etc, "etd": etd})
    now = now or utcnow()
    signed = user if getattr(user, "is_authenticated", False) else None
    call = VesselCall(number=next_call_number(eta.year if eta else now.year), vessel=vessel, berth=berth, agent=agent,
                      eta=eta, etb=etb, etc=etc, etd=etd, last_port=last_port, next_port=next_port,
                      owner=owner or signed, remarks=remarks, status="announced", created_by=signed)
    db.session.add(call)
    db.session.flush()
    # The announcement is the call's first revision (each time from none to its value): the listeners see
    # the new call's times at once (the due times of its declarations, for one).
    first = {k: [None, _as_text(v)] for k, v in call_times(call).items() if v is not None}
    if call.berth_id is not None:
        first["berth_id"] = [None, call.berth_id]
    revision = CallRevision(call=call, at=now, changes=first, note=str(_l("Announced")), user_id=getattr(signed, "id", None))
    db.session.add(revision)
    db.session.flush()
    for fn in list(_call_listeners):
        fn(call, revision)
    return call


def update_details(call: VesselCall, *, agent=None, last_port: str = "", next_port: str = "", owner=None,
                   remarks: str = "", vessel: Optional[Vessel] = None) -> VesselCall:
    """The call's details that are not times or berth (those go through `change_times`)."""
    if vessel is not None:
        call.vessel = vessel
    call.agent = agent
    call.last_port, call.next_port, call.remarks = last_port, next_port, remarks
    if owner is not None:
        call.owner = owner
    db.session.flush()
    return call


def _as_text(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def change_times(call: VesselCall, *, user, note: str = "", at: Optional[datetime] = None,
                 **fields) -> Optional[CallRevision]:
    """Change a call's planned/actual times and/or berth (``berth_id``); keeps a revision of what changed and
    calls every registered listener in the same transaction. Returns None when nothing changed."""
    allowed = set(PLAN_TIMES) | set(ACTUAL_TIMES) | {"berth_id"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a time or the berth: {sorted(unknown)}")
    if "eta" in fields and fields["eta"] is None:
        raise VesselError(_l("The ETA is needed."), field="eta")
    if call.status in ("departed", "cancelled"):
        raise VesselError(_l("The call is closed: its times and berth cannot change."))
    if fields.get("berth_id") is not None and db.session.get(Berth, fields["berth_id"]) is None:
        raise VesselError(_l("Choose a berth from the list."), field="berth_id")
    merged = call_times(call) | {k: v for k, v in fields.items() if k in PLAN_TIMES}
    _check_order(merged)
    changes = {}
    for key, new in fields.items():
        old = getattr(call, key)
        if old != new:
            changes[key] = [_as_text(old), _as_text(new)]
    if not changes:
        return None
    for key, new in fields.items():
        setattr(call, key, new)
    if "berth_id" in changes:
        call.berth = db.session.get(Berth, fields["berth_id"]) if fields["berth_id"] is not None else None
    revision = CallRevision(call=call, at=at or utcnow(), changes=changes, note=(note or "").strip(),
                            user_id=getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None)
    db.session.add(revision)
    db.session.flush()
    for fn in list(_call_listeners):
        fn(call, revision)
    return revision


def set_status(call: VesselCall, status: str, *, user, reason: str = "") -> VesselCall:
    if status not in CALL_STATUSES:
        raise VesselError(_l("Unknown status."), field="status")
    if status not in CALL_TRANSITIONS.get(call.status, ()):
        raise VesselError(_l("A call that is %(now)s cannot become %(new)s.", now=call.status_label,
                             new=CALL_STATUSES[status]), field="status")
    if status == "cancelled":
        if not (reason or "").strip():
            raise VesselError(_l("Give the reason for cancelling the call."), field="reason")
        call.cancel_reason = reason.strip()
    if status in ("berthed", "operating") and call.berth_id is None:
        raise VesselError(_l("Give the call a berth first."), field="status")
    call.status = status
    db.session.flush()
    return call


# ------------------------------------------------------------------------------------------- parcels

def add_parcel(call: VesselCall, *, customer, product, quantity: Decimal, unit: str = "t", order: Optional[Order] = None,
               tank=None) -> CallParcel:
    if not call.is_open:
        raise VesselError(_l("The call is closed: its cargo cannot change."))
    if unit not in PARCEL_UNITS:
        raise VesselError(_l("Unknown unit."), field="unit")
    if quantity is None or Decimal(quantity) <= 0:
        raise VesselError(_l("The quantity must be more than zero."), field="quantity")
    if order is not None:
        if order.kind not in SHIP_KINDS:
            raise VesselError(_l("Order %(number)s is not a ship discharge or loading.", number=order.number), field="order")
        if order.customer_id != customer.id:
            raise VesselError(_l("Order %(number)s is another customer's.", number=order.number), field="order")
        linked = db.session.scalar(select(CallParcel).where(CallParcel.order_id == order.id, CallParcel.call_id != call.id))
        if linked is not None:
            raise VesselError(_l("Order %(number)s is already on call %(call)s.", number=order.number,
                                 call=linked.call.number), field="order")
    parcel = CallParcel(call=call, customer=customer, product=product, quantity=Decimal(quantity), unit=unit,
                        order=order, tank=tank if tank is not None else (order.tank if order is not None else None))
    db.session.add(parcel)
    db.session.flush()
    return parcel


def remove_parcel(parcel: CallParcel) -> None:
    if not parcel.call.is_open:
        raise VesselError(_l("The call is closed: its cargo cannot change."))
    db.session.delete(parcel)
    db.session.flush()


def call_for_order(order: Order) -> Optional[VesselCall]:
    """The (latest) call carrying this order's parcel, if any."""
    return db.session.scalar(select(VesselCall).join(CallParcel, CallParcel.call_id == VesselCall.id)
                             .where(CallParcel.order_id == order.id).order_by(VesselCall.id.desc()).limit(1))


# ------------------------------------------------------------------------------ ETA changes to tell

def _eta_change():
    """The rule of a revision that changed the ETA: an "eta" entry whose old value is not none (the announcement,
    from no ETA to one, is not a change to tell)."""
    return CallRevision.changes[("eta", 0)].as_string().isnot(None)


def latest_eta_revision(call: VesselCall) -> Optional[CallRevision]:
    """The call's latest change of its ETA."""
    return db.session.scalar(select(CallRevision).where(CallRevision.call_id == call.id, _eta_change())
                             .order_by(CallRevision.id.desc()).limit(1))


def customers_to_inform(call: VesselCall) -> list:
    """The call's customers not yet told of its latest ETA change (empty when the ETA never changed or the call
    is closed): the rule of the ETA changes list (``_untold``) for this call."""
    untold = _untold(call_id=call.id)
    ids = set(db.session.scalars(select(untold.c.customer_id)))
    return [c for c in call.customers if c.id in ids]


def mark_informed(call: VesselCall, customer, *, how: str, user, at: Optional[datetime] = None) -> CallCustomerInformed:
    if how not in TOLD_HOW:
        raise VesselError(_l("Choose how the customer was told."), field="how")
    latest = latest_eta_revision(call)
    if latest is None:
        raise VesselError(_l("The ETA of this call has not changed."))
    if customer.id not in {c.id for c in call.customers}:
        raise VesselError(_l("This customer has no cargo on the call."), field="customer")
    row = CallCustomerInformed(call=call, customer=customer, revision=latest, at=at or utcnow(), how=how,
                               by_id=getattr(user, "id", None))
    db.session.add(row)
    db.session.flush()
    return row


def _untold(limit: int = 500, call_id: Optional[int] = None):
    """(call_id, customer_id, revision_id) of each open call's customer with cargo on board not told of the call's
    latest ETA change (``revision_id``), among the ``limit`` open calls with a revision and the soonest ETA (or of
    the one call ``call_id``)."""
    calls = (select(VesselCall.id)
             .where(VesselCall.status.in_(OPEN_CALL_STATUSES),
                    VesselCall.id.in_(select(CallRevision.call_id).where(CallRevision.changes.isnot(None)))))
    calls = calls.where(VesselCall.id == call_id) if call_id is not None else \
        calls.order_by(VesselCall.eta, VesselCall.id).limit(limit)
    latest = (select(CallRevision.call_id, func.max(CallRevision.id).label("revision_id"))
              .where(CallRevision.call_id.in_(calls), _eta_change())
              .group_by(CallRevision.call_id).subquery("latest_eta"))
    told = (select(CallCustomerInformed.id)
            .where(CallCustomerInformed.call_id == CallParcel.call_id,
                   CallCustomerInformed.customer_id == CallParcel.customer_id,
                   CallCustomerInformed.revision_id >= latest.c.revision_id).exists())
    return (select(CallParcel.call_id, CallParcel.customer_id, latest.c.revision_id)
            .join(latest, latest.c.call_id == CallParcel.call_id).where(~told).distinct().subquery("untold"))


def eta_changes_to_tell_count(limit: int = 500) -> int:
    """How many open calls (of the ``limit`` soonest) have an ETA change some customer has not been told of."""
    untold = _untold(limit)
    return db.session.scalar(select(func.count(func.distinct(untold.c.call_id)))) or 0


def eta_changes_to_tell(limit: int = 500) -> list[tuple[VesselCall, list]]:
    """Open calls whose latest ETA change some customer has not been told of, soonest ETA first."""
    out: list[tuple[VesselCall, list]] = []
    for row in eta_change_rows(limit):
        if out and out[-1][0] is row["call"]:
            out[-1][1].append(row["customer"])
        else:
            out.append((row["call"], [row["customer"]]))
    return out


# -------------------------------------------------------------------------------- plan versions

class Party:
    """Someone a plan version can be sent to: key ``customer:<id>``, ``agent:<contact id>``, ``operations``, ``port``."""

    def __init__(self, key: str, kind: str, name: str, recipients: list, customer=None, contact=None):
        self.key, self.kind, self.name, self.recipients = key, kind, name, recipients
        self.customer, self.contact = customer, contact

    @property
    def kind_label(self) -> str:
        from .models import PARTY_KINDS

        return str(PARTY_KINDS.get(self.kind, self.kind))

    @property
    def choice_label(self) -> str:
        return f"{self.kind_label}: {self.name}"


def parties_for(calls: Iterable[VesselCall], port_email: str = "") -> list[Party]:
    """The parties of a plan: the customers and agents of its calls, operations staff, the port."""
    from ....outbox import users_with_role, with_contacts
    from ...customers.models import Customer, CustomerContact

    calls = list(calls)
    customer_ids = {p.customer_id for call in calls for p in call.parcels}
    agent_ids = {call.agent_contact_id for call in calls if call.agent_contact_id}
    customers = db.session.scalars(select(Customer).where(Customer.id.in_(customer_ids))
                                   .options(selectinload(Customer.contacts)).order_by(Customer.code)) if customer_ids else []
    agents = db.session.scalars(select(CustomerContact).where(CustomerContact.id.in_(agent_ids))
                                .options(selectinload(CustomerContact.customer))
                                .order_by(CustomerContact.name)) if agent_ids else []
    out = []
    for customer in customers:
        contacts = [c for c in customer.contacts if (c.email or "").strip()]
        out.append(Party(f"customer:{customer.id}", "customer", f"{customer.code} {customer.name_en}",
                         with_contacts([c.email for c in contacts], contacts), customer=customer))
    for agent in agents:
        out.append(Party(f"agent:{agent.id}", "agent", f"{agent.name} ({agent.customer.code})",
                         [agent] if (agent.email or "").strip() else [], contact=agent))
    out.append(Party("operations", "operations", str(_l("Operations staff")), users_with_role("staff")))
    out.append(Party("port", "port", str(_l("Port authority")), [port_email.strip()] if (port_email or "").strip() else []))
    return out


def _plan_pdf(version) -> bytes:
    from ....pdf import render_pdf_anywhere

    from .plan import to_local_text

    labels = {"overlap": "重叠 Overlap", "loa": "超长 LOA over the limit", "draught": "吃水超限 Draught over the limit",
              "product": "泊位不接卸 Product not served"}
    return render_pdf_anywhere("operations/vessels/pdf_plan.html", version=version, content=version.content,
                               local_text=to_local_text, conflict_labels=labels)


def plan_pdf(version) -> bytes:
    """The bilingual PDF of a published version (drawn from its frozen content)."""
    return _plan_pdf(version)


def plan_pdf_name(version) -> str:
    return f"berth-plan-v{version.number}-{version.window_from.isoformat()}.pdf"


def current_version():
    from .models import BerthPlanVersion

    return db.session.scalar(select(BerthPlanVersion).order_by(BerthPlanVersion.number.desc()).limit(1))


def tell_parties(version, parties: list[Party], *, how: str, user, now: Optional[datetime] = None) -> list:
    """Record that these parties were told of ``version``; by e-mail, queue the message with the PDF."""
    from ....outbox import Attachment, queue_message
    from .models import BerthPlanNotice

    if how not in TOLD_HOW:
        raise VesselError(_l("Choose how the parties were told."), field="how")
    if not parties:
        raise VesselError(_l("Choose at least one party."), field="parties")
    now = now or utcnow()
    pdf = None
    notices = []
    for party in parties:
        existing = db.session.scalar(select(BerthPlanNotice).where(BerthPlanNotice.version_id == version.id,
                                                                   BerthPlanNotice.party_key == party.key))
        recipients_text = ""
        if how == "email":
            if not party.recipients:
                raise VesselError(_l("%(party)s has no e-mail address: record it as told by phone or otherwise.",
                                     party=party.choice_label), field="parties")
            if pdf is None:
                pdf = _plan_pdf(version)
            queued = queue_message(party.recipients, "berth_plan", {"version": version, "party": party.name},
                                   kind="berth_plan", record=version, user=user,
                                   attachments=[Attachment.generated(plan_pdf_name(version), pdf,
                                                                     mimetype="application/pdf")],
                                   dedupe_key=f"berth-plan:{version.number}:{party.key}")
            recipients_text = "\n".join(m.to_address for m in queued)
        if existing is not None:
            existing.how, existing.told_at = how, now
            existing.recipients = recipients_text or existing.recipients
            existing.by_id = getattr(user, "id", None)
            notices.append(existing)
            continue
        notice = BerthPlanNotice(version=version, party_key=party.key, party_kind=party.kind, party_name=party.name[:200],
                                 customer_id=party.customer.id if party.customer is not None else None,
                                 contact_id=party.contact.id if party.contact is not None else None,
                                 how=how, recipients=recipients_text, told_at=now, by_id=getattr(user, "id", None))
        db.session.add(notice)
        notices.append(notice)
    db.session.flush()
    return notices


def publish_plan(window_from, window_to, *, party_keys: Iterable[str], how: str, user, note: str = "",
                 port_email: str = "", now: Optional[datetime] = None):
    """Freeze the plan of the window as the next numbered version and tell the chosen parties."""
    from . import plan as berth_plan
    from .models import BerthPlanVersion

    if window_to < window_from:
        raise VesselError(_l("The end of the window is before its start."), field="window_to")
    if (window_to - window_from).days + 1 > berth_plan.MAX_DAYS:
        raise VesselError(_l("A plan covers at most %(days)s days.", days=berth_plan.MAX_DAYS), field="window_to")
    now = now or utcnow()
    plan = berth_plan.build_plan(window_from, window_to, now=now)
    calls = [bar.call for bar in plan.bars]
    by_key = {p.key: p for p in parties_for(calls, port_email)}
    keys = list(dict.fromkeys(party_keys or []))
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise VesselError(_l("Choose the parties from the list."), field="parties")
    number = (db.session.scalar(select(func.max(BerthPlanVersion.number))) or 0) + 1
    version = BerthPlanVersion(number=number, window_from=window_from, window_to=window_to, published_at=now,
                               published_by_id=getattr(user, "id", None), content=berth_plan.freeze(plan),
                               note=(note or "").strip())
    db.session.add(version)
    db.session.flush()
    tell_parties(version, [by_key[k] for k in keys], how=how, user=user, now=now)
    return version


def parties_behind() -> list[dict]:
    """Parties whose latest plan version told is older than the current one (who has seen an older plan)."""
    from .models import BerthPlanNotice, BerthPlanVersion

    current = current_version()
    if current is None:
        return []
    latest: dict[str, tuple[int, BerthPlanNotice]] = {}
    rows = db.session.execute(select(BerthPlanNotice, BerthPlanVersion.number)
                              .join(BerthPlanVersion, BerthPlanVersion.id == BerthPlanNotice.version_id)
                              .order_by(BerthPlanVersion.number))
    for notice, number in rows:
        latest[notice.party_key] = (number, notice)
    out = [{"key": key, "notice": notice, "number": number, "current": current.number}
           for key, (number, notice) in latest.items() if number < current.number]
    out.sort(key=lambda r: (r["number"], r["notice"].party_kind, r["notice"].party_name))
    return out


def _shown(key: str, value) -> str:
    from ....i18n import fmt_datetime

    if value is None:
        return "—"
    if key == "berth_id":
        berth = db.session.get(Berth, value)
        return berth.code if berth is not None else f"#{value}"
    try:
        return fmt_datetime(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def revision_items(revision: CallRevision) -> list[tuple[str, str, str]]:
    """A revision's changes as (label, old, new) texts in the reader's language and time zone."""
    from .models import TIME_LABELS

    order = list(PLAN_TIMES) + ["berth_id"] + list(ACTUAL_TIMES)
    items = sorted((revision.changes or {}).items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    return [(str(TIME_LABELS.get(k, k)), _shown(k, v[0]), _shown(k, v[1])) for k, v in items]


def eta_change_rows(limit: int = 500) -> list[dict]:
    """One row per open call and customer not yet told of the call's latest ETA change: call, customer, revision,
    the ETA before it (local text); soonest ETA first, then by customer code. The due list on the dashboard
    counts exactly these rows."""
    from ...customers.models import Customer

    untold = _untold(limit)
    rows = db.session.execute(
        select(VesselCall, Customer, CallRevision).select_from(untold)
        .join(VesselCall, VesselCall.id == untold.c.call_id)
        .join(Vessel, Vessel.id == VesselCall.vessel_id)
        .join(Customer, Customer.id == untold.c.customer_id)
        .join(CallRevision, CallRevision.id == untold.c.revision_id)
        .options(contains_eager(VesselCall.vessel))
        .order_by(VesselCall.eta, VesselCall.id))
    out = []
    old_text: dict[int, str] = {}
    for call, customer, revision in rows:
        if revision.id not in old_text:
            old_text[revision.id] = _shown("eta", revision.changes["eta"][0])
        out.append({"call": call, "customer": customer, "revision": revision, "old": old_text[revision.id]})
    out.sort(key=lambda r: (r["call"].eta, r["call"].id, r["customer"].code))  # codes as Python orders them
    return out


def eta_changes_summary() -> tuple[int, Optional[datetime]]:
    """The number of rows of ``eta_change_rows`` and the soonest ETA among them, counted in SQL."""
    untold = _untold()
    count, first = db.session.execute(select(func.count(), func.min(VesselCall.eta)).select_from(untold)
                                      .join(VesselCall, VesselCall.id == untold.c.call_id)).one()
    return count, first


def eta_change_summary(call: VesselCall):
    """The call's latest ETA change as (at, old, new) texts for the order page, or None."""
    from types import SimpleNamespace

    revision = latest_eta_revision(call)
    if revision is None:
        return None
    old, new = revision.changes["eta"]
    return SimpleNamespace(at=revision.at, old=_shown("eta", old), new=_shown("eta", new))

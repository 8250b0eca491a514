"""Listing the outbox and the jobs for the pages (the outbox and job machinery itself is core: portal/outbox.py,
portal/jobs.py)."""
from __future__ import annotations

from sqlalchemy import or_, select

from ...jobs import JobRun
from ...outbox import OutboxMessage


def outbox_query(*, state: str = "", kind: str = "", q: str = "", record: str = ""):
    stmt = select(OutboxMessage)
    if state == "problems":
        stmt = stmt.where(OutboxMessage.state.in_(("failed", "given_up")))
    elif state:
        stmt = stmt.where(OutboxMessage.state == state)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(OutboxMessage.to_address.ilike(like), OutboxMessage.subject.ilike(like),
                              OutboxMessage.to_name.ilike(like)))
    if record:
        stmt = stmt.where(OutboxMessage.record_key == record)
    return stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())


def recent_runs(*, name: str = "", failed_only: bool = False):
    stmt = select(JobRun)
    if name:
        stmt = stmt.where(JobRun.name == name)
    if failed_only:
        stmt = stmt.where(JobRun.outcome.in_(("failed", "abandoned")))
    return stmt.order_by(JobRun.started_at.desc(), JobRun.id.desc())

"""Dashboard panel for managers: messages that failed or were given up, and jobs whose last run failed."""
from sqlalchemy import func, select

from ...extensions import db
from ...jobs import JOBS, JobState
from ...outbox import OutboxMessage
from ...panels import register_panel


@register_panel(90, "notifications/_panel_problems.html")
def delivery_problems(user):
    if not user.has_role("admin", "cs_manager"):
        return None
    failed = db.session.scalar(select(func.count(OutboxMessage.id))
                               .where(OutboxMessage.state.in_(("failed", "given_up")))) or 0
    keys = [job.key for job in JOBS.values()]
    jobs_failed = db.session.scalar(select(func.count()).select_from(JobState)
                                    .where(JobState.name.in_(keys), JobState.last_outcome == "failed")) or 0
    if not failed and not jobs_failed:
        return None
    return {"failed": failed, "jobs_failed": jobs_failed}

"""Scheduled jobs of the archive: fixity verification every night, records due for disposal to the records
officers once a week."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...jobs import register_job
from ...outbox import path_for, queue_message, users_with_role
from . import services


@register_job("archive.fixity", "daily 01:30", label=_l("Fixity verification of archived files"))
def fixity(now):
    run = services.verify_files(actor="jobs")
    summary = f"{run.checked} file(s) checked: {run.missing} missing, {run.altered} altered"
    if not run.ok:
        raise RuntimeError(summary)  # shown as a failure on the jobs page; the run itself is stored
    return summary


@register_job("archive.disposal_due", "workdays 08:00", label=_l("Records due for disposal"))
def disposal_due(now):
    today = services.today()
    count = len([item for item in services.schedule(today, include_skipped=False) if not item.skipped])
    if not count:
        return "no record due"
    year, week, _day = today.isocalendar()
    queued = queue_message(users_with_role("records_officer"), "disposal_due",
                           {"count": count, "as_of": today, "path": path_for("archive.schedule")},
                           kind="disposal", dedupe_key=f"disposal-due:{year}-W{week:02d}")
    return f"{count} record(s) due, {len(queued)} message(s) queued"

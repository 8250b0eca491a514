"""Scheduled job of the surveys: reminders to invited contacts who have not answered, on the reminder date."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...jobs import register_job
from ...timeutil import to_local
from . import services


@register_job("surveys.reminders", "daily 09:00", label=_l("Survey reminders to invited contacts"))
def survey_reminders(now):
    """Each day: a reminder to every contact due one (once per contact and reminder date)."""
    reminded = services.send_reminders(to_local(now).date(), now)
    return f"{len(reminded)} survey reminder(s) queued"

"""The core's own jobs: outbox delivery and search sync (domains register theirs from their own packages)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ... import outbox
from ...jobs import register_job


@register_job("outbox.deliver", "every 1m", label=_l("E-mail delivery"))
def deliver_outbox(now):
    return str(outbox.deliver_due())


@register_job("search.sync", "every 5m", label=_l("Search index sync"), per_machine=True)
def search_sync(now):
    from ... import search

    applied = search.sync()
    return f"{applied} change(s) applied"

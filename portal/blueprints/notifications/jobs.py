"""The core's own jobs: outbox delivery, search sync and compaction (domains register theirs from their own packages)."""
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


@register_job("search.compact", "daily 02:30", label=_l("Search index compaction"), per_machine=True)
def search_compact(now):
    """The small segments saves leave at the end of the index merged into one, at night: a save's own merge
    stays small (store.merge_tail), so the request of the user who saved never waits for a large one."""
    from ... import search

    before, after = search.compact(timeout=60)
    return f"{before} -> {after} segment(s)"

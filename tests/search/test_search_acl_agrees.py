"""Every registered kind's index acl grants exactly whom the record's can_view lets in, checked on the
demonstration terminal for every one of its users: counts and facets come from the acl, so an acl that
grants more would count records a user may not open."""
from __future__ import annotations

from portal import search
from portal.extensions import db
from portal.models import User
from portal.search.store import _rows_stmt

# Kinds whose index acl may be narrower than can_view (none: records filed from another record follow
# that record's visibility both in the index and on their own pages).
NARROWER_THAN_CAN_VIEW: set[str] = set()


def test_the_index_acl_of_every_record_matches_can_view(demo_app):
    users = list(db.session.scalars(db.select(User).where(User.active.is_(True))))
    assert len({r for u in users for r in u.role_names}) >= 3
    checked = 0
    for name, kind in search.KINDS.items():
        for row in db.session.scalars(_rows_stmt(kind)):
            if getattr(row, "can_view", None) is None:
                continue
            acl = set(kind.acl_terms(row))
            for user in users:
                granted = bool(acl & set(user.acl_terms()))
                allowed = bool(row.can_view(user))
                assert allowed or not granted, f"{kind.key(row)}: the acl {sorted(acl)} lets {user.username} in"
                if name not in NARROWER_THAN_CAN_VIEW:
                    assert granted or not allowed, f"{kind.key(row)}: {user.username} may open it, the acl says no"
                checked += 1
    assert checked > 100

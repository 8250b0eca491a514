"""Top-bar suggestions: a prefix matches many titles alike, so the closest titles come first."""
from __future__ import annotations

from portal import search
from portal.extensions import db
from portal.models import User


def test_a_customer_named_by_the_typed_prefix_is_suggested_first(demo_app):
    csr = db.session.scalar(db.select(User).filter_by(username="csr"))
    hits = search.suggest("Vito", user=csr, limit=8)
    assert hits, "nothing suggested"
    assert hits[0].key.startswith("customer:"), [h.title for h in hits]
    assert "Vitol" in hits[0].title

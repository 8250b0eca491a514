"""Variance investigations in the search index (kind `variance_investigation`): month, tank, customer, product,
the comparison, cause, resolution, the reason for accepting and the state. Seen by everyone signed in, as the
investigation page."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ....search.context import customer_dependents, record_context
from ....search.registry import register_dependents, register_kind
from .models import COMPARISONS, INVESTIGATION_STATES, VarianceInvestigation


def _investigation(i: VarianceInvestigation) -> dict:
    month = f"{i.period.month:%Y-%m}"
    parts = [i.cause, i.resolution, i.accepted_reason, i.product.name_en, i.product.name_zh,
             f"{i.variance_m3} m³", f"{i.variance_pct} %" if i.variance_pct is not None else ""]
    return {
        "title": f"{month} {i.tank.code} {i.customer.code} {i.product.code} {i.comparison_label}",
        "body": "\n".join(p for p in parts if p),
        "refs": " ".join((i.tank.code, i.product.code, month)),
        "tags": f"variance_investigation {i.comparison} {i.state}",
        "customer": i.customer.code,
        "date": i.period.month,
        "context": record_context(customer=i.customer, state=INVESTIGATION_STATES.get(i.state),
                                  labels=(COMPARISONS.get(i.comparison),), owner=i.owner),
    }


register_kind("variance_investigation", VarianceInvestigation, document=_investigation,
              url=lambda i: url_for("operations.monthend.investigation", inv_id=i.id),
              label=_l("Variance investigation"), acl=lambda i: ["all"])
register_dependents("customer", customer_dependents(VarianceInvestigation, VarianceInvestigation.customer_id))

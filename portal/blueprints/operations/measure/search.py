"""Tank dips in the search index (kind `dip`): tank code, product, the tank's leaseholders on the dip's day,
the day, the calibration certificate the dip used and the remarks. Seen by everyone signed in, as the dip page."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ....search.context import customer_names, record_context
from ....search.registry import register_kind
from .models import METHODS, STANDARD_LABELS, Dip


def _dip(d: Dip) -> dict:
    customers = [lease.customer for lease in d.tank.leases_on(d.day) if lease.customer is not None]
    cal = d.calibration
    parts = [d.product.name_en, d.product.name_zh, d.remarks,
             f"{d.innage_mm} mm", f"{d.v20_m3} m³", f"{d.temperature} °C"]
    if cal is not None:
        parts += [cal.certificate_number, cal.body]
    refs = [d.tank.code, d.product.code, d.day.isoformat(), cal.certificate_number if cal is not None else ""]
    return {
        "title": f"{d.tank.code} {d.day:%Y-%m-%d} {d.product.code}",
        "body": "\n".join(str(p) for p in parts if p),
        "refs": " ".join(r for r in refs if r),
        "tags": f"dip {d.method} {d.standard}",
        "customer": customers[0].code if len(customers) == 1 else "",
        "date": d.taken_at,
        "context": record_context(customer=customers[0] if len(customers) == 1 else None,
                                  labels=(METHODS.get(d.method), STANDARD_LABELS.get(d.standard)),
                                  words=[n for c in customers for n in customer_names(c)] if len(customers) > 1 else ()),
    }


register_kind("dip", Dip, document=_dip,
              url=lambda d: url_for("operations.measure.dip", tank_id=d.tank_id, dip_id=d.id), label=_l("Tank dip"),
              acl=lambda d: ["all"])

"""Government applications in the search index (kind `application`): call and vessel, declaration, authority,
submission reference and approval numbers."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ....search.registry import register_child, register_kind
from .models import Application, ApplicationDueChange


def _application(a: Application) -> dict:
    call, t = a.call, a.type
    vessel = call.vessel
    parts = [t.name_en, t.name_zh, t.authority_label, t.description, a.return_reason, a.withdrawn_reason, a.notes,
             f"{vessel.name} IMO {vessel.imo}", call.last_port, call.next_port]
    return {
        "title": f"{call.number} {vessel.name} · {t.name_en} / {t.name_zh}",
        "body": "\n".join(p for p in parts if p),
        "refs": " ".join(p for p in (call.number, vessel.imo, t.code, a.reference_no, a.approval_no) if p),
        "tags": f"application {t.authority} {a.state}",
        "date": a.due_at or call.eta,
    }


register_kind("application", Application, document=_application,
              url=lambda a: url_for("operations.applications.detail", application_id=a.id),
              label=_l("Government application"), acl=lambda a: ["all"])
register_child(ApplicationDueChange, parents=lambda c: [c.application])

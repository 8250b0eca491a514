"""Dashboard panel: open MOC action items and training assigned to the user."""
from ...extensions import db
from ...panels import register_panel
from .models import MocItem, MocRequest


@register_panel(35, "moc/_panel_items.html")
def my_open_items(user):
    rows = db.session.scalars(
        db.select(MocItem).join(MocRequest).filter(MocItem.owner_id == user.id, MocItem.done.is_(False),
                                                   MocRequest.state.in_(("draft", "approved")))
        .order_by(MocItem.due_date.is_(None), MocItem.due_date, MocItem.id)
    )
    items = [i for i in rows if i.moc.can_view(user)]
    return {"items": items} if items else None

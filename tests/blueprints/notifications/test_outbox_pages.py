"""The outbox page (manager and admin): filter, view a message as sent, resend, retry; each user's notice switches."""
from __future__ import annotations

import re
from email import message_from_bytes, policy

from portal import outbox
from portal.extensions import db
from portal.outbox import Attachment, OutboxMessage


def _queue(address, kind="disposal", **kw):
    (m,) = outbox.queue_message(address, "disposal_due", {"count": 2, "as_of": None, "path": "/archive/schedule"},
                                kind=kind, **kw)
    return m


def test_the_outbox_filters_by_state_kind_and_recipient(app, client, login):
    a = _queue("a@customer.example")
    b = _queue("b@customer.example", kind="reminder")
    b.state = "failed"
    c = _queue("c@customer.example", record_key="archive_batch:7")
    c.state = "given_up"
    db.session.commit()
    login("cs_manager")

    def rows(query=""):
        page = client.get("/notifications/outbox" + query)
        assert page.status_code == 200
        return page.get_data(as_text=True).count('class="outbox-row"')

    assert rows() == 3
    assert rows("?state=problems") == 2
    assert rows("?state=failed") == 1
    assert rows("?kind=reminder") == 1
    assert rows("?q=a%40customer") == 1
    assert rows("?record=archive_batch:7") == 1
    assert rows("?state=nonsense") == 3  # an unknown filter is ignored, not an error
    assert a.id and c.id


def test_a_message_is_shown_and_downloaded_as_sent(app, client, login):
    m = _queue("buyer@customer.example", attachments=[Attachment.generated("list.xlsx", b"PK\x03\x04 sheet")])
    db.session.commit()
    login("cs_manager")
    page = client.get(f"/notifications/outbox/{m.id}").get_data(as_text=True)
    assert m.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    assert "list.xlsx" in page
    eml = client.get(f"/notifications/outbox/{m.id}/message.eml")
    assert eml.status_code == 200 and "attachment" in eml.headers["Content-Disposition"]
    sent = message_from_bytes(eml.data, policy=policy.default)
    assert sent["Message-ID"] == m.message_id and sent["Subject"] == m.subject
    assert [p.get_filename() for p in sent.iter_attachments()] == ["list.xlsx"]
    att = client.get(f"/notifications/outbox/{m.id}/attachments/0")
    assert att.data == b"PK\x03\x04 sheet"
    assert client.get(f"/notifications/outbox/{m.id}/attachments/1").status_code == 404


def test_resend_queues_a_copy_and_retry_puts_a_failed_message_back(app, client, login):
    m = _queue("buyer@customer.example")
    m.state, m.attempts = "given_up", 8
    db.session.commit()
    manager = login("cs_manager")
    response = client.post(f"/notifications/outbox/{m.id}/resend")
    assert response.status_code == 302
    copy = db.session.scalar(db.select(OutboxMessage).filter_by(resent_from_id=m.id))
    assert (copy.state, copy.to_address, copy.subject, copy.created_by_id) == ("queued", m.to_address, m.subject,
                                                                               manager.id)
    assert copy.message_id != m.message_id
    client.post(f"/notifications/outbox/{m.id}/retry")
    db.session.expire_all()
    assert db.session.get(OutboxMessage, m.id).state == "queued"


def test_a_csr_may_not_open_or_resend_messages(app, client, login):
    m = _queue("buyer@customer.example")
    db.session.commit()
    login("csr")
    assert client.get(f"/notifications/outbox/{m.id}").status_code == 403
    assert client.post(f"/notifications/outbox/{m.id}/resend").status_code == 403


def test_a_user_switches_a_kind_of_notice_off_and_gets_no_such_message(app, client, login):
    user = login("csr")
    user.email = "csr@terminal.example"
    db.session.commit()
    kept = [k for k in outbox.NOTICE_KINDS if k != "training"]
    assert client.post("/notifications/settings", data={"kinds": kept}).status_code == 302
    db.session.expire_all()
    assert outbox.switched_off(user.notices_off) == {"training"}
    page = client.get("/notifications/settings").get_data(as_text=True)
    boxes = {m.group(2): "checked" in m.group(1) for m in re.finditer(r'<input([^>]*)value="([a-z_]+)"', page)}
    assert boxes["training"] is False and boxes["reminder"] is True
    assert outbox.queue_message(user, "training_assigned", {"title": "Onboarding", "due": None, "path": "/"},
                                kind="training") == []
    assert len(outbox.queue_message(user, "disposal_due", {"count": 1, "as_of": None, "path": "/"},
                                    kind="reminder")) == 1


def test_a_customer_contact_gets_their_language_and_only_the_kinds_they_receive(app, client, login, customer):
    from portal.blueprints.customers.models import CustomerContact

    contact = CustomerContact(customer=customer, name="Wang Fang", email="wang@sinochem.example")
    db.session.add(contact)
    db.session.commit()
    login("csr")
    assert "E-mail notices" in client.get(f"/customers/{customer.id}").get_data(as_text=True)
    kept = [k for k in outbox.NOTICE_KINDS if k != "meeting_minutes"]
    response = client.post(f"/notifications/contacts/{contact.id}", data={"language": "zh_Hans", "kinds": kept})
    assert response.status_code == 302
    db.session.expire_all()
    assert (contact.language, outbox.switched_off(contact.notices_off)) == ("zh_Hans", {"meeting_minutes"})
    recipients = outbox.with_contacts(["WANG@sinochem.example"], customer.contacts)
    assert outbox.queue_message(recipients, "disposal_due", {"count": 1, "as_of": None, "path": "/"},
                                kind="meeting_minutes") == []
    (m,) = outbox.queue_message(recipients, "disposal_due", {"count": 1, "as_of": None, "path": "/"},
                                kind="complaint_report", language="en")
    assert (m.language, m.to_name) == ("zh_Hans", "Wang Fang")


def test_staff_may_not_change_a_contacts_notices(app, client, login, customer):
    from portal.blueprints.customers.models import CustomerContact

    contact = CustomerContact(customer=customer, name="Wang Fang", email="wang@sinochem.example")
    db.session.add(contact)
    db.session.commit()
    login("staff")
    assert client.get(f"/notifications/contacts/{contact.id}").status_code == 403

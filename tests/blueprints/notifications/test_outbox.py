"""The e-mail outbox against a real SMTP server: attachments, the recipient's language, once; retries with backoff;
two senders at once; a sender killed mid-delivery; a rollback leaves no message."""
from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask_processes import start_flask

from portal import outbox
from portal.extensions import db
from portal.outbox import Attachment, OutboxMessage
from portal.storage import ContentStore

PDF = b"%PDF-1.4\n% a generated report\n" + bytes(range(256)) * 4


def _inquiries(n=1):
    due = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai
    return [SimpleNamespace(ref=f"INQ-2026-{i:04d}", subject=f"Tank T-{200 + i} heating", due_at=due,
                            customer=SimpleNamespace(code="SINOCHEM"), assigned_to=None) for i in range(1, n + 1)]


def _queue(recipients, **kw):
    kw.setdefault("kind", "reminder")
    return outbox.queue_message(recipients, "inquiry_reminder", {"items": _inquiries()}, **kw)


def _messages():
    db.session.expire_all()
    return list(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_message_arrives_with_its_attachments_in_the_recipients_language_once(app, runner, make_user,
                                                                                smtp_server):
    li = make_user("li", "csr", email="li@terminal.example", language="zh_Hans", full_name="李明")
    evidence = b"photo of the tank gauge"
    sha = ContentStore(app.config["ARCHIVE_DIR"] + "/attachments").put(evidence)
    queued = _queue([li, "ops@customer.example"], record_key="inquiry:1",
                    attachments=[Attachment.generated("8D 报告.pdf", PDF),
                                 Attachment.archived("gauge.jpg", sha, store="attachments")])
    db.session.commit()
    assert [m.language for m in queued] == ["zh_Hans", "en"]

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output
    by_rcpt = {m.envelope_to[0]: m for m in smtp_server.messages}
    assert sorted(by_rcpt) == ["li@terminal.example", "ops@customer.example"]

    chinese = by_rcpt["li@terminal.example"]
    assert "答复期限" in chinese.get_body(("plain",)).get_content()  # "Answer due" in the recipient's language
    assert chinese["Content-Language"] == "zh-Hans"
    assert "李明" in chinese["To"]
    english = by_rcpt["ops@customer.example"]
    assert "Answer due" in english.get_body(("plain",)).get_content()
    assert "INQ-2026-0001" in english.get_body(("html",)).get_content()
    for msg in (chinese, english):
        files = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
        assert files == {"8D 报告.pdf": PDF, "gauge.jpg": evidence}

    # The Message-ID is the one fixed when the message was queued; a second run sends nothing again.
    assert sorted(smtp_server.ids()) == sorted(m.message_id for m in _messages())
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    assert len(smtp_server.messages) == 2
    assert {m.state for m in _messages()} == {"sent"}


def test_a_server_failing_then_recovering_gets_the_message_once_after_backoff(app, runner, smtp_server,
                                                                              time_machine):
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    (message,) = _queue("ops@customer.example")
    db.session.commit()
    smtp_server.refuse = 2

    assert runner.invoke(args=["outbox", "send"]).exit_code == 1
    (m,) = _messages()
    assert (m.state, m.attempts) == ("failed", 1)
    assert "451" in m.last_error
    assert m.next_attempt_at == start + timedelta(seconds=outbox.BACKOFF_SECONDS[0])

    # Not due yet: nothing is tried.
    time_machine.move_to(start + timedelta(seconds=30), tick=False)
    assert "0 sent, 0 failed" in runner.invoke(args=["outbox", "send"]).output
    assert _messages()[0].attempts == 1

    time_machine.move_to(start + timedelta(seconds=61), tick=False)
    runner.invoke(args=["outbox", "send"])
    (m,) = _messages()
    assert (m.state, m.attempts) == ("failed", 2)
    assert m.next_attempt_at == start + timedelta(seconds=61 + outbox.BACKOFF_SECONDS[1])  # the pause grows

    time_machine.move_to(start + timedelta(seconds=61 + outbox.BACKOFF_SECONDS[1] + 1), tick=False)
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    (m,) = _messages()
    assert (m.state, m.attempts, m.last_error) == ("sent", 3, "")
    assert smtp_server.ids() == [message.message_id]
    runner.invoke(args=["outbox", "send"])
    assert len(smtp_server.messages) == 1


def test_a_message_is_given_up_after_the_last_attempt(app, runner, smtp_server, time_machine):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    time_machine.move_to(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), tick=False)
    _queue("ops@customer.example")
    db.session.commit()
    smtp_server.refuse = 5
    runner.invoke(args=["outbox", "send"])
    time_machine.shift(timedelta(hours=1))
    runner.invoke(args=["outbox", "send"])
    (m,) = _messages()
    assert (m.state, m.attempts) == ("given_up", 2)
    time_machine.shift(timedelta(days=1))
    runner.invoke(args=["outbox", "send"])
    assert _messages()[0].attempts == 2
    assert smtp_server.messages == []


def test_a_rollback_leaves_no_message(app, make_user):
    user = make_user("li", "csr", email="li@terminal.example")
    _queue(user)
    assert len(_messages()) == 1  # flushed in the transaction
    db.session.rollback()
    assert _messages() == []


def test_recipients_who_switched_the_kind_off_or_have_no_address_get_nothing(app, make_user):
    off = make_user("off", "csr", email="off@terminal.example", notices_off="reminder,training")
    gone = make_user("gone", "csr", email="gone@terminal.example", active=False)
    nomail = make_user("nomail", "csr")
    contact = SimpleNamespace(email="buyer@customer.example", name="Wang Fang", language="zh", notices_off="")
    queued = _queue([off, gone, nomail, contact, "BUYER@customer.example"])
    assert [(m.to_address, m.language, m.to_name) for m in queued] == [("buyer@customer.example", "zh_Hans",
                                                                        "Wang Fang")]


def test_the_same_reminder_is_queued_once(app):
    assert len(_queue("a@customer.example", dedupe_key="inquiry-reminder:2026-03-02")) == 1
    assert _queue("a@customer.example", dedupe_key="inquiry-reminder:2026-03-02") == []
    assert len(_queue("a@customer.example", dedupe_key="inquiry-reminder:2026-03-03")) == 1


def test_without_an_smtp_host_messages_are_written_to_the_log(app, runner, caplog):
    _queue("a@customer.example")
    db.session.commit()
    with caplog.at_level("INFO", logger="portal.outbox"):
        assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    (m,) = _messages()
    assert (m.state, m.transport) == ("sent", "log")
    assert m.message_id in caplog.text


def test_a_claimed_message_is_not_claimed_by_a_second_sender(app):
    (m,) = _queue("a@customer.example")
    db.session.commit()
    assert outbox.claim(m.id) is not None
    assert outbox.claim(m.id) is None


def test_two_senders_at_once_send_each_message_once(app, smtp_server):
    for i in range(30):
        _queue(f"buyer{i}@customer.example")
    db.session.commit()
    procs = [start_flask(app, "outbox", "send") for _ in range(2)]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    ids = smtp_server.ids()
    assert len(ids) == 30 and len(set(ids)) == 30
    assert sorted(ids) == sorted(m.message_id for m in _messages())
    assert {(m.state, m.attempts) for m in _messages()} == {("sent", 1)}


def test_a_sender_killed_mid_delivery_leaves_the_message_to_be_retried(app, runner, smtp_server, time_machine):
    (message,) = _queue("buyer@customer.example")
    db.session.commit()
    smtp_server.hold = True
    proc = start_flask(app, "outbox", "send")
    try:
        assert smtp_server.holding.wait(timeout=120), "the sender never reached the server"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        smtp_server.release.set()
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    (m,) = _messages()
    assert (m.state, m.attempts) == ("sending", 1)  # claimed, never finished: not lost

    # Another sender leaves it alone while the claim is fresh, then takes it over.
    runner.invoke(args=["outbox", "send"])
    assert _messages()[0].state == "sending"
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=outbox.DEFAULT_CLAIM_SECONDS + 60), tick=False)
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    (m,) = _messages()
    assert (m.state, m.attempts) == ("sent", 2)
    assert smtp_server.ids() == [message.message_id]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_the_transport_follows_smtp_security(app, security, monkeypatch):
    calls = []

    class Fake:
        def __init__(self, host, port, timeout=None, context=None):
            calls.append(("connect", host, port))

        def starttls(self, context=None):
            calls.append("starttls")

        def login(self, user, password):
            calls.append(("login", user))

    monkeypatch.setattr(outbox.smtplib, "SMTP", Fake)
    monkeypatch.setattr(outbox.smtplib, "SMTP_SSL", Fake)
    app.config.update(SMTP_HOST="mail.terminal.example", SMTP_SECURITY=security, SMTP_USER="csd",
                      SMTP_PASSWORD="pw")
    outbox.Transport()._connect()
    port = 465 if security == "ssl" else 587
    expected = [("connect", "mail.terminal.example", port)] + (["starttls"] if security == "starttls" else [])
    assert calls == expected + [("login", "csd")]


"""The e-mail outbox: every outgoing message is a row written in the caller's transaction.

A domain queues a message where the change that causes it happens, and the route (or command) commits
both together; a rollback leaves no message::

    from portal.outbox import queue_message, Attachment
    queue_message([customer_contact, manager], "complaint_8d", {"complaint": c},
                  kind="complaint_report", record=c, user=current_user,
                  attachments=[Attachment.generated("8D-C-2026-001.pdf", pdf_bytes)])

- Each recipient gets a message of its own, rendered in its language from ``templates/email/<name>.subject.txt``,
  ``<name>.txt`` and (optional) ``<name>.html``. A recipient is a ``User`` (its e-mail and language), any object
  with ``email`` (and optionally ``language``, ``name``/``display_name``, ``notices_off``: a customer contact), or an
  address. Users switched off, without e-mail or deactivated, and recipients who switched ``kind`` off
  (``notices_off``) get nothing.
- Attachments are references: files already in the archive's content store (``Attachment.archived``, complaint
  and meeting files: ``store="attachments"``) or generated files kept in ``ARCHIVE_DIR/outbox``
  (``Attachment.generated``). The bytes are read when the message is sent.
- ``deliver_due()`` (``flask outbox send``, and the ``outbox.deliver`` job) claims each message with a conditional
  UPDATE, sends it over SMTP (``SMTP_HOST`` ...; without a host the message is written to the log) and marks it
  sent; a failure is retried with backoff, up to ``OUTBOX_MAX_ATTEMPTS``. A claim older than
  ``OUTBOX_CLAIM_SECONDS`` (a sender killed mid-delivery) is taken over. Delivery is at least once; the
  Message-ID is fixed when the message is queued, so a repeat after a crash is recognisable.
- Notice kinds (what a user or a contact can switch off) are registered with ``register_notice_kind``.
"""
from __future__ import annotations

import logging
import mimetypes
import smtplib
import ssl
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, format_datetime
from typing import Optional

from flask import current_app, render_template
from flask_babel import force_locale, lazy_gettext as _l
from jinja2 import TemplateNotFound
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .delegation import stand_in
from .extensions import db
from .models import User, UTCDateTime
from .storage import ContentStore, sanitise_filename
from .timeutil import utcnow

log = logging.getLogger("portal.outbox")

STATES = ("queued", "sending", "sent", "failed", "given_up", "cancelled")
# Seconds to wait before attempt n+1 after n failed attempts (the last value repeats).
BACKOFF_SECONDS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600)
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_CLAIM_SECONDS = 600  # a sender that held a message this long is taken to have died
SMTP_TIMEOUT = 60

# --------------------------------------------------------------------------- notice kinds
NOTICE_KINDS: dict[str, object] = {}


def register_notice_kind(name: str, label) -> None:
    """A kind of notice users and customer contacts can switch off (label: a lazy translated string)."""
    NOTICE_KINDS[name] = label


for _name, _label in (
    ("meeting_minutes", _l("Review meeting minutes and pre-read packs")),
    ("complaint_report", _l("8D reports to the customer")),
    ("lesson_shared", _l("Lessons shared from closed complaints")),
    ("announcement", _l("Announcements to read")),
    ("inquiry", _l("Inquiry acknowledgements and answers")),
    ("escalation", _l("Escalations to the manager")),
    ("training", _l("Training assignments")),
    ("certificate_expiry", _l("Certificates expiring")),
    ("disposal", _l("Disposal batches and records due")),
    ("reminder", _l("Reminders of work due")),
    ("review_due", _l("Procedures due for review")),
    ("daily_report", _l("Daily stock reports")),
    ("berth_plan", _l("Berth plan versions")),
    ("application_deadline", _l("Application deadlines")),
    ("survey", _l("Survey invitations and reminders")),
):
    register_notice_kind(_name, _label)


def kind_label(name: str) -> str:
    label = NOTICE_KINDS.get(name)
    return str(label) if label is not None else name


def switched_off(value: str | None) -> set[str]:
    """The kinds in a ``notices_off`` column (comma-separated)."""
    return {k.strip() for k in (value or "").split(",") if k.strip()}


def join_kinds(kinds: Iterable[str]) -> str:
    return ",".join(sorted({k for k in kinds if k}))


# --------------------------------------------------------------------------- model
class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __audit__ = False  # the outbox is its own log: who queued, when, what state; bodies are not audit material

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    template: Mapped[str] = mapped_column(String(80), nullable=False)
    language: Mapped[str] = mapped_column(String(10), nullable=False)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    to_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    body_html: Mapped[str] = mapped_column(Text, default="", nullable=False)
    attachments: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    record_key: Mapped[str] = mapped_column(String(80), default="", nullable=False, index=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    dedupe_key: Mapped[Optional[str]] = mapped_column(String(255), unique=True, nullable=True)
    state: Mapped[str] = mapped_column(String(12), default="queued", nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    claimed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    claim_token: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    transport: Mapped[str] = mapped_column(String(10), default="", nullable=False)  # smtp | log
    last_error: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    resent_from_id: Mapped[Optional[int]] = mapped_column(ForeignKey("outbox_message.id", ondelete="SET NULL"),
                                                          nullable=True)

    user: Mapped[Optional[User]] = relationship(foreign_keys=[user_id])
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])

    STATE_LABELS = {
        "queued": _l("Queued"),
        "sending": _l("Sending"),
        "sent": _l("Sent"),
        "failed": _l("Failed, will retry"),
        "given_up": _l("Given up"),
        "cancelled": _l("Cancelled"),
    }

    @classmethod
    def state_label(cls, code: str) -> str:
        label = cls.STATE_LABELS.get(code)
        return str(label) if label is not None else code

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and user.is_manager)

    def can_edit(self, user) -> bool:
        return self.can_view(user)


# --------------------------------------------------------------------------- attachments
ATTACHMENT_STORES = {"archive": "", "attachments": "attachments", "outbox": "outbox"}


@dataclass(frozen=True)
class Attachment:
    """A file attached by reference: its name, its sha256 and the content store it lives in."""

    name: str
    sha256: str
    store: str = "archive"
    mimetype: str = ""

    @classmethod
    def archived(cls, name: str, sha256: str, store: str = "archive", mimetype: str = "") -> "Attachment":
        """A file already kept by the archive (``archive``) or a domain's attachment store (``attachments``)."""
        if store not in ATTACHMENT_STORES:
            raise ValueError(f"unknown attachment store {store!r}")
        return cls(sanitise_filename(name), sha256.lower(), store, mimetype)

    @classmethod
    def generated(cls, name: str, data: bytes, mimetype: str = "") -> "Attachment":
        """A generated file (a PDF, an XLSX): kept content-addressed in ARCHIVE_DIR/outbox until sent."""
        sha = _store("outbox").put(data)
        return cls(sanitise_filename(name), sha, "outbox", mimetype)

    def as_dict(self) -> dict:
        mimetype = self.mimetype or mimetypes.guess_type(self.name)[0] or "application/octet-stream"
        return {"name": self.name, "sha256": self.sha256, "store": self.store, "mimetype": mimetype}


def _store(name: str) -> ContentStore:
    root = str(current_app.config["ARCHIVE_DIR"])
    sub = ATTACHMENT_STORES[name]
    return ContentStore(root + "/" + sub if sub else root)


def read_attachment(ref: dict) -> bytes:
    with _store(ref.get("store", "archive")).open(ref["sha256"]) as fh:
        return fh.read()


# --------------------------------------------------------------------------- queueing
@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    language: str
    user_id: int | None
    notices_off: frozenset[str]
    active: bool = True


def _languages() -> tuple[str, ...]:
    return tuple(current_app.config.get("LANGUAGES", ("en", "zh_Hans")))


def _norm_language(value: str | None, default: str | None) -> str:
    from .i18n import normalise_locale

    fallback = default or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    chosen = normalise_locale(value) if value else None
    return chosen if chosen in _languages() else normalise_locale(fallback) or "en"


def recipient_of(value, language: str | None = None) -> Recipient:
    """A User, an object with ``email`` (a customer contact) or an address, as a Recipient."""
    if isinstance(value, Recipient):
        return value
    if isinstance(value, str):
        return Recipient(value.strip(), "", _norm_language(language, None), None, frozenset())
    if isinstance(value, User):
        return Recipient((value.email or "").strip(), value.display_name, _norm_language(value.language, language),
                         value.id, frozenset(switched_off(getattr(value, "notices_off", ""))), bool(value.active))
    name = getattr(value, "display_name", None) or getattr(value, "name", "") or ""
    return Recipient((getattr(value, "email", "") or "").strip(), str(name),
                     _norm_language(getattr(value, "language", None), language), None,
                     frozenset(switched_off(getattr(value, "notices_off", ""))))


def split_addresses(text: str) -> list[str]:
    """E-mail addresses in free text ("Wang Fang <wang@x.example>; qa@x.example", one per line ...)."""
    import re

    return list(dict.fromkeys(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text or "")))


def with_contacts(addresses: Iterable[str], contacts: Iterable = ()) -> list:
    """Each address as the contact that has it (their language and switches), else as the bare address."""
    by_address = {(c.email or "").strip().lower(): c for c in contacts if getattr(c, "email", "")}
    return [by_address.get(a.strip().lower(), a) for a in addresses]


def users_with_role(*roles: str) -> list[User]:
    """Active users holding any of ``roles`` (e.g. the managers an escalation goes to)."""
    from .models import Role

    return list(db.session.scalars(select(User).where(User.active.is_(True), User.roles.any(Role.name.in_(roles)))
                                   .order_by(User.username)))


def path_for(endpoint: str, **values) -> str:
    """A portal path for a link in a message, in a request or not (jobs, commands); ``BASE_URL`` goes in front."""
    from flask import has_request_context, url_for

    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def record_key_of(record) -> str:
    if record is None:
        return ""
    if record.id is None:
        db.session.flush()
    table = getattr(record, "__tablename__", type(record).__name__.lower())
    return f"{table}:{record.id}"


def render_message(template: str, context: dict, language: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of ``templates/email/<template>.*`` in ``language``."""
    ctx = dict(context)
    ctx.setdefault("base_url", str(current_app.config.get("BASE_URL") or "").rstrip("/"))
    with force_locale(language):
        subject = " ".join(render_template(f"email/{template}.subject.txt", **ctx).split())
        text = render_template(f"email/{template}.txt", **ctx).strip() + "\n"
        try:
            html = render_template(f"email/{template}.html", **ctx)
        except TemplateNotFound:
            html = ""
    return subject[:300], text, html


def _message_id() -> str:
    sender = str(current_app.config.get("SMTP_SENDER") or "")
    domain = sender.rpartition("@")[2].strip(" >") or "csd-portal.local"
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue_message(recipients, template: str, context: dict | None = None, *, kind: str, record=None,
                  record_key: str | None = None, attachments: Iterable[Attachment] = (), language: str | None = None,
                  user=None, dedupe_key: str | None = None, send_after: datetime | None = None,
                  ) -> list[OutboxMessage]:
    """Queue one message per recipient in the session's transaction (flushes, never commits).

    ``recipients``: one or a list of Users, contacts or addresses (duplicates by address are sent once).
    ``language``: for recipients without a language of their own (plain addresses, contacts without one).
    ``dedupe_key``: a message with this key for the same address already queued is not queued again
    (reminders a job may reach twice). Returns the messages queued.
    """
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}: register it with register_notice_kind")
    if recipients is None or isinstance(recipients, (str, User)) or hasattr(recipients, "email"):
        recipients = [recipients] if recipients is not None else []
    key = record_key if record_key is not None else record_key_of(record)
    refs = [a.as_dict() for a in attachments]
    now = utcnow()
    out: list[OutboxMessage] = []
    seen: set[str] = set()
    customer_id = getattr(record, "customer_id", None)
    for value in recipients:
        if isinstance(value, User):
            value = stand_in(value, customer_id)  # the cover while the addressee is away
        rcpt = recipient_of(value, language)
        address = rcpt.address
        if not address or "@" not in address or address.lower() in seen:
            continue
        if not rcpt.active or kind in rcpt.notices_off:
            continue
        seen.add(address.lower())
        dedupe = f"{dedupe_key}|{address.lower()}"[:255] if dedupe_key else None
        if dedupe and db.session.scalar(select(OutboxMessage.id).filter_by(dedupe_key=dedupe)):
            continue
        ctx = dict(context or {})
        ctx.setdefault("recipient_name", rcpt.name)
        subject, text, html = render_message(template, ctx, rcpt.language)
        msg = OutboxMessage(kind=kind, template=template, language=rcpt.language, to_address=address,
                            to_name=" ".join(rcpt.name.split())[:200], user_id=rcpt.user_id, subject=subject, body_text=text,
                            body_html=html, attachments=list(refs), record_key=key, message_id=_message_id(),
                            dedupe_key=dedupe, state="queued", attempts=0, next_attempt_at=send_after or now,
                            created_at=now, created_by_id=getattr(user, "id", None))
        db.session.add(msg)
        out.append(msg)
    if out:
        db.session.flush()
    return out


def resend(message: OutboxMessage, *, user) -> OutboxMessage:
    """Queue a copy of a message (same subject, body and attachments, a new Message-ID); flushes only."""
    copy = OutboxMessage(kind=message.kind, template=message.template, language=message.language,
                         to_address=message.to_address, to_name=message.to_name, user_id=message.user_id,
                         subject=message.subject, body_text=message.body_text, body_html=message.body_html,
                         attachments=list(message.attachments or []), record_key=message.record_key,
                         message_id=_message_id(), state="queued", attempts=0, next_attempt_at=utcnow(),
                         created_at=utcnow(), created_by_id=getattr(user, "id", None), resent_from_id=message.id)
    db.session.add(copy)
    db.session.flush()
    return copy


def retry_now(message: OutboxMessage) -> None:
    """A failed or given-up message goes back in the queue at once (same Message-ID); flushes only."""
    if message.state in ("failed", "given_up"):
        message.state = "queued"
        message.next_attempt_at = utcnow()
        db.session.flush()


# --------------------------------------------------------------------------- building and sending
def build_email(message: OutboxMessage) -> EmailMessage:
    """The message as it goes out (also shown on the outbox page as sent)."""
    sender = str(current_app.config.get("SMTP_SENDER") or "csd-portal@localhost")
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = formataddr((message.to_name, message.to_address)) if message.to_name else message.to_address
    mail["Message-ID"] = message.message_id
    mail["Date"] = format_datetime(message.created_at)
    mail["X-Portal-Kind"] = message.kind
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    for ref in message.attachments or []:
        data = read_attachment(ref)
        maintype, _, subtype = (ref.get("mimetype") or "application/octet-stream").partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=ref["name"])
    # After the parts: Content-* headers set earlier would move into the first part.
    mail["Content-Language"] = "zh-Hans" if message.language.startswith("zh") else message.language
    return mail


def smtp_settings() -> dict:
    cfg = current_app.config
    security = str(cfg.get("SMTP_SECURITY") or "none").strip().lower()
    if security == "tls":
        security = "ssl"
    default_port = 465 if security == "ssl" else 587 if security == "starttls" else 25
    return {"host": str(cfg.get("SMTP_HOST") or "").strip(), "port": int(cfg.get("SMTP_PORT") or default_port),
            "security": security, "user": str(cfg.get("SMTP_USER") or ""),
            "password": str(cfg.get("SMTP_PASSWORD") or "")}


class Transport:
    """One SMTP connection for a run of deliveries (opened on first use), or the log without a host."""

    def __init__(self):
        self.settings = smtp_settings()
        self.conn: smtplib.SMTP | None = None

    @property
    def name(self) -> str:
        return "smtp" if self.settings["host"] else "log"

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s["security"] == "ssl":
            conn = smtplib.SMTP_SSL(s["host"], s["port"], timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(s["host"], s["port"], timeout=SMTP_TIMEOUT)
            if s["security"] == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if s["user"]:
            conn.login(s["user"], s["password"])
        return conn

    def send(self, mail: EmailMessage, to_address: str) -> None:
        if not self.settings["host"]:
            log.info("e-mail (no SMTP_HOST, not sent) to=%s subject=%s message-id=%s attachments=%d",
                     to_address, mail["Subject"], mail["Message-ID"], sum(1 for _ in mail.iter_attachments()))
            return
        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.send_message(mail, to_addrs=[to_address])
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.conn = None


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return timedelta(seconds=BACKOFF_SECONDS[min(max(attempts, 1), len(BACKOFF_SECONDS)) - 1])


def _claimable(now: datetime):
    stale = now - timedelta(seconds=int(current_app.config.get("OUTBOX_CLAIM_SECONDS", DEFAULT_CLAIM_SECONDS)))
    return or_(
        (OutboxMessage.state.in_(("queued", "failed"))) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < stale),
    )


def due_ids(now: datetime | None = None, limit: int = 100) -> list[int]:
    now = now or utcnow()
    return list(db.session.scalars(select(OutboxMessage.id).where(_claimable(now))
                                   .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))


def claim(message_id: int, now: datetime | None = None) -> str | None:
    """Take a message for delivery (conditional UPDATE, committed): the claim token, or None if another sender has it."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, _claimable(now))
        .values(state="sending", claim_token=token, claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if result.rowcount == 1 else None


def _finish(message_id: int, token: str, **values) -> bool:
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token,
                                    OutboxMessage.state == "sending")
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    given_up: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.failed} failed (will retry), {self.given_up} given up"


def deliver_one(message_id: int, transport: Transport, now: datetime | None = None) -> str | None:
    """Claim, send and mark one message; the state it ended in, or None when another sender had it."""
    token = claim(message_id, now)
    if token is None:
        return None
    message = db.session.get(OutboxMessage, message_id)
    db.session.refresh(message)
    max_attempts = int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    try:
        mail = build_email(message)
        transport.send(mail, message.to_address)
    except Exception as exc:  # noqa: BLE001 - any failure to build or send is recorded on the message and retried
        error = f"{type(exc).__name__}: {str(exc).strip()}"[:2000]
        attempts = message.attempts
        db.session.rollback()
        if attempts >= max_attempts:
            _finish(message_id, token, state="given_up", last_error=error, claim_token=None)
            log.warning("e-mail %s to %s given up after %d attempts: %s", message_id, message.to_address, attempts,
                        error)
            return "given_up"
        _finish(message_id, token, state="failed", last_error=error, claim_token=None,
                next_attempt_at=utcnow() + backoff(attempts))
        log.info("e-mail %s to %s failed (attempt %d), will retry: %s", message_id, message.to_address, attempts,
                 error)
        return "failed"
    _finish(message_id, token, state="sent", sent_at=utcnow(), transport=transport.name, last_error="",
            claim_token=None)
    return "sent"


def deliver_due(*, limit: int = 500, now: datetime | None = None) -> DeliveryResult:
    """Send every message due (up to ``limit``); safe beside other senders. Commits per message."""
    result = DeliveryResult()
    transport = Transport()
    try:
        ids = due_ids(now, limit)
        db.session.commit()
        for message_id in ids:
            state = deliver_one(message_id, transport, now)
            if state == "sent":
                result.sent += 1
            elif state == "failed":
                result.failed += 1
            elif state == "given_up":
                result.given_up += 1
    finally:
        transport.close()
    return result


def counts_by_state() -> dict[str, int]:
    rows = db.session.execute(select(OutboxMessage.state, db.func.count()).group_by(OutboxMessage.state))
    return {state: n for state, n in rows}

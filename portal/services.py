"""Core service contracts shared by every domain package.

- ``ServiceError``: a business rule refused the request; every domain error subclasses it.
- Filing: the archive registers its filing function at start (``register_filer``); any domain files a
  document through ``file_record(kind, title, files, user, **kw)``, never by importing archive services.
- Disposal blockers: a domain registers ``fn(record) -> str | None`` (a reason to skip disposing of an
  archived record, e.g. an open complaint of the same customer); the archive iterates
  ``disposal_blockers()``.

These registries are how domains talk to each other without importing each other's services.
"""
from __future__ import annotations

from collections.abc import Callable


class ServiceError(Exception):
    """A business rule refused the request; the message is shown to the user.

    ``field`` names the form field the message belongs to (``service_errors`` puts it there).
    """

    def __init__(self, message="", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NoFilerRegistered(RuntimeError):
    """``file_record`` was called but no filing service is registered (the archive is not loaded)."""


Filer = Callable[..., object]
_FILER: list[Filer] = []


def register_filer(fn: Filer) -> Filer:
    """Register the one filing service (the archive's ``file_document``). Usable as a decorator.

    Registering again replaces the previous filer (an app factory may run more than once).
    """
    _FILER[:] = [fn]
    return fn


def file_record(kind: str, title: str, files: list[tuple[str, bytes]], user, **kw):
    """File ``files`` (``[(name, bytes)]``) as a record of ``kind`` in the archive; flushes only.

    Keyword arguments are passed on (``customer_id``, ``restricted``, ``event_date``, ``source_key``,
    ``record_date``, ``description``). Returns the record. Raises NoFilerRegistered when no filing
    service is registered, and whatever the filer raises (an ``UploadRejected`` for refused files).
    """
    if not _FILER:
        raise NoFilerRegistered("no filing service is registered: the archive blueprint is not loaded")
    return _FILER[0](kind=kind, title=title, files=files, user=user, **kw)


def has_filer() -> bool:
    return bool(_FILER)


DisposalBlocker = Callable[[object], "str | None"]
_BLOCKERS: list[DisposalBlocker] = []


def register_disposal_blocker(fn: DisposalBlocker) -> DisposalBlocker:
    """Register ``fn(record) -> str | None``: a reason not to dispose of ``record`` now, or None.

    Usable as a decorator; registering the same function twice keeps it once.
    """
    if fn not in _BLOCKERS:
        _BLOCKERS.append(fn)
    return fn


def disposal_blockers() -> tuple[DisposalBlocker, ...]:
    """The registered blockers, in registration order."""
    return tuple(_BLOCKERS)


CustomerSummary = Callable[[int], object]
_SUMMARIES: dict[str, CustomerSummary] = {}


def register_customer_summary(name: str, fn: CustomerSummary) -> CustomerSummary:
    """Register ``fn(customer_id) -> dict | None``: what a domain says about a customer for other domains'
    documents (e.g. ``"survey"``: the customer's latest satisfaction results, for the review meeting's
    pre-read pack). Registering a name again replaces the function."""
    _SUMMARIES[name] = fn
    return fn


def customer_summary(name: str, customer_id: int):
    """The registered domain's summary of a customer, or None when no domain registered ``name``."""
    fn = _SUMMARIES.get(name)
    return fn(customer_id) if fn is not None else None

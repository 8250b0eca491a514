"""Monthly reports: the safety figures the manager enters for a month, the issued versions of the monthly
operation and safety report (filed in the archive), and the exported (locked) government statistics.

The report's figures are computed from the data on the day they are read (services.py); only what the
manager enters (safety figures), what was issued (versions) and what was sent to the government (frozen
figures and the exact file) are stored here.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ....extensions import db
from ....models import User, UTCDateTime
from ....timeutil import utcnow
from ...customers.models import Customer

# Staff (and everyone signed in) read the reports; the CS manager enters the safety figures, issues the
# report and exports the government statistics (admins pass every role check).
VIEW_ROLES = ("admin", "cs_manager", "csr", "records_officer", "staff")
MANAGER_ROLES = ("admin", "cs_manager")


class _Monthly:
    def can_view(self, user) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and user.has_role(*VIEW_ROLES)

    def can_edit(self, user) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and user.has_role(*MANAGER_ROLES)


class MonthlySafety(_Monthly, db.Model):
    """The month's safety figures as the manager entered them (one row per month, audited)."""

    __tablename__ = "ops_monthly_safety"
    __audit_label__ = _l("Monthly safety figures")
    __audit_fields__ = {
        "month": _l("Month"), "days_without_lti": _l("Days without lost-time injury"),
        "incidents": _l("Incidents"), "near_misses": _l("Near misses"), "remarks": _l("Remarks"),
        "entered_at": _l("Entered at"), "entered_by_id": _l("Entered by"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    days_without_lti: Mapped[int] = mapped_column(Integer, nullable=False)
    incidents: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    near_misses: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    remarks: Mapped[str] = mapped_column(Text, default="", nullable=False)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    entered_by: Mapped[Optional[User]] = relationship()

    def audit_title(self) -> str:
        return f"{self.month:%Y-%m}"


class MonthlyReportIssue(_Monthly, db.Model):
    """One issued version of a month's report (management: no customer; else one customer's report)."""

    __tablename__ = "ops_monthly_report"
    __audit_label__ = _l("Monthly report")
    __audit_fields__ = {
        "month": _l("Month"), "customer_id": _l("Customer"), "version": _l("Version"), "filename": _l("File name"),
        "issued_at": _l("Issued at"), "issued_by_id": _l("Issued by"), "note": _l("Note"),
        "archive_record_id": _l("Archived record"),
    }
    __table_args__ = (UniqueConstraint("month", "customer_id", "version", name="uq_ops_monthly_report_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id"), nullable=True, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    issued_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    archive_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True)

    customer: Mapped[Optional[Customer]] = relationship()
    issued_by: Mapped[Optional[User]] = relationship()

    def audit_title(self) -> str:
        who = self.customer.code if self.customer else "management"
        return f"{self.month:%Y-%m} {who} v{self.version}"


class GovStatExport(_Monthly, db.Model):
    """The government statistics of one month as exported: the figures frozen (JSON rows), the exact XLSX
    kept (sha256), and the corrections of earlier exported months this export reported. Never changed."""

    __tablename__ = "ops_gov_stat_export"
    __audit_label__ = _l("Government statistics export")
    __audit_fields__ = {
        "month": _l("Month"), "filename": _l("File name"), "size": _l("Size"), "exported_at": _l("Exported at"),
        "exported_by_id": _l("Exported by"), "archive_record_id": _l("Archived record"),
        "figures": _l("Figures as exported"), "corrections": _l("Corrections of earlier months"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    figures: Mapped[list] = mapped_column(JSON, nullable=False)
    corrections: Mapped[list] = mapped_column(JSON, nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    exported_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    archive_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True)

    exported_by: Mapped[Optional[User]] = relationship()

    def audit_title(self) -> str:
        return f"{self.month:%Y-%m}"

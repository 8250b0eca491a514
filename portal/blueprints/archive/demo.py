"""Demo archive: the starter file plan, about three hundred records over five years (some due, some on
legal hold, a few restricted) and one executed disposal batch with its destruction certificate."""
from __future__ import annotations

import io
import os
import random
from datetime import UTC, date, datetime, time, timedelta

from ...demo import register
from ...extensions import db
from ...models import User
from ...storage import ContentStore, sha256_bytes
from ..customers.models import Customer
from . import services
from .models import ArchiveRecord, Series
from .plan import ensure_starter_plan

PRODUCTS = ["gasoil 柴油", "gasoline 汽油", "naphtha 石脑油", "methanol 甲醇", "MEG 乙二醇", "styrene 苯乙烯",
            "xylene 二甲苯", "palm oil 棕榈油", "fuel oil 燃料油", "jet fuel 航煤"]


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid PDF with a text layer (ASCII lines), written without a PDF library."""
    return pages_pdf([lines])


def pages_pdf(pages: list[list[str]]) -> bytes:
    """A valid PDF of several pages, each with its text layer (ASCII lines)."""
    def esc(s: str) -> str:
        return s.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    n = len(pages)
    font = 3 + 2 * n  # object number of the one font
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode()]
    for i, lines in enumerate(pages):
        ops = ["BT /F1 11 Tf 60 780 Td 14 TL"] + [f"({esc(line)}) '" for line in lines] + ["ET"]
        content = "\n".join(ops).encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objects.append(b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _file(series_code, title, day: date, user, *, name, data, customer=None, restricted=False, event=None, key):
    series = db.session.scalar(db.select(Series).filter_by(code=series_code))
    prepared = services._prepare([(name, data)])
    filed = datetime.combine(day + timedelta(days=1), time(2, 30), tzinfo=UTC)
    record = services._create(series=series, kind="demo", title=title, prepared=prepared, user=user,
                              customer_id=customer.id if customer else None, restricted=restricted,
                              record_date=day, event_date=event, source_key=key, filed_at=filed)
    return record


class _DemoStore(ContentStore):
    """Atomic (temp file + rename) but without fsync: demo files can be regenerated, and loading stays fast."""

    def put(self, data: bytes) -> str:
        sha = sha256_bytes(data)
        path = self.path_for(sha)
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{sha}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return sha


@register(70, "archive")
def load():
    services._STORE_CLASS.append(_DemoStore)
    try:
        _load()
    finally:
        services._STORE_CLASS.pop()


def _load():
    ensure_starter_plan()
    if db.session.scalar(db.select(ArchiveRecord.id).filter(ArchiveRecord.source_key.like("demo:%")).limit(1)):
        return
    rnd = random.Random(2026)
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    records_user = users.get("records")
    csr = users.get("csr") or records_user
    manager = users.get("manager")
    customers = list(db.session.scalars(db.select(Customer).order_by(Customer.code)))
    today = services.today()
    start_year = today.year - 5
    n = 0

    def key():
        nonlocal n
        n += 1
        return f"demo:{n}"

    for year in range(start_year, today.year + 1):
        last_month = 12 if year < today.year else max(1, today.month - 1)
        for month in range(2, last_month + 1, 2):
            for customer in customers[:2]:
                day = date(year, month, 28)
                product = rnd.choice(PRODUCTS)
                text = (f"Daily stock report {customer.code} {day.isoformat()}\n"
                        f"Product: {product}\nOpening 12,450.320 t  Receipts 3,200.000 t  Deliveries 1,870.115 t  "
                        f"Closing 13,780.205 t\n库存日报 期初 进库 出库 期末\n")
                _file("CS-02-01", f"Daily stock report {customer.code} {day:%Y-%m-%d} / 库存日报", day, csr,
                      name=f"stock-{customer.code}-{day:%Y%m%d}.txt", data=text.encode(), customer=customer, key=key())
            if month % 3 == 0:
                day = date(year, month, 5)
                _file("CS-02-02", f"Monthly report {year}-{month:02d} / 月度报告", day, csr,
                      name=f"monthly-report-{year}-{month:02d}.pdf",
                      data=minimal_pdf([f"Monthly report {year}-{month:02d}",
                                        f"Vessel calls: {rnd.randint(18, 40)}  Truck loadings: {rnd.randint(300, 700)}",
                                        "Safety: no lost-time incident", "Month-end dips within tolerance 0.3 %"]),
                      key=key())
        # inquiries and correspondence
        for i in range(6):
            customer = rnd.choice(customers)
            day = date(year, rnd.randint(1, 12 if year < today.year else max(1, today.month - 1)), rnd.randint(1, 27))
            product = rnd.choice(PRODUCTS)
            _file("CS-03-01", f"Inquiry from {customer.code}: {product} availability / 客户咨询", day, csr,
                  name=f"inquiry-{year}-{i + 1}.eml", customer=customer, key=key(),
                  data=(f"From: trading@{customer.code.lower()}.example\r\nTo: csd@terminal.example\r\n"
                        f"Subject: {product.split()[0]} tank availability\r\nDate: {day:%a, %d %b %Y} 09:15:00 +0800\r\n"
                        f"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease confirm free capacity for "
                        f"{rnd.randint(2, 20) * 500} m3 of {product} and the earliest berth window.\r\n").encode())
            _file("CS-11", f"Letter to {customer.code} on rate schedule / 往来函件", day, csr,
                  name=f"letter-{year}-{i + 1}.txt", customer=customer, key=key(),
                  data=f"Dear {customer.name_en},\nThe storage fee and throughput fee for {year + 1} ...\n".encode())
        # complaints (closed: event date), some restricted
        for i in range(3):
            customer = rnd.choice(customers)
            day = date(year, rnd.randint(1, 10 if year < today.year else max(1, today.month - 1)), 10)
            closed = day + timedelta(days=rnd.randint(10, 60))
            _file("CS-03-02", f"Complaint investigation {year}-{i + 1}: quantity variance on {customer.code} "
                              f"truck loading / 投诉调查", day, csr,
                  name=f"complaint-{year}-{i + 1}.pdf", customer=customer, restricted=(i == 0), key=key(),
                  event=closed if closed <= today else None,
                  data=minimal_pdf([f"Complaint {year}-{i + 1} {customer.code}",
                                    "Root cause: meter proving overdue on loading arm 3",
                                    "Corrective action: meter proved; preventive action: proving schedule in CMMS"]))
        # meeting minutes (review disposition), survey, contract, billing, certificates
        for customer in [c for c in customers if c.long_term]:
            day = date(year, 6, 15)
            if day <= today:
                _file("CS-04", f"Operation review meeting {customer.code} {year} / 操作回顾会议纪要", day, csr,
                      name=f"minutes-{customer.code}-{year}.txt", customer=customer, key=key(),
                      data=f"Operation review meeting with {customer.name_en}, {day}\nActions: ...\n".encode())
        if date(year, 11, 30) <= today:
            _file("CS-05", f"Customer satisfaction survey {year} / 客户满意度调查", date(year, 11, 30), csr,
                  name=f"survey-{year}.csv", key=key(),
                  data=("customer,score\n" + "\n".join(f"{c.code},{rnd.randint(6, 10)}" for c in customers)).encode())
            _file("CS-09-01", f"Storage and throughput fee invoices {year} / 计费单据", date(year, 12, 20), csr,
                  name=f"invoicing-{year}.txt", key=key(),
                  data=f"Invoicing records {year}: storage fee, throughput fee, CNY\n".encode())
        cert_day = date(year, 3, 1)
        _file("CS-07-02", f"Calibration certificate flowmeter FM-{year}0{rnd.randint(1, 9)} / 流量计检定证书", cert_day,
              records_user, name=f"calibration-{year}.pdf", key=key(),
              event=cert_day.replace(year=year + 1) if cert_day.replace(year=year + 1) <= today else None,
              data=minimal_pdf([f"Calibration certificate {year}", "Flowmeter loading arm 3",
                                "Valid 12 months from the date of calibration"]))
    for customer in customers[:4]:
        day = date(start_year, 1, 1)
        _file("CS-08", f"Storage contract {customer.code} {start_year} / 仓储合同", day, manager or csr,
              name=f"contract-{customer.code}.pdf", customer=customer, key=key(),
              event=date(start_year + 2, 12, 31) if customer.code == "TRAFIG" else None,
              data=minimal_pdf([f"Storage and throughput contract {customer.code}",
                                f"Term {start_year}-01-01 to {start_year + 5}-12-31"]))
    db.session.flush()

    # legal holds: everything of one customer (a quantity dispute), and one record
    hold_customer = next((c for c in customers if c.code == "HMCHEM"), customers[-1])
    services.place_hold(user=records_user, customer_id=hold_customer.id,
                        reason="Quantity dispute with Huamei Chemical: keep all records until settled / 数量争议，冻结")
    first_letter = db.session.scalar(db.select(ArchiveRecord).join(Series).filter(Series.code == "CS-11")
                                     .order_by(ArchiveRecord.record_date))
    if first_letter is not None:
        services.place_hold(user=records_user, record=first_letter, reason="Customs audit 2026 requested this letter")

    # one executed disposal batch: the oldest daily stock reports that are due
    if records_user is not None and manager is not None:
        due = [i for i in services.schedule(today) if not i.skipped and i.record.series.code == "CS-02-01"][:12]
        if due:
            batch = services.propose_batch(user=records_user, record_ids=[i.record.id for i in due], as_of=today,
                                           note="Daily stock reports past 3 years / 超过保管期限的库存日报")
            services.decide_batch(batch, user=manager, approve=True, note="Checked against the destruction list")
            services.execute_batch(batch, user=records_user)
    services.verify_files(actor="demo")
    db.session.flush()

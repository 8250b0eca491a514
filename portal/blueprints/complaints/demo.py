"""Demo data: two years of complaints (Chinese and English, several recurring), inquiries."""
from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from ...demo import register
from ...extensions import db
from ...models import Department, User
from ...timeutil import local_today, tz
from ...workdays import add_workdays, is_workday
from ..customers.models import Customer
from . import services
from .models import Complaint

# (customer, category, severity, language, title, description, request, containment, whys, root cause, cause category,
#  corrective, preventive)
CASES = [
    ("SINOCHEM", "quantity", "high", "zh", "汽车装车柴油短量",
     "客户反映3号鹤位装车的柴油，客户地磅称重比我方流量计发货量少2.1吨，涉及当天8车。",
     "核实差异并按实际短量赔偿。", "暂停使用3号鹤位流量计，改用地磅复核发货。",
     ["流量计读数偏高", "流量计零点漂移", "校准周期超过一年", "校准计划未覆盖新装流量计"],
     "3号鹤位流量计未列入年度校准计划，零点漂移导致计量偏高。", "measurement",
     "对3号鹤位流量计进行校准并复核当天8车的发货量。", "所有流量计纳入季度校准计划，新装设备验收时同步登记。"),
    ("VITOLAP", "delay", "medium", "en", "Vessel waited 14 hours for berth 1",
     "MT Ocean Pearl tendered NOR at 06:00 but berthed at 20:00; berth 1 was occupied by a barge whose loading overran.",
     "Explanation and review of berth planning; demurrage claim may follow.", "Barge moved to berth 3 for the remaining cargo.",
     ["Barge loading overran by 9 hours", "Shore pump capacity was reduced", "Pump P-12 under maintenance",
      "Maintenance not shown in the berth plan"],
     "Planned pump maintenance was not visible to the berth planner, so the barge slot was too short.", "communication",
     "Add a 4-hour buffer after barge slots while P-12 is out of service.",
     "Maintenance schedule of shore pumps shown in the berth line-up; weekly check by the CSR."),
    ("WILMAR", "quality", "high", "zh", "棕榈油出库酸值偏高",
     "客户化验发现T-305出库棕榈油酸值0.28 mgKOH/g，高于合同限值0.2。",
     "对该批货物进行复检并给出说明。", "T-305暂停出库，抽样送第三方复检。",
     ["储存温度偏高", "加热盘管温控失灵", "温控阀卡涩", "巡检未检查温控阀动作"],
     "T-305加热盘管温控阀卡涩，储存温度长时间高于55°C，加速油脂酸败。", "equipment",
     "更换温控阀，T-305库存复检合格后再出库。", "植物油储罐温度纳入每日巡检，超温自动报警发送至操作部和客服部。"),
    ("TRAFIG", "documentation", "medium", "en", "Wrong quantity on the certificate of quantity",
     "The CoQ for the gasoil shipment on MT Nordic Star showed 12,345.678 t instead of 12,354.678 t.",
     "Corrected CoQ within 24 hours.", "Corrected certificate issued and sent to the customer and the agent.",
     ["Figures typed by hand from the ullage report", "No second check before issue", "Checklist lacks a quantity check"],
     "Manual transcription of the quantity without a second check.", "procedure",
     "Re-issue the CoQ; check every certificate issued this month.", "Certificates generated from the gauging system, four-eyes check before issue."),
    ("ZJPETRO", "service", "low", "zh", "日报发送延迟",
     "客户反映连续三天库存日报在10:30后才收到，约定时间为09:30。",
     "按约定时间发送日报。", "当日由备岗客服补发日报并电话告知。",
     ["负责客服休假", "备岗未收到交接", "交接清单不包含日报客户"],
     "客服休假交接清单未包含日报发送任务。", "people",
     "更新交接清单并指定日报备岗。", "日报发送纳入门户提醒，超过约定时间自动提示客服经理。"),
    ("HMCHEM", "damage", "high", "en", "Truck tank scratched at loading bay 2",
     "The driver reports a scratch on the tank shell caused by the loading arm swinging back.",
     "Repair cost of the truck tank.", "Loading bay 2 arm inspected; swing brake adjusted the same day.",
     ["Loading arm swung back", "Swing brake worn", "Brake not in the maintenance plan"],
     "Worn swing brake on the loading arm, not included in preventive maintenance.", "equipment",
     "Replace the swing brakes on bays 1-4.", "Swing brakes added to the monthly maintenance checklist."),
    ("DGMETH", "quality", "medium", "zh", "甲醇水分超标",
     "客户提货后化验甲醇水分0.15%，超过0.1%的合同限值。", "说明原因并承担复检费用。", "T-118暂停发货，氮封检查。",
     ["储罐进水", "呼吸阀密封不良", "氮封压力偏低", "氮气调压阀设定错误"],
     "T-118氮封调压阀设定偏低，呼吸阀吸入湿空气。", "equipment",
     "调整氮封压力并更换呼吸阀密封。", "甲醇储罐氮封压力纳入每日点检。"),
    ("SINOCHEM", "billing", "low", "en", "Storage fee invoiced at the old rate",
     "The March invoice applied the 2024 storage fee although the new contract rate started 1 March.",
     "Credit note for the difference.", "Credit note issued.",
     ["Rate table not updated", "Contract change not passed to finance"],
     "Contract amendments were not passed from CSD to finance.", "communication",
     "Issue the credit note and check all invoices since 1 March.", "Contract changes go to finance through the portal with acknowledgement."),
    ("OCTSTY", "safety", "critical", "zh", "苯乙烯装车时发现静电接地夹损坏",
     "客户押运员发现2号鹤位静电接地夹损坏，仍在装车作业。", "书面说明及整改措施。", "立即停止装车，更换接地夹后复检。",
     ["接地夹弹簧断裂", "作业前检查未执行", "检查表未要求逐项签字"],
     "装车前安全检查流于形式，未逐项确认接地夹状态。", "procedure",
     "更换全部鹤位接地夹并进行专项培训。", "装车前检查表逐项签字，主管每日抽查。"),
    ("NBPORT", "delay", "medium", "en", "Slow truck loading in the morning peak",
     "Trucks queued up to 3 hours between 08:00 and 11:00.", "Faster turnaround.", "Extra operator on the morning shift.",
     ["Too many trucks booked in the same hour", "No booking limit per hour"],
     "Truck bookings were not limited per hour.", "procedure",
     "Limit bookings to 12 trucks per hour.", "Booking system enforces the hourly limit."),
]

RECURRING = [  # (index in CASES, months after the first occurrence)
    (0, 9), (1, 7), (2, 11), (0, 20), (4, 8), (6, 10),
]

INQUIRY_SUBJECTS = [
    ("en", "Available ullage in T-204 for next parcel", "How much ullage is available in T-204 for a 5,000 t parcel next week?"),
    ("zh", "下周船期靠泊安排", "请告知下周我司船舶的预计靠泊时间和泊位。"),
    ("en", "Customs release status of bonded gasoil", "Has customs released the bonded gasoil in T-110?"),
    ("zh", "库存日报数据核对", "昨日日报中T-305期末库存与我方账面相差3吨，请核实。"),
    ("en", "Storage fee for methanol in tank T-118", "Please confirm the storage fee per m3 for methanol from next month."),
    ("zh", "货权转移办理流程", "我司拟将T-204部分库存转让给下游客户，请告知货权转移所需资料。"),
    ("en", "Heating schedule for palm oil", "Can you heat T-305 to 50 °C before Thursday's loading?"),
    ("zh", "汽车装车预约", "下周二需要安排十辆车装车柴油，请确认是否有空档。"),
    ("en", "Tank cleaning before product change", "What is the lead time for cleaning T-412 before switching to MEG?"),
    ("zh", "保税货物出库报关", "保税燃料油出库需要提供哪些报关资料？"),
]


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=tz()).astimezone(UTC)


def _workday_on_or_after(day):
    while not is_workday(day):
        day += timedelta(days=1)
    return day


@register(50, "complaints and inquiries")
def load():
    if db.session.scalar(db.select(db.func.count(Complaint.id))):
        return
    rng = random.Random(20240601)
    customers = {c.code: c for c in db.session.scalars(db.select(Customer))}
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    if not customers or "csr" not in users or "manager" not in users:
        return
    csr, csr2, manager = users["csr"], users.get("csr2", users["csr"]), users["manager"]
    staff = users.get("staff", csr)
    ops = db.session.scalar(db.select(Department).filter_by(code="OPS"))
    sheq = db.session.scalar(db.select(Department).filter_by(code="SHEQ"))
    today = local_today()
    start = today - timedelta(days=730)

    plan = []
    for i, case in enumerate(CASES):
        plan.append((start + timedelta(days=20 + i * 45 + rng.randint(0, 15)), case, None))
    for index, months in RECURRING:
        first_day = plan[index][0]
        day = first_day + timedelta(days=months * 30 + rng.randint(0, 10))
        if day < today - timedelta(days=3):
            plan.append((day, CASES[index], index))
    for index, days_ago in ((3, 1), (5, 9), (7, 30), (0, 55), (9, 75), (2, 120)):  # recent ones, still open
        plan.append((today - timedelta(days=days_ago), CASES[index], index))
    plan.sort(key=lambda p: p[0])

    complaints = []
    for n, (day, case, _recur) in enumerate(plan):
        (code, category, severity, lang, title, description, request, containment, whys, root, cause_cat,
         corrective, preventive) = case
        customer = customers.get(code)
        if customer is None:
            continue
        day = _workday_on_or_after(day)
        owner = csr if n % 2 == 0 else csr2
        received = _at(day, rng.choice([9, 10, 11, 14, 15]), rng.choice([0, 15, 30, 45]))
        age = (today - day).days
        complaint = services.create_complaint(
            customer_id=customer.id, title=title, category=category, severity=severity, description=description,
            customer_request=request, received_at=received, language=lang, user=owner, owner_id=owner.id,
            reference=rng.choice(["T-204", "T-305", "T-118", "MT Ocean Pearl", "ORD-2024-0815", "Bay 3", ""]),
            restricted=(category == "safety"),
        )
        complaints.append(complaint)
        ack = add_workdays(received, 0) + timedelta(hours=rng.choice([1, 2, 3]))
        services.transition(complaint, "acknowledge", owner, now=ack, note="Acknowledged by e-mail / 已邮件确认")
        if age < 5:
            continue
        services.transition(complaint, "investigate", owner, now=ack + timedelta(hours=2))
        services.save_investigation(complaint, owner, containment=containment, root_cause=root, cause_category=cause_cat,
                                    contributing_factors="", **{f"why_{k + 1}": w for k, w in enumerate(whys)})
        if age < 12:
            continue
        services.transition(complaint, "start_actions", owner, now=ack + timedelta(days=3))
        due = day + timedelta(days=21)
        a1 = services.add_action(complaint, owner, kind="immediate", description=containment, owner_id=owner.id,
                                 department_id=ops.id if ops else None, due_date=day + timedelta(days=2))
        a2 = services.add_action(complaint, owner, kind="corrective", description=corrective, owner_id=staff.id,
                                 department_id=ops.id if ops else None, due_date=due)
        a3 = services.add_action(complaint, owner, kind="preventive", description=preventive, owner_id=owner.id,
                                 department_id=sheq.id if sheq else None, due_date=day + timedelta(days=60))
        services.update_action(a1, owner, status="done", completion_note="Done the same day / 当日完成",
                               now=ack + timedelta(days=1))
        services.verify_action(a1, manager, accept=True, note="Checked on site / 现场确认", now=ack + timedelta(days=2))
        if age < 40:
            continue  # recent: corrective and preventive still open (one of them overdue)
        for a in (a2, a3):
            services.update_action(a, owner, status="done", completion_note="Completed / 已完成",
                                   now=_at(a.due_date, 16))
            services.verify_action(a, manager, accept=True, note="Evidence checked / 已核对证据",
                                   now=_at(a.due_date + timedelta(days=1), 10))
        services.transition(complaint, "request_check", owner, now=_at(day + timedelta(days=62), 10))
        if age < 100:
            continue
        services.evaluate(complaint, manager, text="No recurrence in the following 30 days; checked with the customer. / 后续30天未再发生，已与客户确认。",
                          now=_at(day + timedelta(days=95), 10))
        note = ""
        if age < 200:  # the most recent closed ones: the 8D report kept as sent before closing
            services.send_report(complaint, owner, recipient=f"operations@{customer.code.lower()}.example",
                                 now=_at(day + timedelta(days=95), 14))
        else:
            note = "Findings presented at the quarterly review meeting; no written report requested. / 已在季度回顾会上说明，客户未要求书面报告。"
        services.transition(complaint, "close", manager, note=note, now=_at(day + timedelta(days=96), 11))
    db.session.flush()

    # one withdrawn and one rejected
    extra = [
        ("GLENCN", "billing", "en", "Throughput fee charged twice", "Invoice 2025-118 shows the throughput fee twice.",
         "withdraw", "Customer found the second line was a separate parcel / 客户确认为另一批货"),
        ("ZJPETRO", "quantity", "zh", "汽油交接数量争议", "客户认为汽油出库少0.05%，在允许误差以内。", "reject",
         "差异在合同允许误差0.3%以内 / Within the 0.3 % contractual tolerance"),
    ]
    for code, cat, lang, title, desc, action, note in extra:
        if code not in customers:
            continue
        day = _workday_on_or_after(today - timedelta(days=rng.randint(60, 300)))
        c = services.create_complaint(customer_id=customers[code].id, title=title, category=cat, description=desc,
                                      received_at=_at(day, 10), user=csr, language=lang)
        services.transition(c, action, manager, note=note, now=_at(day, 15))

    # a few open ones for the dashboards: due today, overdue, escalated. First, so that their numbers
    # (INQ-00001 to INQ-00003, which bench/relevance.tsv names) do not depend on how many working days
    # the twelve months below hold.
    prev1 = today - timedelta(days=1)
    while not is_workday(prev1):
        prev1 -= timedelta(days=1)
    prev2 = prev1 - timedelta(days=1)
    while not is_workday(prev2):
        prev2 -= timedelta(days=1)
    open_ones = [
        (prev1, 16, "SINOCHEM", "zh", "T-204 明日可收货数量", "请确认T-204明天可接收的柴油数量。", None),
        (prev2, 10, "VITOLAP", "en", "Demurrage calculation for MT Ocean Pearl", "Please send the berth log for the demurrage claim.", None),
        (prev1, 11, "WILMAR", "en", "Request to blend two palm oil parcels in T-305",
         "Can we blend the two parcels in T-305 before delivery?", "Blending changes the quality certificate; needs SHE&Q and commercial approval / 需安全质量部与商务审批"),
    ]
    for day_, hour, code, lang, subject, question, escalation in open_ones:
        if code not in customers:
            continue
        inquiry = services.create_inquiry(customer_id=customers[code].id, channel="email", subject=subject, question=question,
                                          received_at=_at(day_, hour), language=lang, user=csr, assigned_to_id=csr.id)
        if escalation:
            services.escalate_inquiry(inquiry, note=escalation, user=csr, now=_at(day_, hour + 1))

    # inquiries over the last twelve months
    codes = [c for c in customers]
    day = today - timedelta(days=365)
    n = 0
    while day < today:
        if is_workday(day):
            for _ in range(rng.choice([0, 0, 1, 1, 2])):
                lang, subject, question = INQUIRY_SUBJECTS[n % len(INQUIRY_SUBJECTS)]
                n += 1
                received = _at(day, rng.randint(8, 17), rng.choice([0, 10, 20, 30, 40, 50]))
                who = csr if n % 2 else csr2
                inquiry = services.create_inquiry(customer_id=customers[rng.choice(codes)].id,
                                                  channel=rng.choice(["email", "email", "phone", "visit", "other"]),
                                                  subject=subject, question=question, received_at=received, language=lang,
                                                  user=who, assigned_to_id=who.id)
                recent = (today - day).days <= 2
                if not recent or rng.random() < 0.3:
                    late = rng.random() < 0.12
                    answered = inquiry.due_at + timedelta(hours=rng.randint(2, 20)) if late else \
                        received + timedelta(minutes=rng.randint(20, 240))
                    services.answer_inquiry(inquiry, answer="Answered by e-mail with the requested details. / 已邮件答复。",
                                            answered_at=answered, user=who)
                elif rng.random() < 0.4:
                    services.escalate_inquiry(inquiry, note="Needs a commercial decision on the fee / 需要商务决定费率",
                                              user=who, now=received + timedelta(hours=1))
        day += timedelta(days=1)

    db.session.flush()

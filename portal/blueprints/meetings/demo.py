"""Demo data: quarterly operation review meetings with three long-term customers over two years."""
from __future__ import annotations

from datetime import timedelta

from ...demo import register
from ...extensions import db
from ...models import User
from ...timeutil import local_today
from ..customers.models import Customer
from . import services
from .models import ReviewMeeting

CUSTOMERS = {
    "SINOCHEM": [("Mr Zhou Hao", "Sinochem Energy Trading", "Operations Manager", "zhou.hao@sinochem.example"),
                 ("Ms Lin Yue", "Sinochem Energy Trading", "Logistics Coordinator", "operations@sinochem.example")],
    "VITOLAP": [("Ms Tan Mei Ling", "Vitol Asia", "Terminal Operations", "tan@vitolap.example"),
                ("Mr James Carter", "Vitol Asia", "Logistics Lead", "operations@vitolap.example")],
    "WILMAR": [("Mr Huang Tao", "Wilmar Oils & Fats", "Supply Chain Manager", "huang.tao@wilmar.example"),
               ("Ms Xu Li", "Wilmar Oils & Fats", "Quality Supervisor", "operations@wilmar.example")],
}

TOPICS = [
    ("本季度进库{a}船、出库{b}船，汽车装车{c}车，无安全事故。", "Receipts {a} vessels, loadings {b} vessels, {c} trucks; no safety incidents."),
    ("库存月度盘点差异均在0.2%允许误差以内。", "Month-end stock variances all within the 0.2 % tolerance."),
    ("日报准时率{d}%，客户满意。", "Daily stock report on time {d} % of days."),
]
ACTIONS = [
    "Send monthly variance analysis per tank with the monthly report / 月报附各罐损溢分析",
    "Review the barge berth window on Sundays / 评估周日驳船靠泊窗口",
    "Customer to update the nomination template / 客户更新作业指令模板",
    "Trial of electronic bill of lading release / 试行电子提单放货",
    "Share the tank cleaning schedule for next quarter / 提供下季度清罐计划",
    "Check heating capacity for winter / 冬季加热能力评估",
]


@register(60, "customer review meetings")
def load():
    if db.session.scalar(db.select(db.func.count(ReviewMeeting.id))):
        return
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    csr, manager = users.get("csr"), users.get("manager")
    if csr is None or manager is None:
        return
    today = local_today()
    n = 0
    for code, externals in CUSTOMERS.items():
        customer = db.session.scalar(db.select(Customer).filter_by(code=code))
        if customer is None:
            continue
        services.set_cadence(customer.id, 3)
        # quarterly, the last one about two months ago so the next is due soon
        first = today - timedelta(days=730) + timedelta(days=10 * len(externals) + n * 9)
        dates = [first + timedelta(days=91 * q) for q in range(8) if first + timedelta(days=91 * q) < today - timedelta(days=20)]
        previous_actions = []
        for q, d in enumerate(dates):
            meeting = services.create_meeting(customer_id=customer.id, meeting_date=d, user=csr,
                                              location="Terminal office, meeting room 2 / 码头办公楼2号会议室")
            services.add_attendee(meeting, name=manager.display_name, company="Terminal CSD", position="CS Manager",
                                  email=manager.email, internal=True, user_id=manager.id)
            services.add_attendee(meeting, name=csr.display_name, company="Terminal CSD", position="CSR",
                                  email=csr.email, internal=True, user_id=csr.id)
            for name, company, position, email in externals:
                services.add_attendee(meeting, name=name, company=company, position=position, email=email)
            a, b, c, dd = 10 + (q * 3) % 7, 6 + q % 4, 300 + q * 17, 96 + q % 4
            lines = ["## 1. 上次会议行动项 / Previous actions", "",
                     "- Reviewed the open actions; see the table. / 逐项回顾遗留行动项。", "",
                     "## 2. 作业回顾 / Operations", ""]
            lines += [f"- {zh.format(a=a, b=b, c=c, d=dd)} {en.format(a=a, b=b, c=c, d=dd)}" for zh, en in TOPICS]
            lines += ["", "## 3. 投诉与咨询 / Complaints and inquiries", "",
                      "- Complaints of the period discussed with root causes and actions. / 讨论本期投诉的根本原因与措施。"]
            services.save_minutes(meeting, minutes="\n".join(lines),
                                  decisions="Continue quarterly reviews. / 继续每季度召开回顾会议。")
            # close the oldest carried action at each meeting, keep one open for a while
            for old in previous_actions[:-1]:
                services.close_action(old, meeting=meeting, note="Closed at this meeting / 本次会议关闭")
            previous_actions = previous_actions[-1:]
            for k in range(2):
                action = services.add_action(meeting, description=ACTIONS[(q * 2 + k + n) % len(ACTIONS)],
                                             owner_id=csr.id if k == 0 else None,
                                             owner_name="" if k == 0 else externals[0][0],
                                             due_date=d + timedelta(days=45))
                previous_actions.append(action)
            if q == len(dates) - 1:
                services.circulate(meeting, csr, recipients=[e[3] for e in externals])
                if n != 1:  # one customer has not confirmed the latest minutes yet
                    services.confirm(meeting, by=externals[0][0], version=meeting.minutes_version)
        n += 1
    db.session.flush()

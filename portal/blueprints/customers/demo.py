"""Ten believable customers of a bulk-liquid terminal."""
from datetime import time

from ...demo import register
from ...extensions import db
from ...models import User
from .models import Customer, CustomerContact

CUSTOMERS = [
    ("SINOCHEM", "Sinochem Energy Trading Co., Ltd.", "中化能源贸易有限公司", True, time(9, 0)),
    ("VITOLAP", "Vitol Asia Pte Ltd", "维多亚洲有限公司", True, time(9, 0)),
    ("TRAFIG", "Trafigura Pte Ltd", "托克私人有限公司", True, time(8, 30)),
    ("ZJPETRO", "Zhejiang Petrochemical Sales Co., Ltd.", "浙江石化销售有限公司", False, time(9, 30)),
    ("HMCHEM", "Huamei Chemical Logistics Co., Ltd.", "华美化工物流有限公司", False, time(10, 0)),
    ("WILMAR", "Wilmar Oils & Fats (Shanghai) Co., Ltd.", "益海嘉里油脂（上海）有限公司", True, time(9, 0)),
    ("GLENCN", "Glencore China Ltd", "嘉能可中国有限公司", False, time(9, 0)),
    ("DGMETH", "Donggang Methanol Trading Co., Ltd.", "东港甲醇贸易有限公司", False, time(11, 0)),
    ("OCTSTY", "Orient Chem Styrene Co., Ltd.", "东方化工苯乙烯有限公司", False, time(9, 0)),
    ("NBPORT", "Ningbo Port Fuel Supply Co., Ltd.", "宁波港燃料供应有限公司", False, time(8, 0)),
]


@register(20, "customers")
def load():
    csr = db.session.scalar(db.select(User).filter_by(username="csr"))
    csr2 = db.session.scalar(db.select(User).filter_by(username="csr2"))
    for i, (code, en, zh, long_term, report_time) in enumerate(CUSTOMERS):
        if db.session.scalar(db.select(Customer).filter_by(code=code)):
            continue
        domain = code.lower() + ".example"
        customer = Customer(
            code=code, name_en=en, name_zh=zh, long_term=long_term, daily_report_time=report_time,
            report_recipients=f"stock@{domain}\noperations@{domain}",
            csr=csr if i % 2 == 0 else csr2,
            notes="Bonded and duty-paid stock; daily stock report by e-mail." if long_term else "",
        )
        customer.contacts.append(CustomerContact(name="Operations desk", position="Operator", email=f"operations@{domain}", phone="+86 574 8600 0000"))
        db.session.add(customer)
    db.session.flush()

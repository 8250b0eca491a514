"""Demo users and departments."""
from ...demo import register
from ...extensions import db
from ...models import Department, User

DEPARTMENTS = [
    ("CSD", "Customer Service Department", "客服部"),
    ("OPS", "Operations Department", "操作部"),
    ("SHEQ", "SHE&Q Department", "安全健康环境质量部"),
    ("FIN", "Finance Department", "财务部"),
    ("ENG", "Engineering and Maintenance", "工程维修部"),
    ("ADM", "Administration", "行政部"),
]

# username, full name, roles, password, department
DEMO_USERS = [
    ("admin", "Portal Administrator", ["admin"], "admin-demo-2026", "ADM"),
    ("manager", "Li Wei 李伟", ["cs_manager"], "manager-demo-2026", "CSD"),
    ("csr", "Zhang Min 张敏", ["csr"], "csr-demo-2026", "CSD"),
    ("csr2", "Chen Jing 陈静", ["csr"], "csr2-demo-2026", "CSD"),
    ("records", "Wang Fang 王芳", ["records_officer"], "records-demo-2026", "CSD"),
    ("staff", "Liu Yang 刘洋", ["staff"], "staff-demo-2026", "OPS"),
    ("trainee", "Zhao Lei 赵磊", ["csr"], "trainee-demo-2026", "CSD"),
]


@register(10, "users and departments")
def load():
    departments = {}
    for code, en, zh in DEPARTMENTS:
        dep = db.session.scalar(db.select(Department).filter_by(code=code))
        if dep is None:
            dep = Department(code=code, name_en=en, name_zh=zh)
            db.session.add(dep)
        departments[code] = dep
    db.session.flush()
    for username, full_name, roles, password, dept in DEMO_USERS:
        user = db.session.scalar(db.select(User).filter_by(username=username))
        if user is None:
            user = User(username=username, full_name=full_name, email=f"{username}@terminal.example")
            user.set_password(password)
            user.set_roles(roles)
            user.department = departments[dept]
            db.session.add(user)
    db.session.flush()

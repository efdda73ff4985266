"""Demo people for `manage.py load_demo`: one per role, in sensible jurisdictions."""

from .factories import river_chief, user_with_role
from .models import Department, Role

DEMO_PASSWORD = "jincheng-demo-2024"

# (username, full name, role, jurisdiction code, department key or None)
DEMO_USERS = [
    ("city_officer", "王市经办", Role.CITY_OFFICER, "140500", None),
    ("city_leader", "李市领导", Role.CITY_LEADER, "140500", None),
    ("zz_officer", "赵泽州经办", Role.COUNTY_OFFICER, "140525", None),
    ("zz_leader", "钱泽州审核", Role.COUNTY_LEADER, "140525", None),
    ("yc_officer", "孙阳城经办", Role.COUNTY_OFFICER, "140522", None),
    ("yc_leader", "周阳城审核", Role.COUNTY_LEADER, "140522", None),
    ("zz_housing", "吴泽州住建", Role.DEPARTMENT_OFFICER, "140525", "140525-housing"),
]
DEMO_RIVER_CHIEFS = [("zz_river_chief", "郑泽州河长", "qinhe-140525")]


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(username, name, role label, where) for the README and `make run`'s banner."""
    from .models import Jurisdiction, RiverSegment

    names = dict(Jurisdiction.objects.values_list("code", "name"))
    rows = [(u, n, str(Role(r).label), names.get(c, c)) for u, n, r, c, _d in DEMO_USERS]
    segments = dict(RiverSegment.objects.values_list("slug", "name"))
    chief = str(Role.RIVER_CHIEF.label)
    rows += [(u, n, chief, segments.get(s, s)) for u, n, s in DEMO_RIVER_CHIEFS]
    rows.append(("admin", "系统管理员", str(Role.ADMIN.label), "/admin/"))
    return rows


def load_demo_users() -> list[tuple[str, str]]:
    """Create (or keep) the demo users; returns (username, role label) pairs."""
    created = []
    for username, name, role, code, department_code in DEMO_USERS:
        department = Department.objects.get(code=department_code) if department_code else None
        user_with_role(
            role,
            code,
            department=department,
            username=username,
            full_name=name,
            password=DEMO_PASSWORD,
        )
        created.append((username, str(Role(role).label)))
    for username, name, segment in DEMO_RIVER_CHIEFS:
        river_chief(segment, username=username, full_name=name, password=DEMO_PASSWORD)
        created.append((username, str(Role.RIVER_CHIEF.label)))
    admin = user_with_role(
        Role.ADMIN, "140500", username="admin", full_name="系统管理员", password=DEMO_PASSWORD
    )
    if not (admin.is_staff and admin.is_superuser):
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
    created.append(("admin", str(Role.ADMIN.label)))
    return created

"""A small org tree with personas, shared by the tests.

湖北省审计厅 (HB)
├── 办公室 (HB-BGS)
├── 黄冈市审计局 (HG)
│   ├── 黄州区审计局 (HG-HZ) ── also reports to 黄冈市疫情防控指挥部 (HG-ZHB)
│   │   └── 综合科 (HG-HZ-ZH)
│   └── 麻城市审计局 (HG-MC)
└── 孝感市审计局 (XG)
    └── 孝南区审计局 (XG-XN)
黄冈市疫情防控指挥部 (HG-ZHB), a separate root

Personas: admin; prov_coord (coordinator of HB); city_coord (coordinator of HG);
county_liaison (liaison of HG-HZ); leader (first responsible person of HG-HZ);
staff (a clerk in HG-HZ-ZH with two family members); outsider (coordinator of XG, a sibling city).
"""

from dataclasses import dataclass, field
from datetime import date

from fangkong.accounts.models import User
from fangkong.org import services
from fangkong.org.models import OrgUnit, Person, Role
from fangkong.org.reference import ensure_reference_data

PASSWORD = "Test-Passw0rd!2020"


@dataclass
class World:
    units: dict[str, OrgUnit] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


_ids = iter(range(1, 10_000))


def _id_number(born: date) -> str:
    from fangkong.lib import idcard

    return idcard.make("420102", born, next(_ids))


def build_world() -> World:
    levels, ranks = ensure_reference_data()
    w = World()
    admin = User.objects.create_user("admin", password=PASSWORD)
    services.role_assign(actor=None, user=admin, role=Role.ADMIN)
    w.users["admin"] = admin

    def unit(code, name, level, parent=None, **kw):
        w.units[code] = services.unit_create(
            actor=admin,
            code=code,
            name=name,
            level=levels[level],
            parent=w.units.get(parent) if parent else None,
            **kw,
        )
        return w.units[code]

    unit("HB", "湖北省审计厅", "province")
    unit("HB-BGS", "办公室", "division", "HB")
    unit("HG", "黄冈市审计局", "city", "HB")
    unit("HG-HZ", "黄州区审计局", "county", "HG")
    unit("HG-HZ-ZH", "综合科", "division", "HG-HZ")
    unit("HG-MC", "麻城市审计局", "county", "HG")
    unit("XG", "孝感市审计局", "city", "HB")
    unit("XG-XN", "孝南区审计局", "county", "XG")
    unit("HG-ZHB", "黄冈市疫情防控指挥部", "command")
    services.reporting_line_add(
        actor=admin, unit=w.units["HG-HZ"], superior=w.units["HG-ZHB"], name="防疫指挥部"
    )

    def person(key, unit_code, name, rank="keyuan", post="科员", login=True, born=date(1985, 3, 4)):
        p = services.person_create(
            actor=admin,
            unit=w.units[unit_code],
            name=name,
            rank=ranks[rank],
            post=post,
            mobile=f"1387100{len(w.people):04d}",
            id_number=_id_number(born),
        )
        if login:
            u = User.objects.create_user(key, password=PASSWORD)
            p.user = u
            p.save(update_fields=["user"])
            w.users[key] = u
        w.people[key] = p
        return p

    person("prov_coord", "HB-BGS", "王建国", "zheng_chu", "主任")
    person("city_coord", "HG", "李红梅", "fu_chu", "办公室主任")
    person("county_liaison", "HG-HZ", "陈晓东", "keyuan", "联络员")
    person("leader", "HG-HZ", "刘志强", "zheng_ke", "局长")
    person("staff", "HG-HZ-ZH", "张伟", "keyuan", "科员")
    person("outsider", "XG", "赵敏", "fu_chu", "办公室主任")
    person("xn_clerk", "XG-XN", "孙丽", "keyuan", "科员", login=False)
    person("mc_clerk", "HG-MC", "周杰", "keyuan", "科员", login=False)
    services.role_assign(
        actor=admin, user=w.users["prov_coord"], role=Role.COORDINATOR, unit=w.units["HB"]
    )
    services.role_assign(
        actor=admin, user=w.users["city_coord"], role=Role.COORDINATOR, unit=w.units["HG"]
    )
    services.role_assign(
        actor=admin, user=w.users["outsider"], role=Role.COORDINATOR, unit=w.units["XG"]
    )
    services.unit_set_responsibles(
        actor=admin,
        unit=w.units["HG-HZ"],
        first_responsible=w.people["leader"],
        liaisons=[w.people["county_liaison"]],
    )
    services.family_member_add(
        actor=admin, person=w.people["staff"], name="李娜", relation="spouse"
    )
    services.family_member_add(
        actor=admin, person=w.people["staff"], name="张小宝", relation="child", birth_year=2015
    )
    services.family_member_add(
        actor=admin, person=w.people["xn_clerk"], name="钱多", relation="spouse"
    )
    return w

"""Simulate one city's 2020 epidemic relief: registries, people, procurement, donations, goods, money.

The simulation is clean by construction (every yuan and item accounted for, every rule kept);
``plant.Planter`` is called between the stages to add look-alikes and, unless the world is
clean, the planted problems. Each stage draws from its own seeded stream, and per-record
choices from streams named after the record, so planting leaves the rest of the world as it was.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, timedelta

from .ids import Ids
from .model import (
    AllocLine,
    Appropriation,
    Attendance,
    BankLine,
    Batch,
    CashDonation,
    Contract,
    CountRow,
    Delivery,
    Disbursement,
    DisclosureBatch,
    DisclosureRow,
    Donor,
    GoodsDonation,
    Hospital,
    Issue,
    Item,
    Manager,
    Payment,
    Person,
    Plan,
    Request,
    SignFor,
    Subsidy,
    Supplier,
    Unit,
    UpperFund,
    World,
)

START = date(2020, 1, 23)
CUTOFF = date(2020, 6, 30)
CITY = "楚江市"
RC = "红十字会"
CF = "慈善总会"
CHARITY_NAMES = {RC: "楚江市红十字会", CF: "楚江市慈善总会"}
WH_CITY = "市应急物资储备库"
WH_RC = "市红十字会物资仓库"
RATES = {"一类": 30000, "二类": 20000}  # fen per day (临时性工作补助)
DISCLOSE_WINDOW = ((date(2020, 3, 31), 7), (CUTOFF, 15))  # (received up to, days)
IDLE_DAYS = 30
APPROVAL_LIMIT = 10000000  # fen: 100,000 yuan


def D(m: int, d: int) -> date:
    return date(2020, m, d)


def disclose_window(received: date) -> int:
    for until, days in DISCLOSE_WINDOW:
        if received <= until:
            return days
    return DISCLOSE_WINDOW[-1][1]


@dataclass(frozen=True)
class Scale:
    name: str
    hospitals: int
    staff: int
    rc_cash: int
    cf_cash: int
    rc_goods: int
    cf_goods: int
    contracts: int
    suppliers: int
    plants: int
    split_files: bool
    bed_reports: bool
    money: int  # operating funds per bed (in 100 yuan) for a designated hospital


SCALES = {
    "small": Scale("small", 7, 110, 190, 110, 26, 16, 26, 16, 1, False, False, 6),
    "mid": Scale("mid", 16, 480, 900, 450, 90, 55, 70, 28, 3, True, True, 12),
    "full": Scale("full", 40, 1500, 2100, 1000, 240, 140, 160, 52, 10, True, True, 10),
}

# name, alias, kind, level, beds, designated, county, opened, closed
HOSPITALS = (
    ("楚江市第一人民医院", "市一医院", "综合", "三甲", 1800, True, "江城区", None, None),
    ("楚江市第三人民医院", "市传染病医院", "传染病", "三乙", 600, True, "江城区", None, None),
    ("楚江市中医医院", "市中医院", "中医", "三甲", 900, True, "楚南区", None, None),
    ("楚江市口腔医院", "市口腔医院", "专科", "二甲", 80, False, "江城区", None, None),
    ("楚江市妇幼保健院", "市妇幼", "妇幼", "三甲", 400, False, "楚南区", None, None),
    ("江城区人民医院", "江城区医院", "综合", "二甲", 500, True, "江城区", None, None),
    ("安陵县人民医院", "安陵县医院", "综合", "二甲", 450, False, "安陵县", None, None),
    ("楚江市中心医院", "市中心医院", "综合", "三甲", 1500, True, "东津区", None, None),
    ("楚江市第二人民医院", "市二医院", "综合", "三乙", 1000, True, "楚南区", None, None),
    ("楚江市肺科医院", "肺科医院", "专科", "二甲", 300, True, "江城区", None, None),
    ("楚江市精神卫生中心", "精神卫生中心", "专科", "二甲", 500, False, "东津区", None, None),
    ("楚江市眼科医院", "眼科医院", "专科", "二级", 120, False, "江城区", None, None),
    (
        "楚江市体育中心方舱医院",
        "体育中心方舱",
        "方舱",
        "-",
        1000,
        True,
        "楚南区",
        D(2, 12),
        D(3, 8),
    ),
    ("楚南区人民医院", "楚南区医院", "综合", "二甲", 420, True, "楚南区", None, None),
    ("东津区人民医院", "东津区医院", "综合", "二甲", 380, True, "东津区", None, None),
    ("石门县人民医院", "石门县医院", "综合", "二甲", 520, True, "石门县", None, None),
    ("青林县人民医院", "青林县医院", "综合", "二甲", 460, True, "青林县", None, None),
    ("白河县人民医院", "白河县医院", "综合", "二甲", 480, True, "白河县", None, None),
    ("临江市人民医院", "临江市医院", "综合", "二甲", 600, True, "临江市", None, None),
    ("安陵县中医医院", "安陵县中医院", "中医", "二甲", 260, False, "安陵县", None, None),
    ("石门县中医医院", "石门县中医院", "中医", "二甲", 240, False, "石门县", None, None),
    ("青林县中医医院", "青林县中医院", "中医", "二级", 220, False, "青林县", None, None),
    ("白河县中医医院", "白河县中医院", "中医", "二级", 200, False, "白河县", None, None),
    ("临江市中医医院", "临江市中医院", "中医", "二甲", 280, False, "临江市", None, None),
    ("江城区中医医院", "江城区中医院", "中医", "二级", 180, False, "江城区", None, None),
    ("楚南区妇幼保健院", "楚南区妇幼", "妇幼", "二级", 120, False, "楚南区", None, None),
    ("安陵县妇幼保健院", "安陵县妇幼", "妇幼", "二级", 100, False, "安陵县", None, None),
    ("石门县妇幼保健院", "石门县妇幼", "妇幼", "二级", 90, False, "石门县", None, None),
    ("楚江市骨科医院", "骨科医院", "专科", "二甲", 200, False, "东津区", None, None),
    ("楚江市第四人民医院", "市四医院", "综合", "二甲", 350, True, "东津区", None, None),
    ("楚江市康复医院", "康复医院", "专科", "二级", 150, False, "楚南区", None, None),
    ("楚江市皮肤病医院", "皮肤病医院", "专科", "二级", 60, False, "江城区", None, None),
    ("临江市第二人民医院", "临江市二医院", "综合", "二级", 300, True, "临江市", None, None),
    ("安陵县第二人民医院", "安陵县二医院", "综合", "二级", 250, False, "安陵县", None, None),
    ("楚江市老年病医院", "老年病医院", "专科", "二级", 180, False, "江城区", None, None),
    ("东津区中医医院", "东津区中医院", "中医", "二级", 150, False, "东津区", None, None),
    ("楚南区第二人民医院", "楚南区二医院", "综合", "二级", 200, False, "楚南区", None, None),
    ("楚江经济开发区医院", "开发区医院", "综合", "二级", 160, False, "东津区", None, None),
    (
        "楚江市会展中心方舱医院",
        "会展中心方舱",
        "方舱",
        "-",
        800,
        True,
        "江城区",
        D(2, 15),
        D(3, 10),
    ),
    ("青林县第二人民医院", "青林县二医院", "综合", "二级", 180, False, "青林县", None, None),
)
UNITS = (
    "楚江市疾病预防控制中心",
    "楚江市公安局",
    "楚江市交通运输局",
    "楚江市江城区江城街道办事处",
    "楚江市楚南区人民政府",
    "楚江市紧急医疗救援中心",
)

# key, name, standard, grade, priority, civil, unit, box, box unit, boxes per case, ref price fen, shelf days
ITEMS = (
    (
        "n95",
        "医用防护口罩",
        "GB 19083-2010",
        "医用防护",
        True,
        False,
        "只",
        20,
        "盒",
        20,
        500,
        1095,
    ),
    (
        "surgical",
        "医用外科口罩",
        "YY 0469-2011",
        "医用外科",
        True,
        False,
        "只",
        50,
        "盒",
        40,
        60,
        730,
    ),
    (
        "suit",
        "医用一次性防护服",
        "GB 19082-2009",
        "医用防护",
        True,
        False,
        "件",
        1,
        "袋",
        50,
        8000,
        730,
    ),
    (
        "medmask",
        "一次性使用医用口罩",
        "YY/T 0969-2013",
        "一次性医用",
        False,
        False,
        "只",
        50,
        "盒",
        40,
        35,
        730,
    ),
    ("kn95", "KN95口罩", "GB 2626-2006", "民用防护", False, True, "只", 25, "盒", 20, 250, 1095),
    ("gown", "一次性隔离衣", "", "隔离", False, False, "件", 1, "袋", 50, 0, 1095),
    ("goggles", "医用护目镜", "", "护目", False, False, "个", 10, "盒", 10, 1500, 1825),
    ("shield", "医用防护面屏", "", "面屏", False, False, "个", 10, "盒", 20, 0, 1825),
    (
        "gloves",
        "一次性使用医用橡胶检查手套",
        "GB 10213-2006",
        "手套",
        False,
        False,
        "只",
        100,
        "盒",
        10,
        30,
        1095,
    ),
    ("bleach", "84消毒液", "GB/T 36758-2018", "消毒", False, False, "瓶", 1, "瓶", 24, 600, 365),
    ("alcohol", "75%医用酒精", "", "消毒", False, False, "瓶", 1, "瓶", 20, 800, 730),
    ("thermo", "红外额温枪", "", "测温", False, False, "支", 1, "支", 50, 0, 3650),
    ("vent", "无创呼吸机", "", "设备", False, False, "台", 1, "台", 1, 6000000, 3650),
)
PRICED_NO_REF = ("gown", "shield", "thermo")

SUPPLIER_PLACES = ("楚江", "湖北", "武汉", "仙桃", "荆州", "广东", "浙江", "江苏", "河南", "山东")
SUPPLIER_WORDS = (
    "康泰",
    "瑞祥",
    "华鑫",
    "恒安",
    "美康",
    "博济",
    "天成",
    "金盾",
    "安捷",
    "众和",
    "康达",
    "仁和",
    "同济",
    "盛世",
    "鸿运",
    "佳洁",
    "正元",
    "宏远",
    "汇通",
    "百川",
    "长乐",
    "永康",
    "德润",
    "启明",
    "新华",
    "明辉",
    "中业",
    "远航",
    "泰和",
    "东升",
)
SUPPLIER_TRADES = ("医疗器械", "医药", "卫生用品", "防护用品", "商贸", "科技", "实业", "医用材料")
SERVICE_FIRMS = (
    ("楚江顺达物流有限公司", "30239", "物资运输费"),
    ("楚江洁康消杀服务有限公司", "30227", "消杀服务费"),
    ("楚江市康源医学检验所有限公司", "30227", "核酸检测外送费"),
    ("楚江惠民餐饮管理有限公司", "30299", "一线人员工作餐费"),
    ("楚江安泰物业管理有限公司", "30227", "隔离病区保洁服务费"),
    ("楚江恒通汽车租赁有限公司", "30239", "转运车辆租赁费"),
)
DEPTS_1 = (
    "感染科",
    "呼吸与危重症医学科",
    "重症医学科",
    "发热门诊",
    "隔离病区一病区",
    "隔离病区二病区",
    "急诊科",
)
DEPTS_2 = ("检验科", "放射科", "护理部", "院感科", "药剂科", "后勤保障科")
CORE_CODES = ("30218", "30227", "30239", "30299", "31003")

_DAY_WEIGHTS: list[tuple[date, float]] = []


def _epidemic_days() -> tuple[list[date], list[float]]:
    if not _DAY_WEIGHTS:
        d = START
        while d <= CUTOFF:
            if d < D(2, 1):
                w = 3.0
            elif d < D(3, 1):
                w = 5.0
            elif d < D(3, 16):
                w = 3.0
            elif d < D(4, 1):
                w = 1.8
            elif d < D(5, 1):
                w = 0.9
            elif d < D(6, 1):
                w = 0.45
            else:
                w = 0.3
            _DAY_WEIGHTS.append((d, w))
            d += timedelta(days=1)
    days = [d for d, _ in _DAY_WEIGHTS]
    cum, total = [], 0.0
    for _, w in _DAY_WEIGHTS:
        total += w
        cum.append(total)
    return days, cum


def epi_day(rng: random.Random, *, until: date = CUTOFF) -> date:
    """A day drawn by the epidemic's intensity (most activity in February)."""
    days, cum = _epidemic_days()
    while True:
        d = days[bisect.bisect(cum, rng.random() * cum[-1])]
        if d <= until:
            return d


def benford_amounts(rng: random.Random, n: int, low: int, high: int) -> list[int]:
    """n amounts (fen) log-uniform between low and high, spread evenly (Benford-conformant)."""
    import math

    a, b = math.log10(low), math.log10(high)
    start = rng.random()
    out = []
    for k in range(n):
        u = (start + k * 0.6180339887498949) % 1.0
        out.append(int(10 ** (a + u * (b - a))))
    rng.shuffle(out)
    return out


class Streams:
    """Independent seeded random streams, one per name."""

    def __init__(self, seed: int):
        self.seed = seed

    def __call__(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}/{name}")


def month_end(m: int) -> date:
    return (date(2020, m + 1, 1) if m < 12 else date(2021, 1, 1)) - timedelta(days=1)


# ------------------------------------------------------------------ registries


def build_registries(w: World, s: Streams, ids: Ids) -> None:
    rng = s("registry")
    sc = w.scale
    for key, name, std, grade, pri, civil, unit, box, box_unit, case, price, shelf in ITEMS:
        w.items[key] = Item(
            key, name, std, grade, pri, civil, unit, box, box_unit, case, price, shelf
        )
    for n, row in enumerate(HOSPITALS[: sc.hospitals], start=1):
        name, alias, kind, level, beds, desig, county, opened, closed = row
        bank, account = ids.account()
        h = Hospital(
            ref=f"h{n:02d}",
            name=name,
            alias=alias,
            kind=kind,
            level=level,
            beds=beds,
            designated=desig,
            county=county,
            code=ids.uscc(kind="institution"),
            address=ids.office_address(),
            phone=ids.landline(),
            bank=bank,
            account=account,
            opened=opened,
            closed=closed,
            folder=f"{n:02d}_{name}",
        )
        if desig:
            h.frontline = beds
        elif kind in ("综合", "中医") and beds >= 250:
            h.frontline = beds // 6  # fever clinic
        w.hospitals.append(h)
    for n, name in enumerate(UNITS, start=1):
        bank, account = ids.account()
        w.units.append(Unit(f"u{n}", name, bank, account, ids.landline(), ids.office_address()))
    # Suppliers: names drawn without repeats; a few pairs that differ only by 有限公司 / 有限责任公司
    # are genuinely different companies.
    names: list[str] = []
    used = set()
    while len(names) < sc.suppliers:
        base = (
            rng.choice(SUPPLIER_PLACES) + rng.choice(SUPPLIER_WORDS) + rng.choice(SUPPLIER_TRADES)
        )
        if base in used:
            continue
        used.add(base)
        if len(names) % 9 == 4 and len(names) + 1 < sc.suppliers:
            names += [base + "有限公司", base + "有限责任公司"]
        else:
            names.append(
                base + rng.choice(("有限公司", "有限公司", "有限责任公司", "股份有限公司"))
            )
    for n, name in enumerate(names, start=1):
        bank, account = ids.account()
        founded = date(rng.randrange(2003, 2019), rng.randrange(1, 13), rng.randrange(1, 29))
        w.suppliers.append(
            Supplier(
                ref=f"s{n:02d}",
                name=name,
                code=ids.uscc(),
                founded=founded,
                address=ids.office_address(),
                phone=ids.mobile() if rng.random() < 0.4 else ids.landline(),
                bank=bank,
                account=account,
                legal_rep=ids.person_name(),
                scope="医疗器械、防护用品、卫生用品的销售"
                if "医" in name or "防护" in name
                else "日用品、劳保用品销售",
            )
        )
    for charity, count in ((RC, 12), (CF, 8)):
        posts = (
            "会长",
            "常务副会长",
            "秘书长",
            "副秘书长",
            "财务部部长",
            "会计",
            "出纳",
            "募捐部部长",
            "项目部干事",
            "办公室主任",
            "物资管理员",
            "信息公开专员",
        )
        for k in range(count):
            w.managers.append(
                Manager(
                    ref=f"m{charity[:1]}{k}",
                    charity=charity,
                    name=ids.person_name(),
                    post=posts[k % len(posts)],
                    phone=ids.mobile(),
                    address=ids.home_address(),
                    card=ids.card(),
                )
            )
    # Donors: companies, individuals, groups, overseas associations.
    prefixes = ("楚江", "湖北", "深圳", "上海", "北京", "杭州", "武汉", "苏州", "广州")
    trades = (
        "置业",
        "建设集团",
        "电力",
        "食品",
        "汽车零部件",
        "纺织",
        "化工",
        "电子",
        "农业发展",
        "水务",
        "酒业",
        "物流",
    )
    for k in range(sc.rc_cash // 2 + 60):
        r = rng.random()
        bank, account = ids.account()
        if r < 0.45:
            name = (
                rng.choice(prefixes)
                + rng.choice(SUPPLIER_WORDS)
                + rng.choice(trades)
                + rng.choice(("有限公司", "有限责任公司", "股份有限公司"))
            )
            if name in {d.name for d in w.donors}:
                name = name.replace("有限", f"{k}号有限", 1)
            kind = "company"
        elif r < 0.85:
            name = ids.person_name()
            bank, account = rng.choice((("中国工商银行", ids.card()), ("中国建设银行", ids.card())))
            kind = "person"
        elif r < 0.95:
            name = rng.choice(("楚江市", "安陵县", "石门县")) + rng.choice(
                ("个体劳动者协会", "湖北商会", "青年企业家协会", "律师协会", "退役军人联谊会")
            )
            kind = "group"
        else:
            name = rng.choice(("旅美", "旅加", "旅澳", "旅日", "旅法")) + "楚江同乡会"
            kind = "overseas"
        if any(d.name == name for d in w.donors):
            continue
        w.donors.append(
            Donor(
                name,
                kind,
                bank,
                account,
                ids.mobile(),
                ids.office_address() if kind != "person" else ids.home_address(),
            )
        )


# ------------------------------------------------------------------ people


def build_staff(w: World, s: Streams, ids: Ids) -> None:
    rng = s("staff")
    front = [h for h in w.hospitals if h.frontline]
    weights = [h.frontline for h in front]
    total = sum(weights)
    n = 0
    for h, wgt in zip(front, weights, strict=True):
        count = max(6, round(w.scale.staff * wgt / total))
        for _ in range(count):
            n += 1
            id_no, sex = ids.id_number()
            tier = "一类" if rng.random() < 0.6 else "二类"
            dept = rng.choice(DEPTS_1 if tier == "一类" else DEPTS_2)
            post = (
                rng.choice(("护士", "护士", "医师", "医师", "医技"))
                if tier == "一类"
                else rng.choice(("医技", "护士", "管理", "工勤"))
            )
            start = max(
                h.opened or START, START + timedelta(days=rng.choice((0, 0, 0, 3, 7, 12, 20)))
            )
            p = Person(
                ref=f"p{n:05d}",
                name=ids.person_name(),
                sex=sex,
                id_no=id_no,
                hospital=h,
                dept=dept,
                post=post,
                tier=tier,
                phone=ids.mobile(),
                address=ids.home_address(),
                card=ids.card(),
                start=start,
            )
            r = rng.random()
            if r < 0.02:
                p.separated = D(rng.choice((2, 3)), rng.randrange(3, 27))
                p.reason = rng.choice(("离职", "调离", "调离", "退休"))
            w.staff.append(p)


def _duty_days(p: Person, h: Hospital, m: int, rng: random.Random) -> dict[int, float]:
    first = max(date(2020, m, 1), p.start, h.opened or START, START)
    last = min(month_end(m), h.closed or CUTOFF, D(4, 30))
    if p.separated and not getattr(p, "ignore_separation", False):
        last = min(last, p.separated)
    if p.moved_to is not None:
        if h is p.hospital:
            last = min(last, p.moved_on - timedelta(days=1))
        else:
            first = max(first, p.moved_on)
    p_work = {1: 0.85, 2: 0.86, 3: 0.78, 4: 0.45}[m]
    days: dict[int, float] = {}
    d = first
    while d <= last:
        r = rng.random()
        if r < p_work:
            days[d.day] = 1.0
        elif r < p_work + 0.035:
            days[d.day] = 0.5
        d += timedelta(days=1)
    return days


def build_attendance(w: World, s: Streams) -> None:
    n = 0
    for p in w.staff:
        rng = s(f"duty/{p.ref}")
        places = [p.hospital] + ([p.moved_to] if p.moved_to else [])
        for h in places:
            for m in (1, 2, 3, 4):
                days = _duty_days(p, h, m, rng)
                if not days:
                    continue
                n += 1
                w.attendance.append(Attendance(f"a{n:06d}", p, h, m, days))
    pay_day: dict[tuple[str, int], date] = {}
    for k, a in enumerate(w.attendance, start=1):
        key = (a.hospital.ref, a.month)
        if key not in pay_day:
            pay_day[key] = D(a.month + 1, s(f"pay/{key}").randrange(6, 21))
        rate = RATES[a.person.tier]
        w.subsidies.append(
            Subsidy(
                f"b{k:06d}",
                a.person,
                a.hospital,
                a.month,
                a.total,
                rate,
                int(a.total * rate),
                pay_day[key],
                a.person.id_no,
            )
        )


# ------------------------------------------------------------------ procurement


def build_contracts(w: World, s: Streams) -> None:
    rng = s("contracts")
    buyable = [
        "n95",
        "surgical",
        "suit",
        "medmask",
        "gown",
        "goggles",
        "shield",
        "gloves",
        "thermo",
        "alcohol",
        "vent",
    ]
    weeks = list(range(5, 16))  # ISO weeks 5..15 (27 Jan .. 12 Apr)
    n = 0
    # At least one week in which several suppliers sold an item that has no pre-epidemic price.
    groups: list[tuple[int, str, int]] = [(rng.choice((6, 7, 8)), rng.choice(PRICED_NO_REF), 3)]
    while sum(g[2] for g in groups) < w.scale.contracts:
        week, key = rng.choice(weeks), rng.choice(buyable)
        if any(g[0] == week and g[1] == key for g in groups):
            continue
        size = rng.choice((1, 1, 2, 3, 3, 4)) if key not in PRICED_NO_REF else rng.choice((3, 4))
        groups.append((week, key, size))
    groups.sort()
    for week, key, size in groups:
        item = w.items[key]
        premium = 2.0 if week <= 7 else 1.7 if week <= 10 else 1.35
        base = item.ref_price or {"gown": 2200, "shield": 1200, "thermo": 24000}[key]
        for _ in range(size):
            n += 1
            monday = date.fromisocalendar(2020, week, 1)
            signed = monday + timedelta(days=rng.randrange(0, 6))
            sup = rng.choice(w.suppliers)
            per_piece = int(base * premium * rng.uniform(0.85, 1.15))
            if key == "vent":
                qty, unit = rng.randrange(3, 20), "台"
            elif item.unit in ("只",):
                qty = rng.randrange(20, 200) * item.per_case
                unit = rng.choice((item.unit, item.unit, "盒", "箱"))
            else:
                qty = rng.randrange(10, 120) * item.per_case
                unit = rng.choice((item.unit, item.unit, "箱"))
            c = Contract(
                ref=f"c{n:03d}",
                no=f"CJWJ-2020-{n:03d}",
                signed=signed,
                supplier=sup,
                item=item,
                qty=qty,
                price=0,
                price_unit=unit,
                method="",
                payee_name=sup.name,
                payee_account=sup.account,
                payee_bank=sup.bank,
            )
            c.price = per_piece * c.per
            r = rng.random()
            if r < 0.45:
                c.method = "单一来源"
                c.reason = rng.choice(
                    (
                        "疫情防控应急采购，该供应商为本地唯一具备医用防护用品生产资质的企业",
                        "经市疫情防控指挥部会议研究同意（指挥部纪要〔2020〕8号），紧急采购",
                        "原厂独家供货，须与已配备设备配套",
                        "依据财办库〔2020〕29号文件，疫情防控急需采购",
                    )
                )
            elif r < 0.75:
                c.method = "竞争性谈判"
            elif r < 0.92:
                c.method = "询价"
            else:
                c.method = "公开招标"
            w.contracts.append(c)


def build_deliveries(w: World, s: Streams) -> None:
    n = 0
    for c in w.contracts:
        rng = s(f"deliver/{c.ref}")
        parts = (
            1 if c.item.key == "vent" or c.qty <= 20 * c.item.per_case else rng.choice((1, 2, 2, 3))
        )
        day = c.signed + timedelta(days=rng.randrange(1, 6))
        left = c.qty
        for k in range(parts):
            unit_step = c.item.per_case if c.item.key != "vent" else 1
            q = (
                left
                if k == parts - 1
                else max(unit_step, (c.qty // parts) // unit_step * unit_step)
            )
            left -= q
            if day > CUTOFF - timedelta(days=3):
                break
            n += 1
            made = day - timedelta(days=rng.randrange(5, 60))
            if c.item.key == "vent":
                hosp = rng.choice([h for h in w.hospitals if h.designated and not h.closed])
                place = hosp.name
            else:
                hosp, place = None, WH_CITY
            w.deliveries.append(
                Delivery(
                    f"dv{n:04d}",
                    c,
                    day,
                    q,
                    f"{made:%Y%m%d}{rng.randrange(10, 99)}",
                    made + timedelta(days=c.item.shelf_days),
                    place,
                    hosp,
                    rng.choice(("周建华", "李敏", "陈卫东", "王芳")),
                )
            )
            day += timedelta(days=rng.randrange(2, 8))


def _split_ok(amounts: list[int]) -> bool:
    return all(not (APPROVAL_LIMIT * 0.85 <= a < APPROVAL_LIMIT) for a in amounts)


def build_contract_payments(w: World, s: Streams) -> None:
    """The finance bureau pays each supplier after delivery, never more than was delivered."""
    for c in w.contracts:
        rng = s(f"pay/{c.ref}")
        dels = [d for d in w.deliveries if d.contract is c]
        if not dels:
            continue

        def value(q, c=c):
            return q // c.per * c.price

        first_value = value(dels[0].qty)
        total_value = value(sum(d.qty for d in dels))
        if getattr(c, "overpay", False):
            total_value = c.amount
        plan: list[tuple[date, int]] = []
        if len(dels) > 1 and rng.random() < 0.6:
            part = first_value * rng.choice((30, 50, 60)) // 100
            plan.append((dels[0].day + timedelta(days=rng.randrange(3, 10)), part))
            plan.append((dels[-1].day + timedelta(days=rng.randrange(5, 20)), total_value - part))
        else:
            plan.append((dels[-1].day + timedelta(days=rng.randrange(3, 20)), total_value))
        if not _split_ok([a for _, a in plan]):
            plan = [(plan[-1][0], total_value)]
        if not _split_ok([a for _, a in plan]):
            # Just under the limit: paid as 40 % on delivery and the rest three weeks later.
            part = total_value * 2 // 5
            plan = [(plan[-1][0], part), (plan[-1][0] + timedelta(days=21), total_value - part)]
        for day, amount in plan:
            if day > CUTOFF or amount <= 0:
                continue
            w.payments.append(
                Payment(
                    ref=f"fp.{c.ref}.{len(w.payments)}",
                    payer="财政局",
                    day=day,
                    voucher="",
                    payee=c.payee_name,
                    account=c.payee_account,
                    bank=c.payee_bank,
                    amount=amount,
                    summary=f"支付{c.item.name}采购款（合同{c.no}）",
                    code="31003" if c.item.key == "vent" else "30218",
                    invoice=w.ids.invoice()[1],
                    contract=c,
                    kind="contract",
                )
            )


# ------------------------------------------------------------------ donations


def build_donations(w: World, s: Streams) -> None:
    recipients = [h for h in w.hospitals if h.designated] + w.units[:1]
    for charity, count, goods_count in (
        (RC, w.scale.rc_cash, w.scale.rc_goods),
        (CF, w.scale.cf_cash, w.scale.cf_goods),
    ):
        rng = s(f"cash/{charity}")
        tag = "HH" if charity == RC else "CS"
        gifts = []
        small, large = Weyl(rng), Weyl(rng)
        for _ in range(count):
            donor = rng.choice(w.donors)
            day = epi_day(rng)
            # People give 50 to 50,000 yuan, organisations 5,000 to 5,000,000 (log-uniform).
            amount = (
                int(10 ** (3.7 + 3 * small()))
                if donor.kind == "person"
                else int(10 ** (5.7 + 3 * large()))
            )
            # Offices round what people give: two significant figures for most gifts.
            if rng.random() < 0.8:
                digits = len(str(amount // 100))
                step = 10 ** max(0, digits - 2) * 100
                amount = max(step, amount // step * step)
            g = CashDonation(
                ref="",
                charity=charity,
                no="",
                receipt_seq=0,
                received=day,
                donor=donor,
                amount=amount,
                purpose="疫情防控",
            )
            if rng.random() < 0.14:
                g.directed = rng.choice(recipients)
                g.purpose = f"定向用于{g.directed.name}疫情防控"
            if rng.random() < 0.05 and donor.kind == "company":
                g.payer_name = (
                    donor.name.replace("有限公司", "")
                    .replace("有限责任公司", "")
                    .replace("股份", "")
                    + "工会委员会"
                )
            g.registered = day if rng.random() < 0.8 else day + timedelta(days=1)
            gifts.append(g)
        # Online platform settlements: one line a day for many small gifts.
        for _ in range(max(3, count // 60)):
            day = epi_day(rng, until=D(3, 31))
            platform = Donor(
                "社会爱心人士（支付宝公益平台）",
                "platform",
                "支付宝（中国）网络技术有限公司",
                "1001 1903 0930 0123 456".replace(" ", ""),
            )
            gifts.append(
                CashDonation(
                    ref="",
                    charity=charity,
                    no="",
                    receipt_seq=0,
                    received=day,
                    donor=platform,
                    amount=rng.randrange(200000, 9000000),
                    purpose="网络募捐",
                    registered=day + timedelta(days=1),
                )
            )
        gifts.sort(key=lambda g: (g.registered, g.received, g.donor.name, g.amount))
        for k, g in enumerate(gifts, start=1):
            g.ref = f"cd.{tag}.{k:05d}"
            g.no = f"{tag}J2020{k:05d}"
            g.receipt_seq = k
        w.cash.extend(gifts)

        rng = s(f"goods/{charity}")
        goods = []
        keys = [
            "n95",
            "surgical",
            "suit",
            "medmask",
            "kn95",
            "kn95",
            "gloves",
            "bleach",
            "alcohol",
            "goggles",
            "gown",
            "thermo",
        ]
        for _ in range(goods_count):
            item = w.items[rng.choice(keys)]
            day = epi_day(rng, until=D(5, 31))
            cases = rng.randrange(2, 60) if item.per_case < 500 else rng.randrange(2, 25)
            qty = cases * item.per_case
            made = day - timedelta(days=rng.randrange(10, 200))
            direct = rng.random() < 0.14
            donor = rng.choice([d for d in w.donors if d.kind != "person"] or w.donors)
            gd = GoodsDonation(
                ref="",
                charity=charity,
                no="",
                receipt_seq=0,
                received=day,
                donor=donor,
                item=item,
                qty=qty,
                batch=f"{made:%y%m%d}{rng.choice('ABCDEFGH')}{rng.randrange(1, 9)}",
                expiry=made + timedelta(days=item.shelf_days),
                value=qty * max(item.ref_price, 1500) * rng.choice((1, 1, 2))
                if item.ref_price
                else qty * 1500,
                warehouse=None if direct else (WH_RC if charity == RC else WH_CITY),
            )
            if direct:
                hosp = rng.choice([h for h in w.hospitals if h.designated and not h.closed])
                gd.direct_to = hosp
                gd.directed = hosp
            elif rng.random() < 0.1:
                gd.directed = rng.choice([h for h in w.hospitals if h.designated and not h.closed])
            goods.append(gd)
        goods.sort(key=lambda g: (g.received, g.donor.name))
        for k, g in enumerate(goods, start=1):
            g.ref = f"gd.{tag}.{k:04d}"
            g.no = f"{tag}W2020{k:04d}"
            g.receipt_seq = k
        w.goods.extend(goods)


def build_disclosures(w: World, s: Streams) -> None:
    """Each charity publishes a list every few days; each gift appears in the first list after it."""
    for charity in (RC, CF):
        rng = s(f"disclose/{charity}")
        days, d = [], D(1, 28)
        while d <= D(6, 26):
            days.append(d)
            step = 3 if d < D(3, 31) else 7
            d += timedelta(days=step + (rng.choice((0, 1)) if step == 3 else 0))
        batches = [DisclosureBatch(charity, k, day) for k, day in enumerate(days, start=1)]
        w.batches_disclosed.extend(batches)
        gifts = [g for g in w.cash if g.charity == charity and g.in_register and not g.void] + [
            g for g in w.goods if g.charity == charity
        ]
        for g in gifts:
            if getattr(g, "undisclosed", False):
                continue
            target = g.disclose_on or (g.received + timedelta(days=1))
            b = next((b for b in batches if b.day >= target), None)
            if b is None:
                continue
            g.disclose_on = b.day
    _disclosure_rows(w)


def _disclosure_rows(w: World) -> None:
    w.disclosures.clear()
    by = {(b.charity, b.day): b for b in w.batches_disclosed}
    for g in [*w.cash, *w.goods]:
        if g.disclose_on is None or getattr(g, "undisclosed", False):
            continue
        if isinstance(g, CashDonation) and (not g.in_register or g.void):
            continue
        b = by[(g.charity, g.disclose_on)]
        row = DisclosureRow(f"ds.{g.ref}", b, g, received=g.received)
        if isinstance(g, CashDonation):
            row.amount = getattr(g, "disclosed_amount", None) or g.amount
        else:
            row.qty = getattr(g, "disclosed_qty", None) or g.qty
            row.item_name = g.grade_written or g.item.name
        w.disclosures.append(row)
    w.disclosures.sort(key=lambda r: (r.batch.charity, r.batch.day, r.received, r.donation.ref))


# ------------------------------------------------------------------ goods


def build_batches(w: World, s: Streams) -> None:
    n = 0

    def add(**kw) -> Batch:
        nonlocal n
        n += 1
        b = Batch(ref=f"bt{n:04d}", **kw)
        w.batches.append(b)
        return b

    for g in w.goods:
        if g.warehouse is None or getattr(g, "not_booked", False):
            continue
        rng = s(f"intake/{g.ref}")
        b = add(
            warehouse=g.warehouse,
            item=g.item,
            batch_no=g.batch,
            expiry=g.expiry,
            source="捐赠",
            source_no=g.no,
            qty=g.qty - getattr(g, "short_booked", 0),
            intake_day=g.received
            + timedelta(days=getattr(g, "late_days", 0) or rng.choice((0, 0, 1))),
            arrived=g.received,
            party=g.donor.name,
            directed=g.directed,
            consent=g.consent,
        )
        g.batch_ref = b
    for dv in w.deliveries:
        if dv.hospital is not None or getattr(dv, "not_booked", False):
            continue
        b = add(
            warehouse=WH_CITY,
            item=dv.contract.item,
            batch_no=dv.batch,
            expiry=dv.expiry,
            source="采购",
            source_no=dv.contract.no,
            qty=dv.qty,
            intake_day=dv.day,
            arrived=dv.day,
            party=dv.contract.supplier.name,
        )
        dv.batch_ref = b
    rng = s("transfers")
    for k in range(max(4, w.scale.contracts // 5)):
        item = w.items[rng.choice(("n95", "surgical", "suit", "suit", "medmask", "goggles"))]
        day = epi_day(rng, until=D(4, 15))
        made = day - timedelta(days=rng.randrange(20, 300))
        b = add(
            warehouse=WH_CITY,
            item=item,
            batch_no=f"SZ{made:%y%m}{rng.randrange(100, 999)}",
            expiry=made + timedelta(days=item.shelf_days),
            source="调拨",
            source_no=f"鄂防指调〔2020〕{k + 11}号",
            qty=rng.randrange(10, 80) * item.per_case,
            intake_day=day,
            arrived=day,
            party="省疫情防控指挥部物资保障组",
        )
        if k % 7 == 3:
            b.reserve = True  # 市级储备：整批留库
    w.batches.sort(key=lambda b: (b.warehouse, b.intake_day, b.ref))
    for warehouse in (WH_CITY, WH_RC):
        k = 0
        for b in w.batches:
            if b.warehouse == warehouse:
                k += 1
                b.intake_no = (
                    "RK" if warehouse == WH_CITY else "HRK"
                ) + f"{b.intake_day:%m}{k:04d}"


def _weights(w: World, item: Item, day: date, rng: random.Random) -> list[tuple[object, float]]:
    open_h = [
        h
        for h in w.hospitals
        if (h.opened or START) <= day and (h.closed is None or h.closed > day + timedelta(days=2))
    ]
    if item.priority:
        pool = [(h, h.beds * rng.uniform(0.8, 1.25)) for h in open_h if h.designated]
    elif item.civil or item.key in ("bleach", "alcohol", "thermo"):
        pool = [(h, h.beds * rng.uniform(0.8, 1.25)) for h in open_h] + [
            (u, 600 * rng.uniform(0.8, 1.2)) for u in w.units
        ]
    else:
        pool = [(h, h.beds * rng.uniform(0.8, 1.25)) for h in open_h]
    return pool


def build_allocations(w: World, s: Streams) -> None:
    """The command allocates stock every few days; the warehouse issues; recipients sign."""
    plan_no = {WH_CITY: 0, WH_RC: 0}
    issue_no = {WH_CITY: 0, WH_RC: 0}
    remaining = {b.ref: b.qty for b in w.batches}
    fever_used: dict[tuple[str, str], int] = {}
    d = D(1, 26)
    plans: dict[tuple[str, date], Plan] = {}
    n_alloc = 0
    while d <= CUTOFF:
        for warehouse in (WH_CITY, WH_RC):
            ready = [
                b
                for b in w.batches
                if b.warehouse == warehouse
                and remaining[b.ref] > 0
                and not b.reserve
                and b.intake_day + timedelta(days=b.hold_days) <= d
            ]
            if not ready:
                continue
            key = (warehouse, d)
            if key not in plans:
                plan_no[warehouse] += 1
                prefix = "FP" if warehouse == WH_CITY else "HFP"
                plans[key] = Plan(f"{prefix}2020-{plan_no[warehouse]:03d}", d)
                w.plans.append(plans[key])
            plan = plans[key]
            for b in ready:
                rng = s(f"alloc/{b.ref}/{d}")
                item = b.item
                left = remaining[b.ref]
                fresh = (
                    d - b.intake_day
                ).days < 3 and not item.priority  # protective supplies go out at once
                share = (
                    left
                    if not fresh or left <= 10 * item.per_case
                    else max(item.per_case, left * 6 // 10 // item.per_case * item.per_case)
                )
                lines: list[tuple[object, int, bool]] = []
                if b.directed is not None:
                    target = getattr(b, "redirect_to", None) or b.directed
                    lines.append((target, share, True))
                else:
                    pool = _weights(w, item, d, rng)
                    rng.shuffle(pool)
                    pool = pool[: rng.randrange(3, 9)] if len(pool) > 8 else pool
                    total_w = sum(x for _, x in pool) or 1
                    step = item.box if share < 20 * item.per_case else item.per_case
                    given = 0
                    # Round each share down to whole boxes or cases; what rounding leaves goes to the largest.
                    biggest = max(range(len(pool)), key=lambda k: pool[k][1])
                    shares = [int(share * wt / total_w) // step * step for _, wt in pool]
                    shares[biggest] += share - sum(shares)
                    for (rcpt, _), q in zip(pool, shares, strict=True):
                        if q <= 0:
                            continue
                        given += q
                        lines.append((rcpt, q, False))
                    if item.priority and rng.random() < 0.25:
                        # 零星配给：非定点医院发热门诊
                        others = [h for h in w.hospitals if not h.designated and h.frontline]
                        if others and lines:
                            h = rng.choice(others)
                            q = item.box * rng.choice((1, 2))
                            if (
                                fever_used.get((h.ref, item.key), 0) + q <= 10 * item.box
                                and lines[0][1] > q
                            ):
                                fever_used[(h.ref, item.key)] = (
                                    fever_used.get((h.ref, item.key), 0) + q
                                )
                                lines[0] = (lines[0][0], lines[0][1] - q, False)
                                lines.append((h, q, False))
                for rcpt, q, directed in lines:
                    n_alloc += 1
                    a = AllocLine(
                        f"al{n_alloc:05d}",
                        plan,
                        item,
                        rcpt,
                        q,
                        "仓库发货",
                        warehouse,
                        b,
                        b.source_no,
                        directed,
                        b.consent if directed else "",
                    )
                    w.allocs.append(a)
                    remaining[b.ref] -= q
        d += timedelta(days=2 if d < D(3, 15) else 4 if d < D(4, 30) else 7)
    # Issues and signatures.
    for a in w.allocs:
        rng = s(f"issue/{a.ref}")
        wh = a.warehouse
        issue_no[wh] += 1
        day = a.plan.day + timedelta(days=rng.choice((0, 0, 1)))
        if day > CUTOFF:
            day = CUTOFF
        iss = Issue(
            f"is{a.ref[2:]}",
            wh,
            ("CK" if wh == WH_CITY else "HCK") + f"{day:%m}{issue_no[wh]:05d}",
            day,
            a.batch,
            a.recipient,
            a.qty,
            a,
        )
        w.issues.append(iss)
        signed = day + timedelta(days=rng.choice((0, 1, 1, 2)))
        if signed <= CUTOFF:
            w.signs.append(
                SignFor(
                    f"sg{a.ref[2:]}",
                    a.recipient,
                    signed,
                    a.item,
                    a.qty,
                    iss.no,
                    a.batch.batch_no,
                    a.source_no,
                    issue=iss,
                    alloc=a,
                )
            )
    # Goods that went straight to a hospital: donated and bought.
    n = 0
    for g in w.goods:
        if g.direct_to is not None:
            n += 1
            day = g.received + timedelta(days=s(f"direct/{g.ref}").choice((0, 0, 1)))
            w.signs.append(
                SignFor(f"sgd{n:04d}", g.direct_to, day, g.item, g.qty, g.no, g.batch, g.no)
            )
    for dv in w.deliveries:
        if dv.hospital is not None:
            n += 1
            w.signs.append(
                SignFor(
                    f"sgd{n:04d}",
                    dv.hospital,
                    dv.day,
                    dv.contract.item,
                    dv.qty,
                    dv.contract.no,
                    dv.batch,
                    dv.contract.no,
                )
            )
    w.signs.sort(key=lambda x: (x.day, x.ref))


def build_requests(w: World, s: Streams) -> None:
    """Designated hospitals ask the command for protective supplies; what they ask is what they then get."""
    n = 0
    got: dict[str, list[AllocLine]] = {}
    for a in w.allocs:
        if isinstance(a.recipient, Hospital) and a.item.priority:
            got.setdefault(a.recipient.ref, []).append(a)
    for h in w.hospitals:
        if not h.designated:
            continue
        rng = s(f"req/{h.ref}")
        lines = got.get(h.ref, [])
        for a in lines:
            if rng.random() < 0.35:
                n += 1
                ask = a.qty // a.item.box * a.item.box
                if ask <= 0:
                    continue
                w.requests.append(
                    Request(
                        f"rq{n:04d}",
                        h,
                        a.plan.day - timedelta(days=rng.randrange(1, 3)),
                        f"{h.alias}申〔2020〕{n:03d}",
                        a.item,
                        ask,
                        rng.choice(
                            (
                                "隔离病区收治患者增加",
                                "发热门诊接诊量上升",
                                "医护人员防护需要",
                                "新开病区",
                            )
                        ),
                    )
                )
    w.requests.sort(key=lambda r: (r.hospital.ref, r.day))


def build_counts(w: World) -> None:
    issued: dict[str, list[Issue]] = {}
    for i in w.issues:
        issued.setdefault(i.batch.ref, []).append(i)
    n = 0
    for day in (D(3, 31), D(4, 30), D(6, 30)):
        for b in w.batches:
            if b.intake_day > day:
                continue
            book = b.qty - sum(i.qty for i in issued.get(b.ref, []) if i.day <= day)
            if book > 0:
                n += 1
                w.counts.append(CountRow(f"ct{n:04d}", b.warehouse, day, b, book, book))


# ------------------------------------------------------------------ money


def build_disbursements(w: World, s: Streams) -> None:
    """Charities pay out what came in every few days (first in, first out), directed gifts to their unit."""
    targets_h = [h for h in w.hospitals if not h.closed]
    for charity in (RC, CF):
        rng = s(f"disburse/{charity}")
        gifts = sorted(
            [
                g
                for g in w.cash
                if g.charity == charity and not g.void and not getattr(g, "no_bank", False)
            ],
            key=lambda g: g.received,
        )
        extra = [g for g in w.cash if g.charity == charity and not g.in_register]
        gifts = sorted(gifts + [g for g in extra if g not in gifts], key=lambda g: g.received)
        pool, directed_due = 0, []
        k = 0
        voucher = 0
        idx = 0
        d = D(1, 27)
        while d <= CUTOFF:
            while idx < len(gifts) and gifts[idx].received <= d - timedelta(days=1):
                g = gifts[idx]
                idx += 1
                if g.directed is not None:
                    directed_due.append(g)
                else:
                    pool += g.amount
            for g in directed_due:
                voucher += 1
                k += 1
                target = getattr(g, "pay_to", None) or g.directed
                w.disbursements.append(
                    Disbursement(
                        f"db.{charity[:1]}.{k:05d}",
                        charity,
                        d,
                        f"付{voucher:04d}",
                        target.name,
                        target.account,
                        target.bank,
                        g.amount,
                        f"拨付定向捐赠款（{g.donor.name}）",
                        g,
                        g.directed.name,
                        g.consent,
                        target,
                    )
                )
                pool -= fee_for(g.amount)  # the bank's fee comes out of the undirected money
            directed_due = []
            # Keep 5,000 yuan back for the bank's fees; pay out the rest.
            if pool >= 20000000 or (pool > 600000 and d >= D(4, 1)):
                chosen = (
                    rng.sample(targets_h, min(len(targets_h), rng.randrange(2, 6)))
                    if rng.random() < 0.85
                    else [w.units[0]]
                )
                weights = [
                    getattr(t, "beds", 600) * (2 if getattr(t, "designated", False) else 1)
                    for t in chosen
                ]
                tot = sum(weights)
                paid = 0
                for t, wt in zip(chosen, weights, strict=True):
                    amount = (pool - 500000) * wt // tot // 100000 * 100000
                    if amount <= 0:
                        continue
                    if APPROVAL_LIMIT * 0.85 <= amount < APPROVAL_LIMIT:
                        amount = APPROVAL_LIMIT * 8 // 10
                    voucher += 1
                    k += 1
                    paid += amount + fee_for(amount)
                    w.disbursements.append(
                        Disbursement(
                            f"db.{charity[:1]}.{k:05d}",
                            charity,
                            d,
                            f"付{voucher:04d}",
                            t.name,
                            t.account,
                            t.bank,
                            amount,
                            "拨付疫情防控捐赠资金",
                            None,
                            "",
                            "",
                            t,
                        )
                    )
                pool -= paid
            d += timedelta(days=3 if d < D(4, 1) else 7)


def fee_for(amount: int) -> int:
    """汇划手续费 by the bank's tiers (fen)."""
    if amount <= 1000000:
        return 550
    if amount <= 10000000:
        return 1050
    if amount <= 50000000:
        return 1550
    if amount <= 100000000:
        return 2050
    return 2550


def build_bank(w: World, s: Streams) -> None:
    """The donation accounts' statements: gifts in, payments out with their fees, interest."""
    for charity in (RC, CF):
        rng = s(f"bank/{charity}")
        lines = []
        for g in w.cash:
            if g.charity != charity or g.void or getattr(g, "no_bank", False):
                continue
            payer = g.payer_name or g.donor.name
            summary = rng.choice(
                ("捐款", "抗疫捐款", "疫情防控捐款", "跨行汇款", "网银转入", "捐赠")
            )
            if g.payer_name or rng.random() < 0.15:
                summary = (
                    f"{summary} 票据{g.no}" if not g.payer_name else f"代{g.donor.name}捐款 {g.no}"
                )
            if g.donor.kind == "platform":
                payer = "支付宝（中国）网络技术有限公司"
                summary = f"支付宝公益平台捐款结算 {g.no}"
            line = BankLine(
                f"bk.{g.ref}",
                charity,
                g.received,
                summary,
                payer,
                g.donor.account,
                g.donor.bank,
                credit=g.amount,
            )
            g.bank_line = line.ref
            lines.append(line)
        for db in w.disbursements:
            if db.charity != charity:
                continue
            lines.append(
                BankLine(
                    f"bk.{db.ref}",
                    charity,
                    db.day,
                    "转账支出 " + db.purpose[:10],
                    db.payee,
                    db.account,
                    db.bank,
                    debit=db.amount,
                    seq=1,
                )
            )
            lines.append(
                BankLine(
                    f"bk.{db.ref}.fee",
                    charity,
                    db.day,
                    "汇划手续费",
                    debit=fee_for(db.amount),
                    seq=2,
                )
            )
        for extra in getattr(w, "extra_bank", []):
            if extra.charity == charity:
                lines.append(extra)
        lines.sort(key=lambda x: (x.day, x.seq, x.ref))
        # Quarterly interest on the running balance.
        for q_day in (D(3, 21), D(6, 21)):
            bal = sum(x.credit - x.debit for x in lines if x.day < q_day)
            interest = max(100, bal * 35 // 10000 // 4)
            lines.append(
                BankLine(
                    f"bk.{charity[:1]}.int{q_day:%m}",
                    charity,
                    q_day,
                    "结息",
                    credit=interest,
                    seq=3,
                )
            )
        lines.sort(key=lambda x: (x.day, x.seq, x.ref))
        w.bank.extend(lines)


class Weyl:
    """An evenly spread stream of fractions (a Weyl sequence) from a random start."""

    def __init__(self, rng: random.Random):
        self.u = rng.random()

    def __call__(self) -> float:
        self.u = (self.u + 0.6180339887498949) % 1.0
        return self.u


def _draw(weyl: Weyl) -> int:
    """A payment between 1,000 and 1,000,000 yuan, log-uniform (Benford), never 90,000-99,999."""
    a = int(10 ** (5 + 3 * weyl()))
    return a // 10 if 9000000 <= a < 10000000 else a


def _screen_draw(kind: str, weyl: Weyl, rng: random.Random) -> int:
    """Amounts an office made up: first digits 5-9, second digit 9, or whole thousands."""
    if kind == "BENFORD-1":
        return rng.randrange(500000, 1000000)
    if kind == "BENFORD-2":
        first = int(10 ** weyl())  # Benford first digit 1..9
        return (
            (first * 10 + 9) * 10 ** rng.choice((1, 2)) + rng.randrange(0, 10)
        ) * 100 + rng.randrange(0, 100)
    a = _draw(weyl)
    return max(100000, a // 100000 * 100000) if rng.random() < 0.8 else a


def _spend_plan(
    w: World, h: Hospital, income: Payment, rng: random.Random, vendors: list, weyl: Weyl
) -> list[Payment]:
    """Payments that use one receipt up within days (or slowly, for a slow hospital)."""
    out: list[Payment] = []
    amount = income.amount
    if getattr(income, "idle", False):
        return out
    lo, hi = (18, 28) if getattr(h, "slow", False) else (1, 12)
    screen = w.screens.get(h.ref) if income.kind == "appropriation" else None

    def emit(payee, code, summary, amt, day=None):
        out.append(
            Payment(
                "",
                h.ref,
                min(CUTOFF, day or income.day + timedelta(days=rng.randrange(lo, hi + 1))),
                "",
                payee,
                "",
                "",
                amt,
                summary,
                code,
            )
        )

    flags = getattr(income, "flags", {})
    for payee, code, summary, amt, offset in flags.get("specials", ()):
        emit(payee, code, summary, amt, income.day + timedelta(days=offset))
        amount -= amt
    k = 0
    while amount > 0:
        a = _screen_draw(screen, weyl, rng) if screen else _draw(weyl)
        if a > amount or amount - a < 100000:
            a = amount
        if 8500000 <= a < 10000000:
            a = 5000000 + rng.randrange(0, 3000000)
        vendor = vendors[(k * 7 + rng.randrange(3)) % len(vendors)]
        k += 1
        emit(vendor[0], vendor[1], vendor[2], a)
        amount -= a
    for p in out:
        p.source = income.source
    return out


def build_money(w: World, s: Streams, planter) -> None:
    """Appropriations, hospital ledgers, finance payments and the upper-level funds behind them."""
    fin = s("finance")
    # Subsidy appropriations: exactly the sheet totals, a few days before the pay day.
    by_key: dict[tuple[str, int], list[Subsidy]] = {}
    for sub in w.subsidies:
        by_key.setdefault((sub.hospital.ref, sub.month), []).append(sub)
    href = {h.ref: h for h in w.hospitals}
    n = 0
    for (hr, m), subs in sorted(by_key.items()):
        h = href[hr]
        n += 1
        pay = min(x.paid_on for x in subs)
        w.appropriations.append(
            Appropriation(
                f"ap{n:04d}",
                f"楚财社〔2020〕{100 + n}号",
                pay - timedelta(days=s(f"apd/{hr}/{m}").randrange(3, 7)),
                h,
                sum(x.amount for x in subs),
                f"{m}月一线医务人员临时性工作补助",
                "30399",
                "补助",
            )
        )
    # Operating funds: round sums, beds-driven, for every hospital.
    code_forms = (
        "30218、30227、30239、30299、31003",
        "30218,30227,30239,30299,31003",
        "专用材料费(30218)、委托业务费(30227)、其他交通费用(30239)、其他商品和服务支出(30299)、专用设备购置(31003)",
        "302、310",
    )
    for h in w.hospitals:
        r = s(f"op/{h.ref}")
        times = 4 if h.designated else 2
        for k in range(times):
            n += 1
            day = D(2, 3) + timedelta(days=k * 16 + r.randrange(0, 8))
            if h.closed and day > h.closed - timedelta(days=10):
                day = (h.opened or D(2, 12)) + timedelta(days=2 + k)
            amount = (
                max(
                    20,
                    h.beds
                    * (w.scale.money if h.designated else w.scale.money // 4)
                    // 100
                    * r.randrange(8, 13)
                    // 10,
                )
                * 1000000
            )
            codes = code_forms[r.randrange(len(code_forms))]
            w.appropriations.append(
                Appropriation(
                    f"ap{n:04d}",
                    f"楚财社〔2020〕{100 + n}号",
                    day,
                    h,
                    amount,
                    "疫情防控专项经费",
                    codes,
                    "经费",
                )
            )
    planter.stage("appropriations")
    w.appropriations.sort(key=lambda a: (a.day, a.ref))
    # Hospital ledgers: each receipt lands a day later and is used up.
    vendors_all = [(sup.name, "30218", "购置防护物资") for sup in w.suppliers] + list(SERVICE_FIRMS)
    incomes: dict[str, list[Payment]] = {}
    for a in w.appropriations:
        h = a.recipient
        if not isinstance(h, Hospital):
            continue
        p = Payment(
            f"hi.{a.ref}",
            h.ref,
            a.day + timedelta(days=1),
            "",
            "楚江市财政局",
            "",
            "",
            a.amount,
            f"收到{a.purpose}（{a.no}）",
            "",
            kind="appropriation",
            income=True,
            source=a,
        )
        p.flags = getattr(a, "flags", {})
        p.idle = getattr(a, "idle", False)
        incomes.setdefault(h.ref, []).append(p)
    for db in w.disbursements:
        if isinstance(db.recipient, Hospital):
            p = Payment(
                f"hi.{db.ref}",
                db.recipient.ref,
                db.day + timedelta(days=1),
                "",
                CHARITY_NAMES[db.charity],
                "",
                "",
                db.amount,
                f"收到{CHARITY_NAMES[db.charity]}拨付捐赠款",
                "",
                kind="donation",
                income=True,
                source=db,
            )
            incomes.setdefault(db.recipient.ref, []).append(p)
    for h in w.hospitals:
        r = s(f"spend/{h.ref}")
        vendors = r.sample(vendors_all, min(len(vendors_all), 9))
        weyl = Weyl(r)
        lines: list[Payment] = []
        for inc in sorted(incomes.get(h.ref, []), key=lambda p: (p.day, p.ref)):
            lines.append(inc)
            if inc.kind == "appropriation" and inc.source.kind == "补助":
                if not getattr(inc, "idle", False):
                    subs = by_key.get((h.ref, int(inc.source.purpose.split("月")[0])), [])
                    pay_day = min(x.paid_on for x in subs)
                    lines.append(
                        Payment(
                            "",
                            h.ref,
                            pay_day,
                            "",
                            "本院一线人员（见发放表）",
                            "",
                            "",
                            inc.amount,
                            f"发放{inc.source.purpose}",
                            "30399",
                            kind="subsidy",
                            source=inc.source,
                        )
                    )
                continue
            lines.extend(_spend_plan(w, h, inc, s(f"spend/{inc.ref}"), vendors, weyl))
        for p in lines:
            if not p.income and not p.invoice and p.kind != "subsidy":
                p.invoice_code, p.invoice = w.ids.invoice()
            if not p.income and not p.account and p.kind != "subsidy":
                sup = next((x for x in w.suppliers if x.name == p.payee), None)
                if sup:
                    p.bank, p.account = sup.bank, sup.account
                else:
                    p.bank, p.account = _firm_account(w, p.payee)
        lines.sort(key=lambda p: (p.day, not p.income, p.ref or "~", p.payee, p.amount))
        for k, p in enumerate(lines, start=1):
            if not p.ref:
                p.ref = f"hp.{h.ref}.{k:04d}"
        w.payments.extend(lines)
    # Finance direct payments: logistics and contracts are already in; service fees monthly.
    firm, code, what = "楚江顺达物流有限公司", "30227", "物资保障车辆服务费"
    for m in (2, 3, 4, 5):
        amt = fin.randrange(6000000, 8400000)
        bank, acct = _firm_account(w, firm)
        w.payments.append(
            Payment(
                f"fp.svc.{m}",
                "财政局",
                D(m + 1, 1) + timedelta(days=fin.randrange(2, 9)),
                "",
                firm,
                acct,
                bank,
                amt,
                f"{m}月{what}",
                code,
                invoice=w.ids.invoice()[1],
                kind="service",
            )
        )
    # Finance appropriations to hospitals appear as finance outflows too; upper funds cover them.
    outs = sorted(
        [(a.day, a.amount) for a in w.appropriations]
        + [(p.day, p.amount) for p in w.payments if p.payer == "财政局"]
    )
    day0 = outs[0][0]
    k = 0
    carry = 0
    window_start = day0
    nfund = 0
    while k < len(outs):
        window_end = window_start + timedelta(days=14)
        total = 0
        while k < len(outs) and outs[k][0] < window_end:
            total += outs[k][1]
            k += 1
        if total:
            need = total - carry
            last = k >= len(outs)
            amt = need if last else -(-need // 100000000) * 100000000
            carry = amt - need
            nfund += 1
            w.upper.append(
                UpperFund(
                    f"uf{nfund:03d}",
                    window_start - timedelta(days=fin.randrange(2, 5)),
                    fin.choice(
                        ("财社〔2020〕{}号", "鄂财社发〔2020〕{}号", "鄂财预发〔2020〕{}号")
                    ).format(fin.randrange(5, 90)),
                    fin.choice(
                        (
                            "中央财政疫情防控补助资金",
                            "省级疫情防控专项资金",
                            "市级疫情防控专项资金（预备费）",
                            "一线医务人员临时性工作补助资金",
                        )
                    ),
                    amt,
                )
            )
        window_start = window_end
    planter.stage("money")
    _vouchers(w)
    planter.stage("vouchers")


def _firm_account(w: World, name: str) -> tuple[str, str]:
    """The one account of a service firm (the same every time it is paid)."""
    if name not in w.firm_accounts:
        w.firm_accounts[name] = w.ids.account()
    return w.firm_accounts[name]


def _vouchers(w: World) -> None:
    """Voucher numbers: the finance bureau numbers payments for the year, hospitals per year or per month."""
    fin = sorted([p for p in w.payments if p.payer == "财政局"], key=lambda p: (p.day, p.ref))
    for k, p in enumerate(fin, start=1):
        p.voucher = f"ZF2020{k:05d}"
    by_h: dict[str, list[Payment]] = {}
    for p in w.payments:
        if p.payer != "财政局":
            by_h.setdefault(p.payer, []).append(p)
    monthly = {h.ref for h in w.hospitals[2::5]}
    for hr, lines in by_h.items():
        lines.sort(key=lambda p: (p.day, not p.income, p.ref))
        k = 0
        month = 0
        for p in lines:
            if hr in monthly and p.day.month != month:
                month, k = p.day.month, 0
            if getattr(p, "same_voucher_as", None) is not None:
                p.voucher = p.same_voucher_as.voucher
                continue
            k += 1
            p.voucher = f"记-{k:03d}" if hr in monthly else f"记{k:04d}"
    w.monthly_vouchers = monthly

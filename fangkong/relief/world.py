"""A seeded synthetic epidemic: who gave what, where it was stored, who got it, and what it paid for.

The world follows simple rules so that its ledgers can be checked end to end: every yuan that is
donated or appropriated is either paid out or still in an account; every mask that arrives is
either issued to a recipient or still in a warehouse. The truth (`World.trace`) records each
donation's path, so the importer and the trace can be tested against it. Later, injectors plant
anomalies in the clean world (issue 7).

Money is integer fen; quantities are pieces.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

START = date(2020, 1, 23)
# The order of the steps within one day, from the giver to the final receiver.
STEP_ORDER = {
    "donate_cash": 0,
    "donate_goods": 0,
    "appropriate": 0,
    "stock_in": 1,
    "allocate": 2,
    "issue": 3,
    "receive": 4,
    "pay": 5,
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅志强晓东"


@dataclass(frozen=True)
class Party:
    """A donor, receiver, warehouse, hospital, supplier or person, as one catalogue entry."""

    code: str
    name: str
    kind: str  # donor / charity / finance / warehouse / hospital / supplier / person
    designated: bool = False  # hospitals designated for COVID-19 patients
    beds: int = 0


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    unit: str  # unit of measure as written in ledgers
    per_pack: int  # pieces per 盒/箱 as written in goods registers
    standard: str = ""  # GB 19083 / YY 0469 / GB 2626
    priority: bool = False


@dataclass
class Flow:
    """One movement with the day it happened: money in fen or goods in pieces."""

    day: date
    kind: str  # donate_cash / appropriate / pay / donate_goods / stock_in / allocate / issue / receive
    source: str
    target: str
    amount_fen: int = 0
    item: str = ""
    quantity: int = 0
    ref: str = ""  # donation or decision number that ties the steps together
    directed_to: str = ""  # a directed donation's intended receiver


@dataclass
class World:
    seed: int
    days: int
    parties: dict[str, Party] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Flow]:
        return [f for f in self.flows if f.kind == kind]

    def money_balance(self) -> dict[str, int]:
        """Fen held by each party: received minus paid out (all flows of money)."""
        balance: dict[str, int] = defaultdict(int)
        for f in self.flows:
            if f.amount_fen and f.kind in ("donate_cash", "appropriate", "pay"):
                balance[f.target] += f.amount_fen
                if self.parties[f.source].kind not in ("donor", "finance"):
                    balance[f.source] -= f.amount_fen
        return dict(balance)

    def stock(self) -> dict[tuple[str, str], int]:
        """Pieces of each item in each warehouse: stocked in minus issued."""
        held: dict[tuple[str, str], int] = defaultdict(int)
        for f in self.flows:
            if f.kind == "stock_in":
                held[(f.target, f.item)] += f.quantity
            elif f.kind == "issue":
                held[(f.source, f.item)] -= f.quantity
        return dict(held)

    def trace(self, ref: str) -> list[Flow]:
        """Every step of one donation or decision, in order."""
        return sorted(
            (f for f in self.flows if f.ref == ref), key=lambda f: (f.day, STEP_ORDER[f.kind])
        )


ITEMS = [
    Item("N95", "医用防护口罩", "只", 20, "GB 19083", priority=True),
    Item("SURG", "医用外科口罩", "只", 50, "YY 0469", priority=True),
    Item("KN95", "KN95口罩（民用）", "只", 25, "GB 2626"),
    Item("SUIT", "医用防护服", "套", 10, "GB 19082", priority=True),
    Item("GOGG", "护目镜", "副", 20),
    Item("ALC", "75%酒精", "瓶", 24),
]


def generate(seed: int = 2020, days: int = 60) -> World:
    """A clean world: flows follow the rules, so conservation holds exactly."""
    rng = random.Random(seed)
    w = World(seed=seed, days=days)
    w.items = {i.code: i for i in ITEMS}

    def party(code, name, kind, **kw):
        w.parties[code] = Party(code, name, kind, **kw)
        return code

    finance = party("FIN", "黄冈市财政局", "finance")
    redcross = party("RC", "黄冈市红十字会", "charity")
    charity = party("CF", "黄冈市慈善总会", "charity")
    warehouses = [
        party("WH1", "黄冈市红十字会物资仓库", "warehouse"),
        party("WH2", "黄冈市应急物资储备库", "warehouse"),
    ]
    hospitals = [
        party("H1", "黄冈市中心医院", "hospital", designated=True, beds=800),
        party("H2", "大别山区域医疗中心", "hospital", designated=True, beds=1000),
        party("H3", "黄冈市中医医院", "hospital", designated=True, beds=300),
        party("H4", "黄冈市妇幼保健院", "hospital", beds=200),
        party("H5", "黄州区人民医院", "hospital", designated=True, beds=250),
    ]
    suppliers = [
        party(f"S{i}", f"湖北{n}医疗器械有限公司", "supplier")
        for i, n in enumerate(["康泰", "华润", "九州", "德信"], 1)
    ]
    donors = [
        party(f"D{i}", name, "donor")
        for i, name in enumerate(
            [
                "湖北长江实业集团有限公司",
                "黄冈市工商联",
                "武汉光谷企业联合会",
                "香港同乡会",
                "黄冈籍在外人士联谊会",
                "某某科技股份有限公司",
                "爱心人士（匿名）",
                "黄冈市商会",
            ],
            1,
        )
    ]
    designated = [h for h in hospitals if w.parties[h].designated]

    for day_no in range(days):
        day = START + timedelta(days=day_no)
        # Cash donations into the two charities; a third are directed to a hospital.
        for n in range(rng.randint(1, 4)):
            ref = f"JZ{day:%m%d}{n:02d}"
            directed = rng.choice(hospitals) if rng.random() < 0.33 else ""
            amount = rng.choice([5_000, 10_000, 50_000, 100_000, 200_000, 1_000_000]) * 100
            amount += rng.randint(0, 99) * 100 if rng.random() < 0.3 else 0
            receiver = rng.choice([redcross, charity])
            w.flows.append(
                Flow(
                    day,
                    "donate_cash",
                    rng.choice(donors),
                    receiver,
                    amount,
                    ref=ref,
                    directed_to=directed,
                )
            )
            # Paid on within 1–5 days: directed money to its hospital, the rest to a designated one.
            paid = day + timedelta(days=rng.randint(1, 5))
            if (paid - START).days < days:
                target = directed or rng.choice(designated)
                w.flows.append(
                    Flow(paid, "pay", receiver, target, amount, ref=ref, directed_to=directed)
                )
        # Fiscal appropriations to hospitals every few days, paid out to suppliers for goods.
        if day_no % 3 == 0:
            ref = f"CZ{day:%m%d}"
            hospital = rng.choice(designated)
            amount = rng.randint(20, 200) * 10_000 * 100
            w.flows.append(Flow(day, "appropriate", finance, hospital, amount, ref=ref))
            w.flows.append(
                Flow(
                    day + timedelta(days=rng.randint(0, 2)),
                    "pay",
                    hospital,
                    rng.choice(suppliers),
                    amount,
                    ref=ref,
                )
            )
        # Donated goods arrive at a warehouse and are allocated and issued to hospitals.
        for n in range(rng.randint(0, 3)):
            ref = f"WZ{day:%m%d}{n:02d}"
            item = rng.choice(ITEMS)
            packs = rng.randint(10, 400)
            qty = packs * item.per_pack
            warehouse = rng.choice(warehouses)
            w.flows.append(
                Flow(
                    day,
                    "donate_goods",
                    rng.choice(donors),
                    warehouse,
                    item=item.code,
                    quantity=qty,
                    ref=ref,
                )
            )
            w.flows.append(
                Flow(
                    day,
                    "stock_in",
                    rng.choice(donors),
                    warehouse,
                    item=item.code,
                    quantity=qty,
                    ref=ref,
                )
            )
            left = qty
            when = day
            while left > 0:
                when += timedelta(days=rng.randint(0, 2))
                if (when - START).days >= days:
                    break  # still in stock at the end of the period
                portion = min(left, item.per_pack * rng.randint(5, 200))
                pool = designated if item.priority else hospitals
                target = rng.choice(pool)
                for kind in ("allocate", "issue", "receive"):
                    w.flows.append(
                        Flow(
                            when, kind, warehouse, target, item=item.code, quantity=portion, ref=ref
                        )
                    )
                left -= portion
    w.flows.sort(key=lambda f: (f.day, STEP_ORDER[f.kind], f.ref))
    return w

"""A seeded synthetic epidemic: who gave what, where it was stored, who got it, and what it paid for.

The world follows simple rules so that its ledgers can be checked end to end: every yuan that is
donated or appropriated is either paid out or still in an account; every mask that arrives is
either issued to a recipient or still in a warehouse, and the closing stock count equals the book.
Besides the movements (`World.flows`), the world keeps the truth of every ledger a body would
write (`World.records`), so the importer and the trace can be tested against it. Later, injectors
plant anomalies in the clean world (issue 7).

Money is integer fen; quantities are pieces (items know how many pieces a 盒/箱 holds).
"""

import math
import random
from collections import defaultdict
from datetime import date, timedelta

from fangkong.lib import idcard
from fangkong.relief.synthetic.shapes import (  # noqa: F401 - START and World are re-exported
    START,
    STEP_ORDER,
    Flow,
    Item,
    Party,
    Person,
    Record,
    World,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅志强晓东"
# Name characters outside GBK (CJK Extension A): only GB18030, UTF-8 and .xlsx files can hold them.
RARE_GIVEN = "䶮㻞䲹"
# Huanggang's county-level codes, the first six digits of a resident identity number.
REGIONS = ("421102", "421121", "421122", "421123", "421124", "421125", "421126", "421127")
POSTS = (
    ("发热门诊", "一类"),
    ("隔离病区", "一类"),
    ("重症监护室", "一类"),
    ("核酸采样", "一类"),
    ("预检分诊", "二类"),
    ("检验科", "二类"),
    ("医学影像科", "二类"),
    ("后勤保障", "二类"),
)
DAILY_RATE = {"一类": 30_000, "二类": 20_000}  # fen per day on duty
METHODS = (("单一来源", 5), ("竞争性谈判", 4), ("公开招标", 1))
SOLE_SOURCE_REASONS = (
    "疫情防控紧急采购，仅该供应商有现货",
    "原供应商续供，保证型号一致",
    "指挥部指定应急保障企业",
)
ECONOMIC_CODE = "30218 专用材料费"
DEPARTMENTS = ("发热门诊", "隔离病区", "重症监护室", "急诊科", "呼吸科")


ITEMS = [
    Item(
        "N95", "医用防护口罩", "只", 20, "GB 19083", True, "盒", "1860 折叠式 20只/盒", 1200, 5, 0.5
    ),
    Item(
        "SURG",
        "医用外科口罩",
        "只",
        50,
        "YY 0469",
        True,
        "盒",
        "17.5×9.5cm 耳挂式 50只/盒",
        80,
        2,
        2.0,
    ),
    Item(
        "KN95", "KN95口罩（民用）", "只", 25, "GB 2626", False, "盒", "耳挂式 25只/盒", 350, 3, 0.5
    ),
    Item(
        "SUIT", "医用防护服", "套", 10, "GB 19082", True, "箱", "连体式 175 10套/箱", 12000, 2, 0.3
    ),
    Item("GOGG", "护目镜", "副", 20, "", False, "箱", "防雾型 20副/箱", 3500, 5, 0.05),
    Item("ALC", "75%酒精", "瓶", 24, "", False, "箱", "500ml 24瓶/箱", 1500, 2, 0.1),
]
_DONORS = [
    "湖北长江实业集团有限公司",
    "黄冈市工商联",
    "武汉光谷企业联合会",
    "香港同乡会",
    "黄冈籍在外人士联谊会",
    "某某科技股份有限公司",
    "爱心人士（匿名）",
    "黄冈市商会",
]
_PLACES = "黄冈黄州麻城武穴浠水蕲春红安罗田英山团风黄梅武汉鄂州孝感"
_WORDS = ("兴达", "华安", "鑫源", "恒泰", "宏发", "金盛", "永安", "瑞丰", "聚力", "天成", "博远")
_TRADES = ("建材", "商贸", "食品", "物流", "电子", "纺织", "置业", "农业")


def generate(seed: int = 2020, days: int = 60, scale: int = 1) -> World:
    """A clean world: flows follow the rules, so conservation holds exactly.

    `scale` multiplies the daily volume (donations, procurement, requests, staff): scale N
    writes about N times the ledger rows.
    """
    return _Generator(seed, days, scale).run()


class _Generator:
    """Builds one world; the random calls happen in a fixed order so a seed fixes the world."""

    def __init__(self, seed: int, days: int, scale: int):
        self.rng = random.Random(seed)
        self.w = World(seed=seed, days=days, scale=scale)
        self.w.items = {i.code: i for i in ITEMS}
        self.end = self.w.end
        self.counters: dict = defaultdict(int)
        # Per charity: (day, donor-or-hospital code, fen in, fen out, memo, ref) for its statement.
        self.bank_events: dict[str, list] = defaultdict(list)
        self.signers: dict[str, list[str]] = {}

    # --- helpers ---

    def next(self, key) -> int:
        self.counters[key] += 1
        return self.counters[key]

    def clip(self, day: date) -> date:
        return min(day, self.end)

    def name(self, code: str) -> str:
        return self.w.parties[code].name if code else ""

    def rec(self, kind: str, body: str, **fields) -> Record:
        row = {"body": body, **fields}
        self.w.records[kind].append(row)
        return row

    def flow(self, *args, **kw) -> None:
        self.w.flows.append(Flow(*args, **kw))

    def party(self, code: str, name: str, kind: str, **kw) -> str:
        self.w.parties[code] = Party(code, name, kind, **kw)
        return code

    def account(self) -> str:
        return (
            f"{self.rng.choice(['4210', '1821', '5700', '4200'])}{self.rng.randrange(10**14):014d}"
        )

    def person_name(self, rare: bool = False) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
        if rare:
            given = given[:1] + self.rng.choice(RARE_GIVEN)
        return self.rng.choice(SURNAMES) + given

    def lot(self, item: Item, day: date) -> tuple[str, date]:
        """A lot number unique per stock-in and its expiry (made weeks before, kept for years)."""
        made = day - timedelta(days=self.rng.randint(5, 90))
        lot = f"{made:%Y%m%d}{self.next('lot') % 10_000:04d}"
        return lot, made + timedelta(days=365 * item.shelf_years - 1)

    # --- the world ---

    def run(self) -> World:
        rng, w = self.rng, self.w
        self.catalogue()
        for day_no in range(w.days):
            day = START + timedelta(days=day_no)
            for _ in range(w.scale):
                for _ in range(rng.randint(1, 4)):
                    self.cash(day)
            if day_no % 3 == 0:
                for _ in range(w.scale):
                    self.procure(day)
            for _ in range(w.scale):
                for _ in range(rng.randint(0, 3)):
                    self.goods(day)
            if day_no % 2 == 0:
                for _ in range(w.scale):
                    self.requests(day)
        self.staff()
        self.stock_count()
        self.statements()
        self.registers()
        self.finish()
        return w

    def registers(self) -> None:
        """Staff registers and pre-emergency reference prices, from a generator of their own so
        the rest of the world stays what it was for each seed."""
        rng, w = random.Random(f"registers-{self.w.seed}"), self.w
        for code, p in w.persons.items():
            self.rec(
                "staff",
                self.health,
                person=p.name,
                id_number=p.id_number,
                target=self.name(p.hospital),
                post=p.post,
                tier=p.tier,
                phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                address=f"湖北省黄冈市{rng.choice(('黄州区', '团风县', '浠水县', '蕲春县'))}{rng.choice(_WORDS)}路{rng.randint(1, 300)}号",
                account=w.parties[code].account,
                left_on=None,
            )
        # The charities' managers: who decides where donations go.
        for body in (self.redcross, self.charity):
            for _ in range(4):
                born = START - timedelta(days=rng.randint(30 * 365, 58 * 365))
                self.rec(
                    "staff",
                    body,
                    person=self.person_name(),
                    id_number=idcard.make(rng.choice(REGIONS), born, rng.randint(0, 999)),
                    target=self.name(body),
                    post=rng.choice(("会长", "副会长", "秘书长", "财务负责人")),
                    phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                    address=f"湖北省黄冈市黄州区{rng.choice(_WORDS)}小区{rng.randint(1, 30)}栋",
                    account=self.account(),
                    left_on=None,
                )
        for item in w.items.values():
            self.rec(
                "price_list",
                self.health,
                day=date(2019, 12, 31),
                item=item.name,
                spec=item.spec,
                standard=item.standard,
                uom=item.unit,
                unit_price=item.price_fen,
            )

    def catalogue(self) -> None:
        rng, party = self.rng, self.party
        self.finance = party("FIN", "黄冈市财政局", "finance")
        self.redcross = party("RC", "黄冈市红十字会", "charity", account=self.account())
        self.charity = party("CF", "黄冈市慈善总会", "charity", account=self.account())
        self.health = party("HC", "黄冈市卫生健康委员会", "health")
        self.command = party("CMD", "黄冈市疫情防控指挥部", "command")
        self.warehouses = [
            party("WH1", "黄冈市红十字会物资仓库", "warehouse"),
            party("WH2", "黄冈市应急物资储备库", "warehouse"),
        ]
        # Who decides allocations from each warehouse, and which charity's goods it stores.
        self.allocator = {"WH1": self.redcross, "WH2": self.command}
        self.store_of = {self.redcross: "WH1", self.charity: "WH2"}
        self.hospitals = [
            party(code, name, "hospital", designated=d, beds=b, account=self.account())
            for code, name, d, b in [
                ("H1", "黄冈市中心医院", True, 800),
                ("H2", "大别山区域医疗中心", True, 1000),
                ("H3", "黄冈市中医医院", True, 300),
                ("H4", "黄冈市妇幼保健院", False, 200),
                ("H5", "黄州区人民医院", True, 250),
            ]
        ]
        self.designated = [h for h in self.hospitals if self.w.parties[h].designated]
        self.suppliers = [
            party(
                f"S{i}",
                name,
                "supplier",
                account=self.account(),
                phone=f"0713-{rng.randint(8_000_000, 8_999_999)}",
                address=f"湖北省黄冈市黄州区{rng.choice(['东门路', '赤壁大道', '新港路'])}{rng.randint(1, 300)}号",
                registered_on=date(rng.randint(2003, 2018), rng.randint(1, 12), rng.randint(1, 28)),
            )
            for i, name in enumerate(
                [
                    "湖北康泰医疗器械有限公司",
                    "湖北华润医疗器械有限公司",
                    "湖北九州医疗器械有限公司",
                    "湖北德信医疗器械有限公司",
                    "武汉恒信医药有限公司",
                    "黄冈市鑫源商贸有限公司",
                ],
                1,
            )
        ]
        names = list(_DONORS)
        seen = set(names)
        # More donors as the world grows, half companies and half individuals, all distinct.
        while len(names) < len(_DONORS) + 24 * self.w.scale:
            if rng.random() < 0.5:
                name = f"{rng.choice(_PLACES)}{rng.choice(_PLACES)}{rng.choice(_WORDS)}"
                name += f"{rng.choice(_TRADES)}有限公司"
            else:
                name = self.person_name()
            if name not in seen:
                seen.add(name)
                names.append(name)
        self.donors = [
            party(f"D{i}", name, "donor", account=self.account()) for i, name in enumerate(names, 1)
        ]
        for h in self.hospitals:
            self.signers[h] = [self.person_name() for _ in range(2)]

    def cash(self, day: date) -> None:
        """A cash donation: registered, credited, disclosed, then paid on to a hospital."""
        rng = self.rng
        ref = f"JZ{day:%m%d}{self.next(('JZ', day)):03d}"
        donor = rng.choice(self.donors)
        charity = rng.choice([self.redcross, self.charity])
        directed = rng.choice(self.hospitals) if rng.random() < 0.33 else ""
        amount = rng.choice([5_000, 10_000, 50_000, 100_000, 200_000, 1_000_000]) * 100
        amount += rng.randint(0, 99) * 100 if rng.random() < 0.3 else 0
        amount += rng.choice([0, 0, 0, 0, 50, 88])  # the odd 0.50 / 0.88 yuan
        self.flow(day, "donate_cash", donor, charity, amount, ref=ref, directed_to=directed)
        prefix = "HZ" if charity == self.redcross else "CS"
        self.rec(
            "cash_donation",
            charity,
            day=day,
            doc_no=f"{prefix}2020{self.next(('receipt', charity)):05d}",
            ref=ref,
            source=self.name(donor),
            target=self.name(charity),
            amount=amount,
            directed_to=self.name(directed),
            purpose="定向捐赠" if directed else "新冠肺炎疫情防控",
        )
        credited = self.clip(day + timedelta(days=rng.choice([0, 0, 1, 1, 2])))
        self.bank_events[charity].append((credited, donor, amount, 0, f"捐款 {ref}", ref))
        self.disclose(charity, day, ref, donor, amount=amount, directed=directed)
        paid = credited + timedelta(days=rng.randint(1, 5))
        if paid > self.end:
            return  # still in the charity's account at the end of the period
        target = directed or rng.choice(self.designated)
        self.flow(paid, "pay", charity, target, amount, ref=ref, directed_to=directed)
        self.rec(
            "payment",
            charity,
            day=paid,
            doc_no=f"{prefix}F2020{self.next(('pay', charity)):05d}",
            ref=ref,
            source=self.name(charity),
            target=self.name(target),
            amount=amount,
            account=self.w.parties[target].account,
            directed_to=self.name(directed),
            purpose="定向捐赠资金拨付" if directed else "疫情防控捐赠资金拨付",
        )
        self.bank_events[charity].append((paid, target, 0, amount, f"拨付 {ref}", ref))

    def disclose(self, charity, day, ref, donor, *, amount=None, item=None, qty=None, directed=""):
        """Each charity publishes each donation it received within 1–7 days (by the period end)."""
        self.rec(
            "disclosure",
            charity,
            day=self.clip(day + timedelta(days=self.rng.randint(1, 7))),
            doc_no="",  # the day's batch number, set in finish()
            ref=ref,
            source=self.name(donor),
            target=self.name(charity),
            item=item.name if item else "",
            quantity=qty,
            uom=item.unit if item else "",
            amount=amount,
            directed_to=self.name(directed),
        )

    def goods(self, day: date) -> None:
        """Donated goods: registered, stocked in with a lot, disclosed, allocated and issued."""
        rng = self.rng
        ref = f"WZ{day:%m%d}{self.next(('WZ', day)):03d}"
        donor = rng.choice(self.donors)
        charity = rng.choice([self.redcross, self.charity])
        warehouse = self.store_of[charity]
        item = rng.choice(ITEMS)
        qty = rng.randint(10, 400) * item.per_pack
        pool = self.designated if item.priority else self.hospitals
        directed = rng.choice(pool) if rng.random() < 0.2 else ""
        lot, expiry = self.lot(item, day)
        self.flow(
            day,
            "donate_goods",
            donor,
            warehouse,
            item=item.code,
            quantity=qty,
            ref=ref,
            directed_to=directed,
        )
        prefix = "HWJ" if charity == self.redcross else "CWJ"
        self.rec(
            "goods_donation",
            charity,
            day=day,
            doc_no=f"{prefix}2020{self.next(('goods', charity)):05d}",
            ref=ref,
            source=self.name(donor),
            target=self.name(charity),
            warehouse=self.name(warehouse),
            directed_to=self.name(directed),
            item=item.name,
            spec=item.spec,
            standard=item.standard,
            quantity=qty,
            uom=item.unit,
            unit_price=item.price_fen,
            amount=qty * item.price_fen,
            lot=lot,
            expiry=expiry,
        )
        self.stock_in(warehouse, day, ref, donor, item, qty, lot, expiry)
        self.disclose(charity, day, ref, donor, item=item, qty=qty, directed=directed)
        self.issue_all(warehouse, day, ref, item, qty, lot, expiry, pool, directed)

    def stock_in(self, warehouse, day, ref, source, item: Item, qty, lot, expiry) -> None:
        self.flow(
            day, "stock_in", source, warehouse, item=item.code, quantity=qty, ref=ref, lot=lot
        )
        self.rec(
            "stock",
            warehouse,
            day=day,
            direction="入库",
            doc_no=f"RK{warehouse[-1]}-{self.next(('RK', warehouse)):05d}",
            ref=ref,
            item=item.name,
            spec=item.spec,
            standard=item.standard,
            quantity=qty,
            uom=item.unit,
            warehouse=self.name(warehouse),
            source=self.name(source),
            target="",
            lot=lot,
            expiry=expiry,
            day_in=day,
            qty_in=qty,
        )

    def issue_all(self, warehouse, day, ref, item: Item, qty, lot, expiry, pool, directed):
        """Allocate, issue and sign for a stock-in in portions until it is gone or the period ends."""
        rng = self.rng
        allocator = self.allocator[warehouse]
        left, when = qty, day
        while left > 0:
            when += timedelta(days=rng.randint(0, 2))
            if when > self.end or rng.random() < 0.06:
                return  # the rest stays in stock: the period ended, or it is kept in reserve
            portion = min(left, item.per_pack * rng.randint(5, 200))
            target = directed or rng.choice(pool)
            for kind in ("allocate", "issue", "receive"):
                self.flow(
                    when,
                    kind,
                    warehouse,
                    target,
                    item=item.code,
                    quantity=portion,
                    ref=ref,
                    directed_to=directed,
                    lot=lot,
                )
            number = self.next(("alloc", allocator))
            self.rec(
                "allocation",
                allocator,
                day=when,
                doc_no=f"黄红字〔2020〕{number}号"
                if allocator == self.redcross
                else f"黄指物调〔2020〕{number}号",
                ref=ref,
                warehouse=self.name(warehouse),
                target=self.name(target),
                item=item.name,
                quantity=portion,
                uom=item.unit,
                purpose="疫情防控一线使用",
                directed_to=self.name(directed),
            )
            self.rec(
                "stock",
                warehouse,
                day=when,
                direction="出库",
                doc_no=f"CK{warehouse[-1]}-{self.next(('CK', warehouse)):05d}",
                ref=ref,
                item=item.name,
                spec=item.spec,
                standard=item.standard,
                quantity=portion,
                uom=item.unit,
                warehouse=self.name(warehouse),
                source="",
                target=self.name(target),
                lot=lot,
                expiry=expiry,
                day_out=when,
                qty_out=portion,
            )
            self.rec(
                "receipt",
                target,
                day=when,
                doc_no=f"QS{target}-{self.next(('QS', target)):05d}",
                ref=ref,
                warehouse=self.name(warehouse),
                target=self.name(target),
                item=item.name,
                quantity=portion,
                uom=item.unit,
                person=rng.choice(self.signers[target]),
                lot=lot,
            )
            left -= portion

    def procure(self, day: date) -> None:
        """An appropriation to a designated hospital that buys goods under 1–2 contracts.

        The goods are delivered to the emergency reserve and issued to the buyer; the hospital pays
        each supplier after delivery, so the appropriation equals what it pays out.
        """
        rng = self.rng
        ref = f"CZ{day:%m%d}{self.next(('CZ', day)):02d}"
        hospital = rng.choice(self.designated)
        warehouse = "WH2"
        total = 0
        for _ in range(rng.randint(1, 2)):
            supplier = rng.choice(self.suppliers)
            item = rng.choice(ITEMS)
            packs = rng.randint(50, 1000)
            qty = packs * item.per_pack
            price = max(1, round(item.price_fen * rng.uniform(0.9, 1.6)))
            amount = qty * price
            method = rng.choices([m for m, _ in METHODS], [w for _, w in METHODS])[0]
            signed = self.clip(day + timedelta(days=rng.randint(0, 1)))
            contract_no = f"HT2020{self.next('HT'):05d}"
            s = self.w.parties[supplier]
            self.flow(
                signed,
                "contract",
                supplier,
                hospital,
                amount,
                item=item.code,
                quantity=qty,
                ref=contract_no,
            )
            self.rec(
                "contract",
                self.health,
                day=signed,
                doc_no=contract_no,
                _ref=contract_no,
                source=s.name,
                target=self.name(hospital),
                item=item.name,
                spec=item.spec,
                standard=item.standard,
                quantity=qty,
                uom=item.unit,
                unit_price=price,
                amount=amount,
                method=method,
                justification=rng.choice(SOLE_SOURCE_REASONS) if method == "单一来源" else "",
                phone=s.phone,
                address=s.address,
                account=s.account,
                registered_on=s.registered_on,
            )
            first = rng.randint(1, packs) if packs > 1 and rng.random() < 0.4 else packs
            when = signed
            for part in (first, packs - first):
                if not part:
                    continue
                when = self.clip(when + timedelta(days=rng.randint(1, 3)))
                part_qty = part * item.per_pack
                lot, expiry = self.lot(item, when)
                self.flow(
                    when,
                    "deliver",
                    supplier,
                    warehouse,
                    item=item.code,
                    quantity=part_qty,
                    ref=contract_no,
                    lot=lot,
                )
                self.rec(
                    "delivery",
                    warehouse,
                    day=when,
                    doc_no=f"YS2020{self.next('YS'):05d}",
                    ref=contract_no,
                    source=s.name,
                    warehouse=self.name(warehouse),
                    target=self.name(hospital),
                    item=item.name,
                    quantity=part_qty,
                    uom=item.unit,
                    lot=lot,
                    expiry=expiry,
                )
                self.stock_in(warehouse, when, contract_no, supplier, item, part_qty, lot, expiry)
                self.issue_all(
                    warehouse, when, contract_no, item, part_qty, lot, expiry, [hospital], hospital
                )
            paid = self.clip(when + timedelta(days=rng.randint(0, 3)))
            self.flow(paid, "pay", hospital, supplier, amount, ref=ref)
            n = self.next("GK")
            self.rec(
                "payment",
                self.finance,
                day=paid,
                doc_no=f"GK2020{n:06d}",
                ref=ref,
                source=self.name(hospital),
                target=s.name,
                amount=amount,
                invoice_no=f"0{supplier[1:]}{n:06d}",
                economic_code=ECONOMIC_CODE,
                purpose=f"支付{contract_no}合同货款",
                account=s.account,
            )
            total += amount
        self.appropriate(day, hospital, ref, total, "疫情防控物资采购")

    def appropriate(self, day, hospital, ref, amount, purpose) -> None:
        self.flow(day, "appropriate", self.finance, hospital, amount, ref=ref)
        self.rec(
            "appropriation",
            self.finance,
            day=day,
            doc_no=f"黄财社〔2020〕{self.next('FIN'):d}号",
            ref=ref,
            source=self.name(self.finance),
            target=self.name(hospital),
            amount=amount,
            purpose=purpose,
        )

    def requests(self, day: date) -> None:
        """Each hospital asks for 1–2 items, about two days' need for its beds."""
        rng = self.rng
        for h in self.hospitals:
            p = self.w.parties[h]
            allowed = ITEMS if p.designated else [i for i in ITEMS if not i.priority]
            for item in rng.sample(allowed, rng.randint(1, 2)):
                need = p.beds * item.need_per_bed * 2 * rng.uniform(0.7, 1.3)
                packs = max(1, math.ceil(need / item.per_pack))
                self.rec(
                    "request",
                    self.command,
                    day=day,
                    doc_no=f"SQ{h}-{self.next(('SQ', h)):05d}",
                    target=p.name,
                    item=item.name,
                    quantity=packs * item.per_pack,
                    uom=item.unit,
                    purpose=f"{rng.choice(DEPARTMENTS)}急需",
                    beds=p.beds,
                )

    def staff(self) -> None:
        """Frontline staff per hospital (in proportion to beds), their rosters and subsidies."""
        rng, w = self.rng, self.w
        total_beds = sum(w.parties[h].beds for h in self.hospitals)
        ids: set[str] = set()
        on_duty: dict[str, list[date]] = {}
        for h in self.hospitals:
            for _ in range(max(3, round(60 * w.scale * w.parties[h].beds / total_beds))):
                code = f"P{len(w.persons) + 1:05d}"
                name = self.person_name(rare=rng.random() < 0.02)
                while True:
                    born = START - timedelta(days=rng.randint(22 * 365, 58 * 365))
                    number = idcard.make(rng.choice(REGIONS), born, rng.randint(0, 999))
                    if number not in ids:
                        ids.add(number)
                        break
                post, tier = rng.choice(POSTS)
                w.persons[code] = Person(code, name, number, h, post, tier, DAILY_RATE[tier])
                self.party(code, name, "person", account=self.account())
                # Blocks of 10–16 days on duty with 5–9 days' rest between.
                days, d = [], rng.randint(0, 10)
                while d < w.days:
                    on = rng.randint(10, 16)
                    days += [START + timedelta(days=i) for i in range(d, min(d + on, w.days))]
                    d += on + rng.randint(5, 9)
                on_duty[code] = days
        for code, person in w.persons.items():
            for day in on_duty[code]:
                self.rec(
                    "roster",
                    person.hospital,
                    day=day,
                    person=person.name,
                    id_number=person.id_number,
                    post=person.post,
                )
        months = sorted({(d.year, d.month) for days in on_duty.values() for d in days})
        for year, month in months:
            for h in self.hospitals:
                if (year, month) == months[-1]:
                    paid = self.end  # the running month is paid at the period end
                else:
                    first = date(year + month // 12, month % 12 + 1, 1)
                    paid = self.clip(first + timedelta(days=rng.randint(2, 6)))
                ref = f"BZ{year % 100:02d}{month:02d}{h}"
                total = 0
                for code, person in w.persons.items():
                    if person.hospital != h:
                        continue
                    n = sum(1 for d in on_duty[code] if (d.year, d.month) == (year, month))
                    if not n:
                        continue
                    amount = n * person.rate_fen
                    total += amount
                    self.flow(paid, "pay", h, code, amount, ref=ref)
                    self.rec(
                        "subsidy",
                        self.health,
                        day=paid,
                        _ref=ref,
                        person=person.name,
                        id_number=person.id_number,
                        post=person.post,
                        tier=person.tier,
                        days=n,
                        rate=person.rate_fen,
                        amount=amount,
                        source=self.name(h),
                    )
                if total:
                    granted = max(START, paid - timedelta(days=rng.randint(1, 3)))
                    self.appropriate(granted, h, ref, total, "一线医务人员临时性工作补助")

    def stock_count(self) -> None:
        """The period-end count per warehouse, item and lot: what the book says is there."""
        expiry = {r["lot"]: r["expiry"] for r in self.w.records["stock"]}
        order = {code: n for n, code in enumerate(self.w.items)}
        held = self.w.stock_by_lot()
        for (warehouse, item, lot), qty in sorted(
            held.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], kv[0][2])
        ):
            if qty:
                it = self.w.items[item]
                self.rec(
                    "stock_count",
                    warehouse,
                    day=self.end,
                    warehouse=self.name(warehouse),
                    item=it.name,
                    lot=lot,
                    expiry=expiry[lot],
                    book_qty=qty,
                    counted_qty=qty,
                    uom=it.unit,
                )

    def statements(self) -> None:
        """Each charity's donation account: credits and debits in day order, running balance."""
        for charity in (self.redcross, self.charity):
            balance = 0
            events = sorted(self.bank_events[charity], key=lambda e: e[0])  # stable within a day
            for n, (day, party, fen_in, fen_out, memo, ref) in enumerate(events, 1):
                balance += fen_in - fen_out
                other = self.w.parties[party]
                self.rec(
                    "bank",
                    charity,
                    day=day,
                    doc_no=f"{day:%Y%m%d}{n:08d}",
                    _ref=ref,
                    counterparty=other.name,
                    counter_account=other.account,
                    amount_in=fen_in or None,
                    amount_out=fen_out or None,
                    balance=balance,
                    purpose=memo,
                    account=self.w.parties[charity].account,
                )

    def finish(self) -> None:
        w = self.w
        w.flows.sort(key=lambda f: (f.day, STEP_ORDER[f.kind], f.ref))
        for kind, rows in w.records.items():
            if kind == "stock":
                rows.sort(key=lambda r: (r["day"], r["direction"] != "入库"))
            elif kind not in ("bank", "stock_count", "staff"):
                rows.sort(key=lambda r: r["day"])  # stable: generation order within a day
        for r in w.records["disclosure"]:
            prefix = "HH" if r["body"] == self.redcross else "CS"
            r["doc_no"] = f"{prefix}GS-{r['day']:%m%d}"

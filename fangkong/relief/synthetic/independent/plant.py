"""Planted problems and legitimate look-alikes (decoys), applied between the simulation stages.

Each plant takes a clean record and gives it one audit problem, in a form an office produces;
each decoy makes something that looks like a problem but that a careful auditor would pass.
Plants and decoys draw from their own streams and never touch the same record twice.
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import fangkong.relief.synthetic.independent.build as B

from .forms import fullwidth, yuan
from .ids import id_check
from .model import (
    AllocLine,
    BankLine,
    CashDonation,
    Hospital,
    Payment,
    Person,
    Problem,
    SignFor,
    Subsidy,
)

PLANTS: list[tuple[str, str, object, int]] = []  # (stage, test id, function, part)
DECOYS: list[tuple[str, str, object]] = []


def plant(stage: str, test_id: str, part: int = 0):
    def deco(fn):
        PLANTS.append((stage, test_id, fn, part))
        return fn

    return deco


def decoy(stage: str, test_id: str):
    def deco(fn):
        DECOYS.append((stage, test_id, fn))
        return fn

    return deco


class Skip(Exception):
    """No suitable record for this plant or decoy (the world is too small)."""


class Planter:
    """Runs the plants and decoys of a stage; remembers what it touched."""

    def __init__(self, w, streams, clean: bool):
        self.w = w
        self.s = streams
        self.clean = clean
        self.n = w.scale.plants
        self.n_decoys = {1: 1, 3: 2}.get(self.n, 3)

    def stage(self, name: str) -> None:
        for stage, _test_id, fn in DECOYS:
            if stage != name:
                continue
            rng = self.s(f"decoy/{fn.__name__}")
            for k in range(self.n_decoys):
                try:
                    self.w.decoys.append(fn(self, rng, k))
                except Skip:
                    break
        if self.clean:
            return
        for stage, test_id, fn, part in PLANTS:
            if stage != name:
                continue
            parts = sum(1 for _, t, _, _ in PLANTS if t == test_id)
            count = -(-self.n // parts) if part == 0 else self.n // parts
            rng = self.s(f"plant/{test_id}/{fn.__name__}")
            for k in range(count):
                try:
                    self.w.problems.append(fn(self, rng, k))
                except Skip:
                    break

    def free(self, *objs) -> bool:
        return not any(getattr(o, "ref", id(o)) in self.w.touched for o in objs)

    def take(self, rng, candidates, *, also=()):
        """An untouched candidate, marked touched (with any related records in ``also``)."""
        pool = [c for c in candidates if self.free(c)]
        if not pool:
            raise Skip
        c = rng.choice(pool)
        self.touch(c, *also)
        return c

    def touch(self, *objs) -> None:
        for o in objs:
            self.w.touched.add(getattr(o, "ref", id(o)))


def P(test_id, sentence, evidence, keys, related=(), ledger=None) -> Problem:
    return Problem(test_id, sentence, evidence, keys, tuple(related), ledger)


def d(x: date | None) -> str:
    return x.isoformat() if x else ""


# ================================================================== staff and subsidies


def _front(w, *, designated=True):
    return [
        p
        for p in w.staff
        if p.moved_to is None
        and not p.separated
        and p.hospital.designated == designated
        and not p.hospital.closed
    ]


@plant("staff", "SUB-ID-INVALID")
def id_invalid(pl, rng, k):
    p = pl.take(rng, _front(pl.w))
    good = p.id_no
    if k % 3 == 0:
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        how = "校验码错误"
    elif k % 3 == 1:
        first = good[:10] + "0230" + good[14:17]
        bad = first + id_check(first)
        how = "出生日期不存在（2月30日）"
    else:
        bad = good[:9] + good[10:]
        how = "只有17位"
    p.id_no = bad
    return P(
        "SUB-ID-INVALID",
        f"{p.hospital.name}一线人员{p.name}的身份证号码{bad}{how}，花名册、排班表和补助发放表都照此填写。",
        [
            (p.ref, ["name", "id"], "花名册"),
            lambda w, p=p: [
                (b.ref, ["name", "id", "amount"], "补助发放表")
                for b in w.subsidies
                if b.person is p
            ][:2],
        ],
        {"name": p.name, "id_number": bad, "hospital": p.hospital.name, "defect": how},
    )


@plant("staff", "SUB-AFTER-SEPARATION")
def after_separation(pl, rng, k):
    p = pl.take(rng, [x for x in _front(pl.w) if x.start <= B.D(2, 1)])
    p.separated = B.D(3, rng.randrange(4, 14))
    p.reason = rng.choice(("离职", "调离"))
    p.ignore_separation = True  # the duty sheet was copied forward after the person left

    def ev(w, p=p):
        out = []
        for b in w.subsidies:
            if b.person is p and b.month == 3:
                out.append((b.ref, ["name", "id", "days", "amount"], "3月补助发放表"))
        for a in w.attendance:
            if a.person is p and a.month == 3:
                out.append((a.ref, ["name", "id", "total"], "3月排班表"))
        return out

    def keys(w, p=p):
        a = next((a for a in w.attendance if a.person is p and a.month == 3), None)
        before = sum(v for day, v in a.days.items() if day <= p.separated.day) if a else 0
        paid = sum(b.days for b in w.subsidies if b.person is p and b.month == 3)
        return {"days_paid_march": str(paid), "duty_days_before_separation": str(before)}

    return P(
        "SUB-AFTER-SEPARATION",
        f"{p.name}于{p.separated:%-m月%-d日}{p.reason}（花名册），3月仍按整月排班发放补助。",
        [(p.ref, ["name", "id", "separated", "reason"], "花名册离岗记录"), ev],
        {
            "name": p.name,
            "id_number": p.id_no,
            "hospital": p.hospital.name,
            "separated": d(p.separated),
            "month": "2020-03",
            "_deferred": keys,
        },
    )


@decoy("staff", "SUB-TWO-PAYERS")
def decoy_transfer(pl, rng, k):
    others = [h for h in pl.w.hospitals if h.designated and not h.closed]
    p = pl.take(rng, [x for x in _front(pl.w) if x.start <= B.D(2, 1)])
    p.moved_to = rng.choice([h for h in others if h is not p.hospital])
    p.moved_on = B.D(2, rng.randrange(10, 20))
    return P(
        "SUB-TWO-PAYERS",
        f"{p.name}于2月{p.moved_on.day}日从{p.hospital.name}调到{p.moved_to.name}，两家医院各按本院排班天数发放2月补助，合计不超过排班天数。",
        [
            lambda w, p=p: [
                (b.ref, ["name", "id", "days"], "2月补助发放表")
                for b in w.subsidies
                if b.person is p and b.month == 2
            ]
        ],
        {"name": p.name, "id_number": p.id_no, "month": "2020-02"},
    )


@decoy("subsidy", "SUB-AFTER-SEPARATION")
def decoy_separated(pl, rng, k):
    cands = [
        p
        for p in pl.w.staff
        if p.separated and not getattr(p, "ignore_separation", False) and pl.free(p)
    ]
    cands = [
        p
        for p in cands
        if any(b.person is p and b.month == p.separated.month for b in pl.w.subsidies)
    ]
    p = pl.take(rng, cands)
    return P(
        "SUB-AFTER-SEPARATION",
        f"{p.name}于{p.separated:%-m月%-d日}{p.reason}，当月补助只发到离岗当天，与排班相符。",
        [
            (p.ref, ["name", "separated"], "花名册"),
            lambda w, p=p: [
                (b.ref, ["name", "days"], "补助发放表")
                for b in w.subsidies
                if b.person is p and b.month == p.separated.month
            ],
        ],
        {"name": p.name, "id_number": p.id_no},
    )


@decoy("subsidy", "SUB-DAYS")
def decoy_half_day(pl, rng, k):
    b = pl.take(rng, [b for b in pl.w.subsidies if b.days % 1 == 0.5 and b.person.moved_to is None])
    a = next(
        a
        for a in pl.w.attendance
        if a.person is b.person and a.hospital is b.hospital and a.month == b.month
    )
    return P(
        "SUB-DAYS",
        f"{b.person.name}{b.month}月补助{b.days}天（含半天班），与排班表合计天数一致。",
        [(b.ref, ["name", "days", "amount"], "补助发放表"), (a.ref, ["name", "total"], "排班表")],
        {"name": b.person.name, "days": str(b.days)},
    )


@decoy("subsidy", "SUB-ID-INVALID")
def decoy_id_forms(pl, rng, k):
    cands = [b for b in pl.w.subsidies if b.person.moved_to is None]
    if k % 2 == 0:
        cands = [b for b in cands if b.person.id_no.endswith("X")] or cands
    b = pl.take(rng, cands)
    if b.person.id_no.endswith("X") and k % 2 == 0:
        b.id_written = b.person.id_no[:-1] + "x"
        how = "末位校验码写成小写x"
    else:
        b.id_written = fullwidth(b.person.id_no)
        how = "以全角数字录入"
    return P(
        "SUB-ID-INVALID",
        f"{b.person.name}的身份证号在补助发放表中{how}，号码本身有效。",
        [(b.ref, ["name", "id"], "补助发放表")],
        {"name": b.person.name, "id_number": b.person.id_no},
    )


def _month_subs(w, b):
    return [x for x in w.subsidies if x.hospital is b.hospital and x.month == b.month]


@plant("subsidy", "SUB-RATE")
def sub_rate(pl, rng, k):
    b = pl.take(
        rng,
        [
            b
            for b in pl.w.subsidies
            if b.days >= 8 and b.person.moved_to is None and pl.free(b.person)
        ],
    )
    if k % 2 == 0:
        b.rate = b.rate + 5000
        b.amount = int(b.days * b.rate)
        what = (
            f"日标准按{b.rate // 100}元（{b.person.tier}标准为{B.RATES[b.person.tier] // 100}元）"
        )
    else:
        b.amount = int(b.days * b.rate) + 30000
        what = f"金额{yuan(b.amount)}元不等于{b.days}天×{b.rate // 100}元"
    return P(
        "SUB-RATE",
        f"{b.hospital.name}{b.month}月补助表中{b.person.name}：{what}。",
        [(b.ref, ["name", "id", "days", "rate", "amount"], "补助发放表")],
        {
            "name": b.person.name,
            "id_number": b.person.id_no,
            "hospital": b.hospital.name,
            "month": f"2020-{b.month:02d}",
            "days": str(b.days),
            "rate": yuan(b.rate),
            "amount": yuan(b.amount),
            "standard": yuan(B.RATES[b.person.tier]),
        },
    )


@plant("subsidy", "SUB-DAYS")
def sub_days(pl, rng, k):
    b = pl.take(
        rng,
        [
            b
            for b in pl.w.subsidies
            if 8 <= b.days <= 22 and b.person.moved_to is None and pl.free(b.person)
        ],
    )
    a = next(
        a
        for a in pl.w.attendance
        if a.person is b.person and a.hospital is b.hospital and a.month == b.month
    )
    b.days = b.days + rng.randrange(4, 8)
    b.amount = int(b.days * b.rate)
    return P(
        "SUB-DAYS",
        f"{b.hospital.name}{b.month}月给{b.person.name}发放补助{b.days}天，排班表当月只有{a.total}天。",
        [
            (b.ref, ["name", "id", "days", "amount"], "补助发放表"),
            (a.ref, ["name", "id", "total"], "排班表"),
        ],
        {
            "name": b.person.name,
            "id_number": b.person.id_no,
            "hospital": b.hospital.name,
            "month": f"2020-{b.month:02d}",
            "days_paid": str(b.days),
            "duty_days": str(a.total),
        },
    )


@plant("subsidy", "SUB-NOT-ON-ROSTER")
def not_on_roster(pl, rng, k):
    w = pl.w
    host = pl.take(rng, [b for b in w.subsidies if b.month in (2, 3)])
    id_no, sex = w.ids.id_number()
    ghost = Person(
        f"ghost{k}",
        w.ids.person_name(),
        sex,
        id_no,
        host.hospital,
        host.person.dept,
        "护士",
        "一类",
        w.ids.mobile(),
        w.ids.home_address(),
        w.ids.card(),
        B.D(2, 1),
    )
    days = float(rng.randrange(15, 24))
    g = Subsidy(
        f"bg{k:03d}",
        ghost,
        host.hospital,
        host.month,
        days,
        B.RATES["一类"],
        int(days * B.RATES["一类"]),
        host.paid_on,
        id_no,
    )
    w.subsidies.insert(w.subsidies.index(host) + 1, g)
    pl.touch(g)
    return P(
        "SUB-NOT-ON-ROSTER",
        f"{g.hospital.name}{g.month}月补助表中的{ghost.name}（{id_no}）在所有医院的排班表中都没有。",
        [(g.ref, ["name", "id", "days", "amount"], "补助发放表")],
        {
            "name": ghost.name,
            "id_number": id_no,
            "hospital": g.hospital.name,
            "month": f"2020-{g.month:02d}",
            "amount": yuan(g.amount),
        },
    )


@plant("subsidy", "SUB-TWO-PAYERS")
def two_payers(pl, rng, k):
    w = pl.w
    b = pl.take(
        rng,
        [
            b
            for b in w.subsidies
            if b.days >= 15
            and b.month in (2, 3)
            and b.person.moved_to is None
            and pl.free(b.person)
        ],
    )
    pl.touch(b.person)
    others = [x for x in w.subsidies if x.month == b.month and x.hospital is not b.hospital]
    if not others:
        raise Skip
    other = rng.choice(others)
    days = b.days - rng.randrange(0, 4)
    g = Subsidy(
        f"b2p{k:03d}",
        b.person,
        other.hospital,
        b.month,
        days,
        b.rate,
        int(days * b.rate),
        other.paid_on,
        b.person.id_no,
    )
    w.subsidies.insert(w.subsidies.index(other) + 1, g)
    pl.touch(g)
    a = next(a for a in w.attendance if a.person is b.person and a.month == b.month)
    return P(
        "SUB-TWO-PAYERS",
        f"{b.person.name}{b.month}月在{b.hospital.name}值班{a.total}天并领取补助，{other.hospital.name}又按{days}天发放了同月补助。",
        [
            (b.ref, ["name", "id", "days"], "本院补助"),
            (g.ref, ["name", "id", "days"], "另一单位补助"),
            (a.ref, ["name", "id", "total"], "排班表"),
        ],
        {
            "name": b.person.name,
            "id_number": b.person.id_no,
            "month": f"2020-{b.month:02d}",
            "payers": [b.hospital.name, other.hospital.name],
            "days_paid": str(b.days + days),
            "duty_days": str(a.total),
        },
    )


# ================================================================== procurement


def _week(c):
    return c.signed.isocalendar()[1]


def _per_piece(c) -> float:
    return c.price / c.per


@plant("contracts", "PRICE-OUTLIER-WEEK")
def price_week(pl, rng, k):
    w = pl.w
    groups: dict = {}
    for c in w.contracts:
        groups.setdefault((_week(c), c.item.key), []).append(c)
    cands = [
        c
        for (wk, key), cs in groups.items()
        if len(cs) >= 3 and key in B.PRICED_NO_REF and all(pl.free(x) for x in cs)
        for c in cs
    ]
    c = pl.take(rng, cands)
    group = groups[(_week(c), c.item.key)]
    pl.touch(*group)
    median = statistics.median(_per_piece(x) for x in group if x is not c)
    c.price = int(median * rng.uniform(3.5, 5.0)) * c.per
    return P(
        "PRICE-OUTLIER-WEEK",
        f"合同{c.no}（{c.supplier.name}）{c.item.name}单价折合每{c.item.unit}{_per_piece(c) / 100:.2f}元，同周其他合同中位价{median / 100:.2f}元。",
        [(c.ref, ["no", "signed", "supplier", "item", "price", "unit"], "高价合同")]
        + [(x.ref, ["no", "price"], "同周同类合同") for x in group if x is not c],
        {
            "contract_no": c.no,
            "supplier": c.supplier.name,
            "item": c.item.name,
            "iso_week": _week(c),
            "price_per_piece": f"{_per_piece(c) / 100:.4f}",
            "median_per_piece": f"{median / 100:.4f}",
        },
    )


@plant("contracts", "PRICE-OUTLIER-BENCHMARK")
def price_benchmark(pl, rng, k):
    w = pl.w
    groups: dict = {}
    for c in w.contracts:
        groups.setdefault((_week(c), c.item.key), []).append(c)
    cands = [
        cs[0]
        for (wk, key), cs in groups.items()
        if len(cs) == 1 and w.items[key].ref_price and key != "vent"
    ]
    if not [c for c in cands if pl.free(c)]:
        # No contract alone in its week: move one to a week without that item (before any delivery).
        movable = [
            c
            for c in w.contracts
            if c.item.ref_price
            and c.item.key != "vent"
            and pl.free(c)
            and len(groups[(_week(c), c.item.key)]) > 1
        ]
        for c in movable:
            empty = [wk for wk in range(5, 16) if (wk, c.item.key) not in groups]
            if empty:
                c.signed = date.fromisocalendar(2020, empty[0], 3)
                cands = [c]
                break
    c = pl.take(rng, cands)
    ratio = rng.uniform(6, 9)
    c.price = int(c.item.ref_price * ratio) * c.per
    return P(
        "PRICE-OUTLIER-BENCHMARK",
        f"合同{c.no}{c.item.name}单价折合每{c.item.unit}{_per_piece(c) / 100:.2f}元，是疫情前参考价{c.item.ref_price / 100:.2f}元的{ratio:.1f}倍。",
        [
            (c.ref, ["no", "item", "price", "unit"], "合同"),
            (f"pr.{c.item.key}", ["item", "price"], "疫情前参考价"),
        ],
        {
            "contract_no": c.no,
            "supplier": c.supplier.name,
            "item": c.item.name,
            "price_per_piece": f"{_per_piece(c) / 100:.4f}",
            "reference_price": yuan(c.item.ref_price),
        },
    )


@plant("contracts", "SOLE-SOURCE-UNJUSTIFIED")
def sole_source(pl, rng, k):
    c = pl.take(rng, [c for c in pl.w.contracts if c.method == "单一来源"])
    c.reason = ""
    return P(
        "SOLE-SOURCE-UNJUSTIFIED",
        f"合同{c.no}（{c.supplier.name}，{c.item.name}）采用单一来源采购，台账未填写理由。",
        [(c.ref, ["no", "supplier", "method", "reason"], "合同台账")],
        {"contract_no": c.no, "supplier": c.supplier.name, "method": "单一来源"},
    )


@decoy("contracts", "SOLE-SOURCE-UNJUSTIFIED")
def decoy_sole_source(pl, rng, k):
    c = pl.take(rng, [c for c in pl.w.contracts if c.method == "单一来源" and c.reason])
    return P(
        "SOLE-SOURCE-UNJUSTIFIED",
        f"合同{c.no}单一来源采购，已写明理由。",
        [(c.ref, ["no", "method", "reason"], "合同台账")],
        {"contract_no": c.no},
    )


def _contracted(w):
    firsts: dict = {}
    for c in w.contracts:
        if c.supplier.ref not in firsts or c.signed < firsts[c.supplier.ref].signed:
            firsts[c.supplier.ref] = c
    return firsts


@plant("contracts", "SUPPLIER-NEW")
def supplier_new(pl, rng, k):
    w = pl.w
    firsts = _contracted(w)
    s = pl.take(
        rng, [s for s in w.suppliers if s.ref in firsts and firsts[s.ref].signed >= B.D(2, 5)]
    )
    first = firsts[s.ref]
    s.founded = max(B.D(1, 21), first.signed - timedelta(days=rng.randrange(6, 20)))
    return P(
        "SUPPLIER-NEW",
        f"{s.name}成立于{s.founded:%Y年%-m月%-d日}，{(first.signed - s.founded).days}天后即签订合同{first.no}。",
        [
            (s.ref, ["name", "code", "founded"], "供应商名录"),
            (first.ref, ["no", "signed", "supplier"], "首份合同"),
        ],
        {
            "supplier": s.name,
            "credit_code": s.code,
            "founded": d(s.founded),
            "first_contract": first.no,
            "signed": d(first.signed),
        },
    )


@decoy("contracts", "SUPPLIER-NEW")
def decoy_renamed(pl, rng, k):
    w = pl.w
    firsts = _contracted(w)
    s = pl.take(rng, [s for s in w.suppliers if s.ref in firsts and s.founded.year < 2016])
    s.note = f"2020年2月{rng.randrange(3, 20)}日由{s.name[:2]}{rng.choice(B.SUPPLIER_WORDS)}商贸有限公司更名"
    return P(
        "SUPPLIER-NEW",
        f"{s.name}2020年2月更名，成立日期{s.founded:%Y-%m-%d}，不是新设企业。",
        [(s.ref, ["name", "founded"], "供应商名录")],
        {"supplier": s.name},
    )


@plant("contracts", "SUPPLIER-STAFF-LINK")
def supplier_staff(pl, rng, k):
    w = pl.w
    firsts = _contracted(w)
    s = pl.take(rng, [s for s in w.suppliers if s.ref in firsts])
    if k % 3 == 0:
        person = pl.take(rng, [p for p in w.staff if p.moved_to is None])
        s.phone = person.phone
        what, value, role = "联系电话", person.phone, "一线人员花名册"
        fields = ["name", "phone"]
    elif k % 3 == 1:
        person = pl.take(rng, w.managers)
        s.address = person.address
        what, value, role = "注册地址", person.address, "管理人员名单"
        fields = ["name", "address"]
    else:
        person = pl.take(rng, w.managers)
        s.account = person.card
        s.bank = "中国工商银行"
        for c in w.contracts:
            if c.supplier is s:
                c.payee_account, c.payee_bank = s.account, s.bank
        what, value, role = "收款账号", person.card, "管理人员名单"
        fields = ["name", "card"]
    return P(
        "SUPPLIER-STAFF-LINK",
        f"供应商{s.name}的{what}与{person.name}（{role}）相同。",
        [
            (
                s.ref,
                ["name", {"联系电话": "phone", "注册地址": "address", "收款账号": "account"}[what]],
                "供应商名录",
            ),
            (person.ref, fields, role),
        ],
        {"supplier": s.name, "person": person.name, "shared": what, "value": value},
    )


@decoy("contracts", "SUPPLIER-STAFF-LINK")
def decoy_same_name(pl, rng, k):
    w = pl.w
    firsts = _contracted(w)
    s = pl.take(rng, [s for s in w.suppliers if s.ref in firsts])
    person = pl.take(rng, w.staff)
    s.legal_rep = person.name
    return P(
        "SUPPLIER-STAFF-LINK",
        f"供应商{s.name}的法定代表人与一线人员{person.name}同名，电话、地址、账号都不同。",
        [(s.ref, ["name", "legal_rep"], "供应商名录")],
        {"supplier": s.name, "name": person.name},
    )


@decoy("contracts", "PRICE-OUTLIER-BENCHMARK")
def decoy_boxed_price(pl, rng, k):
    c = pl.take(
        rng, [c for c in pl.w.contracts if c.price_unit in ("盒", "箱") and c.item.ref_price]
    )
    return P(
        "PRICE-OUTLIER-BENCHMARK",
        f"合同{c.no}按{c.price_unit}计价（{c.item.spec}），折合单价正常。",
        [(c.ref, ["no", "price", "unit"], "合同台账")],
        {"contract_no": c.no, "price_per_piece": f"{_per_piece(c) / 100:.4f}"},
    )


@plant("deliveries", "CONTRACT-AFTER-DELIVERY")
def after_delivery(pl, rng, k):
    w = pl.w
    first = {}
    for dv in w.deliveries:
        first.setdefault(dv.contract.ref, dv)
    c = pl.take(rng, [c for c in w.contracts if c.ref in first and first[c.ref].hospital is None])
    dv = first[c.ref]
    c.signed = dv.day + timedelta(days=rng.randrange(4, 15))
    return P(
        "CONTRACT-AFTER-DELIVERY",
        f"合同{c.no}签订于{c.signed:%-m月%-d日}，而{dv.day:%-m月%-d日}已到货验收。",
        [(c.ref, ["no", "signed"], "合同台账"), (dv.ref, ["contract", "date"], "首次到货验收")],
        {
            "contract_no": c.no,
            "signed": d(c.signed),
            "first_delivery": d(dv.day),
            "supplier": c.supplier.name,
        },
    )


@decoy("deliveries", "CONTRACT-AFTER-DELIVERY")
def decoy_same_day(pl, rng, k):
    w = pl.w
    first = {}
    for dv in w.deliveries:
        first.setdefault(dv.contract.ref, dv)
    c = pl.take(rng, [c for c in w.contracts if c.ref in first and first[c.ref].hospital is None])
    first[c.ref].day = c.signed
    return P(
        "CONTRACT-AFTER-DELIVERY",
        f"合同{c.no}签订当天到货验收。",
        [(c.ref, ["no", "signed"], "合同"), (first[c.ref].ref, ["date"], "到货验收")],
        {"contract_no": c.no},
    )


@plant("deliveries", "PAID-NOT-RECEIVED")
def paid_not_received(pl, rng, k):
    w = pl.w
    dels: dict = {}
    for dv in w.deliveries:
        dels.setdefault(dv.contract.ref, []).append(dv)
    c = pl.take(
        rng,
        [
            c
            for c in w.contracts
            if len(dels.get(c.ref, [])) >= 2 and dels[c.ref][0].hospital is None
        ],
    )
    kept = dels[c.ref][0]
    for dv in dels[c.ref][1:]:
        w.deliveries.remove(dv)
    c.overpay = True
    delivered = kept.qty // c.per * c.price
    return P(
        "PAID-NOT-RECEIVED",
        f"合同{c.no}金额{yuan(c.amount)}元已全额支付，到货验收只有{kept.qty}{c.item.unit}（价值{yuan(delivered)}元）。",
        [
            (c.ref, ["no", "supplier", "amount"], "合同"),
            (kept.ref, ["contract", "qty"], "到货验收"),
            lambda w, c=c: [
                (p.ref, ["payee", "amount"], "付款") for p in w.payments if p.contract is c
            ],
        ],
        {
            "contract_no": c.no,
            "supplier": c.supplier.name,
            "contract_amount": yuan(c.amount),
            "delivered_value": yuan(delivered),
            "paid": yuan(c.amount),
        },
    )


@plant("contract_payments", "PAYEE-FUZZY")
def payee_fuzzy(pl, rng, k):
    w = pl.w
    p = pl.take(
        rng,
        [
            p
            for p in w.payments
            if p.payer == "财政局"
            and p.contract is not None
            and "有限" in p.payee
            and pl.free(p.contract)
        ],
    )
    owner = p.payee
    p.payee = owner.split("有限")[0].replace("股份", "") + rng.choice(("经营部", "商行", "销售部"))
    c = p.contract
    return P(
        "PAYEE-FUZZY",
        f"财政局向“{p.payee}”付款{yuan(p.amount)}元，收款账号{p.account}在合同{c.no}中登记为{owner}的账户。",
        [
            (p.ref, ["payee", "account", "amount"], "付款"),
            (c.ref, ["no", "supplier", "account"], "合同收款账户"),
        ],
        {"payee": p.payee, "account": p.account, "account_owner": owner, "amount": yuan(p.amount)},
    )


@decoy("contract_payments", "PAYEE-FUZZY")
def decoy_twins(pl, rng, k):
    w = pl.w
    names = {s.name: s for s in w.suppliers}
    pairs = [
        (names[n], names[n.replace("有限公司", "有限责任公司")])
        for n in names
        if n.endswith("有限公司")
        and not n.endswith("股份有限公司")
        and n.replace("有限公司", "有限责任公司") in names
    ]
    pair = pl.take(rng, [a for a, _ in pairs])
    twin = names[pair.name.replace("有限公司", "有限责任公司")]
    return P(
        "PAYEE-FUZZY",
        f"{pair.name}与{twin.name}是两家不同的公司（信用代码、账号、电话、地址都不同）。",
        [
            (pair.ref, ["name", "code", "account"], "供应商名录"),
            (twin.ref, ["name", "code", "account"], "供应商名录"),
        ],
        {"names": [pair.name, twin.name]},
    )


# ================================================================== donations


def receipt_text(w, g) -> str:
    """The printed number of a donation receipt (公益事业捐赠统一票据)."""
    if g.receipt_override:
        return g.receipt_override
    seq = g.receipt_seq
    if getattr(g, "new_book", False):  # a new receipt book starts a new number range
        seq += w.receipt_jumps[g.charity]
    if g.charity == B.RC:
        return f"No.{23000 + seq:07d}"
    return f"CJCS{8000 + seq:06d}"


def _registered(w, charity=None):
    return [
        g
        for g in w.cash
        if g.in_register and not g.void and (charity is None or g.charity == charity)
    ]


@decoy("donations", "SERIES-GAP")
def decoy_new_book(pl, rng, k):
    w = pl.w
    charity = (B.RC, B.CF)[k % 2]
    if charity in w.receipt_jumps:
        raise Skip
    gifts = sorted(_registered(w, charity), key=lambda g: g.receipt_seq)
    g = gifts[len(gifts) * 2 // 3]
    pl.touch(g, gifts[gifts.index(g) - 1])
    w.receipt_jumps[charity] = 50000
    for x in gifts[gifts.index(g) :]:
        x.new_book = True
    before = gifts[gifts.index(g) - 1]
    return P(
        "SERIES-GAP",
        f"{B.CHARITY_NAMES[charity]}启用新票据本，号码从旧号段跳到新号段（换号段，不是缺号）。",
        [(before.ref, ["receipt"], "旧号段最后一张"), (g.ref, ["receipt"], "新号段第一张")],
        {"from": lambda w, b=before: receipt_text(w, b), "to": lambda w, g=g: receipt_text(w, g)},
    )


@decoy("donations", "SERIES-GAP")
def decoy_void(pl, rng, k):
    w = pl.w
    charity = (B.CF, B.RC)[k % 2]
    gifts = sorted(_registered(w, charity), key=lambda g: g.receipt_seq)
    g = pl.take(rng, gifts[5 : len(gifts) // 2])
    seq = g.receipt_seq
    for x in w.cash:
        if x.charity == charity and x.receipt_seq > seq:
            x.receipt_seq += 1
    v = CashDonation(
        f"{g.ref}v",
        charity,
        "",
        seq + 1,
        g.received,
        g.donor,
        0,
        registered=g.registered,
        void=True,
    )
    v.new_book = getattr(g, "new_book", False)
    w.cash.insert(w.cash.index(g) + 1, v)
    pl.touch(v)
    return P(
        "SERIES-GAP",
        f"票据{receipt_text(w, v)}作废，登记表留有作废行，号码连续。",
        [(v.ref, ["receipt"], "作废票据")],
        {"receipt": receipt_text(w, v)},
    )


@plant("donations", "SERIES-GAP")
def receipt_gap(pl, rng, k):
    w = pl.w
    charity = (B.RC, B.CF)[k % 2]
    gifts = sorted(_registered(w, charity), key=lambda g: g.receipt_seq)
    g = pl.take(rng, gifts[3:-3])
    nxt = gifts[gifts.index(g) + 1]
    if not pl.free(nxt) or nxt.void:
        raise Skip
    pl.touch(nxt)
    for x in w.cash:
        if x.charity == charity and x.receipt_seq > g.receipt_seq and x.receipt_seq:
            x.receipt_seq += 1
    missing = g.receipt_seq + 1
    probe = CashDonation("", charity, "", missing, g.received, g.donor, 0)
    probe.new_book = getattr(g, "new_book", False)
    return P(
        "SERIES-GAP",
        f"{B.CHARITY_NAMES[charity]}捐赠票据号{receipt_text(w, g)}之后直接是{receipt_text(w, nxt)}，缺{receipt_text(w, probe)}。",
        [(g.ref, ["receipt", "date"], "缺号前一张"), (nxt.ref, ["receipt", "date"], "缺号后一张")],
        {"missing": receipt_text(w, probe), "charity": B.CHARITY_NAMES[charity]},
    )


@plant("donations", "SERIES-REUSE")
def receipt_reuse(pl, rng, k):
    w = pl.w
    charity = (B.CF, B.RC)[k % 2]
    gifts = sorted(_registered(w, charity), key=lambda g: g.receipt_seq)
    a = pl.take(rng, gifts[3 : len(gifts) // 2])
    b = pl.take(
        rng,
        [
            g
            for g in gifts[gifts.index(a) + 3 :]
            if g.received > a.received and g.donor is not a.donor
        ],
    )
    text = receipt_text(w, a)
    seq = b.receipt_seq
    for x in w.cash:
        if x.charity == charity and x.receipt_seq > seq:
            x.receipt_seq -= 1
    b.receipt_override = text
    b.receipt_seq = 0
    return P(
        "SERIES-REUSE",
        f"捐赠票据号{text}同时用于{a.received:%-m月%-d日}{a.donor.name}和{b.received:%-m月%-d日}{b.donor.name}两笔捐款。",
        [
            (a.ref, ["receipt", "date", "donor", "amount"], "第一次使用"),
            (b.ref, ["receipt", "date", "donor", "amount"], "重复使用"),
        ],
        {
            "receipt": text,
            "charity": B.CHARITY_NAMES[charity],
            "donors": [a.donor.name, b.donor.name],
            "dates": [d(a.received), d(b.received)],
        },
    )


@plant("donations", "BANK-UNBOOKED")
def bank_unbooked(pl, rng, k):
    w = pl.w
    charity = (B.RC, B.CF)[k % 2]
    donor = rng.choice([x for x in w.donors if x.kind == "company"])
    day = B.epi_day(rng, until=B.D(4, 30))
    g = CashDonation(
        f"cd.un{k:03d}",
        charity,
        "",
        0,
        day,
        donor,
        rng.randrange(50, 400) * 100000,
        in_register=False,
    )
    w.cash.append(g)
    pl.touch(g)
    return P(
        "BANK-UNBOOKED",
        f"{B.CHARITY_NAMES[charity]}捐赠账户{day:%-m月%-d日}收到{donor.name}{yuan(g.amount)}元，捐赠资金登记表中没有这笔登记。",
        [(f"bk.{g.ref}", ["date", "counterparty", "credit"], "银行流水进账")],
        {
            "charity": B.CHARITY_NAMES[charity],
            "date": d(day),
            "party": donor.name,
            "amount": yuan(g.amount),
        },
    )


def _plain_gifts(pl, charity=None, until=None):
    until = until or B.D(5, 31)
    return [
        g
        for g in pl.w.cash
        if g.in_register
        and not g.void
        and g.directed is None
        and g.donor.kind not in ("platform",)
        and not g.payer_name
        and g.received <= until
        and (charity is None or g.charity == charity)
    ]


@plant("donations", "REG-NO-BANK")
def reg_no_bank(pl, rng, k):
    g = pl.take(rng, _plain_gifts(pl, (B.RC, B.CF)[k % 2]))
    g.no_bank = True
    return P(
        "REG-NO-BANK",
        f"{B.CHARITY_NAMES[g.charity]}登记{g.received:%-m月%-d日}收到{g.donor.name}捐款{yuan(g.amount)}元（票据{receipt_text(pl.w, g)}），捐赠账户流水中没有这笔进账。",
        [(g.ref, ["no", "receipt", "date", "donor", "amount"], "捐赠资金登记")],
        {
            "charity": B.CHARITY_NAMES[g.charity],
            "donation_no": g.no,
            "receipt": lambda w, g=g: receipt_text(w, g),
            "date": d(g.received),
            "party": g.donor.name,
            "amount": yuan(g.amount),
        },
    )


@decoy("donations", "BANK-UNBOOKED")
def decoy_refund(pl, rng, k):
    w = pl.w
    g = pl.take(rng, _plain_gifts(pl, (B.RC, B.CF)[k % 2], until=B.D(4, 30)))
    credit = BankLine(
        f"bk.dup{k}",
        g.charity,
        g.received,
        "跨行汇款（重复汇入）",
        g.donor.name,
        g.donor.account,
        g.donor.bank,
        credit=g.amount,
        seq=0,
    )
    debit = BankLine(
        f"bk.ret{k}",
        g.charity,
        g.received + timedelta(days=2),
        "退还重复汇款",
        g.donor.name,
        g.donor.account,
        g.donor.bank,
        debit=g.amount,
        seq=1,
    )
    w.extra_bank += [credit, debit]
    return P(
        "BANK-UNBOOKED",
        f"{g.donor.name}重复汇入{yuan(g.amount)}元，两天后原路退还，不是账外捐款。",
        [
            (credit.ref, ["date", "counterparty", "credit"], "重复进账"),
            (debit.ref, ["date", "counterparty", "debit"], "退回"),
        ],
        {"party": g.donor.name, "amount": yuan(g.amount)},
    )


@plant("donations", "DISC-MISSING")
def disc_missing(pl, rng, k):
    w = pl.w
    if k % 3 == 2:
        g = pl.take(rng, [g for g in w.goods if g.received <= B.D(5, 31)])
        g.undisclosed = True
        fields = ["no", "date", "donor", "item", "qty"]
        what = f"{g.item.name}{g.qty}{g.item.unit}"
    else:
        g = pl.take(rng, _plain_gifts(pl, (B.RC, B.CF)[k % 2]))
        g.undisclosed = True
        fields = ["no", "date", "donor", "amount"]
        what = f"{yuan(g.amount)}元"
    return P(
        "DISC-MISSING",
        f"{B.CHARITY_NAMES[g.charity]}{g.received:%-m月%-d日}接收{g.donor.name}捐赠{what}，各期公示中都没有。",
        [(g.ref, fields, "捐赠登记")],
        {
            "charity": B.CHARITY_NAMES[g.charity],
            "donation_no": g.no,
            "date": d(g.received),
            "party": g.donor.name,
            "what": what,
        },
    )


@plant("donations", "DISC-WRONG")
def disc_wrong(pl, rng, k):
    w = pl.w
    if k % 2 == 1:
        kn = [g for g in w.goods if g.item.key == "kn95" and g.received <= B.D(5, 31)]
        g = pl.take(rng, kn or [g for g in w.goods if g.received <= B.D(5, 31)])
        if g.item.key == "kn95":
            g.grade_written = "医用防护口罩（N95）"
            what = "把民用KN95口罩公示为医用防护口罩"
        else:
            g.disclosed_qty = g.qty // 2
            what = f"公示数量{g.qty // 2}{g.item.unit}，登记{g.qty}{g.item.unit}"
        fields = ["no", "donor", "item", "qty"]
    else:
        g = pl.take(rng, _plain_gifts(pl))
        g.disclosed_amount = g.amount * 10 if g.amount < 10000000 else g.amount // 10
        what = f"公示金额{yuan(g.disclosed_amount)}元，登记{yuan(g.amount)}元"
        fields = ["no", "donor", "amount"]
    return P(
        "DISC-WRONG",
        f"{B.CHARITY_NAMES[g.charity]}{g.donor.name}的捐赠{what}。",
        [
            (g.ref, fields, "捐赠登记"),
            (
                f"ds.{g.ref}",
                [
                    "donor",
                    "amount" if "amount" in fields else "item",
                    "qty" if "qty" in fields else "amount",
                ],
                "公示",
            ),
        ],
        {
            "charity": B.CHARITY_NAMES[g.charity],
            "donation_no": g.no,
            "party": g.donor.name,
            "date": d(g.received),
            "what": what,
        },
    )


@plant("donations", "DISC-LATE")
def disc_late(pl, rng, k):
    w = pl.w
    if k % 3 == 2:
        g = pl.take(rng, [g for g in w.goods if g.received <= B.D(4, 30)])
    else:
        g = pl.take(rng, _plain_gifts(pl, until=B.D(4, 30)))
    win = B.disclose_window(g.received)
    g.disclose_on = g.received + timedelta(days=win + rng.randrange(15, 30))
    return P(
        "DISC-LATE",
        f"{B.CHARITY_NAMES[g.charity]}{g.received:%-m月%-d日}接收{g.donor.name}的捐赠，直到公示期限（{win}天）过后很久才公示。",
        [(g.ref, ["no", "date", "donor"], "捐赠登记"), (f"ds.{g.ref}", ["donor", "date"], "公示")],
        {
            "charity": B.CHARITY_NAMES[g.charity],
            "donation_no": g.no,
            "party": g.donor.name,
            "received": d(g.received),
            "window_days": win,
            "disclosed_on": lambda w, g=g: d(g.disclose_on),
        },
    )


@decoy("donations", "DISC-LATE")
def decoy_within_window(pl, rng, k):
    w = pl.w
    g = pl.take(rng, _plain_gifts(pl, until=B.D(5, 31)))
    win = B.disclose_window(g.received)
    batches = [b.day for b in w.batches_disclosed if b.charity == g.charity] or _future_batches(
        w, g.charity
    )
    fits = [
        x
        for x in batches
        if g.received + timedelta(days=win - 2) <= x <= g.received + timedelta(days=win)
    ]
    if not fits:
        raise Skip
    g.disclose_on = fits[0]
    return P(
        "DISC-LATE",
        f"{g.donor.name}的捐赠{(g.disclose_on - g.received).days}天后公示，仍在{win}天期限内。",
        [(g.ref, ["date"], "登记"), (f"ds.{g.ref}", ["date"], "公示")],
        {"donation_no": g.no, "window_days": win},
    )


def _future_batches(w, charity):
    """The disclosure days before they are built (same rule as build_disclosures)."""
    rng = B.Streams(w.seed)(f"disclose/{charity}")
    days, x = [], B.D(1, 28)
    while x <= B.D(6, 26):
        days.append(x)
        step = 3 if x < B.D(3, 31) else 7
        x += timedelta(days=step + (rng.choice((0, 1)) if step == 3 else 0))
    return days


@decoy("donations", "DISC-MISSING")
def decoy_recent(pl, rng, k):
    w = pl.w
    recent = [g for g in _plain_gifts(pl, until=B.D(6, 30)) if g.received >= B.D(6, 24)]
    if not recent:
        donor = rng.choice(w.donors)
        g = CashDonation(
            f"cd.late{k}",
            (B.RC, B.CF)[k % 2],
            f"{'HH' if k % 2 == 0 else 'CS'}J2020{9000 + k}",
            0,
            B.D(6, 28),
            donor,
            3000000,
            registered=B.D(6, 28),
        )
        _append_registered(w, g)
    else:
        g = pl.take(rng, recent)
    pl.touch(g)
    g.undisclosed = True
    return P(
        "DISC-MISSING",
        f"{g.donor.name}{g.received:%-m月%-d日}的捐赠尚未公示，公示期限未到。",
        [(g.ref, ["date", "donor"], "捐赠登记")],
        {"donation_no": g.no},
    )


def _append_registered(w, g):
    same = [x for x in w.cash if x.charity == g.charity and x.receipt_seq]
    last = max(same, key=lambda x: x.receipt_seq)
    g.receipt_seq = last.receipt_seq + 1
    g.new_book = getattr(last, "new_book", False)
    w.cash.append(g)


@decoy("donations", "DISC-WRONG")
def decoy_cases(pl, rng, k):
    g = pl.take(rng, [g for g in pl.w.goods if g.received <= B.D(5, 31) and g.item.per_case > 1])
    g.disclosed_in_cases = True
    return P(
        "DISC-WRONG",
        f"{g.donor.name}捐赠{g.item.name}公示为{g.qty // g.item.per_case}箱（{g.item.spec}），折合与登记一致。",
        [(g.ref, ["qty"], "登记"), (f"ds.{g.ref}", ["qty"], "公示")],
        {"donation_no": g.no},
    )


@plant("donations", "DIRECTED-NOT-HONOURED")
def directed_cash(pl, rng, k):
    w = pl.w
    if k % 3 == 2:
        return _directed_goods_flag(pl, rng, k)
    g = pl.take(
        rng,
        [
            g
            for g in w.cash
            if isinstance(g.directed, Hospital)
            and g.in_register
            and not g.void
            and g.received <= B.D(6, 20)
        ],
    )
    g.pay_to = rng.choice([h for h in w.hospitals if h is not g.directed and not h.closed])
    return P(
        "DIRECTED-NOT-HONOURED",
        f"{g.donor.name}定向捐赠{g.directed.name}{yuan(g.amount)}元，{B.CHARITY_NAMES[g.charity]}拨给了{g.pay_to.name}，没有捐赠人同意变更的依据。",
        [
            (g.ref, ["no", "donor", "amount", "directed"], "定向捐赠登记"),
            lambda w, g=g: [
                (x.ref, ["payee", "amount", "directed", "consent"], "拨付")
                for x in w.disbursements
                if x.donation is g
            ],
        ],
        {
            "donation_no": g.no,
            "party": g.donor.name,
            "amount": yuan(g.amount),
            "directed_to": g.directed.name,
            "paid_to": g.pay_to.name,
        },
    )


def _directed_goods_flag(pl, rng, k):
    w = pl.w
    g = pl.take(
        rng, [g for g in w.goods if g.warehouse and g.received <= B.D(5, 31) and g.directed is None]
    )
    g.directed = rng.choice([h for h in w.hospitals if h.designated and not h.closed])
    g.redirect_to = rng.choice(
        [h for h in w.hospitals if h.designated and h is not g.directed and not h.closed]
    )
    return P(
        "DIRECTED-NOT-HONOURED",
        f"{g.donor.name}定向捐赠{g.directed.name}的{g.item.name}{g.qty}{g.item.unit}被分配给{g.redirect_to.name}，没有捐赠人同意。",
        [
            (g.ref, ["no", "donor", "item", "directed"], "定向捐赠物资登记"),
            lambda w, g=g: [
                (a.ref, ["recipient", "item", "qty", "source_no"], "分配")
                for a in w.allocs
                if a.source_no == g.no
            ][:3],
        ],
        {
            "donation_no": g.no,
            "party": g.donor.name,
            "item": g.item.name,
            "directed_to": g.directed.name,
            "given_to": g.redirect_to.name,
        },
    )


@decoy("donations", "DIRECTED-NOT-HONOURED")
def decoy_consent(pl, rng, k):
    w = pl.w
    g = pl.take(
        rng,
        [
            g
            for g in w.cash
            if isinstance(g.directed, Hospital)
            and g.in_register
            and not g.void
            and g.received <= B.D(6, 20)
        ],
    )
    g.pay_to = rng.choice([h for h in w.hospitals if h is not g.directed and not h.closed])
    g.consent = f"捐赠方同意变更函（{(g.received + timedelta(days=3)):%Y年%-m月%-d日}）"
    return P(
        "DIRECTED-NOT-HONOURED",
        f"{g.donor.name}定向{g.directed.name}的捐款经捐赠人书面同意改拨{g.pay_to.name}。",
        [
            (g.ref, ["directed", "consent"], "登记"),
            lambda w, g=g: [
                (x.ref, ["payee", "consent"], "拨付") for x in w.disbursements if x.donation is g
            ],
        ],
        {"donation_no": g.no},
    )


@decoy("donations", "DIRECTED-NOT-HONOURED")
def decoy_alias(pl, rng, k):
    g = pl.take(
        rng,
        [g for g in pl.w.cash if isinstance(g.directed, Hospital) and g.in_register and not g.void],
    )
    g.directed_written = g.directed.alias
    return P(
        "DIRECTED-NOT-HONOURED",
        f"登记表定向单位写作简称“{g.directed.alias}”，医院名录中即{g.directed.name}，拨付对象一致。",
        [(g.ref, ["directed"], "登记")],
        {"donation_no": g.no, "alias": g.directed.alias, "name": g.directed.name},
    )


@plant("donations", "GOODS-UNBOOKED")
def goods_unbooked(pl, rng, k):
    w = pl.w
    g = pl.take(
        rng,
        [
            g
            for g in w.goods
            if g.warehouse
            and g.directed is None
            and g.received <= B.D(5, 31)
            and g.qty >= 4 * g.item.per_case
        ],
    )
    if k % 3 == 0:
        g.not_booked = True
        what = "没有入库记录"
    elif k % 3 == 1:
        g.short_booked = g.qty // g.item.per_case * 3 // 10 * g.item.per_case or g.item.per_case
        what = f"只入库{g.qty - g.short_booked}{g.item.unit}"
    else:
        g.late_days = rng.randrange(20, 30)
        what = f"{g.late_days}天后才入库"
    return P(
        "GOODS-UNBOOKED",
        f"{B.CHARITY_NAMES[g.charity]}{g.received:%-m月%-d日}接收{g.donor.name}捐赠{g.item.name}{g.qty}{g.item.unit}（存{g.warehouse}），{what}。",
        [
            (g.ref, ["no", "date", "item", "qty", "warehouse"], "捐赠物资登记"),
            lambda w, g=g: [
                (b.ref, ["date", "source_no", "qty"], "入库")
                for b in w.batches
                if b.source_no == g.no
            ],
        ],
        {
            "donation_no": g.no,
            "party": g.donor.name,
            "item": g.item.name,
            "qty": g.qty,
            "warehouse": g.warehouse,
            "defect": what,
        },
    )


@decoy("donations", "GOODS-UNBOOKED")
def decoy_direct(pl, rng, k):
    g = pl.take(rng, [g for g in pl.w.goods if g.direct_to is not None])
    return P(
        "GOODS-UNBOOKED",
        f"{g.donor.name}捐赠的{g.item.name}直接送到{g.direct_to.name}，有医院签收，不经仓库。",
        [
            (g.ref, ["no", "warehouse"], "登记"),
            lambda w, g=g: [
                (s.ref, ["doc_no", "qty"], "医院签收") for s in w.signs if s.doc_no == g.no
            ],
        ],
        {"donation_no": g.no, "hospital": g.direct_to.name},
    )


@decoy("donations", "ALLOC-DISPROPORTION")
def decoy_directed_small(pl, rng, k):
    w = pl.w
    small = [h for h in w.hospitals if h.beds <= 150 and not h.closed]
    if not small:
        raise Skip
    g = pl.take(
        rng, [g for g in w.goods if g.warehouse and g.directed is None and not g.item.priority]
    )
    g.directed = rng.choice(small)
    return P(
        "ALLOC-DISPROPORTION",
        f"{g.donor.name}指定捐给{g.directed.name}的{g.item.name}全部分给该院（捐赠人定向，不属自行分配）。",
        [
            (g.ref, ["no", "directed"], "登记"),
            lambda w, g=g: [
                (a.ref, ["recipient", "qty"], "分配") for a in w.allocs if a.source_no == g.no
            ][:2],
        ],
        {"donation_no": g.no, "hospital": g.directed.name},
    )


# ================================================================== goods


@plant("batches", "STOCK-HOARDED")
def hoarded(pl, rng, k):
    w = pl.w
    b = pl.take(
        rng,
        [
            b
            for b in w.batches
            if b.item.priority
            and b.directed is None
            and not b.reserve
            and B.D(2, 1) <= b.intake_day <= B.D(3, 20)
            and b.qty >= 20 * b.item.box
        ],
    )
    b.hold_days = rng.randrange(32, 40)
    return P(
        "STOCK-HOARDED",
        f"{b.warehouse}{b.item.name}批号{b.batch_no}（{b.qty}{b.item.unit}）{b.intake_day:%-m月%-d日}入库后{b.hold_days}天没有出库，其间定点医院申请未得到满足。",
        [
            (b.ref, ["date", "item", "batch", "qty"], "入库"),
            lambda w, b=b: [
                (i.ref, ["date", "batch", "qty"], "恢复出库") for i in w.issues if i.batch is b
            ][:1],
            lambda w, b=b: [
                (r.ref, ["date", "item", "qty"], "定点医院申请")
                for r in w.requests
                if getattr(r, "hoard", None) is b
            ],
        ],
        {
            "warehouse": b.warehouse,
            "item": b.item.name,
            "batch": b.batch_no,
            "intake": d(b.intake_day),
            "idle_days": b.hold_days,
            "_deferred": lambda w, b=b: {
                "request": next(
                    (
                        {
                            "hospital": r.hospital.name,
                            "date": d(r.day),
                            "qty": r.qty,
                            "received": getattr(r, "received", 0),
                        }
                        for r in w.requests
                        if getattr(r, "hoard", None) is b
                    ),
                    {},
                )
            },
        },
    )


@decoy("batches", "STOCK-HOARDED")
def decoy_reserve(pl, rng, k):
    b = pl.take(rng, [b for b in pl.w.batches if b.reserve])
    return P(
        "STOCK-HOARDED",
        f"{b.item.name}批号{b.batch_no}为市级储备，期末仍整批在库，从未出库。",
        [(b.ref, ["batch", "qty"], "入库")],
        {"batch": b.batch_no},
    )


@decoy("batches", "DIRECTED-NOT-HONOURED")
def decoy_goods_consent(pl, rng, k):
    w = pl.w
    b = pl.take(
        rng, [b for b in w.batches if b.source == "捐赠" and b.directed is None and not b.reserve]
    )
    g = next(g for g in w.goods if g.no == b.source_no)
    pl.touch(g)
    b.directed = g.directed = rng.choice([h for h in w.hospitals if h.designated and not h.closed])
    b.redirect_to = g.redirect_to = rng.choice(
        [h for h in w.hospitals if h.designated and h is not b.directed and not h.closed]
    )
    b.consent = g.consent = (
        f"捐赠方书面同意调整受赠单位（{(g.received + timedelta(days=2)):%Y-%m-%d}函）"
    )
    return P(
        "DIRECTED-NOT-HONOURED",
        f"{g.donor.name}定向{b.directed.name}的物资经捐赠方书面同意改配{b.redirect_to.name}。",
        [
            (g.ref, ["directed", "consent"], "登记"),
            lambda w, b=b: [
                (a.ref, ["recipient", "consent"], "分配") for a in w.allocs if a.batch is b
            ][:2],
        ],
        {"donation_no": g.no},
    )


def _apply_redirects(w):
    """Directed goods whose register names another unit: the batch follows the gift."""
    for b in w.batches:
        g = next((g for g in w.goods if g.no == b.source_no), None) if b.source == "捐赠" else None
        if g is not None:
            b.directed = g.directed
            if getattr(g, "redirect_to", None) is not None:
                b.redirect_to = g.redirect_to
                b.consent = g.consent


def _issued(w, b):
    """Issues of one batch (indexed once; allocation plants never add or drop issues)."""
    index = getattr(w, "issue_index", None)
    if index is None or index[0] != len(w.issues):
        by: dict = {}
        for i in w.issues:
            by.setdefault(i.batch.ref, []).append(i)
        index = (len(w.issues), by)
        w.issue_index = index
    return index[1].get(b.ref, [])


@plant("allocated", "STOCK-NEGATIVE")
def negative(pl, rng, k):
    w = pl.w
    b = pl.take(
        rng,
        [b for b in w.batches if b.source == "调拨" and _issued(w, b) and pl.free(*_issued(w, b))],
    )
    first = min(_issued(w, b), key=lambda i: i.day)
    b.intake_day = first.day + timedelta(days=rng.randrange(2, 6))
    return P(
        "STOCK-NEGATIVE",
        f"{b.warehouse}{b.item.name}批号{b.batch_no}{first.day:%-m月%-d日}出库{first.qty}{b.item.unit}，入库单却记在{b.intake_day:%-m月%-d日}（先出后入）。",
        [(first.ref, ["date", "batch", "qty"], "出库"), (b.ref, ["date", "batch", "qty"], "入库")],
        {
            "warehouse": b.warehouse,
            "item": b.item.name,
            "batch": b.batch_no,
            "issued": d(first.day),
            "booked_in": d(b.intake_day),
        },
    )


@decoy("allocated", "STOCK-NEGATIVE")
def decoy_same_day_issue(pl, rng, k):
    w = pl.w
    b = pl.take(
        rng,
        [
            b
            for b in w.batches
            if _issued(w, b) and min(i.day for i in _issued(w, b)) == b.intake_day
        ],
    )
    first = min(_issued(w, b), key=lambda i: i.day)
    return P(
        "STOCK-NEGATIVE",
        f"批号{b.batch_no}同一天入库并出库。",
        [(b.ref, ["date"], "入库"), (first.ref, ["date"], "出库")],
        {"batch": b.batch_no},
    )


@plant("allocated", "ISSUED-EXPIRED")
def expired(pl, rng, k):
    w = pl.w
    b = pl.take(
        rng,
        [
            b
            for b in w.batches
            if _issued(w, b)
            and (max(i.day for i in _issued(w, b)) - b.intake_day).days >= 4
            and not b.reserve
        ],
    )
    last = max(_issued(w, b), key=lambda i: i.day)
    b.expiry = max(
        b.intake_day + timedelta(days=1), last.day - timedelta(days=rng.randrange(3, 20))
    )
    _sync_expiry(w, b)
    return P(
        "ISSUED-EXPIRED",
        f"{b.item.name}批号{b.batch_no}有效期至{b.expiry:%Y-%m-%d}，{last.day:%-m月%-d日}仍出库{last.qty}{b.item.unit}。",
        [
            (last.ref, ["date", "batch", "expiry", "qty"], "出库"),
            (b.ref, ["batch", "expiry"], "入库"),
        ],
        {
            "warehouse": b.warehouse,
            "item": b.item.name,
            "batch": b.batch_no,
            "expiry": d(b.expiry),
            "issued": d(last.day),
            "recipient": last.recipient.name,
        },
    )


def _sync_expiry(w, b):
    for g in w.goods:
        if g.no == b.source_no and g.batch == b.batch_no:
            g.expiry = b.expiry
    for dv in w.deliveries:
        if dv.batch == b.batch_no and dv.contract.no == b.source_no:
            dv.expiry = b.expiry


@decoy("allocated", "ISSUED-EXPIRED")
def decoy_expiry_day(pl, rng, k):
    w = pl.w
    b = pl.take(
        rng,
        [
            b
            for b in w.batches
            if _issued(w, b) and max(i.day for i in _issued(w, b)) > b.intake_day
        ],
    )
    last = max(_issued(w, b), key=lambda i: i.day)
    b.expiry = last.day
    _sync_expiry(w, b)
    return P(
        "ISSUED-EXPIRED",
        f"批号{b.batch_no}在有效期当天（{b.expiry:%Y-%m-%d}）出库。",
        [(last.ref, ["date", "expiry"], "出库")],
        {"batch": b.batch_no},
    )


@plant("allocated", "ALLOC-ISSUE-RECEIPT")
def alloc_issue_receipt(pl, rng, k):
    w = pl.w
    signs = {s.alloc.ref: s for s in w.signs if s.alloc is not None}
    a = pl.take(
        rng,
        [
            a
            for a in w.allocs
            if isinstance(a.recipient, Hospital)
            and a.ref in signs
            and a.qty >= 10 * a.item.box
            and a.plan.day <= B.D(6, 10)
            and not a.directed
        ],
    )
    s = signs[a.ref]
    iss = s.issue
    pl.touch(s, iss)
    if k % 2 == 0:
        s.qty = a.qty - max(a.item.box, a.qty // a.item.box * 2 // 10 * a.item.box)
        what = f"签收{s.qty}{a.item.unit}"
        ev = [(s.ref, ["doc_no", "item", "qty"], "医院签收")]
    else:
        w.signs.remove(s)
        what = "医院没有签收记录"
        ev = []
    return P(
        "ALLOC-ISSUE-RECEIPT",
        f"分配方案{a.plan.no}给{a.recipient.name}{a.item.name}{a.qty}{a.item.unit}，仓库出库{iss.qty}{a.item.unit}，{what}。",
        [
            (a.ref, ["plan", "recipient", "item", "qty"], "分配"),
            (iss.ref, ["no", "recipient", "qty"], "出库"),
            *ev,
        ],
        {
            "plan_no": a.plan.no,
            "issue_no": iss.no,
            "recipient": a.recipient.name,
            "item": a.item.name,
            "allocated": a.qty,
            "issued": iss.qty,
            "signed": s.qty if k % 2 == 0 else 0,
        },
    )


@decoy("allocated", "ALLOC-ISSUE-RECEIPT")
def decoy_transfer_between(pl, rng, k):
    w = pl.w
    hs = [h for h in w.hospitals if h.designated and not h.closed]
    if len(hs) < 2:
        raise Skip
    src, dst = rng.sample(hs, 2)
    item = w.items[rng.choice(("surgical", "gown", "medmask"))]
    plan = rng.choice([p for p in w.plans if p.no.startswith("FP") and p.day <= B.D(5, 31)])
    qty = item.per_case * rng.randrange(2, 6)
    a = AllocLine(f"alx{k}", plan, item, dst, qty, "医院调剂", "", None, "", False, "", src)
    w.allocs.append(a)
    s = SignFor(f"sgx{k}", dst, plan.day + timedelta(days=1), item, qty, plan.no, "", "", alloc=a)
    w.signs.append(s)
    pl.touch(a, s)
    return P(
        "ALLOC-ISSUE-RECEIPT",
        f"{src.name}向{dst.name}调剂{item.name}{qty}{item.unit}，不经仓库，只有分配和签收。",
        [
            (a.ref, ["plan", "recipient", "qty"], "分配（医院调剂）"),
            (s.ref, ["doc_no", "qty"], "签收"),
        ],
        {"plan_no": plan.no},
    )


@decoy("allocated", "ALLOC-ISSUE-RECEIPT")
def decoy_in_transit(pl, rng, k):
    w = pl.w
    signed = {s.issue.ref for s in w.signs if s.issue is not None}
    i = pl.take(rng, [i for i in w.issues if i.ref not in signed and i.day >= B.D(6, 28)])
    return P(
        "ALLOC-ISSUE-RECEIPT",
        f"出库单{i.no}于{i.day:%-m月%-d日}发出，截止日尚在途中，未签收。",
        [(i.ref, ["no", "date"], "出库")],
        {"issue_no": i.no},
    )


@plant("allocated", "CIVIL-MASK-CLINICAL")
def civil_mask(pl, rng, k):
    w = pl.w
    cands = []
    for b in w.batches:
        if b.item.key != "kn95":
            continue
        lines = [
            a
            for a in w.allocs
            if a.batch is b and isinstance(a.recipient, Hospital) and a.recipient.designated
        ]
        if lines and pl.free(b, *lines):
            cands.append(b)
    b = pl.take(rng, cands)
    lines = [
        a
        for a in w.allocs
        if a.batch is b and isinstance(a.recipient, Hospital) and a.recipient.designated
    ]
    pl.touch(*lines)
    for a in lines:
        a.item_written = "n95"
    for i in w.issues:
        if i.alloc in lines:
            i.item_written = "n95"
    for s in w.signs:
        if s.alloc in lines:
            s.item_written = "n95"
    a = lines[0]
    return P(
        "CIVIL-MASK-CLINICAL",
        f"{b.source_no}入库的是民用KN95口罩（GB 2626，批号{b.batch_no}），分配、出库和签收却写成医用防护口罩发给{a.recipient.name}等定点医院。",
        [
            (b.ref, ["item", "standard", "batch"], "入库（民用）"),
            lambda w, lines=lines: [
                (i.ref, ["item", "qty"], "出库（写成医用）") for i in w.issues if i.alloc in lines
            ][:2],
            lambda w, lines=lines: [
                (s.ref, ["item", "qty"], "签收（写成医用）") for s in w.signs if s.alloc in lines
            ][:2],
        ],
        {
            "source_no": b.source_no,
            "batch": b.batch_no,
            "recipients": sorted({x.recipient.name for x in lines}),
        },
    )


@decoy("allocated", "CIVIL-MASK-CLINICAL")
def decoy_honest_kn95(pl, rng, k):
    w = pl.w
    a = pl.take(
        rng, [a for a in w.allocs if a.item.key == "kn95" and isinstance(a.recipient, Hospital)]
    )
    return P(
        "CIVIL-MASK-CLINICAL",
        f"民用KN95口罩如实按民用口罩分给{a.recipient.name}。",
        [(a.ref, ["item", "recipient"], "分配")],
        {"plan_no": a.plan.no},
    )


def _retarget(w, a, target):
    a.recipient = target
    for i in w.issues:
        if i.alloc is a:
            i.recipient = target
    for s in w.signs:
        if s.alloc is a:
            s.recipient = target


@plant("allocated", "PRIORITY-NON-DESIGNATED")
def non_designated(pl, rng, k):
    w = pl.w
    targets = [h for h in w.hospitals if not h.designated and h.beds >= 150]
    if not targets:
        raise Skip
    a = pl.take(
        rng,
        [
            a
            for a in w.allocs
            if a.item.priority
            and not a.directed
            and isinstance(a.recipient, Hospital)
            and a.recipient.designated
            and a.qty >= 20 * a.item.box
            and a.batch is not None
        ],
    )
    target = targets[k % len(targets)]
    _retarget(w, a, target)
    return P(
        "PRIORITY-NON-DESIGNATED",
        f"分配方案{a.plan.no}把{a.item.name}{a.qty}{a.item.unit}分给非定点的{target.name}。",
        [
            (a.ref, ["plan", "recipient", "item", "qty"], "分配"),
            lambda w, a=a: [
                (i.ref, ["recipient", "qty"], "出库") for i in w.issues if i.alloc is a
            ],
            lambda w, a=a: [(s.ref, ["qty"], "签收") for s in w.signs if s.alloc is a],
        ],
        {"plan_no": a.plan.no, "hospital": target.name, "item": a.item.name, "qty": a.qty},
        related=("ALLOC-DISPROPORTION",),
    )


@decoy("allocated", "PRIORITY-NON-DESIGNATED")
def decoy_fever_clinic(pl, rng, k):
    a = pl.take(
        rng,
        [
            a
            for a in pl.w.allocs
            if a.item.priority and isinstance(a.recipient, Hospital) and not a.recipient.designated
        ],
    )
    return P(
        "PRIORITY-NON-DESIGNATED",
        f"{a.recipient.name}发热门诊零星配给{a.item.name}{a.qty}{a.item.unit}。",
        [(a.ref, ["recipient", "qty"], "分配")],
        {"plan_no": a.plan.no},
    )


@plant("allocated", "ALLOC-DISPROPORTION")
def disproportion(pl, rng, k):
    w = pl.w
    small = [h for h in w.hospitals if h.beds <= 200 and not h.closed and pl.free(h)]
    small = (
        small
        or sorted(
            [h for h in w.hospitals if not h.closed and pl.free(h)], key=lambda h: (h.beds, h.ref)
        )[:2]
    )
    if not small:
        raise Skip
    keys = ("medmask", "gloves", "gown", "goggles", "alcohol")
    for attempt in range(len(small) * len(keys)):
        h = small[(k + attempt) % len(small)]
        key = keys[(k + attempt // len(small)) % len(keys)]
        lines = [
            a
            for a in w.allocs
            if a.item.key == key
            and not a.directed
            and isinstance(a.recipient, Hospital)
            and a.batch is not None
            and pl.free(a)
        ]
        if sum(1 for a in lines if a.recipient is not h) >= 2:
            break
    else:
        raise Skip
    pl.touch(h)
    total = sum(
        a.qty
        for a in w.allocs
        if a.item.key == key and not a.directed and isinstance(a.recipient, Hospital)
    )
    beds = sum({**{a.recipient.ref: a.recipient.beds for a in lines}, h.ref: h.beds}.values())
    want = total * h.beds * 5 // beds
    moved = []
    got = sum(a.qty for a in lines if a.recipient is h)
    for a in sorted(lines, key=lambda a: -a.qty):
        if got >= want:
            break
        if a.recipient is h or not pl.free(a):
            continue
        pl.touch(a)
        _retarget(w, a, h)
        moved.append(a)
        got += a.qty
    if not moved:
        raise Skip
    return P(
        "ALLOC-DISPROPORTION",
        f"{w.items[key].name}的自行分配中，{h.name}（{h.beds}张床）分得{got}{w.items[key].unit}，占{got * 100 // total}%，远超其床位占比。",
        [(a.ref, ["plan", "recipient", "item", "qty"], "分配") for a in moved[:5]],
        {
            "hospital": h.name,
            "beds": h.beds,
            "item": w.items[key].name,
            "qty": got,
            "item_total": total,
        },
    )


def hoard_requests(pl) -> None:
    """After allocation: the designated hospital that asked while a held batch sat in stock."""
    w = pl.w
    for prob in w.problems:
        if prob.test_id != "STOCK-HOARDED":
            continue
        b = next(x for x in w.batches if x.batch_no == prob.keys["batch"])
        release = b.intake_day + timedelta(days=b.hold_days)
        ask_day = b.intake_day + timedelta(days=5)
        hs = [
            h
            for h in w.hospitals
            if h.designated
            and (h.opened or B.START) <= ask_day
            and (h.closed is None or h.closed > release)
        ]
        h = hs[len(w.requests) % len(hs)]
        got = sum(
            a.qty
            for a in w.allocs
            if a.recipient is h and a.item is b.item and ask_day <= a.plan.day < release
        )
        ask = got + b.item.box * 200
        from .model import Request

        r = Request(
            f"rqh{b.ref}",
            h,
            ask_day,
            f"{h.alias}申〔2020〕急{len(w.requests)}号",
            b.item,
            ask,
            "隔离病区防护物资告急",
        )
        r.hoard, r.received = b, got
        w.requests.append(r)
    w.requests.sort(key=lambda r: (r.hospital.ref, r.day))


@plant("counts", "STOCK-CONSERVATION")
def conservation(pl, rng, k):
    w = pl.w
    cands = [c for c in w.counts if c.book >= 2 * c.batch.item.box and pl.free(c.batch)]
    if not [c for c in cands if pl.free(c)]:
        cands, k = [c for c in w.counts if c.book > 0], 1
    c = pl.take(rng, cands)
    box = c.batch.item.box
    if k % 2 == 0:
        c.actual = c.book - box * rng.randrange(2, 6)
        what = f"实盘{c.actual}，账面{c.book}"
    else:
        c.book_written = c.book + box * rng.randrange(2, 6)
        c.actual = c.book_written
        what = f"盘点表账面数{c.book_written}与台账结存{c.book}不符"
    return P(
        "STOCK-CONSERVATION",
        f"{c.warehouse}{c.day:%-m月%-d日}盘点{c.batch.item.name}批号{c.batch.batch_no}：{what}（{c.batch.item.unit}）。",
        [(c.ref, ["batch", "book", "actual"], "盘点表")],
        {
            "warehouse": c.warehouse,
            "count_date": d(c.day),
            "item": c.batch.item.name,
            "batch": c.batch.batch_no,
            "ledger_balance": c.book,
            "count_book": getattr(c, "book_written", c.book),
            "count_actual": c.actual,
        },
    )


@decoy("counts", "STOCK-CONSERVATION")
def decoy_count_boxes(pl, rng, k):
    c = pl.take(
        rng, [c for c in pl.w.counts if c.book % c.batch.item.box == 0 and c.batch.item.box > 1]
    )
    c.in_boxes = True
    return P(
        "STOCK-CONSERVATION",
        f"盘点表按{c.batch.item.box_unit}记录批号{c.batch.batch_no}（{c.batch.item.spec}），折合与台账一致。",
        [(c.ref, ["book", "actual"], "盘点表")],
        {"batch": c.batch.batch_no, "balance": c.book},
    )


# ================================================================== charities' money


@plant("disbursed", "RELATED-BENEFICIARY")
def related(pl, rng, k):
    w = pl.w
    big = [
        x
        for x in w.disbursements
        if x.donation is None and x.amount >= 20000000 and x.day >= B.D(2, 10)
    ]
    base = pl.take(rng, big)
    if k % 2 == 0:
        g = pl.take(
            rng,
            [
                g
                for g in w.cash
                if g.charity == base.charity
                and g.donor.kind == "company"
                and g.received < base.day
                and g.in_register
                and not g.void
                and not getattr(g, "no_bank", False)
            ],
        )
        payee = g.donor.name.split("有限")[0].replace("股份", "") + rng.choice(
            ("贸易有限公司", "科技有限公司")
        )
        acct, bank, link = g.donor.account, g.donor.bank, f"捐赠人{g.donor.name}"
        ev = [(f"bk.{g.ref}", ["counterparty", "account", "credit"], "该捐赠人的进账")]
    else:
        m = pl.take(rng, [m for m in w.managers if m.charity == base.charity])
        payee = m.name
        acct, bank, link = m.card, "中国工商银行", f"本会{m.post}{m.name}"
        ev = [(m.ref, ["name", "card"], "管理人员名单")]
    amount = base.amount * rng.randrange(10, 30) // 100 // 100000 * 100000
    base.amount -= amount
    x = type(base)(
        f"{base.ref}r",
        base.charity,
        base.day,
        base.voucher + "-1",
        payee,
        acct,
        bank,
        amount,
        "采购防疫物资款",
        None,
        "",
        "",
        None,
    )
    w.disbursements.insert(w.disbursements.index(base) + 1, x)
    pl.touch(x)
    return P(
        "RELATED-BENEFICIARY",
        f"{B.CHARITY_NAMES[base.charity]}{base.day:%-m月%-d日}向“{payee}”拨付{yuan(amount)}元，收款账号{acct}与{link}的账号相同。",
        [(x.ref, ["date", "payee", "account", "amount"], "拨付"), *ev],
        {
            "charity": B.CHARITY_NAMES[base.charity],
            "payee": payee,
            "account": acct,
            "amount": yuan(amount),
            "linked_to": link,
        },
    )


@decoy("bank", "BANK-UNBOOKED")
def decoy_fee_interest(pl, rng, k):
    w = pl.w
    line = pl.take(
        rng,
        [b for b in w.bank if (b.summary == "汇划手续费" if k % 2 == 0 else b.summary == "结息")],
    )
    return P(
        "BANK-UNBOOKED" if line.credit else "PAYEE-FUZZY",
        f"银行流水中的{line.summary}行没有对方户名，不是捐款也不是付款。",
        [(line.ref, ["date", "summary", "credit" if line.credit else "debit"], "银行流水")],
        {"summary": line.summary},
    )


# ================================================================== hospitals' money


def _op_approps(w, *, five_digit=False):
    out = [a for a in w.appropriations if a.kind == "经费" and isinstance(a.recipient, Hospital)]
    if five_digit:
        out = [a for a in out if "30218" in a.codes]
    return out


@plant("appropriations", "FUND-IDLE")
def fund_idle(pl, rng, k):
    w = pl.w
    # Designated hospitals first; later plants go to the others, leaving some for PAYOUT-SLOW.
    hs = [h for h in w.hospitals if pl.free(h) and not h.closed and h.designated == (k < 5)]
    h = pl.take(rng, hs or [h for h in w.hospitals if pl.free(h) and not h.closed])
    a = max((a for a in _op_approps(w) if a.recipient is h), key=lambda a: a.day)
    pl.touch(a)
    a.idle = True
    return P(
        "FUND-IDLE",
        f"{h.name}{a.day:%-m月%-d日}收到专项经费{yuan(a.amount)}元（{a.no}），到截止日分文未用。",
        [
            (a.ref, ["date", "no", "recipient", "amount"], "财政拨款"),
            (f"hi.{a.ref}", ["date", "amount"], "医院收入"),
        ],
        {
            "hospital": h.name,
            "appropriation_no": a.no,
            "date": d(a.day),
            "amount": yuan(a.amount),
            "unspent": yuan(a.amount),
        },
        related=("PAYOUT-SLOW",),
    )


@plant("appropriations", "PAYOUT-SLOW")
def payout_slow(pl, rng, k):
    w = pl.w
    if k >= max(1, w.scale.plants // 2):
        raise Skip
    h = pl.take(rng, [h for h in w.hospitals if h.designated and not h.closed])
    h.slow = True
    return P(
        "PAYOUT-SLOW",
        f"{h.name}收到的专项资金和捐赠款都在18到28天后才用完，及时拨付率很低。",
        [
            lambda w, h=h: [
                (p.ref, ["date", "amount"], "收入")
                for p in w.payments
                if p.payer == h.ref and p.income
            ][:4]
        ],
        {"hospital": h.name},
        related=("FUND-IDLE",),
        ledger=("hospital_ledger", h.ref),
    )


EARMARKS = (
    ("楚江东风汽车销售服务有限公司", "31013", "购置公务用车一辆（别克GL8）", 23800000),
    ("楚江国际大酒店有限公司", "30217", "公务接待费（上级检查组）", 1286000),
    ("楚江华美装饰工程有限公司", "31006", "行政办公楼装修工程款", 15600000),
    ("楚江宜家办公家具有限公司", "31002", "办公家具购置", 4380000),
)


@plant("appropriations", "EARMARK")
def earmark(pl, rng, k):
    w = pl.w
    a = pl.take(rng, [a for a in _op_approps(w, five_digit=True) if a.amount >= 30000000])
    payee, code, summary, amount = EARMARKS[k % len(EARMARKS)]
    a.flags = getattr(a, "flags", {})
    a.flags.setdefault("specials", []).append((payee, code, summary, amount, rng.randrange(2, 9)))
    return P(
        "EARMARK",
        f"{a.recipient.name}用疫情防控专项经费（{a.no}，允许科目{a.codes}）支付“{summary}”{yuan(amount)}元，经济分类{code}。",
        [
            (a.ref, ["no", "recipient", "codes"], "财政拨款（允许科目）"),
            lambda w, s=summary, h=a.recipient: [
                (p.ref, ["payee", "summary", "code", "amount"], "支付")
                for p in w.payments
                if p.payer == h.ref and p.summary == s
            ],
        ],
        {
            "hospital": a.recipient.name,
            "appropriation_no": a.no,
            "payee": payee,
            "code": code,
            "summary": summary,
            "amount": yuan(amount),
        },
    )


@decoy("appropriations", "EARMARK")
def decoy_ambulance(pl, rng, k):
    w = pl.w
    a = pl.take(rng, [a for a in _op_approps(w, five_digit=True) if a.amount >= 40000000])
    if k % 2 == 0:
        code, payee, summary, amount = (
            "31019",
            "楚江江铃专用汽车有限公司",
            "购置负压救护车一辆",
            38000000,
        )
    else:
        code, payee, summary, amount = (
            "31006",
            "楚江建工集团有限公司",
            "发热门诊负压病房改造工程款",
            26000000,
        )
    amount = min(amount, a.amount // 2 // 100000 * 100000)
    a.codes = a.codes + ("、" if "、" in a.codes else ",") + code
    a.flags = getattr(a, "flags", {})
    a.flags.setdefault("specials", []).append((payee, code, summary, amount, 5))
    return P(
        "EARMARK",
        f"“{summary}”经济分类{code}，在该笔拨款（{a.no}）允许的科目内，用途为防控。",
        [
            (a.ref, ["codes"], "拨款"),
            lambda w, s=summary, h=a.recipient: [
                (p.ref, ["summary", "code"], "支付")
                for p in w.payments
                if p.payer == h.ref and p.summary == s
            ],
        ],
        {"appropriation_no": a.no, "code": code},
    )


@decoy("appropriations", "FUND-IDLE")
def decoy_recent_fund(pl, rng, k):
    w = pl.w
    h = pl.take(rng, [h for h in w.hospitals if h.designated and not h.closed])
    n = len(w.appropriations) + 1
    from .model import Appropriation

    a = Appropriation(
        f"ap{n:04d}",
        f"楚财社〔2020〕{100 + n}号",
        B.D(6, 19),
        h,
        50000000,
        "疫情防控专项经费（常态化防控）",
        "30218、30227、31003",
        "经费",
    )
    a.idle = True
    w.appropriations.append(a)
    pl.touch(a)
    return P(
        "FUND-IDLE",
        f"{h.name}6月20日收到的经费至截止日尚未使用，未超过规定天数。",
        [(a.ref, ["date", "amount"], "拨款")],
        {"appropriation_no": a.no},
    )


@plant("appropriations", "SPLIT-PURCHASE")
def split(pl, rng, k):
    w = pl.w
    a = pl.take(rng, [a for a in _op_approps(w) if a.amount >= 30000000])
    payee = rng.choice(w.suppliers).name
    amounts = [rng.randrange(9200000, 9990000) for _ in range(3)]
    a.flags = getattr(a, "flags", {})
    for off, amt in zip((2, 5, 8), amounts, strict=True):
        a.flags.setdefault("specials", []).append((payee, "30218", "购置防护物资", amt, off))
    return P(
        "SPLIT-PURCHASE",
        f"{a.recipient.name}在6天内向{payee}付款3笔（{'、'.join(yuan(x) for x in amounts)}元），每笔略低于10万元审批限额，合计{yuan(sum(amounts))}元。",
        [
            lambda w, h=a.recipient, payee=payee, amounts=amounts: [
                (p.ref, ["date", "payee", "amount"], "付款")
                for p in w.payments
                if p.payer == h.ref and p.payee == payee and p.amount in amounts
            ]
        ],
        {
            "hospital": a.recipient.name,
            "payee": payee,
            "amounts": [yuan(x) for x in amounts],
            "total": yuan(sum(amounts)),
            "limit": yuan(B.APPROVAL_LIMIT),
        },
    )


@plant("appropriations", "BENFORD-1")
def screen_b1(pl, rng, k):
    return _screen(pl, rng, k, "BENFORD-1", "首位数字集中在5到9", ("BENFORD-2",))


@plant("appropriations", "BENFORD-2")
def screen_b2(pl, rng, k):
    return _screen(pl, rng, k, "BENFORD-2", "前两位数字集中在19、29……99", ())


@plant("appropriations", "ROUND-EXCESS")
def screen_round(pl, rng, k):
    return _screen(pl, rng, k, "ROUND-EXCESS", "大部分付款为整千元", ("BENFORD-2",))


def _screen(pl, rng, k, test_id, what, related):
    w = pl.w
    if k >= max(1, w.scale.plants * 3 // 10):
        raise Skip
    hs = [
        h
        for h in w.hospitals
        if h.designated and not h.closed and h.ref not in w.screens and h.beds >= 300
    ]
    if not hs:
        raise Skip
    h = max(hs, key=lambda h: (h.beds, h.ref)) if k == 0 else rng.choice(hs)
    w.screens[h.ref] = test_id
    return P(
        test_id,
        f"{h.name}专项资金收支明细账的付款金额{what}，像是编造的金额。",
        [
            lambda w, h=h: [
                (p.ref, ["amount"], "付款（示例）")
                for p in w.payments
                if p.payer == h.ref and not p.income and p.kind == "purchase"
            ][:5]
        ],
        {"hospital": h.name, "ledger": "专项资金收支明细账"},
        related=related,
        ledger=("hospital_ledger", h.ref),
    )


def _purchases(w, pl):
    return [
        p
        for p in w.payments
        if p.payer != "财政局"
        and not p.income
        and p.kind == "purchase"
        and 500000 <= p.amount <= 6000000
        and p.payer not in w.screens
        and pl.free(p)
        and p.invoice
    ]


def _absorb(w, p, amount) -> bool:
    """Take an added payment's amount out of a later payment from the same receipt."""
    same = [
        q
        for q in w.payments
        if q.payer == p.payer
        and q.source is p.source
        and not q.income
        and q is not p
        and q.amount > amount + 100000
        and q.kind == "purchase"
        and q.day >= p.day
    ]
    if not same:
        return False
    q = max(same, key=lambda q: q.amount)
    q.amount -= amount
    return True


def _dup(pl, rng, test_id, *, same_invoice: bool, gap: tuple[int, int]):
    w = pl.w
    for _ in range(20):
        p = pl.take(rng, _purchases(w, pl))
        if _absorb(w, p, p.amount):
            break
    else:
        raise Skip
    q = Payment(
        f"{p.ref}d",
        p.payer,
        min(B.CUTOFF, p.day + timedelta(days=rng.randrange(*gap))),
        "",
        p.payee,
        p.account,
        p.bank,
        p.amount,
        p.summary,
        p.code,
        p.invoice if same_invoice else w.ids.invoice()[1],
        p.invoice_code,
        source=p.source,
    )
    w.payments.insert(w.payments.index(p) + 1, q)
    pl.touch(q)
    h = next(h for h in w.hospitals if h.ref == p.payer)
    return p, q, h


@plant("money", "PAY-DUP-INVOICE")
def dup_invoice(pl, rng, k):
    p, q, h = _dup(pl, rng, "PAY-DUP-INVOICE", same_invoice=True, gap=(3, 20))
    return P(
        "PAY-DUP-INVOICE",
        f"{h.name}凭同一张发票{p.invoice}向{p.payee}两次支付{yuan(p.amount)}元（{p.day:%-m月%-d日}、{q.day:%-m月%-d日}）。",
        [
            (p.ref, ["date", "payee", "amount", "invoice"], "第一次支付"),
            (q.ref, ["date", "payee", "amount", "invoice"], "重复支付"),
        ],
        {
            "hospital": h.name,
            "payee": p.payee,
            "invoice": p.invoice,
            "amount": yuan(p.amount),
            "dates": [d(p.day), d(q.day)],
        },
    )


@plant("money", "PAY-DUP-NEAR")
def dup_near(pl, rng, k):
    p, q, h = _dup(pl, rng, "PAY-DUP-NEAR", same_invoice=False, gap=(1, 4))
    return P(
        "PAY-DUP-NEAR",
        f"{h.name}{p.day:%-m月%-d日}和{q.day:%-m月%-d日}向{p.payee}各支付{yuan(p.amount)}元（发票号不同）。",
        [
            (p.ref, ["date", "payee", "amount"], "支付"),
            (q.ref, ["date", "payee", "amount"], "相同金额再次支付"),
        ],
        {
            "hospital": h.name,
            "payee": p.payee,
            "amount": yuan(p.amount),
            "dates": [d(p.day), d(q.day)],
        },
    )


@plant("money", "PAY-INVOICE-SHARED")
def invoice_shared(pl, rng, k):
    w = pl.w
    p = pl.take(rng, _purchases(w, pl))
    q = pl.take(
        rng,
        [q for q in _purchases(w, pl) if q.payee != p.payee and q.payer == p.payer]
        or [q for q in _purchases(w, pl) if q.payee != p.payee],
    )
    q.invoice, q.invoice_code = p.invoice, p.invoice_code
    return P(
        "PAY-INVOICE-SHARED",
        f"发票{p.invoice}既用于向{p.payee}付款，又用于向{q.payee}付款。",
        [
            (p.ref, ["payee", "amount", "invoice"], "支付一"),
            (q.ref, ["payee", "amount", "invoice"], "支付二"),
        ],
        {
            "invoice": p.invoice,
            "payees": [p.payee, q.payee],
            "amounts": [yuan(p.amount), yuan(q.amount)],
        },
    )


@decoy("money", "PAY-INVOICE-SHARED")
def decoy_invoice_code(pl, rng, k):
    w = pl.w
    hs = w.invoice_code_hospitals
    cands = [p for p in _purchases(w, pl) if p.payer in hs]
    p = pl.take(rng, cands)
    q = pl.take(rng, [q for q in cands if q.payee != p.payee and q.invoice_code != p.invoice_code])
    q.invoice = p.invoice
    return P(
        "PAY-INVOICE-SHARED",
        f"两张发票号码同为{p.invoice}，但发票代码不同（{p.invoice_code} / {q.invoice_code}），是两张不同的发票。",
        [
            (p.ref, ["invoice", "invoice_code"], "支付一"),
            (q.ref, ["invoice", "invoice_code"], "支付二"),
        ],
        {"invoice": p.invoice},
    )


@decoy("money", "PAY-DUP-NEAR")
def decoy_monthly_fee(pl, rng, k):
    w = pl.w
    fees = sorted([p for p in w.payments if p.ref.startswith("fp.svc.")], key=lambda p: p.day)
    if len(fees) < 2 or k > 0:
        raise Skip
    fees[1].amount = fees[0].amount
    pl.touch(*fees[:2])
    return P(
        "PAY-DUP-NEAR",
        "物资保障车辆服务费按月结算，两个月金额相同，相隔一个月，不是重复支付。",
        [
            (fees[0].ref, ["date", "amount", "code"], "2月"),
            (fees[1].ref, ["date", "amount", "code"], "3月"),
        ],
        {"payee": fees[0].payee},
    )


@decoy("money", "EARMARK")
def decoy_vehicle_fee(pl, rng, k):
    p = pl.take(rng, [p for p in pl.w.payments if p.ref.startswith("fp.svc.")])
    return P(
        "EARMARK",
        "“物资保障车辆服务费”按委托业务费（30227）列支，是防控物资运输，不是购车。",
        [(p.ref, ["summary", "code"], "财政支付")],
        {"voucher": lambda w, p=p: p.voucher},
    )


@plant("money", "PAYEE-FUZZY", part=1)
def payee_fuzzy_hospital(pl, rng, k):
    w = pl.w
    p = pl.take(rng, [p for p in _purchases(w, pl) if "有限" in p.payee])
    owner = p.payee
    p.payee = "楚江市" + owner.split("有限")[0][2:] + rng.choice(("经营部", "门市部"))
    h = next(h for h in w.hospitals if h.ref == p.payer)
    others = [q for q in w.payments if q.account == p.account and q.payee == owner]
    return P(
        "PAYEE-FUZZY",
        f"{h.name}向“{p.payee}”付款{yuan(p.amount)}元，所用账号{p.account}属于{owner}。",
        [
            (p.ref, ["payee", "account", "amount"], "付款"),
            *[(q.ref, ["payee", "account"], "账户所有人的其他付款") for q in others[:2]],
        ],
        {"payee": p.payee, "account": p.account, "account_owner": owner, "amount": yuan(p.amount)},
    )


@plant("vouchers", "SERIES-GAP", part=1)
def voucher_gap(pl, rng, k):
    w = pl.w
    by: dict = {}
    for p in w.payments:
        if p.payer != "财政局" and p.payer not in w.monthly_vouchers:
            by.setdefault(p.payer, []).append(p)
    hr = rng.choice(sorted(h for h, ps in by.items() if len(ps) > 20))
    lines = sorted(by[hr], key=lambda p: int(p.voucher[1:]))
    p = pl.take(rng, lines[5:-5])
    idx = lines.index(p)
    for q in lines[idx + 1 :]:
        q.voucher = f"记{int(q.voucher[1:]) + 1:04d}"
    nxt = lines[idx + 1]
    pl.touch(nxt)
    h = next(h for h in w.hospitals if h.ref == hr)
    return P(
        "SERIES-GAP",
        f"{h.name}专项资金明细账记账凭证号{p.voucher}之后是{nxt.voucher}，缺记{int(p.voucher[1:]) + 1:04d}。",
        [(p.ref, ["voucher", "date"], "缺号前"), (nxt.ref, ["voucher", "date"], "缺号后")],
        {"hospital": h.name, "missing": f"记{int(p.voucher[1:]) + 1:04d}"},
    )


@plant("vouchers", "SERIES-REUSE", part=1)
def voucher_reuse(pl, rng, k):
    w = pl.w
    fin = sorted([p for p in w.payments if p.payer == "财政局"], key=lambda p: p.voucher)
    a = pl.take(rng, fin[2 : len(fin) // 2])
    b = pl.take(rng, [p for p in fin[fin.index(a) + 2 :] if p.payee != a.payee and p.day != a.day])
    for q in fin[fin.index(b) + 1 :]:
        q.voucher = f"ZF2020{int(q.voucher[6:]) - 1:05d}"
    b.voucher = a.voucher
    return P(
        "SERIES-REUSE",
        f"财政局支付凭证号{a.voucher}既用于{a.day:%-m月%-d日}付{a.payee}，又用于{b.day:%-m月%-d日}付{b.payee}。",
        [
            (a.ref, ["voucher", "date", "payee", "amount"], "第一次"),
            (b.ref, ["voucher", "date", "payee", "amount"], "重复"),
        ],
        {"voucher": a.voucher, "payees": [a.payee, b.payee], "dates": [d(a.day), d(b.day)]},
    )


@decoy("vouchers", "SERIES-REUSE")
def decoy_multiline(pl, rng, k):
    w = pl.w
    p = pl.take(rng, [p for p in _purchases(w, pl) if p.amount >= 1000000])
    half = p.amount * 2 // 5 // 100 * 100  # two invoices of different amounts on one voucher
    q = Payment(
        f"{p.ref}m",
        p.payer,
        p.day,
        p.voucher,
        p.payee,
        p.account,
        p.bank,
        p.amount - half,
        p.summary + "（第二张发票）",
        p.code,
        w.ids.invoice()[1],
        p.invoice_code,
        source=p.source,
    )
    p.amount = half
    w.payments.insert(w.payments.index(p) + 1, q)
    pl.touch(q)
    return P(
        "SERIES-REUSE",
        f"记账凭证{p.voucher}有两行明细，同日同一收款单位{p.payee}，不是重复使用凭证号。",
        [(p.ref, ["voucher", "payee"], "明细一"), (q.ref, ["voucher", "payee"], "明细二")],
        {"voucher": p.voucher},
    )

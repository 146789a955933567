"""Following relief money and goods through the ledgers: one donation forward, one recipient back.

Every ledger row that carries a donation's `ref` is one step of its life (schema.STEPS: received →
booked → stored → allocated → issued → signed → paid → disclosed). Bank statements rarely carry the
ref, so a bank row without one is linked to a booked donation (credits) or a payment (debits) when
its memo names the ref, or else by party, amount and a date within ±3 days, one bank row to one
ledger row. From the steps follow the conservation lines an auditor checks (booked = stored;
stored = issued + in stock; booked = paid + held; disclosed = booked; per recipient allocated =
issued = signed) and the gaps, in words, where they do not hold.

Reads only. Each function runs a fixed number of DuckDB and ORM queries, whatever the data size;
values are always passed as parameters.
"""

from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import pyarrow as pa
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.relief.ledger import schema, store

# How far apart a bank row and the ledger row it confirms may be dated.
BANK_MATCH_DAYS = 3
# Beyond these many days a step counts as late (after the step it follows).
LATE_DAYS = {"stored": 3, "signed": 3, "disclosed": 7, "paid": 10}
# Words a "directed to" column holds when the donation is not directed.
NOT_DIRECTED = {"", "非定向", "不定向", "无", "否", "-", "—", "/", "无定向", "未定向", "不限"}
MONEY_KINDS = {"bank", "appropriation", "cash_donation", "payment", "subsidy"}
# Which ledger kinds record a step, the first one giving the step's totals.
STEP_KINDS = {
    "received": ("bank", "appropriation", "delivery"),
    "booked": ("cash_donation", "goods_donation", "contract"),
    "stored": ("stock",),
    "allocated": ("allocation",),
    "issued": ("stock",),
    "signed": ("receipt",),
    "paid": ("payment", "bank", "subsidy"),
    "disclosed": ("disclosure",),
}
NATURES = {
    "cash": N_("现金捐赠"),
    "goods": N_("物资捐赠"),
    "contract": N_("采购合同"),
    "appropriation": N_("财政拨款"),
    "money": N_("资金"),
    "other": N_("物资"),
}
# The steps a donation of each nature must show, and the ledger kinds that would show them.
EXPECTED = {
    "cash": (
        ("received", ("bank",)),
        ("booked", ("cash_donation",)),
        ("disclosed", ("disclosure",)),
    ),
    "goods": (
        ("booked", ("goods_donation",)),
        ("stored", ("stock",)),
        ("disclosed", ("disclosure",)),
    ),
    "contract": (("booked", ("contract",)), ("received", ("delivery",)), ("stored", ("stock",))),
    "appropriation": (("received", ("appropriation",)),),
    "money": (),
    "other": (),
}
OTHERS = {"source": N_("其他来源"), "middle": N_("其他经手单位"), "target": N_("其他接收单位")}
REMAINDER = {"money": N_("账面结存"), "goods": N_("在库")}
UNKNOWN_DONOR = N_("来源未记载")
ALL = "_all"  # the ref in the Sankey data URL that means the whole project
DEFAULT_TOP = 12

# Gap messages; the numbers are already formatted with their units.
GAP_MISSING = N_("缺少「{step}」记录：已导入{ledgers}，但其中没有这笔款物的记录。")
NOTE_NOT_IMPORTED = N_("未导入{ledgers}，无法核对「{step}」环节。")
GAP_DIFF = N_("{left_label}{left}，{right_label}{right}，相差{diff}。")
GAP_NEGATIVE_STOCK = N_("{item}出库{issued}，超过入库{stored}，多出{diff}。")
GAP_NEGATIVE_HELD = N_("支付{paid}，超过入账{booked}，多付{diff}。")
GAP_COUNT = N_("{item}按账应在库{book}，期末盘点（同批号）为{counted}，相差{diff}。")
GAP_NOT_COUNTED = N_("{item}按账应在库{book}，期末盘点表中没有该批号。")
GAP_ISSUED_ALLOCATED = N_("{name}：{item}出库{issued}，分配决定为{allocated}，相差{diff}。")
GAP_SIGNED_ISSUED = N_("{name}：{item}签收{signed}，出库{issued}，相差{diff}。")
GAP_DIRECTED = N_("定向捐赠指定给{directed}，却{verb}给了{name}{value}。")
GAP_DIRECTED_CONSENT = N_(
    "定向捐赠指定给{directed}，{verb}给了{name}{value}；记录注明变更依据“{consent}”，请核对捐赠人的书面同意。"
)
GAP_LATE = N_("「{step}」比「{after}」晚{days}天（超过{limit}天）：{what}。")
GAP_EARLY = N_("「{step}」日期{day}早于「{after}」日期{first}：{what}。")
GAP_HELD_LATE = N_("入账已{days}天仍有{held}未拨付（超过{limit}天）。")
NOTE_HELD = N_("尚有{held}未支付出去，仍在{holder}账上。")
NOTE_SKIPPED = N_("{item}在「{steps}」环节有按箱、盒等记的行，无法折算为件数，相关核对未做。")
NOTE_IN_STOCK = N_("{item}尚有{qty}在库。")
NOTE_NO_PIECES = N_(
    "{n}行的计量单位无法折算为基本单位，未计入件数合计；请在“单位与物资”中补充换算关系。"
)
NOTE_BANK_MATCHED = N_("银行流水没有关联编号，按{how}与本笔款项对应。")
HOW = {"memo": N_("摘要中的编号"), "party": N_("对方户名、金额和日期（前后3天）")}
NOTE_BATCH_MATCHED = N_(
    "补助发放表没有关联编号，按发放单位、发放日期和当日合计金额（拨款后7天内）与本笔拨款对应。"
)
VERB = {"money": N_("支付"), "goods": N_("出库")}


# --- Formatting (money is integer fen, goods are pieces). ---


def yuan(fen) -> str:
    """123456 → 1,234.56 (thousands separators, two decimals, a minus sign when negative)."""
    if fen is None:
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def qty(value) -> str:
    """1200 → 1,200; 12.5 → 12.5."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value.normalize():,f}"
    return f"{int(value):,}"


def amount_text(value, measure: str, uom: str = "") -> str:
    """A value with its unit: 1,234.56元 or 1,200只."""
    if value is None:
        return "—"
    if measure == "money":
        return f"{yuan(value)}{_('元')}"
    return f"{qty(value)}{uom or _('件')}"


def _num(value):
    """DuckDB decimals to int when whole, so sums compare with the generator's integers."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    return value


# --- URLs other pages link to. ---


def ref_arg(ref: str) -> str:
    """A ref as a URL path segment (a "/" in a document number must not split the path)."""
    return ref.replace("%", "%25").replace("/", "%2F")


def ref_from_arg(arg: str) -> str:
    return unquote(arg)


def donation_url(project_id: int, ref: str) -> str:
    return reverse("relief:trace_donation", args=[project_id, ref_arg(ref)])


def recipient_url(project_id: int, party_id: int) -> str:
    return reverse("relief:trace_recipient", args=[project_id, party_id])


def row_url(project_id: int, row_id: int) -> str:
    return reverse("relief:row", args=[project_id, row_id])


def sankey_url(project_id: int, ref: str | None = None) -> str:
    return reverse("relief:sankey_data", args=[project_id, ref_arg(ref or ALL)])


# --- Shapes. ---


@dataclass
class Row:
    """One ledger row as the trace shows it; `matched` says how a ref-less bank row was linked."""

    row_id: int
    file_id: int
    sheet: str
    row_no: int
    kind: str
    step: str
    day: date | None
    ref: str | None
    doc_no: str | None
    matched: str | None
    source: str | None
    source_id: int | None
    target: str | None
    target_id: int | None
    counterparty: str | None
    counterparty_id: int | None
    directed_to: str | None
    directed_to_id: int | None
    warehouse: str | None
    warehouse_id: int | None
    item: str | None
    item_id: int | None
    uom: str | None  # the unit pieces are counted in
    quantity: Decimal | None  # as written, in the ledger's unit
    ledger_uom: str | None
    pieces: int | Decimal | None
    amount: int | None  # fen
    lot: str | None
    purpose: str | None
    person: str | None
    consent: str | None  # why a directed donation went elsewhere, as the payer wrote it
    counted: int | Decimal | None  # stock counts: counted pieces
    file_name: str = ""
    file_body: str = ""  # the body the uploader said keeps the file

    @property
    def kind_label(self) -> str:
        k = schema.KINDS.get(self.kind)
        return _(k.label) if k else self.kind

    @property
    def step_label(self) -> str:
        return _(schema.STEPS[self.step]) if self.step in schema.STEPS else self.kind_label

    @property
    def measure(self) -> str:
        """money for rows that move money, goods for rows that count items, "" otherwise."""
        if self.kind in MONEY_KINDS or (self.kind == "disclosure" and not self.item):
            return "money" if self.amount is not None else ""
        if self.kind == "stock_count":
            return ""
        return "goods" if self.item and self.quantity is not None else ""

    @property
    def unconverted(self) -> bool:
        """Counted in a pack unit with no known number of pieces per pack."""
        return self.measure == "goods" and self.pieces is None

    @property
    def receiver(self) -> str | None:
        """Who gets the money or goods in this row."""
        if self.kind == "bank":
            return self.counterparty if self.step == "paid" else None
        if self.kind == "stock" and self.step == "stored":
            return self.warehouse
        if self.kind == "subsidy":
            return self.person
        return self.target or (self.warehouse if self.kind == "goods_donation" else None)

    @property
    def parties(self) -> str:
        """Who → whom, as one line for a table cell."""
        if self.kind == "bank":
            return (
                f"{self.counterparty} → {_('本账户')}"
                if self.step == "received"
                else f"{_('本账户')} → {self.counterparty}"
            )
        a = self.source or (self.warehouse if self.kind != "goods_donation" else None)
        b = self.receiver
        if a and b:
            return f"{a} → {b}"
        return a or b or ""

    @property
    def value_text(self) -> str:
        m = self.measure
        if m == "money":
            return amount_text(self.amount, "money")
        if m == "goods" and self.pieces is None:
            written = f"{qty(_num(self.quantity))}{self.ledger_uom or ''}"
            return f"{self.item} {written}" + _("（未设置换算）")
        if m == "goods":
            text = f"{self.item} {amount_text(self.pieces, 'goods', self.uom)}"
            if self.amount is not None:
                text += f"（{yuan(self.amount)}{_('元')}）"
            return text
        if self.kind == "stock_count" and self.counted is not None:
            return f"{self.item} {amount_text(self.counted, 'goods', self.uom)}"
        return ""

    @property
    def where(self) -> str:
        """第N行 of which sheet of which file, as an auditor cites it."""
        sheet = f" {self.sheet}" if self.sheet else ""
        return f"{self.file_name}{sheet} " + _("第{n}行").format(n=self.row_no)

    @property
    def directed(self) -> str | None:
        return None if (self.directed_to or "").strip() in NOT_DIRECTED else self.directed_to


@dataclass
class Step:
    """One step of a donation: its rows, and the totals of the ledger kind that counts it."""

    code: str
    rows: list[Row] = field(default_factory=list)
    kind: str = ""  # the ledger kind whose rows make the totals
    amount: int | None = None  # fen
    pieces: dict[str, int] = field(default_factory=dict)  # item → pieces
    uoms: dict[str, str] = field(default_factory=dict)  # item → unit
    unknown: set[str] = field(default_factory=set)  # items with rows not convertible to pieces
    expected: bool = False  # a donation of this nature must have this step
    missing: bool = False  # expected, its ledger is imported, and no row was found
    not_imported: bool = False  # expected, but no ledger of its kind was imported

    @property
    def label(self) -> str:
        return _(schema.STEPS[self.code])

    @property
    def first_day(self) -> date | None:
        days = [r.day for r in self.rows if r.day]
        return min(days) if days else None

    @property
    def last_day(self) -> date | None:
        days = [r.day for r in self.rows if r.day]
        return max(days) if days else None

    @property
    def total_text(self) -> str:
        parts = [amount_text(self.amount, "money")] if self.amount is not None else []
        parts += [
            f"{i} {amount_text(p, 'goods', self.uoms.get(i, ''))}"
            + (_("（另有无法折算的行）") if i in self.unknown else "")
            for i, p in self.pieces.items()
        ]
        parts += [f"{i} {_('无法折算')}" for i in self.unknown if i not in self.pieces]
        return "；".join(parts)


@dataclass
class Line:
    """One conservation line: left = right, with the difference (0 when it holds)."""

    label: str
    measure: str  # money or goods
    left_label: str
    left: int
    right_label: str
    right: int
    item: str = ""
    uom: str = ""
    note: str = ""

    @property
    def diff(self):
        return self.left - self.right

    @property
    def ok(self) -> bool:
        return self.diff == 0

    def text(self, value) -> str:
        return amount_text(value, self.measure, self.uom)

    @property
    def left_text(self) -> str:
        return self.text(self.left)

    @property
    def right_text(self) -> str:
        return self.text(self.right)

    @property
    def diff_text(self) -> str:
        return self.text(self.diff)


@dataclass
class Recipient:
    """What one recipient got of one item (goods) or in money, step by step; None: not recorded."""

    name: str
    party_id: int | None
    measure: str
    item: str = ""
    uom: str = ""
    allocated: int | None = None
    issued: int | None = None
    signed: int | None = None
    paid: int | None = None  # fen
    unknown: set[str] = field(default_factory=set)  # steps with rows not convertible to pieces
    people: int = 0  # subsidy rows summed into this line
    row_ids: list[int] = field(default_factory=list, repr=False)

    def text(self, value) -> str:
        return "—" if value is None else amount_text(value, self.measure, self.uom)

    @property
    def paid_text(self) -> str:
        return self.text(self.paid)

    def known(self, attr: str):
        """The value of a step, None when not recorded or not convertible to pieces."""
        return None if attr in self.unknown else getattr(self, attr)

    @property
    def ok(self) -> bool:
        values = [self.known(a) for a in ("allocated", "issued", "signed")]
        return len({v for v in values if v is not None}) <= 1

    @property
    def cells(self) -> list[str]:
        """allocated, issued, signed as shown: "—" not recorded, "无法折算" for pack units."""
        out = []
        for attr in ("allocated", "issued", "signed"):
            value = getattr(self, attr)
            if attr not in self.unknown:
                out.append(self.text(value))
            elif value:
                out.append(self.text(value) + _("（另有无法折算的行）"))
            else:
                out.append(_("无法折算"))
        return out


@dataclass
class Gap:
    """Something that does not add up, in words; `diff` in fen or pieces (0 when not a number)."""

    code: (
        str  # missing / diff / stock / held / count / allocated / signed / directed / late / order
    )
    text: str
    diff: int = 0
    measure: str = ""
    step: str = ""
    row_ids: list[int] = field(default_factory=list)
    rows: list["Row"] = field(default_factory=list, repr=False)  # the rows of row_ids, in order


@dataclass
class DonationTrace:
    """A donation (or contract, or appropriation) followed through every ledger that names it."""

    project_id: int
    ref: str
    nature: str
    donor: str
    donor_id: int | None
    body: str  # who received or booked it
    directed_to: str | None
    directed_to_id: int | None
    steps: list[Step]
    lines: list[Line]
    recipients: list[Recipient]
    gaps: list[Gap]
    notes: list[str]
    rows: list[Row]
    extra_rows: list[Row] = field(default_factory=list)  # stock counts of the donation's lots

    @property
    def nature_label(self) -> str:
        return _(NATURES[self.nature])

    @property
    def first_day(self) -> date | None:
        days = [r.day for r in self.rows if r.day]
        return min(days) if days else None

    @property
    def measures(self) -> list[str]:
        return sorted({r.measure for r in self.rows if r.measure}, key=["money", "goods"].index)

    @property
    def items(self) -> list[str]:
        return list(dict.fromkeys(r.item for r in self.rows if r.item and r.measure == "goods"))

    @property
    def has_goods(self) -> bool:
        return any(x.measure == "goods" for x in self.recipients)

    @property
    def has_money(self) -> bool:
        return any(x.measure == "money" for x in self.recipients)

    @property
    def url(self) -> str:
        return donation_url(self.project_id, self.ref)


@dataclass
class Summary:
    """One donation in a list: who gave what, to whom, and whether it adds up."""

    ref: str
    nature: str
    donor: str
    first_day: date | None
    amount: int | None  # fen booked or received
    pieces: int | None
    uom: str
    items: list[str]
    recipients: list[str]
    gaps: int
    matched_on: str = ""  # what the search matched: 编号 / 单据号 / 捐赠方 / 接收方
    project_id: int = 0

    @property
    def nature_label(self) -> str:
        return _(NATURES[self.nature])

    @property
    def value_text(self) -> str:
        parts = []
        if self.amount is not None:
            parts.append(amount_text(self.amount, "money"))
        if self.pieces is not None:
            parts.append(f"{'、'.join(self.items)} {amount_text(self.pieces, 'goods', self.uom)}")
        return "；".join(parts)

    @property
    def url(self) -> str:
        return donation_url(self.project_id, self.ref)


@dataclass
class Source:
    """What a recipient got from one donation, traced back to its donor."""

    ref: str
    nature: str
    donor: str
    donor_id: int | None
    body: str
    lines: list[Recipient]  # per item (goods) and one for money
    rows: list[Row]
    gaps: list[Gap]
    project_id: int = 0

    @property
    def nature_label(self) -> str:
        return _(NATURES[self.nature])

    @property
    def url(self) -> str:
        return donation_url(self.project_id, self.ref)


@dataclass
class RecipientTrace:
    """Everything one party received, grouped by the donation it came from."""

    project_id: int
    party_id: int
    name: str
    sources: list[Source]
    totals: list[Recipient]  # per item, then money
    appropriated: int  # fen from appropriations addressed to the party
    gaps: list[Gap]
    notes: list[str]


@dataclass
class MoneyHolder:
    """Money that passed through one party: in (donations, appropriations, transfers), out, held."""

    name: str
    party_id: int | None
    donations: int = 0
    appropriations: int = 0
    transfers_in: int = 0
    paid_out: int = 0
    subsidies: int = 0
    bank_in: int | None = None  # movements on its bank statement, when one was imported
    bank_out: int | None = None
    bank_closing: int | None = None

    @property
    def received(self) -> int:
        return self.donations + self.appropriations + self.transfers_in

    @property
    def spent(self) -> int:
        return self.paid_out + self.subsidies

    @property
    def held(self) -> int:
        return self.received - self.spent

    @property
    def is_holder(self) -> bool:
        """A party that received money to pass on or spend (not only a final payee)."""
        return bool(self.donations or self.appropriations or self.spent)

    @property
    def cells(self) -> list[str]:
        """donations, appropriations, transfers in, paid out, subsidies, held — as shown."""
        values = (
            self.donations,
            self.appropriations,
            self.transfers_in,
            self.paid_out,
            self.subsidies,
            self.held,
        )
        return [yuan(v) if v else "—" for v in values[:-1]] + [yuan(self.held)]

    @property
    def bank_text(self) -> str:
        return "" if self.bank_in is None else yuan(self.bank_in - (self.bank_out or 0))

    @property
    def bank_diff_text(self) -> str:
        return "" if self.bank_diff is None else yuan(self.bank_diff)

    @property
    def bank_diff(self) -> int | None:
        """(bank in − bank out) − (booked − paid): the statement against the books."""
        if self.bank_in is None:
            return None
        return (self.bank_in - (self.bank_out or 0)) - (self.donations - self.paid_out)


@dataclass
class GoodsLine:
    """One item in one warehouse: what came in, went out, should be there and was counted."""

    warehouse: str
    warehouse_id: int | None
    item: str
    item_id: int | None
    uom: str
    booked: int = 0  # donations registered and deliveries accepted into this warehouse
    stored: int = 0
    issued: int = 0
    counted: int | None = None  # the last stock count, when one was imported
    count_day: date | None = None
    # Rows in a pack unit with no conversion: the sums they are in cannot be compared.
    bad_booked: int = 0
    bad_stock: int = 0
    bad_count: int = 0

    @property
    def book_stock(self):
        return self.stored - self.issued

    @property
    def count_diff(self):
        if self.counted is None or self.bad_stock or self.bad_count:
            return None
        return self.counted - self.book_stock

    @property
    def checkable(self) -> bool:
        return not (self.bad_stock or self.bad_count)

    @property
    def ok(self) -> bool:
        if not self.checkable:
            return True  # not known to be wrong; the cell says why it was not checked
        return self.book_stock >= 0 and not self.count_diff

    def text(self, value) -> str:
        return "—" if value is None else amount_text(value, "goods", self.uom)

    @property
    def booked_text(self) -> str:
        if self.bad_booked:
            return _("无法折算")
        return self.text(self.booked) if self.booked else "—"

    @property
    def stored_text(self) -> str:
        return _("无法折算") if self.bad_stock else self.text(self.stored)

    @property
    def issued_text(self) -> str:
        return _("无法折算") if self.bad_stock else self.text(self.issued)

    @property
    def book_stock_text(self) -> str:
        return _("无法折算") if self.bad_stock else self.text(self.book_stock)

    @property
    def counted_text(self) -> str:
        if self.bad_count:
            return _("无法折算")
        return self.text(self.counted) if self.counted is not None else _("未盘点")

    @property
    def diff_text(self) -> str:
        """In words where it does not hold: short, it goes in a table cell."""
        if not self.checkable:
            n = self.bad_stock + self.bad_count
            return _("未核对：{n}行的单位未设置换算").format(n=n)
        if self.book_stock < 0:
            return _("出库比入库多{qty}").format(qty=self.text(-self.book_stock))
        if self.count_diff:
            word = _("盘盈") if self.count_diff > 0 else _("盘亏")
            return f"{word}{self.text(abs(self.count_diff))}"
        return _("相符") if self.counted is not None else "—"


@dataclass
class Balances:
    """The project's conservation: money in = paid out + held; goods in = issued + in stock."""

    holders: list[MoneyHolder]
    payees: list[MoneyHolder]  # parties that only received payments (suppliers, hospitals, people)
    goods: list[GoodsLine]
    notes: list[str]

    @property
    def money_in(self) -> int:
        return sum(h.donations + h.appropriations for h in self.holders)

    @property
    def money_held(self) -> int:
        return sum(h.held for h in self.holders)

    @property
    def money_to_payees(self) -> int:
        return sum(p.transfers_in for p in self.payees)

    @property
    def money_subsidies(self) -> int:
        return sum(h.subsidies for h in self.holders)

    @property
    def money_in_text(self) -> str:
        return yuan(self.money_in)

    @property
    def money_held_text(self) -> str:
        return yuan(self.money_held)

    @property
    def money_to_payees_text(self) -> str:
        return yuan(self.money_to_payees)

    @property
    def money_subsidies_text(self) -> str:
        return yuan(self.money_subsidies)

    @property
    def money_overspent_text(self) -> str:
        return yuan(self.money_overspent)

    @property
    def money_overspent(self) -> int:
        """Fen paid out beyond what the payers received: the holders whose 结存 is negative.

        Every payment is one holder's outflow and another party's inflow, so in = to payees +
        subsidies + held always adds up; what can be wrong is a holder below zero.
        """
        return sum(-h.held for h in self.holders if h.held < 0)


@dataclass
class Sankey:
    """ECharts Sankey data: nodes by name, links with values in fen (money) or pieces (goods)."""

    measure: str
    nodes: list[dict]
    links: list[dict]
    measures: list[str]

    def as_json(self) -> dict:
        return {
            "measure": self.measure,
            "unit": _("元") if self.measure == "money" else _("件"),
            "scale": 100 if self.measure == "money" else 1,
            "nodes": self.nodes,
            "links": self.links,
            "measures": self.measures,
        }


@dataclass
class LedgerRow:
    """One ledger row with all its non-empty fields, where it came from and its siblings."""

    row: Row
    fields: list[tuple[str, str]]  # (label, value as shown)
    file_name: str
    sha256: str
    siblings: list[Row]


# --- Queries. ---

# The trace step of a row. Contracts, deliveries and subsidies are stored under their own kind;
# in a donation's life they are its booking, its receipt and its payment.
_STEP = (
    "CASE e.kind WHEN 'contract' THEN 'booked' WHEN 'delivery' THEN 'received' "
    "WHEN 'subsidy' THEN 'paid' ELSE e.step END"
)

_COLUMNS = """
    e.row_id, e.file_id, e.sheet, e.row_no, e.kind, {step} AS step, e.day,
    coalesce(e.ref, l.ref) AS ref, e.doc_no, l.how AS matched,
    coalesce(e.source_name, e.source) AS source, e.source_id,
    coalesce(e.target_name, e.target) AS target, e.target_id,
    coalesce(e.counterparty_name, e.counterparty) AS counterparty, e.counterparty_id,
    CASE WHEN trim(coalesce(e.directed_to, '')) IN {not_directed} THEN NULL
         ELSE coalesce(e.directed_to_name, e.directed_to) END AS directed_to,
    CASE WHEN trim(coalesce(e.directed_to, '')) IN {not_directed} THEN NULL
         ELSE e.directed_to_id END AS directed_to_id,
    coalesce(e.warehouse_name, e.warehouse) AS warehouse, e.warehouse_id,
    coalesce(e.item_name, e.item) AS item, e.item_id,
    CASE WHEN e.uom IN {pieces} AND e.uom <> '' THEN e.uom
         ELSE coalesce(pu.unit, e.base_uom) END AS uom,
    e.quantity, e.uom AS ledger_uom, e.pieces, e.amount, e.lot, e.purpose, e.person, e.consent,
    CASE WHEN e.counted_qty IS NULL THEN NULL
         WHEN e.uom IS NULL OR e.uom = e.base_uom OR e.uom IN {pieces} THEN e.counted_qty
         ELSE e.counted_qty * u.factor END AS counted
""".format(step=_STEP, not_directed=tuple(sorted(NOT_DIRECTED)), pieces=store.PIECE_UNITS)

# Rows that name no ref but belong to one, computed once per connection into `links` (row_id,
# ref, how, doc_id — the ledger row it was matched to):
# - a bank row to one booked donation (credits) or payment (debits): by a ref in its memo first,
#   else by party, amount and a date within ±3 days; the nearest date wins, one to one;
# - a day's subsidy rows of one payer to the appropriation to that payer of the same total, paid
#   out within a week of it.
# `piece_units`: the piece unit ledgers write for each item (瓶, 套), for rows kept in packs.
_SETUP = [
    """CREATE TEMP TABLE link_src AS
    SELECT row_id, kind, step, ref, day, amount, source_id, source_key, target_id, target_key,
           counterparty_id, counterparty_key, purpose
    FROM entries WHERE kind IN ('bank', 'cash_donation', 'payment', 'appropriation', 'subsidy')""",
    f"""CREATE TEMP TABLE links AS
WITH bank_rows AS (
    SELECT row_id, step, day, amount, counterparty_id, counterparty_key, purpose
    FROM link_src WHERE kind = 'bank' AND ref IS NULL
),
docs AS (
    SELECT row_id, ref, day, amount,
           CASE WHEN kind = 'cash_donation' THEN 'received' ELSE 'paid' END AS bank_step,
           CASE WHEN kind = 'cash_donation' THEN source_id ELSE target_id END AS party_id,
           CASE WHEN kind = 'cash_donation' THEN source_key ELSE target_key END AS party_key
    FROM link_src WHERE kind IN ('cash_donation', 'payment') AND ref IS NOT NULL
),
memo AS (
    SELECT row_id, unnest(regexp_extract_all(coalesce(purpose, ''), '[A-Za-z0-9-]{{4,}}')) AS token
    FROM bank_rows
),
candidates AS (
    SELECT b.row_id AS bank_id, d.row_id AS doc_id, d.ref, 0 AS prio,
           abs(date_diff('day', d.day, b.day)) AS apart, 'memo' AS how
    FROM memo m JOIN bank_rows b ON b.row_id = m.row_id
    JOIN docs d ON d.ref = m.token AND d.bank_step = b.step
    UNION ALL
    SELECT b.row_id, d.row_id, d.ref, 1, abs(date_diff('day', d.day, b.day)), 'party'
    FROM bank_rows b JOIN docs d
      ON d.bank_step = b.step AND b.amount = d.amount
     AND (b.counterparty_id = d.party_id OR b.counterparty_key = d.party_key)
     AND abs(date_diff('day', d.day, b.day)) <= {BANK_MATCH_DAYS}
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY bank_id ORDER BY prio, apart, doc_id) AS by_bank,
           row_number() OVER (PARTITION BY doc_id ORDER BY prio, apart, bank_id) AS by_doc
    FROM candidates
),
batches AS (
    SELECT source_key, day, sum(amount) AS amount FROM link_src
    WHERE kind = 'subsidy' AND ref IS NULL AND source_key IS NOT NULL AND amount IS NOT NULL
    GROUP BY source_key, day
),
batch_pairs AS (
    SELECT a.ref, a.row_id AS doc_id, b.source_key, b.day,
           row_number() OVER (PARTITION BY a.row_id ORDER BY b.day, b.source_key) AS by_doc,
           row_number() OVER (PARTITION BY b.source_key, b.day ORDER BY a.day DESC, a.row_id)
             AS by_batch
    FROM batches b JOIN link_src a
      ON a.kind = 'appropriation' AND a.ref IS NOT NULL AND a.amount = b.amount
     AND a.target_key = b.source_key AND date_diff('day', a.day, b.day) BETWEEN 0 AND 7
)
SELECT bank_id AS row_id, ref, how, doc_id FROM ranked
WHERE by_bank = 1 AND (prio = 0 OR by_doc = 1)
UNION ALL
SELECT s.row_id, p.ref, 'batch', p.doc_id FROM batch_pairs p
JOIN link_src s ON s.kind = 'subsidy' AND s.ref IS NULL AND s.source_key = p.source_key
 AND s.day = p.day
WHERE p.by_doc = 1 AND p.by_batch = 1""",
    f"""CREATE TEMP TABLE piece_units AS
    SELECT item_id, mode(uom) AS unit FROM entries
    WHERE item_id IS NOT NULL AND uom IN {store.PIECE_UNITS} AND uom <> ''
    GROUP BY item_id""",
]

_FROM = """
FROM entries e
LEFT JOIN links l ON l.row_id = e.row_id
LEFT JOIN uom_map u ON u.item_id = e.item_id AND u.uom = e.uom
LEFT JOIN piece_units pu ON pu.item_id = e.item_id
"""

_TRACE_STEPS = tuple(schema.STEPS)


@contextmanager
def _db(project_id: int):
    """The project's DuckDB with a `files` table (id, name, body, sha256) for labels and holders."""
    from fangkong.relief.models import SourceFile

    files = list(
        SourceFile.objects.filter(project_id=project_id).values_list("id", "name", "body", "sha256")
    )
    with store.project_db(project_id) as con:
        con.register(
            "files_src",
            pa.table(
                {
                    "file_id": pa.array([f[0] for f in files], pa.int64()),
                    "name": pa.array([f[1] for f in files], pa.string()),
                    "body": pa.array([f[2] for f in files], pa.string()),
                    "sha256": pa.array([f[3] for f in files], pa.string()),
                }
            ),
        )
        con.execute("CREATE TEMP TABLE files AS SELECT * FROM files_src")
        con.unregister("files_src")
        for sql in _SETUP:
            con.execute(sql)
        yield _Db(con, {f[0]: f for f in files})


class _Db:
    """A DuckDB connection and the project's files (id → (id, name, body, sha256))."""

    def __init__(self, con, files: dict):
        self.con = con
        self.file_info = files
        self.file_names = {k: f[1] for k, f in files.items()}

    def execute(self, sql: str, params=None):
        return self.con.execute(sql, params or [])


def _rows(con, where: str, params: list) -> list[Row]:
    """Trace rows (ledger rows of trace steps, bank rows linked) matching `where`, in day order."""
    sql = f"""
        SELECT {_COLUMNS} {_FROM}
        WHERE ({where})
        ORDER BY e.day NULLS LAST, e.file_id, e.row_no
    """  # noqa: S608 - fixed SQL; values are parameters
    out = []
    for d in store.rows(con, sql, params):
        d["pieces"] = _num(d["pieces"])
        d["counted"] = _num(d["counted"])
        info = con.file_info.get(d["file_id"]) or (None, "", "", "")
        out.append(Row(**d, file_name=info[1], file_body=info[2] or ""))
    return out


def _context(con) -> tuple[set[str], date | None]:
    """The ledger kinds the project imported and the last day any ledger mentions."""
    kinds, last = con.execute("SELECT list(DISTINCT kind), max(day) FROM raw_entries").fetchone()
    return set(kinds or []), last


def _ledger_names(kinds: Iterable[str]) -> str:
    return "、".join(f"《{_(schema.KINDS[k].label)}》" for k in kinds if k in schema.KINDS)


# --- One donation forward. ---


def donation_trace(project_id: int, ref: str) -> DonationTrace | None:
    """Every row of one donation, step by step, with its conservation lines and gaps.

    `ref` may also be the document number of one of its rows (an allocation decision, an
    appropriation's 文号); the trace's `ref` is then the donation's. None when nothing matches.
    """
    ref = (ref or "").strip()
    if not ref:
        return None
    with _db(project_id) as con:
        kinds, last_day = _context(con)
        # The ref itself, else the ref of the row with that document number (the first one).
        (ref,) = con.execute(
            "SELECT coalesce((SELECT max(ref) FROM entries WHERE ref = $1),"
            " (SELECT min(ref) FROM entries WHERE doc_no = $1 AND ref IS NOT NULL), $1)",
            [ref],
        ).fetchone()
        rows = _rows(
            con,
            f"coalesce(e.ref, l.ref) = $1 AND {_STEP} IN (SELECT unnest($2::VARCHAR[]))",
            [ref, list(_TRACE_STEPS)],
        )
        if not rows:
            return None
        lots = sorted({r.lot for r in rows if r.lot and r.kind == "stock"})
        counts = _rows(
            con, "e.kind = 'stock_count' AND e.lot IN (SELECT unnest($1::VARCHAR[]))", [lots]
        )
    return _assess(project_id, ref, rows, kinds, last_day, counts)


def _nature(rows: list[Row]) -> str:
    present = {r.kind for r in rows}
    for kind, nature in (
        ("cash_donation", "cash"),
        ("goods_donation", "goods"),
        ("contract", "contract"),
        ("appropriation", "appropriation"),
    ):
        if kind in present:
            return nature
    if any(r.measure == "goods" for r in rows):
        return "other"
    return "money"


def _steps(rows: list[Row], nature: str, kinds: set[str]) -> list[Step]:
    by_step: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_step[r.step].append(r)
    expected = dict(EXPECTED[nature])
    steps = []
    for code in schema.STEPS:
        step = Step(code=code, rows=by_step.get(code, []))
        present = {r.kind for r in step.rows}
        step.kind = next((k for k in STEP_KINDS[code] if k in present), "")
        counted = [r for r in step.rows if r.kind == step.kind]
        money = [r.amount for r in counted if r.measure == "money"]
        if money:
            step.amount = sum(money)
        for r in counted:
            if r.unconverted:
                step.unknown.add(r.item)
            elif r.measure == "goods":
                step.pieces[r.item] = step.pieces.get(r.item, 0) + r.pieces
                step.uoms.setdefault(r.item, r.uom or "")
        if code in expected:
            step.expected = True
            if not step.rows:
                step.missing = bool(kinds & set(expected[code]))
                step.not_imported = not step.missing
        steps.append(step)
    return steps


def _first(rows: Iterable[Row], attr: str):
    return next((getattr(r, attr) for r in rows if getattr(r, attr)), None)


def _assess(
    project_id: int,
    ref: str,
    rows: list[Row],
    kinds: set[str],
    last_day: date | None,
    counts: list[Row],
) -> DonationTrace:
    """Steps, conservation lines, recipients and gaps of one donation's rows."""
    nature = _nature(rows)
    steps = _steps(rows, nature, kinds)
    step = {s.code: s for s in steps}
    gaps: list[Gap] = []
    notes: list[str] = []
    lines: list[Line] = []

    start = step["booked"].rows or step["received"].rows or step["stored"].rows or rows
    donor_row = next((r for r in start if r.kind != "bank" and r.source), None)
    bank_in = next((r for r in start if r.kind == "bank" and r.counterparty), None)
    donor = donor_row.source if donor_row else (bank_in.counterparty if bank_in else None)
    donor_id = donor_row.source_id if donor_row else (bank_in.counterparty_id if bank_in else None)
    booked_rows = step["booked"].rows or step["received"].rows
    body = (
        _first(booked_rows, "target")
        or _first(booked_rows, "file_body")
        or _first(step["disclosed"].rows, "target")
        or _first([r for r in step["paid"].rows if r.kind == "payment"], "source")
        or _first(step["stored"].rows, "warehouse")
        or (_file_label(booked_rows[0]) if booked_rows else "")
    )
    directed_row = next((r for r in rows if r.directed and r.step in ("booked", "received")), None)
    directed_row = directed_row or next((r for r in rows if r.directed), None)
    directed = directed_row.directed_to if directed_row else None
    directed_id = directed_row.directed_to_id if directed_row else None

    for s in steps:
        if s.missing:
            gaps.append(
                Gap(
                    "missing",
                    _(GAP_MISSING).format(
                        step=s.label, ledgers=_ledger_names(dict(EXPECTED[nature])[s.code])
                    ),
                    step=s.code,
                )
            )
        elif s.not_imported:
            notes.append(
                _(NOTE_NOT_IMPORTED).format(
                    step=s.label, ledgers=_ledger_names(dict(EXPECTED[nature])[s.code])
                )
            )
    unconverted = [r for r in rows if r.unconverted]
    if unconverted:
        notes.append(_(NOTE_NO_PIECES).format(n=len(unconverted)))
    matched = {r.matched for r in rows if r.matched}
    for how in sorted(matched):
        if how == "batch":
            notes.append(_(NOTE_BATCH_MATCHED))
        else:
            notes.append(_(NOTE_BANK_MATCHED).format(how=_(HOW[how])))

    if any(r.measure == "money" for r in rows):
        _money_lines(step, nature, kinds, last_day, body, lines, gaps, notes)
    goods_items = list(dict.fromkeys(r.item for r in rows if r.measure == "goods"))
    for item in goods_items:
        _goods_lines(step, item, kinds, counts, lines, gaps, notes)
    recipients = _recipients(rows, kinds)
    _recipient_gaps(recipients, gaps)
    if directed:
        _directed_gaps(rows, directed, directed_id, gaps)
    _timing_gaps(step, gaps)
    by_id = {r.row_id: r for r in [*rows, *counts]}
    for g in gaps:
        g.rows = [by_id[i] for i in g.row_ids if i in by_id]
    return DonationTrace(
        project_id=project_id,
        ref=ref,
        nature=nature,
        donor=donor or _(UNKNOWN_DONOR),
        donor_id=donor_id,
        body=body or "",
        directed_to=directed,
        directed_to_id=directed_id,
        steps=steps,
        lines=lines,
        recipients=recipients,
        gaps=gaps,
        notes=notes,
        rows=rows,
        extra_rows=counts,
    )


def _file_label(row: Row) -> str:
    """The body keeping a ledger that does not name itself: the file name without extension."""
    return row.file_name.rsplit(".", 1)[0]


def _diff_gap(line: Line, code: str, step: str, rows: list[Row]) -> Gap:
    return Gap(
        code,
        _(GAP_DIFF).format(
            left_label=line.left_label,
            left=line.left_text,
            right_label=line.right_label,
            right=line.right_text,
            diff=line.text(abs(line.diff)),
        ),
        diff=line.diff,
        measure=line.measure,
        step=step,
        row_ids=[r.row_id for r in rows],
    )


def _money_lines(step, nature, kinds, last_day, body, lines, gaps, notes) -> None:
    received, booked, paid, disclosed = (
        step["received"],
        step["booked"],
        step["paid"],
        step["disclosed"],
    )
    if booked.amount is not None and received.amount is not None and received.kind == "bank":
        line = Line(
            _("到账 = 登记入账"),
            "money",
            _("银行到账"),
            received.amount,
            _("登记入账"),
            booked.amount,
        )
        lines.append(line)
        if not line.ok:
            gaps.append(_diff_gap(line, "diff", "received", received.rows + booked.rows))
    base_step = booked if booked.amount is not None else received
    base = base_step.amount
    if base is None:
        return
    paid_out = paid.amount or 0
    held = base - paid_out
    line = Line(
        _("入账 = 已支付 + 结存"),
        "money",
        base_step.label,
        base,
        _("已支付 + 结存"),
        paid_out + max(held, 0),
        note=_("结存 {held}").format(held=amount_text(max(held, 0), "money")),
    )
    lines.append(line)
    if held < 0:
        gaps.append(
            Gap(
                "held",
                _(GAP_NEGATIVE_HELD).format(
                    paid=amount_text(paid_out, "money"),
                    booked=amount_text(base, "money"),
                    diff=amount_text(-held, "money"),
                ),
                diff=held,
                measure="money",
                step="paid",
                row_ids=[r.row_id for r in paid.rows],
            )
        )
    elif held > 0:
        notes.append(
            _(NOTE_HELD).format(held=amount_text(held, "money"), holder=body or _("接收单位"))
        )
        since = base_step.first_day
        if nature == "cash" and since and last_day and (last_day - since).days > LATE_DAYS["paid"]:
            gaps.append(
                Gap(
                    "late",
                    _(GAP_HELD_LATE).format(
                        days=(last_day - since).days,
                        held=amount_text(held, "money"),
                        limit=LATE_DAYS["paid"],
                    ),
                    diff=held,
                    measure="money",
                    step="paid",
                )
            )
    bank_paid = [r for r in paid.rows if r.kind == "bank"]
    if paid.kind == "payment" and bank_paid:
        line = Line(
            _("银行支出 = 支付明细"),
            "money",
            _("银行支出"),
            sum(r.amount or 0 for r in bank_paid),
            _("支付明细"),
            paid.amount or 0,
        )
        lines.append(line)
        if not line.ok:
            gaps.append(_diff_gap(line, "diff", "paid", paid.rows))
    if nature == "cash" and disclosed.rows:
        shown = sum(r.amount or 0 for r in disclosed.rows if r.measure == "money")
        line = Line(_("公示 = 登记入账"), "money", _("公示金额"), shown, base_step.label, base)
        lines.append(line)
        if not line.ok:
            gaps.append(_diff_gap(line, "diff", "disclosed", disclosed.rows + base_step.rows))


def _goods_lines(step, item, kinds, counts, lines, gaps, notes) -> None:
    """An item's lines: booked = stored, delivered = stored, stored = issued + in stock (and the
    stock count of its lots), disclosed = booked. Totals with unconvertible rows are skipped."""
    unknown = set()

    def total(code: str, kind: str | None = None) -> int | None:
        rs = [
            r
            for r in step[code].rows
            if r.item == item and r.measure == "goods" and r.kind == (kind or step[code].kind)
        ]
        if any(r.unconverted for r in rs):
            unknown.add(code)
            return None
        return sum(r.pieces for r in rs) if rs else None

    def rows_of(code: str) -> list[Row]:
        return [r for r in step[code].rows if r.item == item]

    def check(line: Line, step_code: str, rows: list[Row]) -> None:
        lines.append(line)
        if not line.ok:
            gaps.append(_diff_gap(line, "diff", step_code, rows))

    uom = _unit(r for s in step.values() for r in s.rows if r.item == item)
    booked = total("booked")
    delivered = total("received", "delivery")
    stored = total("stored")
    issued = total("issued")
    disclosed = total("disclosed")
    if unknown:
        notes.append(
            _(NOTE_SKIPPED).format(
                item=item, steps="、".join(_(schema.STEPS[c]) for c in schema.STEPS if c in unknown)
            )
        )
    booked_label = _("合同数量") if step["booked"].kind == "contract" else _("登记捐赠")
    if booked is not None and stored is not None:
        line = Line(_("登记 = 入库"), "goods", booked_label, booked, _("入库"), stored, item, uom)
        check(line, "stored", rows_of("booked") + rows_of("stored"))
    if delivered is not None and stored is not None:
        line = Line(
            _("到货 = 入库"), "goods", _("验收到货"), delivered, _("入库"), stored, item, uom
        )
        check(line, "stored", rows_of("received") + rows_of("stored"))
    if disclosed is not None and booked is not None:
        line = Line(
            _("公示 = 登记"), "goods", _("公示数量"), disclosed, booked_label, booked, item, uom
        )
        check(line, "disclosed", rows_of("disclosed") + rows_of("booked"))
    if "issued" in unknown or "stored" in unknown:
        return
    base = stored if stored is not None else booked
    if base is None or "booked" in unknown and stored is None:
        return
    issued = issued or 0
    left = base - issued
    line = Line(
        _("入库 = 出库 + 在库") if stored is not None else _("登记 = 出库 + 在库"),
        "goods",
        _("入库") if stored is not None else booked_label,
        base,
        _("出库 + 在库"),
        issued + max(left, 0),
        item,
        uom,
        note=_("在库 {qty}").format(qty=amount_text(max(left, 0), "goods", uom)),
    )
    lines.append(line)
    if left < 0:
        gaps.append(
            Gap(
                "stock",
                _(GAP_NEGATIVE_STOCK).format(
                    item=item,
                    issued=amount_text(issued, "goods", uom),
                    stored=amount_text(base, "goods", uom),
                    diff=amount_text(-left, "goods", uom),
                ),
                diff=left,
                measure="goods",
                step="issued",
                row_ids=[r.row_id for r in rows_of("issued")],
            )
        )
        return
    if left > 0:
        notes.append(_(NOTE_IN_STOCK).format(item=item, qty=amount_text(left, "goods", uom)))
    lots = {r.lot for r in rows_of("stored") if r.lot}
    if not (lots and stored is not None and "stock_count" in kinds):
        return
    item_counts = [c for c in counts if c.lot in lots and c.item == item]
    if not item_counts:
        if left > 0:
            gaps.append(
                Gap(
                    "count",
                    _(GAP_NOT_COUNTED).format(item=item, book=amount_text(left, "goods", uom)),
                    diff=left,
                    measure="goods",
                    step="stored",
                )
            )
        return
    if any(c.counted is None for c in item_counts):
        notes.append(_(NOTE_SKIPPED).format(item=item, steps=_("期末盘点")))
        return
    last = max((c.day for c in item_counts if c.day), default=None)
    counted = sum(c.counted for c in item_counts if c.day == last)
    line = Line(
        _("在库 = 期末盘点"), "goods", _("账面在库"), left, _("盘点（同批号）"), counted, item, uom
    )
    lines.append(line)
    if not line.ok:
        gaps.append(
            Gap(
                "count",
                _(GAP_COUNT).format(
                    item=item,
                    book=amount_text(left, "goods", uom),
                    counted=amount_text(counted, "goods", uom),
                    diff=amount_text(abs(left - counted), "goods", uom),
                ),
                diff=left - counted,
                measure="goods",
                step="stored",
                row_ids=[c.row_id for c in item_counts],
            )
        )


def _unit(rows: Iterable[Row]) -> str:
    """The piece unit the ledgers write for an item (瓶, 套), else the catalogue's base unit."""
    rows = list(rows)
    written = [r.ledger_uom for r in rows if r.ledger_uom and r.ledger_uom in store.PIECE_UNITS]
    return max(set(written), key=written.count) if written else _first(rows, "uom") or ""


def _recipients(rows: list[Row], kinds: set[str]) -> list[Recipient]:
    """Per recipient and item: allocated, issued, signed; per recipient: money paid."""
    out: dict[tuple, Recipient] = {}
    for r in rows:
        if r.measure == "goods" and r.step in ("allocated", "issued", "signed") and r.target:
            if (
                r.kind
                != {"allocated": "allocation", "issued": "stock", "signed": "receipt"}[r.step]
            ):
                continue
            key = (r.target_id or r.target, r.item)
            rec = out.get(key)
            if rec is None:
                rec = out[key] = Recipient(r.target, r.target_id, "goods", r.item, r.uom or "")
                for attr, kind in (
                    ("allocated", "allocation"),
                    ("issued", "stock"),
                    ("signed", "receipt"),
                ):
                    if kind in kinds:
                        setattr(rec, attr, 0)
            rec.row_ids.append(r.row_id)
            if r.unconverted:
                rec.unknown.add(r.step)
            else:
                setattr(rec, r.step, (getattr(rec, r.step) or 0) + r.pieces)
        elif r.kind == "payment" and r.step == "paid" and r.target and r.amount is not None:
            key = (r.target_id or r.target, "")
            rec = out.setdefault(key, Recipient(r.target, r.target_id, "money"))
            rec.paid = (rec.paid or 0) + r.amount
        elif r.kind == "subsidy" and r.amount is not None:
            # People are many and personal: one line for all of them.
            rec = out.setdefault(("subsidy", ""), Recipient("", None, "money", paid=0))
            rec.paid += r.amount
            rec.people = rec.people + 1
    if ("subsidy", "") in out:
        rec = out[("subsidy", "")]
        rec.name = _("一线人员补助（{n}人次）").format(n=rec.people)
    return sorted(out.values(), key=lambda x: (x.measure != "goods", x.item, x.name))


def _recipient_gaps(recipients: list[Recipient], gaps: list[Gap]) -> None:
    for rec in recipients:
        if rec.measure != "goods":
            continue
        allocated, issued, signed = rec.known("allocated"), rec.known("issued"), rec.known("signed")
        if allocated is not None and issued is not None and allocated != issued:
            gaps.append(
                Gap(
                    "allocated",
                    _(GAP_ISSUED_ALLOCATED).format(
                        name=rec.name,
                        item=rec.item,
                        issued=rec.text(issued),
                        allocated=rec.text(allocated),
                        diff=rec.text(abs(issued - allocated)),
                    ),
                    diff=issued - allocated,
                    measure="goods",
                    step="issued",
                    row_ids=list(rec.row_ids),
                )
            )
        if signed is not None and issued is not None and signed != issued:
            gaps.append(
                Gap(
                    "signed",
                    _(GAP_SIGNED_ISSUED).format(
                        name=rec.name,
                        item=rec.item,
                        signed=rec.text(signed),
                        issued=rec.text(issued),
                        diff=rec.text(abs(signed - issued)),
                    ),
                    diff=signed - issued,
                    measure="goods",
                    step="signed",
                    row_ids=list(rec.row_ids),
                )
            )


def _same_party(name_a, id_a, name_b, id_b) -> bool:
    if id_a is not None and id_b is not None:
        return id_a == id_b
    return (name_a or "") == (name_b or "")


def _directed_gaps(rows: list[Row], directed: str, directed_id, gaps: list[Gap]) -> None:
    """A directed donation must reach its receiver: every payment and issue goes there."""
    wrong: dict[tuple, list[Row]] = defaultdict(list)
    for r in rows:
        moves = (r.kind == "payment" and r.step == "paid") or (
            r.kind == "stock" and r.step == "issued"
        )
        if moves and r.target and not _same_party(r.target, r.target_id, directed, directed_id):
            wrong[(r.measure, r.target, r.item if r.measure == "goods" else "")].append(r)
    for (measure, name, item), rs in wrong.items():
        value = sum((r.amount if measure == "money" else r.pieces) or 0 for r in rs)
        uom = rs[0].uom or ""
        consent = next((r.consent for r in rs if r.consent), "")
        gaps.append(
            Gap(
                "directed",
                _(GAP_DIRECTED_CONSENT if consent else GAP_DIRECTED).format(
                    directed=directed,
                    verb=_(VERB.get(measure, "支付")),
                    name=name,
                    value=(f" {item} " if item else " ") + amount_text(value, measure, uom),
                    consent=consent,
                ),
                diff=value,
                measure=measure,
                step="paid" if measure == "money" else "issued",
                row_ids=[r.row_id for r in rs],
            )
        )


def _timing_gaps(step: dict[str, Step], gaps: list[Gap]) -> None:
    """Steps dated before the step they follow, or later than the rules allow."""
    booked_day = step["booked"].first_day or step["received"].first_day
    donated = {r.kind for r in step["booked"].rows} & {"cash_donation", "goods_donation"}
    # Deadlines bind donations (a contract's goods may arrive weeks after signing); a charity
    # passes cash donations on, so their payment has one too.
    pairs = [
        ("stored", "booked", booked_day, bool(donated)),
        ("disclosed", "booked", booked_day, True),
        ("paid", "booked", booked_day, "cash_donation" in donated),
    ]
    for code, after, first, has_deadline in pairs:
        day = step[code].first_day
        if not (first and day) or (code == "paid" and not has_deadline):
            continue  # appropriations are paid out when the goods they bought have arrived
        what = step[code].rows[0].where
        if day < first:
            gaps.append(
                Gap(
                    "order",
                    _(GAP_EARLY).format(
                        step=step[code].label,
                        day=day,
                        after=step[after].label if step[after].rows else step["received"].label,
                        first=first,
                        what=what,
                    ),
                    step=code,
                    row_ids=[step[code].rows[0].row_id],
                )
            )
        elif has_deadline and (day - first).days > LATE_DAYS[code]:
            gaps.append(
                Gap(
                    "late",
                    _(GAP_LATE).format(
                        step=step[code].label,
                        after=step[after].label if step[after].rows else step["received"].label,
                        days=(day - first).days,
                        limit=LATE_DAYS[code],
                        what=what,
                    ),
                    step=code,
                    row_ids=[step[code].rows[0].row_id],
                )
            )
    # Per recipient and lot: an issue before the goods were stored, a signature before the issue.
    stored_day = step["stored"].first_day
    for r in step["issued"].rows:
        if stored_day and r.day and r.day < stored_day:
            gaps.append(
                Gap(
                    "order",
                    _(GAP_EARLY).format(
                        step=step["issued"].label,
                        day=r.day,
                        after=step["stored"].label,
                        first=stored_day,
                        what=r.where,
                    ),
                    step="issued",
                    row_ids=[r.row_id],
                )
            )
    issued_by_target: dict = defaultdict(list)
    for r in step["issued"].rows:
        if r.day:
            issued_by_target[(r.target_id or r.target, r.item)].append(r.day)
    for r in step["signed"].rows:
        days = issued_by_target.get((r.target_id or r.target, r.item))
        if not (days and r.day):
            continue
        if r.day < min(days):
            gaps.append(
                Gap(
                    "order",
                    _(GAP_EARLY).format(
                        step=step["signed"].label,
                        day=r.day,
                        after=step["issued"].label,
                        first=min(days),
                        what=r.where,
                    ),
                    step="signed",
                    row_ids=[r.row_id],
                )
            )
        elif (r.day - max(d for d in days if d <= r.day)).days > LATE_DAYS["signed"]:
            first = max(d for d in days if d <= r.day)
            gaps.append(
                Gap(
                    "late",
                    _(GAP_LATE).format(
                        step=step["signed"].label,
                        after=step["issued"].label,
                        days=(r.day - first).days,
                        limit=LATE_DAYS["signed"],
                        what=r.where,
                    ),
                    step="signed",
                    row_ids=[r.row_id],
                )
            )


# --- Many donations: the list and the search. ---


def _all_rows(con, where: str = "TRUE", params: list | None = None) -> tuple:
    """Trace rows of every ref matching `where` (over the trace rows), and stock counts by lot."""
    rows = _rows(
        con,
        f"""coalesce(e.ref, l.ref) IN (
            SELECT coalesce(e.ref, l.ref) {_FROM}
            WHERE coalesce(e.ref, l.ref) IS NOT NULL AND {_STEP} IN (SELECT unnest($1::VARCHAR[]))
              AND ({where}))
            AND {_STEP} IN (SELECT unnest($1::VARCHAR[]))""",
        [list(_TRACE_STEPS), *(params or [])],
    )
    counts = _rows(con, "e.kind = 'stock_count'", [])
    return rows, counts


def _group(rows: list[Row]) -> dict[str, list[Row]]:
    by_ref: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_ref[r.ref].append(r)
    return by_ref


def _summary(t: DonationTrace) -> Summary:
    booked = next((s for s in t.steps if s.code == "booked" and s.rows), None)
    base = booked or next((s for s in t.steps if s.rows), None)
    pieces = None
    uom = ""
    if base and base.pieces:
        pieces = sum(base.pieces.values())
        uom = next(iter(base.uoms.values()), "")
    elif any(s.pieces for s in t.steps):
        s = next(s for s in t.steps if s.pieces)
        pieces, uom = sum(s.pieces.values()), next(iter(s.uoms.values()), "")
    amount = base.amount if base and base.amount is not None else None
    if t.nature in ("goods", "contract", "other"):
        amount = None  # goods are counted, their valuation is shown on the rows
    recipients = list(dict.fromkeys(r.name for r in t.recipients))
    return Summary(
        ref=t.ref,
        nature=t.nature,
        donor=t.donor,
        first_day=t.first_day,
        amount=amount,
        pieces=pieces,
        uom=uom,
        items=t.items,
        recipients=recipients,
        gaps=len(t.gaps),
        project_id=t.project_id,
    )


def donation_traces(project_id: int, q: str = "") -> list[DonationTrace]:
    """The traces of every donation whose ref, a document number, donor or recipient contains
    `q` (all when blank), in date order; the same queries whatever their number."""
    q = (q or "").strip()
    with _db(project_id) as con:
        kinds, last_day = _context(con)
        where, params = "TRUE", []
        if q:
            cols = [
                "coalesce(e.ref, l.ref)",
                "e.doc_no",
                "coalesce(e.source_name, e.source)",
                "coalesce(e.target_name, e.target)",
                "coalesce(e.counterparty_name, e.counterparty)",
                "coalesce(e.directed_to_name, e.directed_to)",
            ]
            where = " OR ".join(f"strpos(lower(coalesce({c}, '')), $2) > 0" for c in cols)
            params = [q.lower()]
        rows, counts = _all_rows(con, where, params)
    by_lot = defaultdict(list)
    for c in counts:
        by_lot[c.lot].append(c)
    out = []
    for ref, rs in _group(rows).items():
        lots = {r.lot for r in rs if r.lot and r.kind == "stock"}
        out.append(
            _assess(project_id, ref, rs, kinds, last_day, [c for lot in lots for c in by_lot[lot]])
        )
    out.sort(key=lambda t: (t.first_day or date.max, t.ref))
    return out


def find_donations(
    project_id: int,
    q: str = "",
    *,
    gaps_only: bool = False,
    nature: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Summary], int]:
    """Donations whose ref, a document number, donor or recipient contains `q` (all when blank).

    Returns one page of summaries (exact refs first, then in date order) and the number found.
    """
    needle = (q or "").strip().lower()
    found = []
    for t in donation_traces(project_id, needle):
        s = _summary(t)
        if (gaps_only and not s.gaps) or (nature and s.nature != nature):
            continue
        if needle:
            s.matched_on = _matched_on(needle, t.rows)
        found.append(s)
    if needle:
        found.sort(key=lambda s: s.ref.lower() != needle)
    return found[offset : offset + limit], len(found)


def _matched_on(needle: str, rows: list[Row]) -> str:
    checks = [
        (_("编号"), lambda r: r.ref),
        (_("单据号"), lambda r: r.doc_no),
        (
            _("捐赠方/付款方"),
            lambda r: r.source or (r.counterparty if r.step == "received" else None),
        ),
        (_("接收方"), lambda r: r.target or (r.counterparty if r.step == "paid" else None)),
        (_("定向受赠方"), lambda r: r.directed_to),
    ]
    for label, get in checks:
        if any(needle in (get(r) or "").lower() for r in rows):
            return label
    return ""


# --- One recipient backward. ---


def recipient_trace(project_id: int, party_id: int) -> RecipientTrace | None:
    """Everything a party received (goods allocated, issued, signed; money paid or appropriated),
    grouped by the donation it came from, with totals and gaps. None: no such party."""
    from fangkong.relief.models import Party

    party = Party.objects.filter(project_id=project_id, pk=party_id).values("id", "name").first()
    if party is None:
        return None
    with _db(project_id) as con:
        kinds, _last = _context(con)
        rows, _counts = _all_rows(
            con,
            """e.target_id = $2 AND (e.step IN ('allocated', 'issued', 'signed')
                OR e.kind IN ('payment', 'appropriation'))""",
            [party_id],
        )
    sources = []
    totals: dict[tuple, Recipient] = {}
    gaps: list[Gap] = []
    appropriated = 0
    for ref, rs in _group(rows).items():
        mine = [
            r
            for r in rs
            if r.target_id == party_id
            and (
                r.step in ("allocated", "issued", "signed")
                or r.kind in ("payment", "appropriation")
            )
        ]
        t = _assess(project_id, ref, rs, kinds, None, [])
        lines = [x for x in _recipients(mine, kinds) if x.party_id == party_id]
        own_gaps: list[Gap] = []
        _recipient_gaps(lines, own_gaps)
        if t.directed_to:
            _directed_gaps(mine, t.directed_to, t.directed_to_id, own_gaps)
        got = sum(r.amount or 0 for r in mine if r.kind == "appropriation")
        if got:
            appropriated += got
            lines.append(Recipient(party["name"], party_id, "money", paid=got))
        for x in lines:
            key = (x.measure, x.item)
            tot = totals.get(key)
            if tot is None:
                tot = totals[key] = Recipient(party["name"], party_id, x.measure, x.item, x.uom)
            for attr in ("allocated", "issued", "signed", "paid"):
                v = getattr(x, attr)
                if v is not None:
                    setattr(tot, attr, (getattr(tot, attr) or 0) + v)
            tot.unknown |= x.unknown
        gaps += own_gaps
        sources.append(
            Source(
                ref=ref,
                nature=t.nature,
                donor=t.donor,
                donor_id=t.donor_id,
                body=t.body,
                lines=lines,
                rows=mine,
                gaps=own_gaps,
                project_id=project_id,
            )
        )
    sources.sort(key=lambda s: (min((r.day for r in s.rows if r.day), default=date.max), s.ref))
    notes = []
    if not sources:
        notes.append(_("已导入的台账中没有发给该单位的款物。"))
    return RecipientTrace(
        project_id=project_id,
        party_id=party_id,
        name=party["name"],
        sources=sources,
        totals=sorted(totals.values(), key=lambda x: (x.measure != "goods", x.item)),
        appropriated=appropriated,
        gaps=gaps,
        notes=notes,
    )


# --- The flow chart. ---


def _ref_links(t: DonationTrace, measure: str) -> list[tuple[str, str, int, str]]:
    """(from, to, value, role) links of one donation: giver → holder → receivers (+ remainder)."""
    step = {s.code: s for s in t.steps}
    links: list[tuple[str, str, int, str]] = []
    if measure == "money":
        first = [r for r in step["booked"].rows if r.measure == "money"]
        first = first or [
            r for r in step["received"].rows if r.measure == "money" and r.kind != "bank"
        ]
        first = first or [r for r in step["received"].rows if r.measure == "money"]
        for r in first:
            giver = r.counterparty if r.kind == "bank" else (r.source or t.donor)
            holder = (r.target if r.kind != "bank" else None) or t.body or _file_label(r)
            links.append((giver, holder, r.amount or 0, "in"))
        holders = [b for _a, b, _v, _r in links]
        for r in step["paid"].rows:
            if r.kind == step["paid"].kind and r.measure == "money" and r.receiver:
                holder = r.source or (holders[0] if holders else t.body)
                links.append((holder, r.receiver, r.amount or 0, "out"))
    else:
        first = [r for r in step["stored"].rows if r.measure == "goods"]
        first = first or [r for r in step["booked"].rows if r.measure == "goods"]
        for r in first:
            links.append((r.source or t.donor, r.warehouse or r.target or t.body, r.pieces, "in"))
        out = [r for r in step["issued"].rows if r.measure == "goods"]
        out = out or [r for r in step["allocated"].rows if r.measure == "goods"]
        holders = [b for _a, b, _v, _r in links]
        for r in out:
            if r.target:
                links.append(
                    (r.warehouse or (holders[0] if holders else t.body), r.target, r.pieces, "out")
                )
    return links


# Every row with its file, and `keeper`: who keeps a ledger that does not name its own body (a
# charity's donation register): the file's stated body, else the body its donations are disclosed
# or paid out by, else the file name.
_LABELLED = f"""
WITH t AS (
    SELECT {_COLUMNS}, e.balance, f.body AS file_body, f.name AS file_name
    {_FROM} JOIN files f ON f.file_id = e.file_id
),
keepers AS (
    SELECT c.file_id, mode(o.who) AS who, mode(o.who_id) AS who_id
    FROM t c JOIN (
        SELECT ref, target AS who, target_id AS who_id FROM t
        WHERE kind = 'disclosure' AND target IS NOT NULL
        UNION ALL
        SELECT ref, source, source_id FROM t WHERE kind = 'payment' AND source IS NOT NULL
    ) o ON o.ref = c.ref
    WHERE c.kind IN ('cash_donation', 'goods_donation') AND c.target IS NULL
    GROUP BY c.file_id
),
label AS (
    SELECT t.*,
           coalesce(nullif(t.file_body, ''), k.who, regexp_replace(t.file_name, '\\.[^.]*$', ''))
             AS keeper,
           CASE WHEN coalesce(t.file_body, '') = '' THEN k.who_id END AS keeper_id
    FROM t LEFT JOIN keepers k ON k.file_id = t.file_id
)
"""


_PROJECT_LINKS = f"""
{_LABELLED},
donors AS (
    SELECT ref, any_value(source) AS donor FROM t
    WHERE step = 'booked' AND source IS NOT NULL AND ref IS NOT NULL GROUP BY ref
)
SELECT 'money' AS measure, source AS a, coalesce(target, keeper) AS b, sum(amount) AS v, 'in' AS role
FROM label WHERE kind = 'cash_donation' AND amount IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'money', coalesce(source, $1), target, sum(amount), 'in'
FROM label WHERE kind = 'appropriation' AND amount IS NOT NULL AND target IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'money', coalesce(source, keeper), target, sum(amount), 'out'
FROM label WHERE kind = 'payment' AND amount IS NOT NULL AND target IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'money', coalesce(source, keeper), $2, sum(amount), 'out'
FROM label WHERE kind = 'subsidy' AND amount IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'goods', coalesce(l.source, d.donor, $3), l.warehouse, sum(l.pieces), 'in'
FROM label l LEFT JOIN donors d ON d.ref = l.ref
WHERE l.kind = 'stock' AND l.step = 'stored' AND l.pieces IS NOT NULL AND l.warehouse IS NOT NULL
GROUP BY ALL
UNION ALL
SELECT 'goods', warehouse, target, sum(pieces), 'out'
FROM label WHERE kind = 'stock' AND step = 'issued' AND pieces IS NOT NULL
  AND warehouse IS NOT NULL AND target IS NOT NULL GROUP BY ALL
"""


def sankey(
    project_id: int, ref: str | None = None, measure: str | None = None, *, top: int = DEFAULT_TOP
) -> Sankey | None:
    """Sankey nodes and links: giver → holder (charity, warehouse) → receiver, plus what is left.

    With a ref, one donation (None when it has no rows); without, the whole project by party, the
    smaller givers and receivers beyond `top` grouped as 其他. Values: fen (money) or pieces.
    """
    if ref and ref != ALL:
        t = donation_trace(project_id, ref)
        return None if t is None else trace_sankey(t, measure)
    links: dict[str, list[tuple[str, str, int, str]]] = {"money": [], "goods": []}
    with _db(project_id) as con:
        found = store.rows(
            con, _PROJECT_LINKS, [_("财政资金"), _("一线人员补助"), _(UNKNOWN_DONOR)]
        )
    for d in found:
        if d["a"] and d["b"] and d["v"]:
            links[d["measure"]].append((d["a"], d["b"], _num(d["v"]), d["role"]))
    return _chart(links, measure, top)


def trace_sankey(t: DonationTrace, measure: str | None = None) -> Sankey:
    """The Sankey of one donation already traced (no further query)."""
    links = {"money": [], "goods": []}
    for m in t.measures:
        links[m] = _ref_links(t, m)
    return _chart(links, measure, DEFAULT_TOP)


def _chart(links: dict, measure: str | None, top: int) -> Sankey:
    measures = [m for m in ("money", "goods") if links[m]]
    if measure not in measures:
        measure = measures[0] if measures else (measure if measure in links else "money")
    nodes, out = _layout(links.get(measure, []), measure, top)
    return Sankey(measure=measure, nodes=nodes, links=out, measures=measures)


def _layout(raw: list[tuple[str, str, int, str]], measure: str, top: int) -> tuple[list, list]:
    """Sum the links, add each holder's remainder, group small leaves, drop cycles."""
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for a, b, v, _role in raw:
        if a and b and a != b and v:
            flows[(a, b)] += v
    inflow: dict[str, int] = defaultdict(int)
    outflow: dict[str, int] = defaultdict(int)
    for (a, b), v in flows.items():
        outflow[a] += v
        inflow[b] += v
    remainder = _(REMAINDER[measure])
    for node in list(inflow):
        if outflow.get(node) and inflow[node] > outflow[node]:
            flows[(node, remainder)] += inflow[node] - outflow[node]
    sources = {a for a, _b in flows} - {b for _a, b in flows}
    sinks = {b for _a, b in flows} - {a for a, _b in flows} - {remainder}
    middles = ({a for a, _b in flows} | {b for _a, b in flows}) - sources - sinks - {remainder}

    def group(names: set[str], weight: dict[str, int], other: str) -> dict[str, str]:
        if len(names) <= top:
            return {}
        keep = sorted(names, key=lambda n: (-weight.get(n, 0), n))[: top - 1]
        return {n: other for n in names if n not in keep}

    total_out = defaultdict(int)
    total_in = defaultdict(int)
    for (a, b), v in flows.items():
        total_out[a] += v
        total_in[b] += v
    rename = {}
    rename.update(group(sources, total_out, _(OTHERS["source"])))
    rename.update(group(sinks, total_in, _(OTHERS["target"])))
    rename.update(group(middles, total_in, _(OTHERS["middle"])))
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for (a, b), v in flows.items():
        a, b = rename.get(a, a), rename.get(b, b)
        if a != b:
            merged[(a, b)] += v
    # ECharts draws only acyclic flows: add the largest links first, skip any that closes a loop.
    adjacency: dict[str, set[str]] = defaultdict(set)

    def reaches(x: str, y: str) -> bool:
        seen, todo = set(), [x]
        while todo:
            n = todo.pop()
            if n == y:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(adjacency[n])
        return False

    kept = []
    for (a, b), v in sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])):
        if reaches(b, a):
            continue
        adjacency[a].add(b)
        kept.append(
            {"source": a, "target": b, "value": int(v) if float(v).is_integer() else float(v)}
        )
    names = list(dict.fromkeys(n for link in kept for n in (link["source"], link["target"])))
    return [{"name": n} for n in names], kept


# --- The whole project's conservation. ---

_MONEY_SQL = f"""
{_LABELLED},
moves AS (
    SELECT coalesce(target_id, keeper_id) AS party_id, coalesce(target, keeper) AS party,
           amount AS donations,
           0 AS appropriations, 0 AS transfers_in, 0 AS paid_out, 0 AS subsidies
    FROM label WHERE kind = 'cash_donation'
    UNION ALL SELECT target_id, target, 0, amount, 0, 0, 0 FROM label
    WHERE kind = 'appropriation' AND target IS NOT NULL
    UNION ALL SELECT target_id, target, 0, 0, amount, 0, 0 FROM label
    WHERE kind = 'payment' AND target IS NOT NULL
    UNION ALL SELECT coalesce(source_id, keeper_id), coalesce(source, keeper), 0, 0, 0, amount, 0
    FROM label WHERE kind = 'payment'
    UNION ALL SELECT coalesce(source_id, keeper_id), coalesce(source, keeper), 0, 0, 0, 0, amount
    FROM label
    WHERE kind = 'subsidy'
)
SELECT party_id, party, sum(donations) AS donations, sum(appropriations) AS appropriations,
       sum(transfers_in) AS transfers_in, sum(paid_out) AS paid_out, sum(subsidies) AS subsidies
FROM moves WHERE party IS NOT NULL GROUP BY party_id, party ORDER BY party
"""

# Each bank statement (file, sheet, account): its movements, closing balance, and whose it is —
# the party most of its linked rows name as holder (charity of a donation, payer of a payment).
_BANK_SQL = """
WITH linked AS (
    SELECT l.row_id, CASE WHEN d.kind = 'cash_donation' THEN d.target_id ELSE d.source_id END AS pid,
           CASE WHEN d.kind = 'cash_donation' THEN coalesce(d.target_name, d.target)
                ELSE coalesce(d.source_name, d.source) END AS pname
    FROM links l JOIN entries d ON d.row_id = l.doc_id WHERE l.how IN ('memo', 'party')
),
b AS (
    SELECT e.file_id, e.sheet, coalesce(e.account, '') AS account, e.step, e.amount, e.balance,
           e.day, e.row_no, k.pid, k.pname
    FROM entries e LEFT JOIN linked k ON k.row_id = e.row_id WHERE e.kind = 'bank'
)
SELECT file_id, sheet, account,
       sum(amount) FILTER (WHERE step = 'received') AS bank_in,
       sum(amount) FILTER (WHERE step = 'paid') AS bank_out,
       last(balance ORDER BY day, row_no) AS closing,
       mode(pid) AS pid, mode(pname) AS pname
FROM b GROUP BY ALL ORDER BY file_id, sheet, account
"""

_GOODS_SQL = f"""
WITH t AS (SELECT {_COLUMNS}, e.counted_qty {_FROM}
      WHERE e.kind IN ('goods_donation', 'delivery', 'stock', 'stock_count')),
counts AS (
    SELECT warehouse_id, warehouse, max(day) AS last_day FROM t
    WHERE kind = 'stock_count' GROUP BY ALL
)
SELECT t.warehouse_id, t.warehouse, t.item_id, t.item,
       coalesce(mode(t.ledger_uom) FILTER (WHERE t.ledger_uom IN {store.PIECE_UNITS}
                                              AND t.ledger_uom <> ''), any_value(t.uom)) AS uom,
       sum(t.pieces) FILTER (WHERE t.kind IN ('goods_donation', 'delivery')) AS booked,
       sum(t.pieces) FILTER (WHERE t.kind = 'stock' AND t.step = 'stored') AS stored,
       sum(t.pieces) FILTER (WHERE t.kind = 'stock' AND t.step = 'issued') AS issued,
       sum(t.counted) FILTER (WHERE t.kind = 'stock_count' AND t.day = c.last_day) AS counted,
       max(c.last_day) AS count_day,
       count(*) FILTER (WHERE t.kind IN ('goods_donation', 'delivery')
                          AND t.quantity IS NOT NULL AND t.pieces IS NULL) AS bad_booked,
       count(*) FILTER (WHERE t.kind = 'stock' AND t.quantity IS NOT NULL AND t.pieces IS NULL)
         AS bad_stock,
       count(*) FILTER (WHERE t.kind = 'stock_count' AND t.day = c.last_day
                          AND t.counted_qty IS NOT NULL AND t.counted IS NULL) AS bad_count
FROM t LEFT JOIN counts c ON c.warehouse IS NOT DISTINCT FROM t.warehouse
WHERE t.warehouse IS NOT NULL AND t.item IS NOT NULL
GROUP BY t.warehouse_id, t.warehouse, t.item_id, t.item
ORDER BY t.warehouse, t.item
"""


def balances(project_id: int) -> Balances:
    """Money per party (in, out, held; bank statement against the books) and goods per warehouse
    and item (stored = issued + in stock, against the last stock count)."""
    with _db(project_id) as con:
        kinds, _last = _context(con)
        money = store.rows(con, _MONEY_SQL)
        banks = store.rows(con, _BANK_SQL)
        goods = store.rows(con, _GOODS_SQL)
        labels = {fid: name.rsplit(".", 1)[0] for fid, name in con.file_names.items()}
        bodies = {fid: info[2] for fid, info in con.file_info.items()}
    parties = [
        MoneyHolder(
            name=d["party"],
            party_id=d["party_id"],
            donations=int(d["donations"] or 0),
            appropriations=int(d["appropriations"] or 0),
            transfers_in=int(d["transfers_in"] or 0),
            paid_out=int(d["paid_out"] or 0),
            subsidies=int(d["subsidies"] or 0),
        )
        for d in money
    ]
    holders = [p for p in parties if p.is_holder]
    payees = [p for p in parties if not p.is_holder]
    notes = []
    for b in banks:
        owner = next(
            (
                h
                for h in holders
                if (b["pid"] is not None and h.party_id == b["pid"]) or h.name == b["pname"]
            ),
            None,
        )
        if owner is None:
            name = b["pname"] or bodies.get(b["file_id"]) or labels.get(b["file_id"], "")
            owner = next((h for h in holders if h.name == name), None)
            if owner is None:
                owner = MoneyHolder(name=name, party_id=b["pid"])
                holders.append(owner)
        owner.bank_in = (owner.bank_in or 0) + int(b["bank_in"] or 0)
        owner.bank_out = (owner.bank_out or 0) + int(b["bank_out"] or 0)
        if b["closing"] is not None:
            owner.bank_closing = (owner.bank_closing or 0) + int(b["closing"])
    if "bank" not in kinds:
        notes.append(_("未导入《捐赠账户银行流水》，无法用银行流水核对各单位结存。"))
    if "stock_count" not in kinds:
        notes.append(_("未导入《库存盘点表》，在库数量为账面数（入库 − 出库），未经盘点核实。"))
    if "payment" not in kinds:
        notes.append(_("未导入《资金支付明细》，已支付金额为 0，入账资金全部计为结存。"))
    lines = [
        GoodsLine(
            warehouse=d["warehouse"],
            warehouse_id=d["warehouse_id"],
            item=d["item"],
            item_id=d["item_id"],
            uom=d["uom"] or "",
            booked=_num(d["booked"]) or 0,
            stored=_num(d["stored"]) or 0,
            issued=_num(d["issued"]) or 0,
            counted=_num(d["counted"]) if "stock_count" in kinds and d["count_day"] else None,
            count_day=d["count_day"],
            bad_booked=d["bad_booked"],
            bad_stock=d["bad_stock"],
            bad_count=d["bad_count"],
        )
        for d in goods
    ]
    for line in lines:
        if line.counted is None and line.count_day is not None and not line.bad_count:
            line.counted = 0  # the warehouse was counted that day, and the item was not found
    if any(not g.checkable or g.bad_booked for g in lines):
        notes.append(
            _(
                "有些行用箱、盒等包装单位记数，且没有设置换算，相关数量未核对；请在“单位与物资”中设置换算。"
            )
        )
    holders.sort(key=lambda h: (-h.donations, -h.appropriations, h.name))
    return Balances(holders=holders, payees=payees, goods=lines, notes=notes)


# --- One ledger row. ---

_HIDDEN = {"row_id", "import_id", "file_id", "sheet", "row_no", "kind", "step", "id_hash"}
_LABELS = {"id_masked": N_("身份证号"), "id_valid": N_("身份证号校验"), "quantity": N_("数量")}


def ledger_row(project_id: int, row_id: int) -> LedgerRow | None:
    """One imported row: its fields (ID numbers masked), file, sheet, row number and siblings."""
    from fangkong.lib.masking import mask_mobile

    with _db(project_id) as con:
        found = store.rows(con, "SELECT * FROM raw_entries WHERE row_id = $1", [int(row_id)])
        if not found:
            return None
        trace_rows = _rows(
            con,
            """e.row_id = $1 OR (coalesce(e.ref, l.ref) IS NOT NULL AND coalesce(e.ref, l.ref) = (
                SELECT coalesce(e.ref, l.ref) """
            + _FROM
            + " WHERE e.row_id = $1))",
            [int(row_id)],
        )
        info = con.file_info.get(found[0]["file_id"])
    raw = found[0]
    me = next((r for r in trace_rows if r.row_id == row_id), None)
    siblings = [r for r in trace_rows if r.row_id != row_id and r.step in schema.STEPS]
    fields: list[tuple[str, str]] = []
    for name, _type in store.ENTRY_COLUMNS:
        value = raw.get(name)
        if name in _HIDDEN or name.endswith("_key") or value is None or value == "":
            continue
        f = schema.FIELDS.get(name)
        label = _(_LABELS[name]) if name in _LABELS else (_(f.label) if f else name)
        if name == "ref" and me and me.matched and not raw.get("ref"):
            continue
        if f and f.type == schema.MONEY:
            text = f"{yuan(value)} {_('元')}"
        elif name in ("quantity", "book_qty", "counted_qty"):
            unit = raw.get("uom") or (me.uom if me else "") or ""
            text = f"{qty(_num(value))} {unit}".strip()
        elif name == "id_valid":
            text = _("校验位正确") if value else _("校验位错误")
        elif name == "phone":
            text = mask_mobile(str(value))
        elif isinstance(value, date):
            text = value.isoformat()
        else:
            text = str(value)
        fields.append((label, text))
        if name == "quantity" and me and me.pieces is not None and me.pieces != _num(value):
            fields.append((_("折合基本单位"), amount_text(me.pieces, "goods", me.uom)))
    if me is None:  # not a trace step (a roster, a request): show it plainly
        me = Row(
            **{
                k: raw.get(k)
                for k in (
                    "row_id",
                    "file_id",
                    "sheet",
                    "row_no",
                    "kind",
                    "step",
                    "day",
                    "ref",
                    "doc_no",
                )
            },
            matched=None,
            source=raw.get("source"),
            source_id=None,
            target=raw.get("target"),
            target_id=None,
            counterparty=raw.get("counterparty"),
            counterparty_id=None,
            directed_to=raw.get("directed_to"),
            directed_to_id=None,
            warehouse=raw.get("warehouse"),
            warehouse_id=None,
            item=raw.get("item"),
            item_id=None,
            uom=raw.get("uom"),
            quantity=raw.get("quantity"),
            ledger_uom=raw.get("uom"),
            pieces=None,
            amount=raw.get("amount"),
            lot=raw.get("lot"),
            purpose=raw.get("purpose"),
            person=raw.get("person"),
            consent=raw.get("consent"),
            counted=None,
            file_name=info[1] if info else "",
        )
    return LedgerRow(
        row=me,
        fields=fields,
        file_name=info[1] if info else "",
        sha256=info[3] if info else "",
        siblings=siblings,
    )

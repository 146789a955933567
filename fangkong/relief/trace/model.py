"""The trace's shapes and words: a trace row, steps, conservation lines, gaps, summaries, the
Sankey chart, the URLs other pages link to, and the messages that say what is missing."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.lib.money import yuan
from fangkong.relief.ledger import schema

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
HOW = {"memo": N_("摘要中的编号"), "party": N_("对方户名、金额和日期（前后{days}天）")}
NOTE_BATCH_MATCHED = N_(
    "补助发放表没有关联编号，按发放单位、发放日期和当日合计金额（拨款后7天内）与本笔拨款对应。"
)
VERB = {"money": N_("支付"), "goods": N_("出库")}


# --- Formatting (money is integer fen, goods are pieces). ---


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


def whole(value):
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
    link_days: int | None = None  # the window a ref-less row was linked in (ledger/links.py)
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
            written = f"{qty(whole(self.quantity))}{self.ledger_uom or ''}"
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

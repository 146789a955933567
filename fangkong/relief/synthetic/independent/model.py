"""The second world in memory: bodies, people, money and goods, before any ledger is written.

Money is integer fen, quantities are integer base units (只/件/瓶/支/台) unless a record says
otherwise; every record has a ``ref`` that the ledgers map to the row they write it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Hospital:
    ref: str
    name: str
    alias: str
    kind: str  # 综合 中医 专科 妇幼 传染病 方舱
    level: str
    beds: int
    designated: bool
    county: str
    code: str = ""
    address: str = ""
    phone: str = ""
    bank: str = ""
    account: str = ""
    opened: date | None = None
    closed: date | None = None
    frontline: int = 0  # frontline staff headcount
    folder: str = ""


@dataclass
class Unit:
    """A recipient that is not a hospital (CDC, police, a street office, a county Red Cross)."""

    ref: str
    name: str
    bank: str = ""
    account: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class Item:
    key: str
    name: str
    standard: str
    grade: str
    priority: bool  # 重点防护物资
    civil: bool
    unit: str  # base unit
    box: int  # base units per box (盒/袋/瓶…)
    box_unit: str
    case: int  # boxes per case (箱)
    ref_price: int  # pre-epidemic price, fen per base unit
    shelf_days: int

    @property
    def spec(self) -> str:
        return f"{self.box}{self.unit}/{self.box_unit}，{self.case}{self.box_unit}/箱"

    @property
    def per_case(self) -> int:
        return self.box * self.case


@dataclass
class Supplier:
    ref: str
    name: str
    code: str
    founded: date
    address: str
    phone: str
    bank: str
    account: str
    legal_rep: str
    scope: str


@dataclass
class Person:
    ref: str
    name: str
    sex: str
    id_no: str
    hospital: Hospital
    dept: str
    post: str
    tier: str  # 一类 二类
    phone: str
    address: str
    card: str
    start: date
    separated: date | None = None
    reason: str = ""
    moved_to: Hospital | None = None  # a mid-month transfer
    moved_on: date | None = None


@dataclass
class Manager:
    """A member of a charity's staff (管理人员名单)."""

    ref: str
    charity: str
    name: str
    post: str
    phone: str
    address: str
    card: str


@dataclass
class Attendance:
    ref: str
    person: Person
    hospital: Hospital
    month: int
    days: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.days.values())


@dataclass
class Subsidy:
    ref: str
    person: Person
    hospital: Hospital
    month: int
    days: float
    rate: int  # fen per day
    amount: int
    paid_on: date
    id_written: str = ""


@dataclass
class Donor:
    name: str
    kind: str  # company person group overseas
    bank: str
    account: str
    phone: str = ""
    address: str = ""


@dataclass
class CashDonation:
    ref: str
    charity: str
    no: str
    receipt_seq: int
    received: date
    donor: Donor
    amount: int
    directed: object | None = None  # Hospital or Unit
    purpose: str = ""
    consent: str = ""
    payer_name: str = ""  # name on the bank credit, when not the donor's
    registered: date | None = None
    void: bool = False
    bank_line: str = ""
    disclose_on: date | None = None
    in_register: bool = True
    receipt_override: str = ""


@dataclass
class GoodsDonation:
    ref: str
    charity: str
    no: str
    receipt_seq: int
    received: date
    donor: Donor
    item: Item
    qty: int
    batch: str
    expiry: date
    value: int
    warehouse: str | None  # None: delivered straight to a hospital
    direct_to: object | None = None
    directed: object | None = None
    consent: str = ""
    disclose_on: date | None = None
    grade_written: str = ""


@dataclass
class BankLine:
    ref: str
    charity: str
    day: date
    summary: str
    counterparty: str = ""
    account: str = ""
    bank: str = ""
    debit: int = 0
    credit: int = 0
    seq: int = 0  # order within the day


@dataclass
class DisclosureBatch:
    charity: str
    no: int
    day: date


@dataclass
class DisclosureRow:
    ref: str
    batch: DisclosureBatch
    donation: object  # CashDonation or GoodsDonation
    amount: int | None = None
    qty: int | None = None
    item_name: str = ""
    received: date | None = None


@dataclass
class Disbursement:
    ref: str
    charity: str
    day: date
    voucher: str
    payee: str
    account: str
    bank: str
    amount: int
    purpose: str
    donation: CashDonation | None = None
    directed_to: str = ""
    consent: str = ""
    recipient: object | None = None


@dataclass
class Contract:
    ref: str
    no: str
    signed: date
    supplier: Supplier
    item: Item
    qty: int
    price: int  # fen per base unit (the price the contract states, per its written unit)
    price_unit: str  # unit the contract prices in (只 / 盒 / 箱 / 台)
    method: str
    reason: str = ""
    payee_name: str = ""
    payee_account: str = ""
    payee_bank: str = ""

    @property
    def per(self) -> int:
        """Base units in one priced unit."""
        if self.price_unit == self.item.unit:
            return 1
        if self.price_unit == "箱":
            return self.item.per_case
        return self.item.box

    @property
    def written_qty(self) -> int:
        return self.qty // self.per

    @property
    def amount(self) -> int:
        return self.written_qty * self.price


@dataclass
class Delivery:
    ref: str
    contract: Contract
    day: date
    qty: int
    batch: str
    expiry: date
    place: str  # a warehouse name or a hospital name
    hospital: Hospital | None = None
    inspector: str = ""


@dataclass
class Batch:
    """One lot in one warehouse: what its intake slip says."""

    ref: str
    warehouse: str
    item: Item
    batch_no: str
    expiry: date
    source: str  # 捐赠 采购 调拨
    source_no: str
    qty: int  # booked quantity
    intake_day: date
    intake_no: str = ""
    arrived: date | None = None
    party: str = ""  # donor, supplier or sender
    directed: object | None = None
    consent: str = ""
    hold_days: int = 0
    reserve: bool = False
    written_name: str = ""  # item name as the intake slip writes it


@dataclass
class Plan:
    no: str
    day: date


@dataclass
class AllocLine:
    ref: str
    plan: Plan
    item: Item
    recipient: object  # Hospital or Unit
    qty: int
    mode: str  # 仓库发货 / 医院调剂 / 直送
    warehouse: str = ""
    batch: Batch | None = None
    source_no: str = ""
    directed: bool = False
    consent: str = ""
    from_hospital: Hospital | None = None
    item_written: str = ""


@dataclass
class Issue:
    ref: str
    warehouse: str
    no: str
    day: date
    batch: Batch
    recipient: object
    qty: int
    alloc: AllocLine | None = None
    item_written: str = ""

    @property
    def item(self) -> Item:
        return self.batch.item


@dataclass
class SignFor:
    ref: str
    recipient: object
    day: date
    item: Item
    qty: int
    doc_no: str  # issue slip or plan number
    batch_no: str
    source_no: str
    item_written: str = ""
    issue: Issue | None = None
    alloc: AllocLine | None = None


@dataclass
class Request:
    ref: str
    hospital: Hospital
    day: date
    no: str
    item: Item
    qty: int
    reason: str


@dataclass
class CountRow:
    ref: str
    warehouse: str
    day: date
    batch: Batch
    book: int
    actual: int
    note: str = ""
    in_boxes: bool = False


@dataclass
class UpperFund:
    ref: str
    day: date
    doc: str
    name: str
    amount: int


@dataclass
class Appropriation:
    ref: str
    no: str
    day: date
    recipient: object
    amount: int
    purpose: str
    codes: str  # allowed economic classification, as written
    kind: str  # 补助 / 经费
    funded_by: str = ""


@dataclass
class Payment:
    """A payment: finance direct payment, or a line of a hospital's special-fund ledger."""

    ref: str
    payer: str  # '财政局' or a hospital ref
    day: date
    voucher: str
    payee: str
    account: str
    bank: str
    amount: int
    summary: str
    code: str  # 支出经济分类
    invoice: str = ""
    invoice_code: str = ""
    contract: Contract | None = None
    source: Appropriation | Disbursement | None = None
    kind: str = "purchase"  # purchase subsidy service contract
    income: bool = False


@dataclass
class Problem:
    test_id: str
    sentence: str
    evidence: list  # [(ref, fields, role)]
    keys: dict
    related: tuple = ()
    ledger: tuple | None = None  # (file path, sheet or None) for ledger-level screens


@dataclass
class World:
    seed: int
    scale: object
    hospitals: list = field(default_factory=list)
    units: list = field(default_factory=list)
    items: dict = field(default_factory=dict)
    suppliers: list = field(default_factory=list)
    staff: list = field(default_factory=list)
    managers: list = field(default_factory=list)
    attendance: list = field(default_factory=list)
    subsidies: list = field(default_factory=list)
    donors: list = field(default_factory=list)
    cash: list = field(default_factory=list)
    goods: list = field(default_factory=list)
    bank: list = field(default_factory=list)
    batches_disclosed: list = field(default_factory=list)
    disclosures: list = field(default_factory=list)
    disbursements: list = field(default_factory=list)
    contracts: list = field(default_factory=list)
    deliveries: list = field(default_factory=list)
    batches: list = field(default_factory=list)
    plans: list = field(default_factory=list)
    allocs: list = field(default_factory=list)
    issues: list = field(default_factory=list)
    signs: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    counts: list = field(default_factory=list)
    upper: list = field(default_factory=list)
    appropriations: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    decoys: list = field(default_factory=list)
    touched: set = field(default_factory=set)
    price_refs: list = field(default_factory=list)
    screens: dict = field(default_factory=dict)  # hospital ref -> screen kind planted
    receipt_jumps: dict = field(
        default_factory=dict
    )  # charity -> (seq where a new book starts, offset)
    firm_accounts: dict = field(default_factory=dict)
    extra_bank: list = field(default_factory=list)
    monthly_vouchers: set = field(default_factory=set)
    invoice_code_hospitals: set = field(default_factory=set)
    ids: object = None

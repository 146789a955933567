"""The synthetic world's shapes: parties, items, people, flows, the world and its records."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from fangkong.relief.ledger import schema

# What a ledger record is: canonical schema field → value (dates, fen, pieces, names), plus
# "body" (the code of the party that keeps the ledger) and, where the ledger has no `ref` column,
# "_ref" (the donation, contract or appropriation the row belongs to).
Record = dict


START = date(2020, 1, 23)
# The order of the steps within one day, from the giver to the final receiver.
STEP_ORDER = {
    "donate_cash": 0,
    "donate_goods": 0,
    "appropriate": 0,
    "contract": 0,
    "deliver": 1,
    "stock_in": 1,
    "allocate": 2,
    "issue": 3,
    "receive": 4,
    "pay": 5,
}


@dataclass(frozen=True)
class Party:
    """A donor, receiver, warehouse, hospital, supplier or person, as one catalogue entry."""

    code: str
    name: str
    kind: str  # donor / charity / finance / health / command / warehouse / hospital / supplier / person
    designated: bool = False  # hospitals designated for COVID-19 patients
    beds: int = 0
    account: str = ""  # bank account number
    phone: str = ""
    address: str = ""
    registered_on: date | None = None  # suppliers: business registration


@dataclass(frozen=True)
class Item:
    """A relief item; ledgers count pieces (`unit`) or packs (`pack_unit` = per_pack pieces)."""

    code: str
    name: str
    unit: str  # unit of measure as written in ledgers
    per_pack: int  # pieces per pack_unit
    standard: str = ""  # GB 19083 / YY 0469 / GB 2626
    priority: bool = False
    pack_unit: str = "箱"
    spec: str = ""
    price_fen: int = 0  # reference unit price
    shelf_years: int = 3
    need_per_bed: float = 0.0  # pieces a bed uses per day, for requests

    def pieces(self, quantity, uom: str):
        """Pieces in `quantity` written in `uom` (the pack unit holds per_pack pieces)."""
        return quantity * self.per_pack if uom == self.pack_unit else quantity


@dataclass(frozen=True)
class Person:
    """A frontline worker of a hospital, paid a daily subsidy by tier for days on the roster."""

    code: str
    name: str
    id_number: str
    hospital: str
    post: str
    tier: str
    rate_fen: int


@dataclass
class Flow:
    """One movement with the day it happened: money in fen or goods in pieces."""

    day: date
    kind: str  # see STEP_ORDER
    source: str
    target: str
    amount_fen: int = 0
    item: str = ""
    quantity: int = 0
    ref: str = ""  # donation, contract or appropriation number that ties the steps together
    directed_to: str = ""  # a directed donation's intended receiver
    lot: str = ""


@dataclass
class World:
    """The movements, the catalogue and the truth of every ledger, for one seed."""

    seed: int
    days: int
    scale: int = 1
    parties: dict[str, Party] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    persons: dict[str, Person] = field(default_factory=dict)
    records: dict[str, list[Record]] = field(
        default_factory=lambda: {kind: [] for kind in schema.KINDS}
    )

    @property
    def end(self) -> date:
        """The last day of the period (stock is counted on it)."""
        return START + timedelta(days=self.days - 1)

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
        for (warehouse, item, _lot), qty in self.stock_by_lot().items():
            held[(warehouse, item)] += qty
        return dict(held)

    def stock_by_lot(self) -> dict[tuple[str, str, str], int]:
        """Pieces of each (warehouse, item code, lot): stocked in minus issued."""
        held: dict[tuple[str, str, str], int] = defaultdict(int)
        for f in self.flows:
            if f.kind == "stock_in":
                held[(f.target, f.item, f.lot)] += f.quantity
            elif f.kind == "issue":
                held[(f.source, f.item, f.lot)] -= f.quantity
        return dict(held)

    def trace(self, ref: str) -> list[Flow]:
        """Every movement of one donation, contract or appropriation, in order."""
        return sorted(
            (f for f in self.flows if f.ref == ref), key=lambda f: (f.day, STEP_ORDER[f.kind])
        )

    def ledger(self, kind: str, body: str | None = None) -> list[Record]:
        """The rows one body's ledger of `kind` holds (all bodies' rows when body is None)."""
        rows = self.records[kind]
        return rows if body is None else [r for r in rows if r["body"] == body]

    def bodies(self, kind: str) -> list[str]:
        """The bodies that keep a ledger of `kind`, in catalogue order."""
        keepers = {r["body"] for r in self.records[kind]}
        return [code for code in self.parties if code in keepers]

    def refs(self) -> dict[str, list[tuple[str, str, Record]]]:
        """ref → its ledger rows as (step, kind, record), in trace order; built fresh each call."""
        index: dict[str, list[tuple[str, str, Record]]] = defaultdict(list)
        for kind, rows in self.records.items():
            for r in rows:
                ref = r.get("ref") or r.get("_ref")
                step = step_of(kind, r)
                if ref and step:
                    index[ref].append((step, kind, r))
        for steps in index.values():
            steps.sort(key=lambda s: (s[2]["day"], schema.STEP_ORDER[s[0]]))
        return dict(index)

    def steps(self, ref: str) -> list[tuple[str, str, Record]]:
        """The expected trace of one ref across every ledger: (step, kind, record) in order."""
        return self.refs().get(ref, [])

    def item_named(self, name: str) -> Item:
        return next(i for i in self.items.values() if i.name == name)

    def party_named(self, name: str) -> Party:
        return next(p for p in self.parties.values() if p.name == name)


# Ledger kinds outside schema.KIND_STEP that still mark a step of a contract or subsidy.
_EXTRA_STEP = {"contract": "booked", "delivery": "received", "subsidy": "paid"}


def step_of(kind: str, record: Record) -> str:
    """The trace step a ledger row records ("" for rows that are no step, e.g. rosters)."""
    if kind == "stock":
        return "stored" if record["direction"] == "入库" else "issued"
    if kind == "bank":
        return "received" if record.get("amount_in") else "paid"
    return schema.KIND_STEP.get(kind) or _EXTRA_STEP.get(kind, "")


# code, name, unit, pieces per pack, standard, priority, pack unit, spec, reference price (fen),
# shelf life (years), pieces a bed uses per day.

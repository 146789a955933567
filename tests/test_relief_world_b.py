"""The independent relief world (second generator): deterministic, answer key true to the files, clean mode clean."""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from fangkong.relief.synthetic.independent import FolderNotEmpty, build_world, generate
from fangkong.relief.synthetic.independent import build as B
from fangkong.relief.synthetic.independent.books import write_all
from fangkong.relief.synthetic.independent.forms import normalise
from fangkong.relief.synthetic.independent.ids import id_valid

CATALOGUE = [
    "STOCK-CONSERVATION",
    "STOCK-NEGATIVE",
    "GOODS-UNBOOKED",
    "ALLOC-ISSUE-RECEIPT",
    "STOCK-HOARDED",
    "ISSUED-EXPIRED",
    "CIVIL-MASK-CLINICAL",
    "PRIORITY-NON-DESIGNATED",
    "ALLOC-DISPROPORTION",
    "PRICE-OUTLIER-WEEK",
    "PRICE-OUTLIER-BENCHMARK",
    "CONTRACT-AFTER-DELIVERY",
    "SOLE-SOURCE-UNJUSTIFIED",
    "SUPPLIER-NEW",
    "SUPPLIER-STAFF-LINK",
    "PAID-NOT-RECEIVED",
    "RELATED-BENEFICIARY",
    "DISC-MISSING",
    "DISC-WRONG",
    "DISC-LATE",
    "FUND-IDLE",
    "BANK-UNBOOKED",
    "REG-NO-BANK",
    "SERIES-GAP",
    "SERIES-REUSE",
    "PAYOUT-SLOW",
    "PAY-DUP-INVOICE",
    "PAY-DUP-NEAR",
    "PAY-INVOICE-SHARED",
    "PAYEE-FUZZY",
    "EARMARK",
    "SPLIT-PURCHASE",
    "DIRECTED-NOT-HONOURED",
    "BENFORD-1",
    "BENFORD-2",
    "ROUND-EXCESS",
    "SUB-RATE",
    "SUB-DAYS",
    "SUB-NOT-ON-ROSTER",
    "SUB-AFTER-SEPARATION",
    "SUB-ID-INVALID",
    "SUB-TWO-PAYERS",
]


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """One small world, the same seed again, and its clean twin (generated once for the module)."""
    root = tmp_path_factory.mktemp("world_b")
    return {
        "a": generate(root / "a", seed=11),
        "b": generate(root / "b", seed=11),
        "clean": generate(root / "clean", seed=11, clean=True),
    }


def _key(folder: Path) -> dict:
    return json.loads((folder / "answer_key.json").read_text(encoding="utf-8"))


class Reader:
    """Reads cells back the way an importer would: calamine for Excel, csv for CSV."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.cache: dict = {}

    def rows(self, path: str, sheet: str | None) -> list[list]:
        key = (path, sheet)
        if key not in self.cache:
            file = self.folder / path
            if file.suffix == ".csv":
                raw = file.read_bytes()
                for enc in ("utf-8-sig", "gb18030"):
                    try:
                        text = raw.decode(enc)
                        break
                    except UnicodeDecodeError:
                        continue
                self.cache[key] = list(csv.reader(text.splitlines()))
            else:
                wb = CalamineWorkbook.from_path(str(file))
                self.cache[key] = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        return self.cache[key]

    def cell(self, path: str, sheet: str | None, row: int, column: str):
        index = 0
        for ch in column:
            index = index * 26 + ord(ch) - 64
        rows = self.rows(path, sheet)
        if row - 1 >= len(rows) or index - 1 >= len(rows[row - 1]):
            return None
        return rows[row - 1][index - 1]


def _content(folder: Path) -> dict:
    """Every file's cells as read back (bytes of .xlsx differ only in zip metadata)."""
    out = {}
    reader = Reader(folder)
    for file in sorted(folder.rglob("*")):
        if file.is_dir() or file.name == "answer_key.json":
            continue
        rel = file.relative_to(folder).as_posix()
        if file.suffix == ".csv":
            out[rel] = reader.rows(rel, None)
        else:
            wb = CalamineWorkbook.from_path(str(file))
            out[rel] = {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}
    return out


def _stable(key: dict) -> dict:
    key = dict(key)
    key.pop("generation_seconds")
    return key


def test_the_same_seed_gives_the_same_world(worlds, tmp_path):
    assert _stable(_key(worlds["a"])) == _stable(_key(worlds["b"]))
    assert _content(worlds["a"]) == _content(worlds["b"])
    other = _key(generate(tmp_path / "other", seed=12))
    assert other["problems"] != _key(worlds["a"])["problems"]


def test_every_catalogue_test_is_planted_once_in_the_small_world(worlds):
    key = _key(worlds["a"])
    assert key["format"] == "fangkong-relief-world-b/1"
    assert sorted(key["counts"]["problems_by_test"]) == sorted(CATALOGUE)
    assert key["totals"]["decoys"] >= 25
    for prob in key["problems"]:
        assert prob["sentence"] and prob["keys"], prob
        assert prob["evidence"] or prob.get("ledger"), prob


def test_every_answer_key_location_shows_what_it_claims(worlds):
    folder = worlds["a"]
    key = _key(folder)
    reader = Reader(folder)
    checked = 0
    for entry in key["problems"] + key["decoys"]:
        for ev in entry["evidence"]:
            assert (folder / ev["file"]).exists(), ev
            assert ev["cells"], (entry["id"], ev)
            for name, cell in ev["cells"].items():
                raw = reader.cell(ev["file"], ev["sheet"], ev["row"], cell["column"])
                assert normalise(cell["kind"], raw) == cell["value"], (
                    entry["id"],
                    ev["file"],
                    ev["row"],
                    name,
                    raw,
                )
                checked += 1
        if "ledger" in entry:
            assert (folder / entry["ledger"]["file"]).exists()
    assert checked > 200


def test_key_values_agree_with_the_evidence_rows(worlds):
    """The facts in ``keys`` are the ones the evidence rows show (spot checks per kind)."""
    key = _key(worlds["a"])
    by = {p["test_id"]: p for p in key["problems"]}
    values = lambda p: {c["value"] for ev in p["evidence"] for c in ev["cells"].values()}  # noqa: E731
    assert by["BANK-UNBOOKED"]["keys"]["amount"] in values(by["BANK-UNBOOKED"])
    assert by["REG-NO-BANK"]["keys"]["amount"] in values(by["REG-NO-BANK"])
    assert by["SUB-ID-INVALID"]["keys"]["id_number"] in values(by["SUB-ID-INVALID"])
    assert not id_valid(by["SUB-ID-INVALID"]["keys"]["id_number"])
    assert by["CONTRACT-AFTER-DELIVERY"]["keys"]["signed"] in values(by["CONTRACT-AFTER-DELIVERY"])
    late = by["DISC-LATE"]["keys"]
    assert (
        B.date.fromisoformat(late["disclosed_on"]) - B.date.fromisoformat(late["received"])
    ).days > late["window_days"]
    sub = by["SUB-DAYS"]["keys"]
    assert float(sub["days_paid"]) > float(sub["duty_days"])


def test_the_clean_world_has_no_planted_problem_but_keeps_its_decoys(worlds):
    dirty, clean = _key(worlds["a"]), _key(worlds["clean"])
    assert clean["clean"] is True
    assert clean["problems"] == []
    assert clean["totals"]["decoys"] == dirty["totals"]["decoys"]
    assert {f["path"] for f in clean["files"]} == {f["path"] for f in dirty["files"]}


def test_the_clean_world_keeps_the_rules_it_claims():
    """Independent of any detector: the invariants a clean collected folder must hold."""
    check_clean(build_world(11, "small", clean=True))


def check_clean(w) -> None:
    """The rules the clean world claims to keep (also run by hand on the mid and full sizes)."""
    # Every registered gift reached the bank, every donation credit is registered.
    credits = {b.ref for b in w.bank if b.credit}
    for g in w.cash:
        if g.in_register and not g.void:
            assert g.bank_line in credits
    assert all(g.in_register for g in w.cash)
    # Identity numbers are valid; nobody is paid for more days than the duty sheets show.
    duty = defaultdict(float)
    for a in w.attendance:
        duty[(a.person.ref, a.month)] += a.total
    paid = defaultdict(float)
    for b in w.subsidies:
        assert id_valid(b.person.id_no)
        assert b.amount == int(b.days * B.RATES[b.person.tier])
        paid[(b.person.ref, b.month)] += b.days
    assert all(paid[k] <= duty[k] for k in paid)
    # Stock: no batch issued before it is booked in, counts agree, nothing expired goes out.
    for i in w.issues:
        assert i.batch.intake_day <= i.day and i.day <= i.batch.expiry
    assert all(c.book == c.actual for c in w.counts)
    # Disclosures in time; contracts before delivery; payments never above what was delivered.
    for g in [*w.cash, *w.goods]:
        if g.received <= B.CUTOFF - timedelta(days=20) and not getattr(g, "void", False):
            assert g.disclose_on is not None and (
                g.disclose_on - g.received
            ).days <= B.disclose_window(g.received)
    for dv in w.deliveries:
        assert dv.contract.signed <= dv.day
    for c in w.contracts:
        delivered = sum(dv.qty for dv in w.deliveries if dv.contract is c) // c.per * c.price
        assert sum(p.amount for p in w.payments if p.contract is c) <= delivered
    # No payment repeated to the same payee within a week, none just under the approval limit twice.
    seen = defaultdict(list)
    for p in w.payments:
        if not p.income:
            seen[(p.payer, p.payee, p.amount)].append(p.day)
    for days in seen.values():
        days.sort()
        assert all((b - a).days > 7 for a, b in zip(days, days[1:], strict=False)), days
    near = [
        p
        for p in w.payments
        if p.kind in ("purchase", "contract", "service")
        and B.APPROVAL_LIMIT * 0.85 <= p.amount < B.APPROVAL_LIMIT
    ]
    assert not near, near[:3]
    invoices = [(p.invoice_code, p.invoice) for p in w.payments if p.invoice]
    assert len(set(invoices)) == len(invoices)
    # No account or special-fund ledger ever shows a negative balance.
    for charity in (B.RC, B.CF):
        balance = 0
        for line in (b for b in w.bank if b.charity == charity):
            balance += line.credit - line.debit
            assert balance >= 0, (charity, line)
    for h in w.hospitals:
        balance = 0
        for p in sorted(
            (p for p in w.payments if p.payer == h.ref), key=lambda p: (p.day, not p.income)
        ):
            balance += p.amount if p.income else -p.amount
            assert balance >= 0, (h.name, p)
    # Protective supplies go only to designated hospitals, apart from fever-clinic handfuls.
    outside = defaultdict(int)
    for a in w.allocs:
        if a.item.priority and not getattr(a.recipient, "designated", False):
            outside[(a.recipient.name, a.item.key)] += a.qty
    assert all(q <= 10 * w.items[k].box for (_, k), q in outside.items()), outside


def test_a_folder_with_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FolderNotEmpty):
        generate(tmp_path, seed=1)


def test_the_full_size_meets_the_file_and_row_counts():
    """Full size in memory (the files themselves take ~1 min to write: see the report)."""
    w = build_world(7, "full")
    books = write_all(w)
    rows = sum(b.rows for b in books)
    assert 230 <= len(books) <= 290, len(books)
    assert 60000 <= rows <= 80000, rows
    assert len(w.problems) >= 350


def test_the_mid_size_writes_xls_and_csv_that_read_back(tmp_path):
    folder = generate(tmp_path / "mid", seed=5, scale="mid")
    key = _key(folder)
    formats = {f["format"] for f in key["files"]}
    assert {"xlsx", "csv-gbk", "csv-utf8bom", "csv-gb18030", "xlsx-openpyxl"} <= formats
    xls = [f for f in key["files"] if f["path"].endswith(".xls")]
    if shutil.which("soffice"):
        assert xls and not key["notes"]["xls_fallback"]
    for f in xls:
        wb = CalamineWorkbook.from_path(str(folder / f["path"]))
        assert wb.sheet_names == f["sheets"]
    reader = Reader(folder)
    for entry in key["problems"]:
        for ev in entry["evidence"]:
            for cell in ev["cells"].values():
                assert (
                    normalise(
                        cell["kind"],
                        reader.cell(ev["file"], ev["sheet"], ev["row"], cell["column"]),
                    )
                    == cell["value"]
                )


def test_every_value_form_reads_back():
    """Each way the world writes an amount, date or quantity reads back to the same value."""
    import random
    from datetime import date

    from fangkong.relief.synthetic.independent.forms import (
        AMOUNT_STYLES,
        DATE_STYLES,
        amount_cell,
        date_cell,
        qty_cell,
        read_amount,
        read_date,
        upper_amount,
    )

    assert upper_amount(50000) == "伍佰元整"
    assert upper_amount(1234560) == "壹万贰仟叁佰肆拾伍元陆角整"
    assert (
        read_amount("1.2万") == 1200000
        and read_amount("￥1,234.50") == 123450
        and read_amount("１２３４．５０") == 123450
    )
    rng = random.Random(1)
    for fen in [*range(-150, 150), *(rng.randrange(-(10**10), 10**11) for _ in range(3000))]:
        for style in AMOUNT_STYLES:
            assert read_amount(amount_cell(fen, style)[0]) == fen, (fen, style)
    for style in DATE_STYLES:
        assert read_date(date_cell(date(2020, 2, 3), style)[0]) == date(2020, 2, 3), style
    for q in (1, 4.5, 20000):
        for style in ("num", "comma", "text", "fw"):
            assert normalise("qty", qty_cell(q, style)[0]) == normalise("qty", q)

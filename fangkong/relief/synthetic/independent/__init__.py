"""A second relief world, written from the domain alone: one city's 2020 ledgers and an answer key.

``generate(out_dir, seed=7, scale="small"|"mid"|"full", clean=False)`` writes the "collected
folder" an audit team gets from 楚江市 (a fictional city): a sub-folder per body —
财政局, 红十字会, 慈善总会, 市疫情防控指挥部物资保障组, 卫健委 — and 医院/NN_<name>/ per hospital,
with .xlsx (XlsxWriter and openpyxl), .xls (LibreOffice) and CSV (GBK, GB18030, UTF-8 with BOM)
files laid out as offices keep them: title rows, "单位：元", two-row merged headers, 合计 rows,
notes, sheets per month / item / count / plan, a column per day, dates and amounts in many forms.
The same seed gives the same world; ``clean=True`` gives the same world with its look-alikes
(decoys) but without a planted problem. Nothing in production imports this package.

``answer_key.json`` (format ``fangkong-relief-world-b/1``) in the output folder:

- ``seed``, ``scale``, ``clean``, ``city``, ``period`` {start, cutoff}.
- ``parameters``: the rules the clean world keeps (disclosure windows by receipt date, idle days,
  subsidy rates, approval limit, …) so a scorer can set the catalogue's parameters alike.
- ``files``: every file written — ``path`` (relative to the folder, "/" separators), ``body``,
  ``kind`` (cash_register, bank_statement, goods_register, disbursements, disclosure, staff_list,
  intake, issue, stock_card, stock_count, allocation_plan, sign_for, upper_funds,
  appropriations, treasury_payments, code_table, hospital_registry, frontline_roster,
  subsidy_rates, price_reference, supplier_registry, contracts, deliveries, hospital_ledger,
  request, bed_report, duty_attendance, subsidy_sheet), ``format``, ``sheets`` (null for CSV),
  ``rows`` (non-empty rows including titles and headers).
- ``totals`` {files, rows, problems, decoys} and ``counts`` per test id.
- ``problems``: one entry per planted problem:
  ``id`` ("P0001"), ``test_id`` (a catalogue id such as "DISC-LATE"), ``sentence`` (the problem in
  an auditor's words), ``related_tests`` (other tests that may rightly fire on the same records:
  a finding of those tests on this evidence is explained, not a false positive), ``keys``
  (the facts a finding should carry: donation/contract/receipt numbers, amounts as "1234.50"
  yuan, dates as "2020-02-03", parties, quantities in base units 只/件/瓶), ``evidence``
  (a list of rows) and, for ledger-level screens (BENFORD-1/2, ROUND-EXCESS, PAYOUT-SLOW),
  ``ledger`` {file, sheets}: the whole ledger is the finding's subject.
- each ``evidence`` row: ``file``, ``sheet`` (null for CSV), ``row`` (1-based spreadsheet row
  or CSV line as written, titles and headers included), ``role`` (what the row proves), and
  ``cells``: {field: {column (letter), header (as written; "group/sub" under a two-row
  header), kind (date, amount, qty, text), value (canonical: date ISO, amount yuan with two
  decimals, quantity as written in that row's unit, text NFKC-folded)}}.
  ``forms.normalise(kind, raw_cell)`` turns a cell read back (python-calamine, openpyxl, csv)
  into that canonical value.
- ``decoys``: the same shape with ``resembles`` instead of ``test_id``: legitimate records that
  look like that problem (a directed donation changed with the donor's letter, a half-day
  subsidy that matches the duty sheet, a fee line, a new receipt book, a disclosure late but in
  time, …). A finding on a decoy's evidence is a false positive.

A scorer counts a problem as found when a finding of its ``test_id`` (or a related test) points
at one of its evidence rows (file + sheet + row) or carries its key values.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from . import build as B
from . import plant as _plant  # noqa: F401 - registers the plants and decoys
from .books import write_all
from .ids import Ids
from .key import answer_key
from .model import World
from .output import write_files

__all__ = ["generate", "build_world", "SCALES", "FolderNotEmpty"]
SCALES = tuple(B.SCALES)


class FolderNotEmpty(ValueError):
    """The output folder holds files that are not an earlier world."""


NOT_EMPTY = "输出文件夹不是空的，也不是以前生成的世界：{path}"


def build_world(seed: int, scale: str = "small", clean: bool = False) -> World:
    """The world in memory, with plants (unless clean) and decoys applied."""
    s = B.Streams(seed)
    w = World(seed=seed, scale=B.SCALES[scale])
    w.ids = Ids(s("ids"))
    pl = _plant.Planter(w, s, clean)
    B.build_registries(w, s, w.ids)
    w.invoice_code_hospitals = {h.ref for h in w.hospitals[1::3]}
    pl.stage("registry")
    B.build_staff(w, s, w.ids)
    pl.stage("staff")
    B.build_attendance(w, s)
    pl.stage("subsidy")
    B.build_contracts(w, s)
    pl.stage("contracts")
    B.build_deliveries(w, s)
    pl.stage("deliveries")
    B.build_contract_payments(w, s)
    pl.stage("contract_payments")
    B.build_donations(w, s)
    pl.stage("donations")
    B.build_disclosures(w, s)
    pl.stage("disclosed")
    B.build_batches(w, s)
    _plant._apply_redirects(w)
    pl.stage("batches")
    B.build_allocations(w, s)
    B.build_requests(w, s)
    pl.stage("allocated")
    _plant.hoard_requests(pl)
    B.build_counts(w)
    pl.stage("counts")
    B.build_disbursements(w, s)
    pl.stage("disbursed")
    B.build_bank(w, s)
    pl.stage("bank")
    B.build_money(w, s, pl)
    return w


def generate(out_dir, *, seed: int, scale: str = "small", clean: bool = False) -> Path:
    """Write a whole collected folder and its answer_key.json; returns the folder."""
    if scale not in B.SCALES:
        raise ValueError(f"scale must be one of {', '.join(B.SCALES)}")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        if not (out / "answer_key.json").exists():
            raise FolderNotEmpty(NOT_EMPTY.format(path=out))
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    w = build_world(seed, scale, clean)
    books = write_all(w)
    notes = write_files(books, out)
    key = answer_key(w, books, seed=seed, scale=scale, clean=clean, notes=notes)
    key["generation_seconds"] = round(time.monotonic() - started, 2)
    (out / "answer_key.json").write_text(
        json.dumps(key, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return out

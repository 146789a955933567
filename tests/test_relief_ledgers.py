"""The synthetic world's ledgers read back, through the schema and the cell parsers, to its truth.

The reader here is deliberately generic (find the header by its synonyms, combine a two-row
header by carrying a merged top cell to the right, skip title and 合计 rows), so that what passes
here is what an importer following schema.py can read.
"""

import csv
import io
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from fangkong.relief.ledger import schema
from fangkong.relief.ledger.parsing import parse_date, parse_fen, parse_quantity
from fangkong.relief.synthetic.ledgers import plan, write_all
from fangkong.relief.synthetic.world import generate
from tests.relief_office import CSV_UTF8, libreoffice_convert, require_soffice

SYNONYMS = schema.all_synonyms()
# A header that is some field's own label means that field (入库日期 is day_in, not day).
LABELS = {schema.header_key(f.label): f.name for f in schema.FIELDS.values()}


def field_of(header: str) -> str | None:
    key = schema.header_key(header)
    return LABELS.get(key) or SYNONYMS.get(key)


def blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read_rows(path: Path, encoding: str = "") -> list[list]:
    """A workbook's first sheet (calamine) or a CSV decoded strictly in its encoding."""
    if path.suffix in (".xlsx", ".xls"):
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False)
    text = path.read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline="")))


def combine(top: list, bottom: list) -> list[str]:
    """A merged top cell applies to the empty cells to its right: 入库 + 日期 → 入库日期."""
    out, last = [], ""
    for n in range(max(len(top), len(bottom))):
        t = "" if n >= len(top) or blank(top[n]) else str(top[n]).strip()
        b = "" if n >= len(bottom) or blank(bottom[n]) else str(bottom[n]).strip()
        last = t or last
        t = t or last
        out.append(b if not t or t == b else (t + b if b else t))
    return out


def score(headers: list[str]) -> int:
    return len({SYNONYMS[k] for h in headers if h and (k := schema.header_key(h)) in SYNONYMS})


def table(rows: list[list]) -> tuple[list[str], list[list], list | None]:
    """(headers, data rows, total row or None) of a sheet as written."""
    for r, row in enumerate(rows[:10]):
        single = ["" if blank(c) else str(c).strip() for c in row]
        if score(single) < 2:
            continue  # a title row
        headers, start = single, r + 1
        if start < len(rows):
            pair = combine(row, rows[start])
            if score(pair) > score(single):
                headers, start = pair, start + 1
        body = [x for x in rows[start:] if not all(blank(c) for c in x)]
        total = None
        if body and str(body[-1][0]).startswith(schema.TOTAL_MARKERS):
            total = body.pop()
        while headers and not headers[-1]:
            headers.pop()
        return headers, body, total
    raise AssertionError("no header row")


@pytest.fixture(scope="module")
def relief(tmp_path_factory):
    """World 2020 and its ledgers, written once for the module."""
    w = generate(2020)
    folder = tmp_path_factory.mktemp("ledgers")
    return w, folder, write_all(w, folder), plan(w)


def parsed(w, ledger, headers, row) -> dict:
    """One data row as canonical values: dates, fen, pieces (via 计量单位), text."""
    fields = [field_of(h) for h in headers]
    cells = dict(zip(fields, row, strict=False))
    item = next((i for i in w.items.values() if i.name == cells.get("item")), None)
    out = {}
    for f, cell in cells.items():
        typ = schema.FIELDS[f].type
        if blank(cell):
            out[f] = None
        elif typ == schema.DATE:
            out[f] = parse_date(cell)
        elif typ == schema.MONEY:
            out[f] = parse_fen(cell)
        elif typ == schema.QTY:
            out[f] = item.pieces(parse_quantity(cell), cells.get("uom"))
        elif typ == schema.INT:
            out[f] = int(parse_quantity(cell))
        else:
            out[f] = str(cell)
    return out


def assert_rows_match(w, ledger, headers, body, where):
    records = w.ledger(ledger.kind, ledger.body)
    assert len(body) == len(records), where
    for n, (row, record) in enumerate(zip(body, records, strict=True)):
        got = parsed(w, ledger, headers, row)
        for f, value in got.items():
            expected = record.get(f)
            if f == "uom" and value is not None:
                item = w.item_named(record["item"])
                assert value in (item.unit, item.pack_unit), (where, n, f)
                continue
            assert value == (None if expected in ("", None) else expected), (where, n, f, value)


def test_every_kind_is_written_once_per_body_and_named_by_kind(relief):
    w, folder, written, ledgers = relief
    assert set(written) == {ledger.name for ledger in ledgers}
    assert all((folder / name).exists() for name in written)
    assert {ledger.kind for ledger in ledgers} == set(schema.KINDS)
    assert len({(ledger.body, ledger.kind) for ledger in ledgers}) == len(ledgers)
    for ledger in ledgers:
        assert any(k in ledger.name for k in schema.KINDS[ledger.kind].keywords), ledger.name
        assert written[ledger.name] == len(w.ledger(ledger.kind, ledger.body)) > 0


def test_every_header_cell_is_a_known_synonym(relief):
    w, folder, _written, ledgers = relief
    for ledger in ledgers:
        headers, _body, _total = table(read_rows(folder / ledger.name, ledger.encoding))
        assert len(headers) == len(ledger.cols), ledger.name
        for h, col in zip(headers, ledger.cols, strict=True):
            assert schema.header_key(h) in SYNONYMS, (ledger.name, h)
            assert field_of(h) == col.field, (ledger.name, h)
        fields = [field_of(h) for h in headers]
        assert len(set(fields)) == len(fields), ledger.name
        assert set(schema.KINDS[ledger.kind].required) <= set(fields), ledger.name


def test_every_file_reads_back_row_by_row_to_its_ledger(relief):
    w, folder, written, ledgers = relief
    for ledger in ledgers:
        headers, body, total = table(read_rows(folder / ledger.name, ledger.encoding))
        assert len(body) == written[ledger.name], ledger.name
        assert_rows_match(w, ledger, headers, body, ledger.name)
        assert (total is not None) == ledger.total, ledger.name
        if total:
            records = w.ledger(ledger.kind, ledger.body)
            for h, cell in zip(headers, total, strict=False):
                f = field_of(h)
                if f in ("amount", "amount_in", "amount_out"):
                    assert parse_fen(cell) == sum(r[f] or 0 for r in records), (ledger.name, f)


def test_the_files_add_up_to_the_worlds_totals(relief):
    w, folder, _written, ledgers = relief
    sums: dict[tuple[str, str], int] = defaultdict(int)
    last_balance = {}
    for ledger in ledgers:
        headers, body, _total = table(read_rows(folder / ledger.name, ledger.encoding))
        for row in body:
            values = parsed(w, ledger, headers, row)
            for f in ("amount", "amount_in", "amount_out", "qty_in", "qty_out", "counted_qty"):
                sums[(ledger.kind, f)] += values.get(f) or 0
            if ledger.kind == "stock":
                qty = values.get("quantity") or 0
                sums[("stock", "qty_in")] += qty if values.get("direction") == "入库" else 0
                sums[("stock", "qty_out")] += qty if values.get("direction") == "出库" else 0
            if ledger.kind in ("receipt", "delivery", "goods_donation"):
                sums[(ledger.kind, "quantity")] += values["quantity"]
            if ledger.kind == "bank":
                last_balance[ledger.body] = values["balance"]

    def flows(kind, **match):
        return sum(
            f.amount_fen or f.quantity
            for f in w.of_kind(kind)
            if all(getattr(f, k) == v for k, v in match.items())
        )

    assert sums[("cash_donation", "amount")] == flows("donate_cash")
    assert sums[("appropriation", "amount")] == flows("appropriate")
    to_people = sum(f.amount_fen for f in w.of_kind("pay") if w.parties[f.target].kind == "person")
    assert sums[("payment", "amount")] == flows("pay") - to_people
    assert sums[("subsidy", "amount")] == to_people
    assert sums[("bank", "amount_in")] == flows("donate_cash")
    assert last_balance == {c: w.money_balance()[c] for c in ("RC", "CF")}
    assert sums[("goods_donation", "quantity")] == flows("donate_goods")
    assert sums[("delivery", "quantity")] == flows("deliver")
    assert sums[("stock", "qty_in")] == flows("stock_in")
    assert sums[("stock", "qty_out")] == flows("issue") == sums[("receipt", "quantity")]
    assert sums[("stock_count", "counted_qty")] == sum(w.stock().values())


def test_layouts_vary_as_real_ledgers_do(relief):
    w, folder, _written, ledgers = relief
    seen = set()
    for ledger in ledgers:
        raw = (folder / ledger.name).read_bytes()
        if ledger.encoding == "utf-8-sig":
            assert raw.startswith(b"\xef\xbb\xbf")
        elif ledger.encoding:
            raw.decode(ledger.encoding)
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            seen.add(ledger.encoding)
        rows = read_rows(folder / ledger.name, ledger.encoding)
        headers, body, total = table(rows)
        seen |= {"title"} if ledger.title else set()
        seen |= {"two-row"} if ledger.header_rows == 2 else set()
        seen |= {"total"} if total else set()
        for row in body:
            for h, cell in zip(headers, row, strict=False):
                f = field_of(h)
                typ = schema.FIELDS[f].type
                if isinstance(cell, date):
                    seen.add("date cell")
                elif typ == schema.DATE and isinstance(cell, str):
                    for style, pattern in [
                        ("iso", r"\d{4}-\d\d-\d\d"),
                        ("slash", r"\d{4}/\d{1,2}/\d{1,2}"),
                        ("cn", r"\d{4}年\d{1,2}月\d{1,2}日"),
                        ("compact", r"\d{8}"),
                    ]:
                        seen |= {style} if re.fullmatch(pattern, cell) else set()
                elif typ == schema.MONEY and isinstance(cell, float):
                    seen.add("money cell")
                elif typ == schema.MONEY and isinstance(cell, str):
                    for style, pattern in [
                        ("1,234.50", r"\d{1,3}(,\d{3})+\.\d\d"),
                        ("1234.5元", r"[\d.]+元"),
                        ("1.2万", r"[\d.]+万"),
                    ]:
                        seen |= {style} if re.fullmatch(pattern, cell) else set()
                elif f == "uom" and cell in ("盒", "箱"):
                    seen.add("packs")
    assert seen >= {
        "gbk",
        "gb18030",
        "title",
        "two-row",
        "total",
        "date cell",
        "iso",
        "slash",
        "cn",
        "compact",
        "money cell",
        "1,234.50",
        "1234.5元",
        "1.2万",
        "packs",
    }, seen


def test_scale_three_writes_about_three_times_the_rows(tmp_path):
    one = sum(write_all(generate(2020), tmp_path / "one").values())
    three = sum(write_all(generate(2020, scale=3), tmp_path / "three").values())
    assert 2.6 < three / one < 3.4


def test_ledgers_saved_by_libreoffice_read_back(relief, tmp_path):
    """The merged two-row header survives .xls, and a title-and-total register survives CSV."""
    require_soffice()
    w, folder, _written, ledgers = relief
    by_name = {ledger.name: ledger for ledger in ledgers}
    for name, fmt in [
        ("应急物资储备库出入库台账.xlsx", "xls"),
        ("红十字会捐赠资金登记表.xlsx", CSV_UTF8),
    ]:
        out = libreoffice_convert(folder / name, fmt, tmp_path)
        headers, body, total = table(read_rows(out, "utf-8"))
        assert [field_of(h) for h in headers] == [c.field for c in by_name[name].cols]
        assert_rows_match(w, by_name[name], headers, body, out.name)

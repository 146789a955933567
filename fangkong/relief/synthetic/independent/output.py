"""Sheets as offices lay them out (titles, unit lines, merged headers, totals, notes) and the files.

A ``Sheet`` is a grid of cells with the row each record landed on (``refs``) and the column of
each logical field (``cols``); ``write_files`` writes .xlsx (XlsxWriter or openpyxl), .xls
(LibreOffice converts an .xlsx) and CSV (GBK, GB18030, UTF-8 with BOM).
"""

from __future__ import annotations

import atexit
import csv
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from .forms import amount_cell, date_cell, qty_cell, read_text, yuan

STRING_DATES = ("iso", "dot", "cn", "slash", "compact", "md")


def col_letter(index: int) -> str:
    """0-based column index to Excel letters (0 -> A)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class Col:
    field: str
    head: str | tuple[str, str]
    kind: str = "text"  # text date amount qty int
    get: object = None
    width: int = 12

    def value(self, rec):
        if self.get is None:
            return getattr(rec, self.field)
        return self.get(rec)

    @property
    def header(self) -> str:
        return "/".join(self.head) if isinstance(self.head, tuple) else self.head


@dataclass
class Style:
    """How one office writes its values (chosen once per file, with a little variation)."""

    date: str = "iso"
    amount: str = "num"
    qty: str = "num"
    mix: float = 0.0  # share of cells written in another form
    alt_dates: tuple = ("iso", "cn")
    alt_amounts: tuple = ("comma", "plain")
    csv: bool = False

    @classmethod
    def pick(cls, rng: random.Random, *, csv_file: bool = False) -> Style:
        if csv_file:
            return cls(
                date=rng.choice(("iso", "compact", "slash", "cn", "dot")),
                amount=rng.choice(("plain", "comma", "plain")),
                qty=rng.choice(("text", "comma")),
                mix=rng.choice((0.0, 0.0, 0.02)),
                alt_dates=("iso", "cn"),
                alt_amounts=("comma", "plain"),
                csv=True,
            )
        return cls(
            date=rng.choice(
                ("dt", "dt", "iso", "dot", "cn", "dt_cn", "serial", "slash", "dt_time")
            ),
            amount=rng.choice(("num", "num", "num", "comma", "yen", "plain")),
            qty=rng.choice(("num", "num", "num", "text")),
            mix=rng.choice((0.0, 0.0, 0.01, 0.03)),
            alt_dates=rng.choice(
                (("iso", "dot"), ("cn", "md"), ("dot", "fw_cn"), ("serial", "iso"))
            ),
            alt_amounts=rng.choice(
                (("comma", "yen"), ("wan", "plain"), ("yuan", "comma"), ("upper", "comma"))
            ),
        )


@dataclass
class Sheet:
    name: str
    cells: dict = field(default_factory=dict)  # (row, col) 1-based row, 0-based col -> (value, fmt)
    merges: list = field(default_factory=list)  # (r1, c1, r2, c2)
    refs: dict = field(default_factory=dict)  # record ref -> row
    cols: dict = field(default_factory=dict)  # field -> (letter, header, kind)
    widths: dict = field(default_factory=dict)
    getters: dict = field(default_factory=dict)  # field -> Col
    data_rows: int = 0
    last_row: int = 0

    def put(self, r: int, c: int, value, fmt=None) -> None:
        if value is None or value == "":
            return
        self.cells[(r, c)] = (value, fmt)
        self.last_row = max(self.last_row, r)


def _cell(kind: str, v, st: Style, rng: random.Random):
    if v is None or v == "":
        return None
    if kind == "date":
        style = st.date
        if st.mix and rng.random() < st.mix:
            style = rng.choice(st.alt_dates)
        if st.csv and style not in STRING_DATES:
            style = "iso"
        return date_cell(v, style, seconds=rng.randrange(8 * 3600, 18 * 3600))
    if kind == "amount":
        style = st.amount
        if st.mix and rng.random() < st.mix:
            style = rng.choice(st.alt_amounts)
        if st.csv and style in ("num",):
            style = "plain"
        return amount_cell(v, style)
    if kind == "qty":
        style = st.qty if not (st.csv and st.qty == "num") else "text"
        return qty_cell(v, style)
    if kind == "int":
        return (str(v), None) if st.csv else (int(v), None)
    return (str(v), None)


def table(
    sheet: Sheet,
    cols: list[Col],
    records,
    st: Style,
    rng: random.Random,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    unit: str | None = None,
    start: int = 1,
    totals: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    serial: str | None = "序号",
    blank_rate: float = 0.0,
    running: tuple[str, object] | None = None,
    running_start: int = 0,
    subtotal_by=None,
) -> int:
    """Write one table; return the next free row. ``running`` = (field, fn(rec, balance)->balance)."""
    if serial:
        cols = [Col("_serial", serial, "int", None, 6), *cols]
    ncol = len(cols)
    r = start
    if title:
        sheet.put(r, 0, title)
        sheet.merges.append((r, 0, r, ncol - 1))
        r += 1
    if subtitle:
        sheet.put(r, 0, subtitle)
        sheet.merges.append((r, 0, r, ncol - 1))
        r += 1
    if unit:
        sheet.put(r, max(0, ncol - 2), unit)
        r += 1
    two = any(isinstance(c.head, tuple) for c in cols)
    if two:
        c = 0
        while c < ncol:
            head = cols[c].head
            if isinstance(head, tuple):
                group = head[0]
                span = 1
                while (
                    c + span < ncol
                    and isinstance(cols[c + span].head, tuple)
                    and cols[c + span].head[0] == group
                ):
                    span += 1
                sheet.put(r, c, group)
                if span > 1:
                    sheet.merges.append((r, c, r, c + span - 1))
                for k in range(span):
                    sheet.put(r + 1, c + k, cols[c + k].head[1])
                c += span
            else:
                sheet.put(r, c, head)
                sheet.merges.append((r, c, r + 1, c))
                c += 1
        r += 2
    else:
        for c, col in enumerate(cols):
            sheet.put(r, c, col.head)
        r += 1
    for c, col in enumerate(cols):
        sheet.widths[c] = col.width
        if col.field != "_serial":
            sheet.cols[col.field] = (col_letter(c), col.header, col.kind)
            sheet.getters[col.field] = col
    sums = {f: 0 for f in totals}
    part = {f: 0 for f in totals}
    balance = running_start
    n = 0
    group = None

    def subtotal(r: int, label: str) -> int:
        sheet.put(r, 1 if serial else 0, label)
        for c, col in enumerate(cols):
            if col.field in part:
                sheet.put(
                    r,
                    c,
                    *_cell(
                        "amount" if col.kind == "amount" else "qty",
                        part[col.field],
                        Style(amount="plain" if st.csv else "num", qty="text" if st.csv else "num"),
                        rng,
                    ),
                )
                part[col.field] = 0
        return r + 1

    for rec in records:
        if subtotal_by is not None:
            key = subtotal_by(rec)
            if group is not None and key != group:
                r = subtotal(r, f"{group}小计")
            group = key
        if blank_rate and rng.random() < blank_rate:
            r += 1
        n += 1
        sheet.refs[rec.ref] = r
        for c, col in enumerate(cols):
            if col.field == "_serial":
                v = n
            elif running and col.field == running[0]:
                balance = running[1](rec, balance)
                v = balance
            else:
                v = col.value(rec)
            if col.field in sums and isinstance(v, int):
                sums[col.field] += v
                part[col.field] += v
            cell = _cell(col.kind, v, st, rng)
            if cell is not None:
                sheet.put(r, c, *cell)
        r += 1
    sheet.data_rows += n
    if subtotal_by is not None and group is not None:
        r = subtotal(r, f"{group}小计")
    if totals:
        first_text = 1 if serial else 0
        sheet.put(r, first_text if serial else 0, "合计")
        for c, col in enumerate(cols):
            if col.field in sums:
                cell = _cell(
                    "amount" if col.kind == "amount" else "qty",
                    sums[col.field],
                    Style(
                        amount="num" if not st.csv else "plain", qty="num" if not st.csv else "text"
                    ),
                    rng,
                )
                sheet.put(r, c, *cell)
        r += 1
    if notes:
        r += 1
        for note in notes:
            sheet.put(r, 0, note)
            sheet.merges.append((r, 0, r, max(0, ncol - 1)))
            r += 1
    return r


@dataclass
class Book:
    """One file: its path inside the folder, format and sheets."""

    path: str
    fmt: str  # xlsx xlsx-openpyxl xls csv-gbk csv-gb18030 csv-utf8bom
    sheets: list = field(default_factory=list)
    body: str = ""
    kind: str = ""

    @property
    def rows(self) -> int:
        return sum(sum(1 for _ in {r for (r, _c) in s.cells}) for s in self.sheets)


def canonical(kind: str, v) -> str:
    if v is None:
        return ""
    if kind == "date":
        return v.isoformat() if isinstance(v, date) else str(v)
    if kind == "amount":
        return yuan(v)
    if kind == "qty":
        from .forms import qty_text

        return qty_text(v)
    return read_text(v)


# ------------------------------------------------------------------ writing


def _xlsxwriter(book: Book, path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "in_memory": True,
        },
    )
    wb.set_properties({"created": datetime(2020, 7, 1, 9, 0, 0), "author": "楚江市"})
    formats: dict = {}

    def fmt(code, bold=False):
        key = (code, bold)
        if key not in formats:
            spec = {}
            if code:
                spec["num_format"] = code
            if bold:
                spec["bold"] = True
            formats[key] = wb.add_format(spec) if spec else None
        return formats[key]

    for sh in book.sheets:
        ws = wb.add_worksheet(sh.name)
        for c, wdt in sh.widths.items():
            ws.set_column(c, c, wdt)
        merged_tl = {}
        covered = set()
        for r1, c1, r2, c2 in sh.merges:
            merged_tl[(r1, c1)] = (r2, c2)
            for rr in range(r1, r2 + 1):
                for cc in range(c1, c2 + 1):
                    if (rr, cc) != (r1, c1):
                        covered.add((rr, cc))
        for (r1, c1), (r2, c2) in merged_tl.items():
            value, code = sh.cells.get((r1, c1), ("", None))
            ws.merge_range(r1 - 1, c1, r2 - 1, c2, value, fmt(code, True))
        for (r, c), (value, code) in sh.cells.items():
            if (r, c) in merged_tl or (r, c) in covered:
                continue
            f = fmt(code)
            if isinstance(value, datetime):
                ws.write_datetime(r - 1, c, value, f)
            elif isinstance(value, date):
                ws.write_datetime(r - 1, c, datetime(value.year, value.month, value.day), f)
            elif isinstance(value, str):
                ws.write_string(r - 1, c, value, f)
            else:
                ws.write_number(r - 1, c, value, f)
    wb.close()


def _openpyxl(book: Book, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "楚江市卫生健康委员会"
    wb.properties.created = datetime(2020, 7, 1, 9, 0, 0)
    wb.properties.modified = datetime(2020, 7, 1, 9, 0, 0)
    for sh in book.sheets:
        ws = wb.create_sheet(sh.name)
        for (r, c), (value, code) in sh.cells.items():
            cell = ws.cell(row=r, column=c + 1)
            cell.value = (
                datetime(value.year, value.month, value.day)
                if isinstance(value, date) and not isinstance(value, datetime)
                else value
            )
            if code:
                cell.number_format = code
            elif isinstance(value, str):
                cell.data_type = "s"
        for r1, c1, r2, c2 in sh.merges:
            ws.merge_cells(start_row=r1, start_column=c1 + 1, end_row=r2, end_column=c2 + 1)
        for c, wdt in sh.widths.items():
            ws.column_dimensions[col_letter(c)].width = wdt
    wb.save(str(path))


def _csv(book: Book, path: Path, encoding: str) -> None:
    sh = book.sheets[0]
    width = max((c for (_, c) in sh.cells), default=0) + 1
    with open(path, "w", encoding=encoding, newline="") as fh:
        out = csv.writer(fh)
        for r in range(1, sh.last_row + 1):
            row = []
            for c in range(width):
                value = sh.cells.get((r, c), ("", None))[0]
                row.append(value if isinstance(value, str) else str(value))
            out.writerow(row)


def write_files(books: list[Book], root: Path) -> dict:
    """Write every book under root; returns notes (e.g. .xls kept as .xlsx without LibreOffice)."""
    notes: dict = {"xls_fallback": []}
    to_convert: list[tuple[Book, Path]] = []
    for book in books:
        target = root / book.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if book.fmt == "xlsx":
            _xlsxwriter(book, target)
        elif book.fmt == "xlsx-openpyxl":
            _openpyxl(book, target)
        elif book.fmt == "xls":
            to_convert.append((book, target))
        elif book.fmt == "csv-gbk":
            _csv(book, target, "gbk")
        elif book.fmt == "csv-gb18030":
            _csv(book, target, "gb18030")
        elif book.fmt == "csv-utf8bom":
            _csv(book, target, "utf-8-sig")
        else:
            raise ValueError(book.fmt)
    if to_convert:
        _convert_xls(to_convert, notes)
    return notes


_PROFILE: list[Path] = []


def _lo_profile() -> Path:
    """One LibreOffice user profile per process: a fresh profile costs seconds to set up."""
    if not _PROFILE:
        path = Path(tempfile.mkdtemp(prefix="fk-world-b-lo-"))
        atexit.register(shutil.rmtree, path, True)
        _PROFILE.append(path)
    return _PROFILE[0]


def _convert_xls(items: list[tuple[Book, Path]], notes: dict) -> None:
    """Write .xlsx then let LibreOffice save them as Excel 97 (.xls), all in one run."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory(prefix="fk-world-b-") as tmp:
        tmpdir = Path(tmp)
        sources = []
        for k, (book, target) in enumerate(items):
            src = tmpdir / f"f{k:03d}.xlsx"
            _xlsxwriter(book, src)
            sources.append((src, book, target))
        if soffice:
            profile = _lo_profile()
            out = tmpdir / "out"
            subprocess.run(  # noqa: S603 - fixed arguments, our own temporary files
                [
                    soffice,
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "xls",
                    "--outdir",
                    str(out),
                    *[str(s) for s, _, _ in sources],
                ],
                check=False,
                capture_output=True,
                timeout=600,
                env={**os.environ, "HOME": str(profile)},
            )
        for src, book, target in sources:
            converted = tmpdir / "out" / (src.stem + ".xls")
            if soffice and converted.exists():
                shutil.move(str(converted), target)
            else:
                fallback = target.with_suffix(".xlsx")
                shutil.move(str(src), fallback)
                book.path = str(Path(book.path).with_suffix(".xlsx"))
                book.fmt = "xlsx"
                notes["xls_fallback"].append(book.path)

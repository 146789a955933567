"""Read a ledger file as relief bodies keep it, recognise its kind and columns, check every cell.

Steps: `inspect_file` reads the first rows of every sheet and proposes a kind, a header row and
a column mapping (`detect`); `check` loads the whole sheet into DuckDB as text, parses every
cell there in one pass (money to fen, dates, quantities, names), collects every problem with its
row and column, and — only when there is none — writes the normalised rows to a staging Parquet
file that `services.accept_import` moves into place. Nothing is stored before that move, so a
failed import leaves nothing behind.
"""

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import pyarrow as pa
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.lib import cells, idcard, plausible, sheets
from fangkong.lib.crypto import keyed_hash
from fangkong.lib.masking import mask_id_number
from fangkong.relief.ledger import schema, store
from fangkong.relief.ledger.parsing import (
    ERR_AMOUNT_RANGE,
    ERR_QUANTITY_RANGE,
    MAX_FEN,
    MAX_QUANTITY,
    halfwidth,
    normalise_party,
)

ERR_GARBAGE = N_(
    "无法读取该文件：它不是 Excel 工作簿（.xlsx/.xls）或 CSV 文本文件，请另存为 .xlsx 后重新上传。"
)
ERR_ENCODING = N_("CSV 文件的编码无法识别，请用 Excel 另存为“CSV UTF-8”或 .xlsx 后重新上传。")
ERR_EMPTY = N_("文件是空的，请选择填好的台账文件。")
ERR_TOO_LARGE = N_("文件解压后超过 {limit} MB，请拆分成几个文件分批上传。")
ERR_NO_HEADER = N_(
    "在前 {n} 行中找不到可识别的表头（如 日期、金额、捐赠方、物资名称），请确认这是台账文件，或在“表头词典”中添加本单位的列名。"
)
ERR_NO_KIND = N_("无法判断台账类型，请在下方选择。")
ERR_MISSING_FIELD = N_("缺少必需的列「{label}」（可写作：{examples}），请在映射中指定对应的列。")
ERR_REQUIRED = N_("「{label}」不能为空。")
ERR_AMOUNT = N_("金额无法识别：{value}（应为数字，可带千分位、“元”或“万元”）")
ERR_NEGATIVE = N_("金额不能为负数：{value}")
ERR_FEN = N_("金额最多保留到分：{value}")
ERR_DATE = N_("日期无法识别：{value}（可写作 2020-02-03、2020/2/3、2020年2月3日 或 20200203）")
ERR_QUANTITY = N_("数量无法识别：{value}（应为非负数，可带单位，如 200只、1.5万）")
ERR_INT = N_("应为整数：{value}")
ERR_DATE_RANGE = N_("日期超出合理范围：{value}（应在 {earliest} 至 {latest} 之间），请核对。")
ERR_BOTH_DIRECTIONS = N_("同一行既有入库数量又有出库数量，请分成两行。")
ERR_BOTH_BANK = N_("同一行既有收入金额又有支出金额，请核对。")
ERR_NO_QUANTITY = N_("没有数量（入库数量、出库数量或数量），请填写。")
ERR_NO_BANK_AMOUNT = N_("没有金额（收入或支出），请填写。")
ERR_DUP_FIELD = N_("与「{other}」列对应同一字段「{label}」，请只保留一列或改映射。")
LOCATION = N_("第{row}行 {col}列「{header}」：{message}")

HEADER_SCAN_ROWS = 30
MAX_COLUMNS = 200
MAX_STORED_ERRORS = 200
PREVIEW_ROWS = 15
FULL = "".join(chr(0xFF10 + i) for i in range(10)) + "．，－＋（）：／　"
HALF = "0123456789" + ".,-+():/ "


class LedgerFileError(Exception):
    """The file cannot be read at all; the message says what to do."""

    def __init__(self, message: str, **params):
        self.message, self.params = message, params
        super().__init__(message.format(**params))

    def text(self) -> str:
        return _(self.message).format(**self.params)


def column_letter(index: int) -> str:
    """0 → A, 26 → AA, as Excel names columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --- Reading cells. ---


def cell_text(value) -> str | None:
    """A cell as text: 1234.0 → "1234", Excel dates → 2020-02-03, blanks → None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == dtime(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _column_array(values: list) -> tuple[pa.Array, str]:
    """A column for DuckDB and the SQL that turns it into text: typed when Arrow can type it
    (text, numbers, dates: converted in DuckDB, fast), else converted cell by cell in Python."""
    values = [None if v == "" else v for v in values]
    try:
        arr = pa.array(values)
    except (pa.ArrowTypeError, pa.ArrowInvalid, OverflowError):
        return pa.array([cell_text(v) for v in values], pa.string()), "{c}"
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
        return arr.cast(pa.string()), "{c}"
    if pa.types.is_floating(t):
        # 1234.0 → "1234" (document and account numbers typed as numbers), else shortest form.
        return arr, (
            "CASE WHEN {c} = trunc({c}) AND abs({c}) < 1e15 THEN CAST(CAST({c} AS BIGINT) AS VARCHAR)"
            " ELSE CAST({c} AS VARCHAR) END"
        )
    if pa.types.is_integer(t):
        return arr, "CAST({c} AS VARCHAR)"
    if pa.types.is_timestamp(t):
        return arr, (
            "CASE WHEN CAST({c} AS TIME) = TIME '00:00:00' THEN strftime({c}, '%Y-%m-%d')"
            " ELSE strftime({c}, '%Y-%m-%d %H:%M:%S') END"
        )
    if pa.types.is_date(t):
        return arr, "CAST({c} AS VARCHAR)"
    if pa.types.is_boolean(t):
        return arr, "CASE WHEN {c} THEN '是' WHEN NOT {c} THEN '否' END"
    return pa.array([cell_text(v) for v in values], pa.string()), "{c}"


# What the sheet reader's refusals say to an auditor.
_SHEET_ERRORS = {
    sheets.EMPTY: ERR_EMPTY,
    sheets.GARBAGE: ERR_GARBAGE,
    sheets.ENCODING: ERR_ENCODING,
    sheets.UNPACKED_TOO_LARGE: ERR_TOO_LARGE,
    sheets.TOO_MANY_ROWS: ERR_GARBAGE,
    sheets.TOO_WIDE: ERR_GARBAGE,
}


@dataclass
class RawSheet(sheets.Sheet):
    """A sheet as read by lib/sheets.py: workbook cells, or a CSV's decoded text (DuckDB parses it)."""

    @property
    def utf8_path(self) -> Path | None:
        """The CSV file itself when it is plain UTF-8: DuckDB reads it directly."""
        return self.path if self.encoding == "utf-8" else None

    def head(self, n: int = HEADER_SCAN_ROWS) -> list[list[str | None]]:
        if self.rows is not None:
            return [[cell_text(v) for v in r] for r in self.rows[:n]]
        try:
            records = self.text_records(n)
        except sheets.SheetError as exc:
            raise LedgerFileError(ERR_GARBAGE) from exc
        return [[v if v.strip() else None for v in record] for record in records]


def read_file(path: Path) -> list[RawSheet]:
    """Every worksheet of a workbook, or the one table of a CSV; LedgerFileError if unreadable.

    Read afresh on each call: a caller that has read a file passes its sheets on (run_check)."""
    try:
        found = sheets.read_sheets(Path(path), text_rows=False)
    except sheets.SheetError as exc:
        message = _SHEET_ERRORS[exc.code]
        if exc.code == sheets.UNPACKED_TOO_LARGE:
            raise LedgerFileError(message, limit=exc.params["limit_mb"]) from exc
        raise LedgerFileError(message) from exc
    if not found:
        raise LedgerFileError(ERR_EMPTY)
    return [RawSheet(**vars(s)) for s in found]


# --- Recognising the header, the columns and the kind. ---


@dataclass
class Detection:
    """What the importer proposes for one sheet; the auditor may change kind and mapping."""

    sheet: str
    kind: str = ""
    header_row: int = 0  # 1-based row of the last header row; 0: none found
    header_rows: int = 1
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # column index → field
    scales: dict[str, int] = field(default_factory=dict)
    title: str = ""
    problems: list[str] = field(default_factory=list)


def _ffill(cells: list[str | None]) -> list[str]:
    """A merged top header cell reads as applying to the empty cells to its right."""
    out, last = [], ""
    for c in cells:
        if c and c.strip():
            last = c.strip()
        out.append(last)
    return out


def _combine(top: list[str | None], bottom: list[str | None]) -> list[str]:
    """Two header rows as one: 入库 over 日期 reads 入库日期; a cell merged down keeps its text."""
    width = max(len(top), len(bottom))
    top = _ffill(list(top) + [None] * (width - len(top)))
    bottom = list(bottom) + [None] * (width - len(bottom))
    out = []
    for t, b in zip(top, bottom, strict=True):
        b = (b or "").strip()
        out.append(b if not t or t == b else (t + "|" + b if b else t))
    return out


def field_for(header: str, synonyms: dict[str, str]) -> str | None:
    """The field a header names: the combined two-row text first, else its lower part alone."""
    if not header:
        return None
    whole = schema.header_key(header.replace("|", ""))
    if whole in synonyms:
        return synonyms[whole]
    if "|" in header:
        return synonyms.get(schema.header_key(header.split("|", 1)[1]))
    return None


def _score(headers: list, synonyms: dict[str, str]) -> int:
    return len({f for h in headers if (f := field_for(h, synonyms))})


def detect(
    sheet_name: str, head: list[list[str | None]], file_name: str, synonyms: dict[str, str]
) -> Detection:
    """Find the header row (one or two rows), map its columns, guess the ledger kind."""
    det = Detection(sheet=sheet_name)
    best = (0, -1, 1, [])
    for r, row in enumerate(head):
        single = [c or "" for c in row]
        s1 = _score(single, synonyms)
        if s1 > best[0]:
            best = (s1, r, 1, [c.strip() for c in single])
        if r + 1 < len(head):
            pair = _combine(row, head[r + 1])
            s2 = _score(pair, synonyms)
            # A two-row header must name more fields than either of its rows alone (a title
            # row above a header adds nothing, so it is not taken for a header row).
            s_next = _score([c or "" for c in head[r + 1]], synonyms)
            if s2 > best[0] and s2 > max(s1, s_next):
                best = (s2, r + 1, 2, pair)
    score, row, nrows, headers = best
    if score < 2:
        det.problems.append(_(ERR_NO_HEADER).format(n=len(head)))
        return det
    det.header_row, det.header_rows = row + 1, nrows
    det.headers = [h.replace("|", "") for h in headers]
    title_rows = head[: row + 1 - nrows]
    det.title = " ".join(c for r in title_rows for c in r if c)[:200]
    seen: dict[str, int] = {}
    for c, raw_header in enumerate(headers):
        f = field_for(raw_header, synonyms)
        h = det.headers[c]
        if not f:
            continue
        if f in seen:
            det.problems.append(
                _(ERR_DUP_FIELD).format(other=det.headers[seen[f]], label=_(schema.FIELDS[f].label))
                + f"（{column_letter(c)}列「{h}」未使用）"
            )
            continue
        seen[f] = c
        det.mapping[str(c)] = f
        if "万元" in h and schema.FIELDS[f].type == schema.MONEY:
            det.scales[str(c)] = 10_000
    det.kind = guess_kind(set(det.mapping.values()), " ".join([file_name, sheet_name, det.title]))
    if not det.kind:
        det.problems.append(_(ERR_NO_KIND))
    return det


def guess_kind(fields: set[str], words: str) -> str:
    """The kind whose required fields are present and whose keywords the file name or title uses."""
    best, best_score = "", 0.0
    for kind in schema.KINDS.values():
        required = set(kind.required)
        if kind.code == "stock":
            ok = bool(fields & {"qty_in", "qty_out"}) or bool(fields & {"direction"})
        elif kind.code == "bank":
            ok = bool(fields & {"amount_in", "amount_out"})
        else:
            ok = True
        have = len(required & fields)
        score = have / len(required) * 10 if ok else 0
        if score < 10:
            continue  # every required field must be there
        score += sum(1 for f in kind.optional if f in fields) * 0.2
        score += sum(3 for w in kind.keywords if w in words)
        if score > best_score:
            best, best_score = kind.code, score
    return best


# --- Checking and normalising every row (in DuckDB). ---


@dataclass
class CheckResult:
    total: int = 0
    skipped: list[int] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    preview: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def _stage(con, sheet: RawSheet, det: Detection, tmpdir: Path, progress) -> int:
    """Load the data rows below the header as text columns c0.. plus row_no (Excel numbering)."""
    first = det.header_row  # 0-based index of the first data row
    if sheet.rows is not None:
        body = sheet.rows[first:]
        width = max((len(r) for r in body), default=0)
        width = min(width, MAX_COLUMNS)
        body = [r if len(r) == width else (list(r) + [None] * width)[:width] for r in body]
        cols = list(zip(*body, strict=True)) if body else [() for _ in range(width)]
        arrays, exprs = {}, []
        for i, col in enumerate(cols):
            arrays[f"c{i}"], expr = _column_array(list(col))
            exprs.append(expr.format(c=f"c{i}") + f" AS c{i}")
        table = pa.table(
            {"row_no": pa.array(range(first + 1, first + 1 + len(body)), pa.int32())} | arrays
        )
        con.register("raw_arrow", table)
        con.execute(
            f"CREATE TEMP TABLE raw AS SELECT row_no, {', '.join(exprs)} FROM raw_arrow"
            if exprs
            else "CREATE TEMP TABLE raw AS SELECT row_no FROM raw_arrow"
        )
        con.unregister("raw_arrow")
        return width
    # CSV: DuckDB reads the text itself (fast); record numbers count as rows.
    src = sheet.utf8_path
    if src is None:
        src = tmpdir / "sheet.csv"
        src.write_text(sheet.text or "", encoding="utf-8")
    src = str(src).replace("'", "''")
    width = max((len(r) for r in sheet.head(HEADER_SCAN_ROWS)), default=1)
    width = min(width, MAX_COLUMNS)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    delim = sheet.delimiter.replace("'", "''")
    try:
        con.execute(
            f"""CREATE TEMP TABLE raw AS
            SELECT CAST(ordinality + {first} AS INTEGER) AS row_no, * EXCLUDE (ordinality)
            FROM read_csv('{src}', header = false, skip = {first}, columns = {columns},
                          delim = '{delim}', quote = '"', escape = '"', null_padding = true,
                          strict_mode = false, ignore_errors = false, auto_detect = false)
                 WITH ORDINALITY"""  # noqa: S608 - path and numbers are ours
        )
    except Exception as exc:
        raise LedgerFileError(ERR_GARBAGE) from exc
    return width


def _sql_text(s: str) -> str:
    return s.replace("'", "''")


def _macros(con, year: int) -> None:
    """Cell parsers as DuckDB macros, on lib/cells.py's grammar (the same regular expressions the
    Python parsers use); each regular expression runs once per cell."""
    money = _sql_text("^" + cells.MONEY_NUMBER + "$")
    ymd = _sql_text("^" + cells.DATE_YMD + "$")
    compact = _sql_text("^" + cells.DATE_COMPACT + "$")
    serial = _sql_text(cells.DATE_SERIAL)
    month_day = _sql_text("^([0-9]{4})-" + cells.DATE_MD + "$")
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO fk_c(s) AS nullif(trim(translate(s, '{FULL}', '{HALF}')), '')"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO fk_money_t(s) AS "
        f"nullif(regexp_replace(fk_c(s), '{_sql_text(cells.MONEY_STRIP)}', '', 'g'), '')"
    )
    units = " ".join(f"WHEN '{u}' THEN {int(v)}" for u, v in cells.MONEY_UNITS.items() if v != 1)
    con.execute(
        "CREATE OR REPLACE TEMP MACRO fk_money_s(m) AS try(CAST(m.n AS DECIMAL(38,6))"
        f" * CASE m.u {units} ELSE 1 END)"
    )
    # (1,234.50) is an accountant's negative.
    con.execute(
        "CREATE OR REPLACE TEMP MACRO fk_money_n(t) AS CASE WHEN t LIKE '(%)' THEN "
        f"-fk_money_s(regexp_extract(t[2:-2], '{money}', ['n', 'u'])) "
        f"ELSE fk_money_s(regexp_extract(t, '{money}', ['n', 'u'])) END"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO fk_ymd(m) AS "
        "try(make_date(CAST(m.y AS INTEGER), CAST(m.m AS INTEGER), CAST(m.d AS INTEGER)))"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO fk_date(t) AS coalesce("
        f"fk_ymd(regexp_extract(t, '{ymd}', ['y', 'm', 'd'])),"
        f"fk_ymd(regexp_extract(t, '{compact}', ['y', 'm', 'd'])),"
        f"CASE WHEN regexp_full_match(t, '{serial}')"
        f" AND CAST(t AS DOUBLE) BETWEEN {cells.SERIAL_MIN} AND {cells.SERIAL_MAX}"
        " THEN CAST(DATE '1899-12-30' + CAST(floor(CAST(t AS DOUBLE)) AS INTEGER) AS DATE) END,"
        f"fk_ymd(regexp_extract('{int(year)}-' || t, '{month_day}', ['y', 'm', 'd'])))"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO fk_qty_s(m) AS try(CAST(m.n AS DECIMAL(38,3))"
        " * CASE m.w WHEN '万' THEN 10000 ELSE 1 END)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO fk_qty(t) AS fk_qty_s(regexp_extract(t, "
        f"'^{_sql_text(cells.QUANTITY_NUMBER)}$', ['n', 'w']))"
    )
    # More whole digits than any plausible amount or quantity has (the arithmetic above would
    # overflow DECIMAL(38)): out of range, whatever the unit.
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO fk_big(t) AS "
        f"length(ltrim(regexp_extract(t, '^[-+(]?([0-9]+)', 1), '0')) > {_BIG_DIGITS}"
    )


# Whole digits beyond which a number is out of range before any arithmetic (MAX_FEN and
# MAX_QUANTITY have 13); with 亿 and a 万元 column it still fits DECIMAL(38).
_BIG_DIGITS = 13


def _date_window() -> tuple[str, str]:
    earliest, latest = plausible.window(plausible.LEDGER)
    return earliest.isoformat(), latest.isoformat()


def _field_sql(f: schema.Field, col: str, scale: int) -> tuple[str, str, str, str]:
    """(clean text, raw parse computed once as n_<name>, final value, error code) for one field.

    Values beyond the plausible maxima (parsing.MAX_FEN, MAX_QUANTITY) and dates outside the
    ledger window are row errors; the value is NULL for them, so no cast can overflow."""
    t, n = f"t_{f.name}", f"n_{f.name}"
    if f.type == schema.MONEY:
        negative_ok = f.name == "balance"
        err = (
            f"CASE WHEN {t} IS NULL THEN NULL WHEN fk_big({t}) THEN 'amount_range' "
            f"WHEN {n} IS NULL THEN 'amount' WHEN abs({n}) > {MAX_FEN} THEN 'amount_range' "
            f"WHEN {n} <> round({n}) THEN 'fen' "
            + ("" if negative_ok else f"WHEN {n} < 0 THEN 'negative' ")
            + "END"
        )
        value = f"CASE WHEN abs({n}) <= {MAX_FEN} AND {n} = round({n}) THEN CAST({n} AS BIGINT) END"
        return f"fk_money_t({col})", f"try(fk_money_n({t}) * {int(scale)} * 100)", value, err
    if f.type == schema.DATE:
        earliest, latest = _date_window()
        inside = f"{n} BETWEEN DATE '{earliest}' AND DATE '{latest}'"
        err = (
            f"CASE WHEN {t} IS NULL THEN NULL WHEN {n} IS NULL THEN 'date' "
            f"WHEN NOT ({inside}) THEN 'date_range' END"
        )
        value = f"CASE WHEN {inside} THEN {n} END"
        return f"fk_c({col})", f"fk_date({t})", value, err
    if f.type == schema.QTY:
        err = (
            f"CASE WHEN {t} IS NULL THEN NULL WHEN fk_big({t}) THEN 'qty_range' "
            f"WHEN {n} IS NULL OR {n} < 0 THEN 'qty' "
            f"WHEN {n} > {MAX_QUANTITY} THEN 'qty_range' END"
        )
        value = f"CASE WHEN {n} BETWEEN 0 AND {MAX_QUANTITY} THEN CAST({n} AS DECIMAL(18,3)) END"
        return (
            f"nullif(regexp_replace(fk_c({col}), '[,\\s]', '', 'g'), '')",
            f"fk_qty({t})",
            value,
            err,
        )
    if f.type == schema.INT:
        err = f"CASE WHEN {t} IS NOT NULL AND {n} IS NULL THEN 'int' END"
        parse = f"try(CAST(regexp_extract({t}, '^([0-9]+)(?:\\.0+)?[^0-9.]*$', 1) AS INTEGER))"
        return f"fk_c({col})", parse, n, err
    if f.type == schema.IDNO:
        return f"fk_c({col})", "", t, "NULL"
    if f.type == schema.PARTY:
        # "非定向", "无", "—" in a party column mean nobody, not a party of that name.
        return (
            f"CASE WHEN trim({col}) IN ('非定向', '不定向', '无', '—', '-', '/', '／') THEN NULL "
            f"ELSE nullif(trim({col}), '') END",
            "",
            t,
            "NULL",
        )
    # Names and free text: trimmed only (party keys are normalised, width included, later).
    return f"nullif(trim({col}), '')", "", t, "NULL"


_ERRORS = {
    "amount": ERR_AMOUNT,
    "amount_range": ERR_AMOUNT_RANGE,
    "fen": ERR_FEN,
    "negative": ERR_NEGATIVE,
    "date": ERR_DATE,
    "date_range": ERR_DATE_RANGE,
    "qty": ERR_QUANTITY,
    "qty_range": ERR_QUANTITY_RANGE,
    "int": ERR_INT,
}
REF_FROM_DOC = {"cash_donation", "goods_donation", "appropriation", "contract", "delivery"}


def _uom_suffix(col: str) -> str:
    return f"nullif(regexp_extract(t_{col}, '^[-+]?[0-9]+(\\.[0-9]+)?万?([^0-9]*)$', 2), '')"


def item_key(name: str) -> str:
    """Item names compared without width, spaces or case."""
    return re.sub(r"\s+", "", halfwidth(name or "")).upper()


def check(
    sheet: RawSheet,
    det: Detection,
    *,
    import_id: int,
    file_id: int,
    year: int,
    out_path: Path | None,
    progress: Callable[[int, int], None] | None = None,
) -> CheckResult:
    """Parse every data row; when nothing is wrong and `out_path` is given, write the Parquet."""
    started = time.perf_counter()
    progress = progress or (lambda done, total: None)
    result = CheckResult()
    kind = schema.KINDS[det.kind]
    mapped = {f: int(c) for c, f in det.mapping.items()}
    headers = det.headers

    def where(c: int) -> tuple[str, str]:
        return column_letter(c), headers[c] if c < len(headers) else ""

    missing = []
    for f in kind.required:
        if f not in mapped:
            missing.append(f)
    if det.kind == "stock" and not (set(mapped) & {"qty_in", "qty_out", "quantity"}):
        missing.append("quantity")
    if det.kind == "bank" and not (set(mapped) & {"amount_in", "amount_out"}):
        missing.append("amount_in")
    for f in missing:
        label = _(schema.FIELDS[f].label)
        examples = "、".join(schema.FIELDS[f].synonyms[:4])
        result.errors.append(
            {
                "row": None,
                "column": "",
                "message": _(ERR_MISSING_FIELD).format(label=label, examples=examples),
            }
        )
    if result.errors:
        result.error_count = len(result.errors)
        return result

    con = store.connect()
    with tempfile.TemporaryDirectory(prefix="fk-import-") as tmp:
        try:
            width = _stage(con, sheet, det, Path(tmp), progress)
            _macros(con, year)
            total = con.execute("SELECT count(*) FROM raw").fetchone()[0]
            progress(0, total)
            cols = [f"c{i}" for i in range(width)]
            # Blank rows are skipped; a row whose first cells say 合计/总计/… is a total row.
            nonempty = (
                f"trim(concat_ws('', {', '.join(cols)}), ' \t\r\n　') <> ''" if cols else "false"
            )
            lead = " || '|' || ".join(f"coalesce({c}, '')" for c in cols[:3]) or "''"
            markers = "|".join(schema.TOTAL_MARKERS)
            marker = (
                f"regexp_matches(replace(replace({lead}, ' ', ''), '　', ''), '(^|\\|)({markers})')"
            )
            con.execute(
                f"CREATE TEMP TABLE body AS SELECT *, ({marker}) AS is_total FROM raw WHERE {nonempty}"
            )
            result.skipped = [
                r[0]
                for r in con.execute(
                    "SELECT row_no FROM body WHERE is_total ORDER BY row_no"
                ).fetchall()
            ]
            con.execute("DELETE FROM body WHERE is_total")
            result.total = con.execute("SELECT count(*) FROM body").fetchone()[0]

            selects_t, selects_n, selects_v, errs = [], [], [], []
            for fname, c in mapped.items():
                if c >= width:
                    continue
                fdef = schema.FIELDS[fname]
                clean, parse, value, err = _field_sql(fdef, f"c{c}", det.scales.get(str(c), 1))
                selects_t.append(f"{clean} AS t_{fname}")
                if parse:
                    selects_n.append(f"{parse} AS n_{fname}")
                selects_v.append(f"{value} AS v_{fname}")
                errs.append(f"{err} AS e_{fname}")
            con.execute(
                f"CREATE TEMP TABLE cleaned AS SELECT row_no, {', '.join(selects_t)} FROM body"
            )
            # Each cell is parsed once (n_); values and error codes are cheap views of that.
            con.execute(
                "CREATE TEMP TABLE parsed0 AS SELECT *"
                + "".join(f", {x}" for x in selects_n)
                + " FROM cleaned"
            )
            con.execute(
                f"CREATE TEMP VIEW parsed AS SELECT *, {', '.join(selects_v)}, "
                f"{', '.join(errs)} FROM parsed0"
            )
            progress(result.total // 2, result.total)
            _collect_errors(con, result, det, mapped, kind, where)
            if result.error_count or out_path is None:
                result.preview = _preview(con, mapped)
                return result
            _write(
                con,
                det,
                mapped,
                import_id=import_id,
                file_id=file_id,
                sheet=sheet.name,
                out_path=out_path,
            )
            result.preview = _preview(con, mapped)
            progress(result.total, result.total)
        finally:
            con.close()
            result.seconds = time.perf_counter() - started
    return result


def _collect_errors(con, result, det, mapped, kind, where) -> None:
    """Count every problem in one pass over the parsed rows; fetch rows only for those found."""
    checks: list[tuple[str, int, str | None, str]] = []  # (condition, column, message, kind)
    for fname, c in mapped.items():
        fdef = schema.FIELDS[fname]
        if fdef.type in (schema.MONEY, schema.DATE, schema.QTY, schema.INT):
            checks.append((f"e_{fname} IS NOT NULL", c, None, fname))
        if fname in kind.required:
            checks.append(
                (f"t_{fname} IS NULL", c, _(ERR_REQUIRED).format(label=_(fdef.label)), "")
            )
    if det.kind == "stock":
        if "qty_in" in mapped and "qty_out" in mapped:
            both = (
                "v_qty_in IS NOT NULL AND v_qty_out IS NOT NULL AND v_qty_in > 0 AND v_qty_out > 0"
            )
            checks.append((both, mapped["qty_in"], _(ERR_BOTH_DIRECTIONS), ""))
        present = [f"t_{f} IS NOT NULL" for f in ("qty_in", "qty_out", "quantity") if f in mapped]
        col = mapped.get("quantity", mapped.get("qty_in", mapped.get("qty_out")))
        checks.append((f"NOT ({' OR '.join(present)})", col, _(ERR_NO_QUANTITY), ""))
    if det.kind == "bank":
        col = mapped.get("amount_in", mapped.get("amount_out"))
        present = [f"coalesce(v_{f}, 0) > 0" for f in ("amount_in", "amount_out") if f in mapped]
        if len(present) == 2:
            checks.append((" AND ".join(present), col, _(ERR_BOTH_BANK), ""))
        empty = [f"t_{f} IS NULL" for f in ("amount_in", "amount_out") if f in mapped]
        checks.append((" AND ".join(empty), col, _(ERR_NO_BANK_AMOUNT), ""))
    if not checks:
        return
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {cond})" for cond, *_rest in checks)
        + " FROM parsed"
    ).fetchall()[0]
    found: list[tuple[int, int, str]] = []  # (row, column, message)
    for (cond, c, message, fname), n in zip(checks, counts, strict=True):
        if not n:
            continue
        if fname:
            for row_no, raw, code in con.execute(
                f"SELECT row_no, t_{fname}, e_{fname} FROM parsed WHERE {cond} ORDER BY row_no LIMIT {MAX_STORED_ERRORS}"
            ).fetchall():
                earliest, latest = _date_window()
                message = _(_ERRORS[code]).format(value=raw, earliest=earliest, latest=latest)
                found.append((row_no, c, message))
        else:
            for (row_no,) in con.execute(
                f"SELECT row_no FROM parsed WHERE {cond} ORDER BY row_no LIMIT {MAX_STORED_ERRORS}"
            ).fetchall():
                found.append((row_no, c, message))
    found.sort(key=lambda e: (e[0], e[1]))
    for row_no, c, message in found[:MAX_STORED_ERRORS]:
        letter, header = where(c)
        result.errors.append(
            {
                "row": row_no,
                "column": letter,
                "header": header,
                "message": message,
                "text": _(LOCATION).format(row=row_no, col=letter, header=header, message=message),
            }
        )
    result.error_count = sum(counts)


def _preview(con, mapped) -> list[dict]:
    cols = [f"t_{f}" for f in mapped]
    if not cols:
        return []
    out = []
    for row in con.execute(
        f"SELECT row_no, {', '.join(cols)} FROM parsed ORDER BY row_no LIMIT {PREVIEW_ROWS}"
    ).fetchall():
        values = {f: row[i + 1] for i, f in enumerate(mapped)}
        if values.get("id_number"):
            values["id_number"] = mask_id_number(idcard.normalise(values["id_number"]))
        out.append({"row": row[0]} | values)
    return out


def _key_table(con, name: str, pairs: list[tuple]) -> None:
    con.register(
        f"{name}_src",
        pa.table(
            {
                n: pa.array([p[i] for p in pairs], pa.string() if n != "valid" else pa.bool_())
                for i, n in enumerate(_KEY_COLUMNS[name])
            }
        ),
    )
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_src")
    con.unregister(f"{name}_src")


_KEY_COLUMNS = {
    "party_keys": ("raw", "key"),
    "item_keys": ("raw", "key"),
    "id_keys": ("raw", "hash", "masked", "valid"),
}


def _write(con, det, mapped, *, import_id: int, file_id: int, sheet: str, out_path: Path) -> None:
    """Normalise the parsed rows into the store's columns and write them as one Parquet file."""
    party_fields = [f for f in store.PARTY_COLUMNS if f in mapped]
    names = set()
    for f in party_fields:
        names.update(
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT t_{f} FROM parsed WHERE t_{f} IS NOT NULL"
            ).fetchall()
        )
    _key_table(con, "party_keys", [(n, normalise_party(n)) for n in names])
    items = set()
    if "item" in mapped:
        items = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT t_item FROM parsed WHERE t_item IS NOT NULL"
            ).fetchall()
        }
    _key_table(con, "item_keys", [(n, item_key(n)) for n in items])
    ids = []
    if "id_number" in mapped:
        for (raw,) in con.execute(
            "SELECT DISTINCT t_id_number FROM parsed WHERE t_id_number IS NOT NULL"
        ).fetchall():
            norm = idcard.normalise(raw)
            ids.append((raw, keyed_hash(norm), mask_id_number(norm), idcard.is_valid(norm)))
    _key_table(con, "id_keys", ids)

    parsed_cols = _parsed_columns(con)

    def v(f: str, typ: str) -> str:
        if f not in mapped:
            return f"CAST(NULL AS {typ})"
        return f"CAST(p.v_{f} AS {typ})" if f"v_{f}" in parsed_cols else f"CAST(p.t_{f} AS {typ})"

    exprs: dict[str, str] = {}
    for name, typ in store.ENTRY_COLUMNS:
        exprs[name] = v(name, typ)
    exprs["row_id"] = f"CAST({int(import_id)} AS BIGINT) * 4294967296 + p.row_no"
    exprs["import_id"] = str(int(import_id))
    exprs["file_id"] = str(int(file_id))
    exprs["sheet"] = "'" + sheet.replace("'", "''") + "'"
    exprs["row_no"] = "p.row_no"
    exprs["kind"] = f"'{det.kind}'"
    step = schema.KIND_STEP.get(det.kind, det.kind)
    exprs["step"] = f"'{step}'"
    if det.kind == "stock":
        if "direction" in mapped:
            dir_case = "WHEN p.t_direction LIKE '%出%' THEN 'issued' WHEN p.t_direction LIKE '%入%' THEN 'stored' "
        else:
            dir_case = ""
        out_case = (
            "WHEN p.v_qty_out IS NOT NULL AND p.v_qty_out > 0 THEN 'issued' "
            if "qty_out" in mapped
            else ""
        )
        exprs["step"] = f"CASE {dir_case}{out_case}ELSE 'stored' END"
        qty = [f"p.v_{f}" for f in ("quantity", "qty_in", "qty_out") if f in mapped]
        qty = [f"nullif({q}, 0)" for q in qty] + qty
        exprs["quantity"] = f"CAST(coalesce({', '.join(qty)}) AS DECIMAL(18,3))"
        days = [f"p.v_{f}" for f in ("day", "day_in", "day_out") if f in mapped]
        if "day_out" in mapped and "qty_out" in mapped and "day_in" in mapped:
            days = ["CASE WHEN p.v_qty_out > 0 THEN p.v_day_out ELSE p.v_day_in END"] + days
        exprs["day"] = f"coalesce({', '.join(days)})" if days else "CAST(NULL AS DATE)"
    if det.kind == "bank":
        parts = [f"nullif(p.v_{f}, 0)" for f in ("amount_in", "amount_out") if f in mapped]
        exprs["amount"] = f"coalesce({', '.join(parts)}, 0)"
        exprs["step"] = (
            "CASE WHEN coalesce(p.v_amount_in, 0) > 0 THEN 'received' ELSE 'paid' END"
            if "amount_in" in mapped
            else "'paid'"
        )
    if det.kind in REF_FROM_DOC and "doc_no" in mapped:
        exprs["ref"] = "coalesce(p.t_ref, p.t_doc_no)" if "ref" in mapped else "p.t_doc_no"
    if "uom" not in mapped:
        suffix = [_uom_suffix(f) for f in ("quantity", "qty_in", "qty_out") if f in mapped]
        suffix = [s.replace("t_", "p.t_", 1) for s in suffix]
        if suffix:
            exprs["uom"] = f"coalesce({', '.join(suffix)})"
    joins = []
    for f in party_fields:
        joins.append(f"LEFT JOIN party_keys k_{f} ON k_{f}.raw = p.t_{f}")
        exprs[f"{f}_key"] = f"k_{f}.key"
    if "item" in mapped:
        joins.append("LEFT JOIN item_keys k_item ON k_item.raw = p.t_item")
        exprs["item_key"] = "k_item.key"
    if "id_number" in mapped:
        joins.append("LEFT JOIN id_keys k_id ON k_id.raw = p.t_id_number")
        exprs["id_hash"] = "k_id.hash"
        exprs["id_masked"] = "k_id.masked"
        exprs["id_valid"] = "k_id.valid"
    select = ", ".join(f"{exprs[n]} AS {n}" for n, _t in store.ENTRY_COLUMNS)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    target = str(tmp).replace("'", "''")
    con.execute(
        f"COPY (SELECT {select} FROM parsed p {' '.join(joins)} ORDER BY p.row_no) "
        f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
    )
    tmp.replace(out_path)


def _parsed_columns(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE parsed)").fetchall()}

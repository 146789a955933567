"""Roster files (名册): read .xlsx/.xls/.csv, recognise the sheets, validate every row, plan the import.

Reading and row checks are pure functions of the file bytes. Validation then compares the rows with
a snapshot of the database loaded in a fixed number of bulk queries (`Snapshot`), so a file of any
length costs the same handful of queries. Nothing here writes: services.roster_import_apply carries
out the `Plan`, and build_export / build_template produce workbooks in the same layout.
"""

import base64
import csv
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import cache
from typing import Any

import python_calamine
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from fangkong.lib import crypto, idcard, text
from fangkong.lib.masking import mask_id_number, mask_mobile
from fangkong.lib.mobile import normalise_mobile
from fangkong.lib.spreadsheet_out import Workbook, restore
from fangkong.org import selectors
from fangkong.org.models import (
    ERR_UNIT_CODE,
    UNIT_CODE_PATTERN,
    FamilyMember,
    Gender,
    OrgUnit,
    Person,
    PoliticalStatus,
    Rank,
    Relation,
    UnitLevel,
    ancestor_ids,
    subtree_bounds,
)

# --- Messages. The msgids are the Chinese texts; tests compare against these constants. ---

LOCATION = N_("{sheet} 第{row}行「{column}」：{message}")
ERR_TOO_LARGE = N_("文件超过 {limit} MB，请拆分成几个文件分批上传。")
ERR_EMPTY = N_("文件是空的，请选择填好的名册文件。")
ERR_GARBAGE = N_(
    "无法读取该文件：它不是 Excel（.xlsx/.xls）或 CSV 名册，请用本页提供的模板整理后重新上传。"
)
ERR_ENCODING = N_(
    "无法识别文件编码：请在 Excel 中“另存为”CSV UTF-8（逗号分隔）或 Excel 工作簿（.xlsx）后重新上传。"
)
ERR_NO_HEADERS = N_(
    "没有找到名册表头：第一行应为列名，如“单位编码、单位名称”或“姓名、单位、身份证号”，请对照模板修改。"
)
ERR_TOO_MANY_ROWS = N_("文件超过 {limit} 行，请拆分成几个文件分批上传。")
ERR_TOO_WIDE = N_("表格超过 {limit} 列，请删除多余的列后重新上传。")
ERR_MISSING_COLUMN = N_("缺少必填列「{column}」，请对照模板补上这一列。")
ERR_DUPLICATE_COLUMN = N_("这一列出现了两次，请删除重复的列。")
ERR_REQUIRED = N_("不能为空，请填写。")
ERR_TOO_LONG = N_("内容过长，最多 {limit} 个字，请精简。")
ERR_DATE = N_("日期无法识别，请写成 2020-01-23 或 2020年1月23日。")
ERR_DATE_ORDER = N_("撤销日期必须晚于启用日期，请核对。")
ERR_MOBILE = N_("手机号码应为以 1 开头的 11 位数字，请核对。")
ERR_MOBILE_MASKED = N_("手机号码含 *，只能原样保留系统中已有的号码；新号码请填写完整的 11 位数字。")
ERR_ID_CHECK = N_("校验位不正确，请核对。")
ERR_ID_FORMAT = N_("身份证号应为 18 位（最后一位可以是 X），其中的出生日期须真实，请核对。")
ERR_ID_NUMBER_CELL = N_(
    "身份证号被 Excel 存成了数字，后几位已经丢失：请把该列设为“文本”格式后重新填写。"
)
ERR_ID_DUPLICATE_IN_FILE = N_("与第 {row} 行的身份证号重复，同一人只能填写一行。")
ERR_PERSON_DUPLICATE_IN_FILE = N_("与第 {row} 行是同一个人，同一人只能填写一行。")
ERR_STAFF_NUMBER_DUPLICATE_IN_FILE = N_("与第 {row} 行的工号重复，工号不能两人共用。")
ERR_STAFF_NUMBER_TAKEN = N_("该工号已登记在其他人员名下，请核对。")
ERR_ID_TAKEN = N_("该身份证号已登记在其他人员名下，请核对；如属人员调动，请联系上级单位办理。")
ERR_ID_REQUIRED = N_("新增人员必须填写完整的身份证号。")
ERR_ID_MASKED_UNKNOWN = N_(
    "身份证号含 *（已脱敏），只能用于更新该单位已有的同名人员；新增或调动人员请填写完整身份证号。"
)
ERR_ID_MASKED_MISMATCH = N_("脱敏身份证号与系统中该人员的不一致，请填写完整身份证号。")
ERR_NAME_AMBIGUOUS = N_("该单位有多名同名人员，无法确定是哪一位，请填写完整身份证号。")
ERR_UNIT_UNKNOWN = N_("找不到该单位，请填写您管理范围内的单位编码或准确的单位名称。")
ERR_PARENT_UNKNOWN = N_("找不到上级单位，请填写您管理范围内的单位编码或准确的单位名称。")
ERR_UNIT_NAME_AMBIGUOUS = N_("有多个单位叫这个名称，请改填单位编码。")
ERR_UNIT_OUT_OF_SCOPE = N_("该单位编码不在您的管理范围内，无法新增或修改，请核对编码。")
ERR_UNIT_CODE_DUPLICATE_IN_FILE = N_("与第 {row} 行的单位编码重复，每个单位只能填写一行。")
ERR_ROOT_NOT_ALLOWED = N_("请填写上级单位：只有系统管理员可以新增顶级单位。")
ERR_UNIT_NAME_REQUIRED = N_("新增单位必须填写单位名称。")
ERR_LEVEL_REQUIRED = N_("新增单位必须填写层级，可选：{choices}。")
ERR_LEVEL_UNKNOWN = N_("未知的层级，请填写以下之一：{choices}。")
ERR_RANK_UNKNOWN = N_("未知的职级，请填写以下之一：{choices}。")
ERR_CYCLE = N_("上级单位形成了循环（{chain}），请核对上级单位。")
ERR_CHOICE = N_("无法识别“{value}”，请填写以下之一：{choices}。")
ERR_YES_NO = N_("请填写“是”或“否”。")
ERR_TWO_RESPONSIBLES = N_("一个单位只能有一名第一责任人，第 {row} 行已经指定了。")
ERR_BIRTH_YEAR = N_("出生年份应为 1900 年至今年之间的四位数字，例如 1990。")
ERR_FAMILY_PERSON_UNKNOWN = N_("找不到这名职工，请核对职工身份证号，或先在「人员」表中登记该职工。")
ERR_FAMILY_PERSON_KEY = N_(
    "职工身份证号为空或已脱敏：请填写完整身份证号，或同时填写「职工姓名」和「单位」两列。"
)
ERR_FAMILY_DUPLICATE = N_("与第 {row} 行是同一名家庭成员，请只保留一行。")
ERR_NO_ROWS = N_("文件中只有表头，没有数据行，请填写后重新上传。")
ERR_UPLOAD_UNREADABLE = N_("保存的上传文件已无法读取（可能系统密钥已更换），请重新上传。")
ERR_APPLY_FAILED = N_("导入时数据已被他人修改（{detail}），本次没有导入任何数据，请重新上传。")

# --- Limits. ---

MAX_ROWS = 50_000
MAX_COLUMNS = 200
MAX_ERRORS = 200
# A zip bomb disguised as .xlsx is refused before calamine inflates it.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
HEADER_SCAN_ROWS = 10
_CHUNK = 900  # stays under SQLite's historical limit of 999 bound parameters

# --- Sheets and columns. ---

UNITS, PEOPLE, FAMILY = "units", "people", "family"
KINDS = (UNITS, PEOPLE, FAMILY)
SHEET_NAMES = {UNITS: "单位", PEOPLE: "人员", FAMILY: "家庭成员"}


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    synonyms: tuple[str, ...] = ()
    required: bool = False  # the column must be present


COLUMNS: dict[str, tuple[Column, ...]] = {
    UNITS: (
        Column("code", "单位编码", ("编码", "单位代码"), True),
        Column("name", "单位名称", ("名称",), True),
        Column("short_name", "简称", ("单位简称",)),
        Column("parent", "上级单位", ("上级单位编码", "上级单位名称", "上级")),
        Column("level", "层级", ("单位层级",)),
        Column("opened_on", "启用日期", ("成立日期",)),
        Column("closed_on", "撤销日期", ()),
    ),
    PEOPLE: (
        Column("name", "姓名", (), True),
        Column("unit", "单位", ("所在单位", "工作单位", "部门"), True),
        Column("post", "职务", ()),
        Column("rank", "职级", ()),
        Column("mobile", "手机号码", ("手机", "手机号", "联系电话", "电话")),
        Column("id_number", "身份证号", ("身份证号码", "证件号码", "身份证"), True),
        Column("gender", "性别", ()),
        Column("political_status", "政治面貌", ()),
        Column("active_from", "入职日期", ("入职时间",)),
        Column("left_on", "离职日期", ("离职时间",)),
        Column("is_first_responsible", "是否第一责任人", ("第一责任人",)),
        Column("is_liaison", "是否联络员", ("联络员",)),
        Column("staff_number", "工号", ("职工编号", "人员编号")),
    ),
    FAMILY: (
        Column("person_id_number", "职工身份证号", ("职工身份证号码", "职工证件号码"), True),
        Column("person_name", "职工姓名", ()),
        Column("person_unit", "单位", ("所在单位", "职工单位")),
        Column("name", "姓名", ("家庭成员姓名",), True),
        Column("relation", "关系", ("与职工关系", "称谓"), True),
        Column("lives_with", "是否同住", ("同住",)),
        Column("birth_year", "出生年份", ("出生年",)),
    ),
}
HEADERS = {kind: {c.field: c.header for c in cols} for kind, cols in COLUMNS.items()}
# Values that must be filled on every row (others may stay blank: blank means "keep as is").
ALWAYS_REQUIRED = {UNITS: ("code",), PEOPLE: ("name", "unit"), FAMILY: ("name", "relation")}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == dtime() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    for junk in ("\ufeff", "\u200b", "\xa0", "\u3000"):
        text = text.replace(junk, " ")
    # '=… in our own export is =… neutralised against formula injection (lib/spreadsheet_out).
    return restore(text.strip())


def _norm_header(value: Any) -> str:
    """单位编码（必填）* → 单位编码: drop notes in brackets, stars, colons and spaces."""
    text = _text(value)
    text = re.sub(r"[（(][^）)]*[）)]\s*$", "", text)
    return re.sub(r"[\s*＊:：]", "", text)


_HEADER_LOOKUP = {
    kind: {_norm_header(name): c.field for c in cols for name in (c.header, *c.synonyms)}
    for kind, cols in COLUMNS.items()
}

# --- Problems. ---


@dataclass
class Problem:
    """One thing to fix, located the way the user sees the file."""

    sheet: str
    row: int | None
    column: str
    msgid: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return gettext(self.msgid).format(**self.params)

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return gettext(LOCATION).format(
            sheet=self.sheet, row=self.row, column=self.column, message=self.message
        )

    def as_json(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "msgid": self.msgid,
            "params": self.params,
        }


def problem_from_json(data: dict) -> Problem:
    return Problem(data["sheet"], data["row"], data["column"], data["msgid"], data["params"])


class RosterFileError(Exception):
    """The file as a whole cannot be read."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid)
        self.problem = Problem("", None, "", msgid, params)


class _Bad(Exception):
    """A cell value is wrong; carries the message id and its parameters."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid)
        self.msgid, self.params = msgid, params


class Masked(str):
    """An identifier exported with stars (420***********1234); it can only mean "unchanged"."""


# --- Reading files. ---


@dataclass
class Sheet:
    name: str
    rows: list[list]  # rows[0] is the first row as Excel numbers it (row 1)


_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def seal(data: bytes) -> bytes:
    """Encrypt file bytes for storage: a roster holds ID numbers in clear."""
    return crypto.encrypt(base64.b64encode(data).decode("ascii")).encode("ascii")


def unseal(token: bytes | memoryview) -> bytes:
    try:
        return base64.b64decode(crypto.decrypt(bytes(token).decode("ascii")))
    except (InvalidToken, ValueError) as exc:
        raise RosterFileError(ERR_UPLOAD_UNREADABLE) from exc


def max_megabytes() -> int:
    return max(1, settings.ROSTER_MAX_BYTES // (1024 * 1024))


def read_sheets(data: bytes) -> list[Sheet]:
    """Decode a workbook or CSV by its content (not its name); raise RosterFileError if unreadable."""
    if len(data) > settings.ROSTER_MAX_BYTES:
        raise RosterFileError(ERR_TOO_LARGE, limit=max_megabytes())
    if not data.strip():
        raise RosterFileError(ERR_EMPTY)
    if data[:4] == b"PK\x03\x04":
        _check_zip(data)
        return _read_workbook(data)
    if data[:8] == _OLE_MAGIC:
        return _read_workbook(data)
    return [Sheet("", _read_csv(data))]


def _check_zip(data: bytes) -> None:
    """Refuse zips that are not spreadsheets, or that would inflate beyond MAX_UNPACKED_BYTES."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
                raise RosterFileError(ERR_TOO_LARGE, limit=max_megabytes())
            names = {i.filename for i in infos}
            # An OpenDocument spreadsheet (.ods) names itself in a small "mimetype" entry.
            is_ods = "mimetype" in names and b"spreadsheet" in zf.read("mimetype")[:100]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError) as exc:
        raise RosterFileError(ERR_GARBAGE) from exc
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names and not is_ods:
        raise RosterFileError(ERR_GARBAGE)


def _read_workbook(data: bytes) -> list[Sheet]:
    sheets: list[Sheet] = []
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        for meta in book.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            sheet = book.get_sheet_by_name(meta.name)
            end = sheet.end
            if end is None:
                continue
            if end[0] > MAX_ROWS + HEADER_SCAN_ROWS:
                raise RosterFileError(ERR_TOO_MANY_ROWS, limit=MAX_ROWS)
            if end[1] >= MAX_COLUMNS:
                raise RosterFileError(ERR_TOO_WIDE, limit=MAX_COLUMNS)
            sheets.append(Sheet(meta.name, sheet.to_python(skip_empty_area=False)))
    except RosterFileError:
        raise
    except Exception as exc:
        # calamine raises its own errors for damaged files; any of them means "not a roster".
        raise RosterFileError(ERR_GARBAGE) from exc
    except BaseException as exc:
        # A Rust panic inside calamine surfaces as pyo3's PanicException (a BaseException).
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise RosterFileError(ERR_GARBAGE) from exc
    return sheets


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 LE or BE (with or without BOM), else GB18030.

    Excel's "Unicode text" (Unicode 文本) is UTF-16 LE with a BOM and tabs; other tools write
    UTF-16 without a BOM, recognised by its zero bytes all falling on one side of each pair
    (a roster is full of digits and separators, whose high byte is zero).
    """
    guessed = False
    if data[:3] == b"\xef\xbb\xbf":
        candidates = ["utf-8-sig"]
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        candidates = ["utf-16"]
    else:
        head = data[:65536]
        even, odd = head[0::2].count(0), head[1::2].count(0)
        # A CJK character such as 一 (U+4E00) holds a zero byte on the other side too: rarely.
        if len(data) % 2 == 0 and max(even, odd) >= 8 and min(even, odd) * 8 <= max(even, odd):
            candidates, guessed = ["utf-16-le" if odd > even else "utf-16-be"], True
        elif b"\x00" in data:
            # Binary files nearly always hold NUL bytes; no text encoding used for rosters does.
            raise RosterFileError(ERR_GARBAGE)
        else:
            candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # A guess of UTF-16 must give text: control characters besides tabs and line breaks
        # mean a binary file whose zero bytes happened to fall on one side.
        if "\x00" in text or (guessed and re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f]", text)):
            raise RosterFileError(ERR_GARBAGE)
        return text
    raise RosterFileError(ERR_GARBAGE if guessed else ERR_ENCODING)


def _read_csv(data: bytes) -> list[list]:
    text = decode_text(data)
    # Judged on the first lines, not the first alone: a title line above the header has none.
    lines = [line for line in text[:65536].splitlines() if line.strip()]
    sample = "\n".join(lines[:HEADER_SCAN_ROWS])
    delimiter = max([",", "\t", ";"], key=sample.count)
    rows: list[list] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(record)
            if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS:
                raise RosterFileError(ERR_TOO_MANY_ROWS, limit=MAX_ROWS)
            if len(record) > MAX_COLUMNS:
                raise RosterFileError(ERR_TOO_WIDE, limit=MAX_COLUMNS)
    except csv.Error as exc:
        raise RosterFileError(ERR_GARBAGE) from exc
    return rows


# --- Recognising tables. ---


@dataclass
class Table:
    kind: str
    sheet: str  # the name shown in messages
    header_row: int  # as Excel numbers it
    columns: dict[str, int]  # field → column index
    headers: dict[str, str]  # field → header text as written in the file
    rows: list[tuple[int, list]]  # (row number, cells)


def _guess_kind(fields: dict[str, set[str]]) -> str | None:
    if "person_id_number" in fields[FAMILY] or {"relation", "name"} <= fields[FAMILY]:
        return FAMILY
    if "name" in fields[PEOPLE] and fields[PEOPLE] & {"id_number", "unit"}:
        return PEOPLE
    if fields[UNITS] & {"code", "parent", "level"}:
        return UNITS
    return None


def _kind_from_sheet_name(name: str) -> str | None:
    name = _norm_header(name)
    for kind in (FAMILY, PEOPLE, UNITS):  # 家庭成员 before 人员, both before 单位
        if SHEET_NAMES[kind] in name:
            return kind
    return None


def _header_fields(cells: list) -> dict[str, set[str]]:
    found = {kind: set() for kind in KINDS}
    for cell in cells:
        key = _norm_header(cell)
        for kind in KINDS:
            if key in _HEADER_LOOKUP[kind]:
                found[kind].add(_HEADER_LOOKUP[kind][key])
    return found


def find_tables(sheets: list[Sheet], problems: "Problems") -> tuple[list[Table], list[str]]:
    """Recognise each sheet by its header row (or, failing that, its name); return tables and skipped sheet names."""
    tables: list[Table] = []
    skipped: list[str] = []
    for sheet in sheets:
        kind, header_index = None, None
        for i, cells in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
            kind = _guess_kind(_header_fields(cells))
            if kind:
                header_index = i
                break
        if kind is None:
            kind = _kind_from_sheet_name(sheet.name)
            header_index = next(
                (i for i, cells in enumerate(sheet.rows) if any(_text(c) for c in cells)), None
            )
            if kind is None or header_index is None:
                if any(any(_text(c) for c in cells) for cells in sheet.rows[:HEADER_SCAN_ROWS]):
                    skipped.append(sheet.name)
                continue
        name = sheet.name or SHEET_NAMES[kind]
        columns: dict[str, int] = {}
        headers: dict[str, str] = {}
        for idx, cell in enumerate(sheet.rows[header_index]):
            f = _HEADER_LOOKUP[kind].get(_norm_header(cell))
            if f is None:
                continue
            if f in columns:
                problems.add(name, header_index + 1, _text(cell), ERR_DUPLICATE_COLUMN)
                continue
            columns[f], headers[f] = idx, _text(cell)
        for col in COLUMNS[kind]:
            if col.required and col.field not in columns:
                problems.add(
                    name, header_index + 1, col.header, ERR_MISSING_COLUMN, {"column": col.header}
                )
        rows = [
            (i + 1, cells)
            for i, cells in enumerate(sheet.rows[header_index + 1 :], start=header_index + 1)
            if any(_text(c) for c in cells)
        ]
        tables.append(Table(kind, name, header_index + 1, columns, headers, rows))
    return tables, skipped


# --- Cell values. ---


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(value: Any) -> date | None:
    """2020-01-23, 2020/1/23, 2020.1.23, 2020年1月23日, 20200123, or an Excel date cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if _is_number(value):
        if value != int(value):
            raise _Bad(ERR_DATE)
        n = int(value)
        if 19000101 <= n <= 21001231:
            value = str(n)
        elif 1 <= n <= 73050:  # an Excel serial day number without date formatting
            return _EXCEL_EPOCH + timedelta(days=n)
        else:
            raise _Bad(ERR_DATE)
    text = _text(value)
    if not text:
        return None
    m = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if m:
        try:
            day = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            day = None
        if day and 1900 <= day.year <= 2100:
            return day
    raise _Bad(ERR_DATE)


def _limited(limit: int):
    def parse(value: Any) -> str | None:
        text = _text(value)
        if len(text) > limit:
            raise _Bad(ERR_TOO_LONG, limit=limit)
        return text or None

    return parse


def parse_mobile(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    if "*" in text:
        return Masked(text)
    digits = normalise_mobile(text)
    if digits is None:
        raise _Bad(ERR_MOBILE)
    return digits


_ID_RE = re.compile(r"^\d{17}[\dX]$")
_SCIENTIFIC_RE = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


def parse_id_number(value: Any) -> str | None:
    if _is_number(value):
        raise _Bad(ERR_ID_NUMBER_CELL)
    text = _text(value)
    if not text:
        return None
    if "*" in text or "＊" in text:
        return Masked(idcard.normalise(text.replace("＊", "*")))
    if _SCIENTIFIC_RE.match(text):
        raise _Bad(ERR_ID_NUMBER_CELL)
    number = idcard.normalise(text)
    if idcard.is_valid(number):
        return number
    if _ID_RE.match(number) and idcard.is_valid(number[:17] + idcard.check_digit(number[:17])):
        raise _Bad(ERR_ID_CHECK)
    raise _Bad(ERR_ID_FORMAT)


def _zh(label) -> str:
    """The Chinese text of a choice label, whatever the UI language (the file is always Chinese)."""
    with translation.override("zh-hans"):
        return str(label)


# Words officials write besides the labels themselves.
SYNONYMS: dict[str, dict[str, str]] = {
    "gender": {"男性": "M", "女性": "F", "MALE": "M", "FEMALE": "F"},
    "political_status": {
        "党员": "cpc",
        "预备党员": "cpc_probationary",
        "团员": "league",
        "民主党派成员": "other_party",
    },
    "relation": {
        **dict.fromkeys(["妻子", "丈夫", "爱人", "夫", "妻"], "spouse"),
        **dict.fromkeys(["儿子", "女儿", "子", "女"], "child"),
        **dict.fromkeys(["父", "爸爸"], "father"),
        **dict.fromkeys(["母", "妈妈"], "mother"),
        **dict.fromkeys(["岳父", "岳母", "公公", "婆婆", "岳父母", "公婆"], "parent_in_law"),
        **dict.fromkeys(
            ["祖父", "祖母", "外祖父", "外祖母", "爷爷", "奶奶", "外公", "外婆"], "grandparent"
        ),
        **dict.fromkeys(
            ["兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹", "兄弟", "姐妹"], "sibling"
        ),
        **dict.fromkeys(["同住人", "非亲属"], "co_resident"),
    },
}
CHOICES = {"gender": Gender, "political_status": PoliticalStatus, "relation": Relation}
_YES = {"是", "Y", "YES", "1", "TRUE", "√", "✓"}
_NO = {"否", "N", "NO", "0", "FALSE", "×", "✗"}


@cache
def choice_map(f: str) -> dict[str, str]:
    """Label, code or synonym → stored value; built on first use, when translations are ready."""
    mapping = {}
    for value, label in CHOICES[f].choices:
        mapping[value.upper()] = value
        mapping[_zh(label)] = value
    return mapping | SYNONYMS[f]


def _choice(f: str):
    def parse(value: Any) -> str | None:
        text = _text(value)
        if not text:
            return None
        found = choice_map(f).get(text) or choice_map(f).get(text.upper())
        if found is None:
            labels = "、".join(_zh(label) for _, label in CHOICES[f].choices)
            raise _Bad(ERR_CHOICE, value=text[:30], choices=labels)
        return found

    return parse


def parse_yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value).upper()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise _Bad(ERR_YES_NO)


def parse_birth_year(value: Any) -> int | None:
    if isinstance(value, date):
        year = value.year
    else:
        text = _text(value).removesuffix("年")
        if not text:
            return None
        if not text.isdigit():
            raise _Bad(ERR_BIRTH_YEAR)
        year = int(text)
    if not 1900 <= year <= timezone.localdate().year:
        raise _Bad(ERR_BIRTH_YEAR)
    return year


def parse_unit_code(value: Any) -> str | None:
    """A unit code in the safe set of org.models.UNIT_CODE_PATTERN (codes are in addresses)."""
    code = _limited(40)(value)
    if code is not None and not re.match(UNIT_CODE_PATTERN, code):
        raise _Bad(ERR_UNIT_CODE)
    return code


PARSERS = {
    UNITS: {
        "code": parse_unit_code,
        "name": _limited(100),
        "short_name": _limited(40),
        "parent": _limited(100),
        "level": _limited(30),
        "opened_on": parse_date,
        "closed_on": parse_date,
    },
    PEOPLE: {
        "name": _limited(50),
        "unit": _limited(100),
        "post": _limited(60),
        "rank": _limited(30),
        "mobile": parse_mobile,
        "staff_number": _limited(30),
        "id_number": parse_id_number,
        "gender": _choice("gender"),
        "political_status": _choice("political_status"),
        "active_from": parse_date,
        "left_on": parse_date,
        "is_first_responsible": parse_yes_no,
        "is_liaison": parse_yes_no,
    },
    FAMILY: {
        "person_id_number": parse_id_number,
        "person_name": _limited(50),
        "person_unit": _limited(100),
        "name": _limited(50),
        "relation": _choice("relation"),
        "lives_with": parse_yes_no,
        "birth_year": parse_birth_year,
    },
}


# --- Rows. ---


class Problems:
    """Collects every problem; the summary keeps the first MAX_ERRORS and the total count."""

    def __init__(self):
        self.items: list[Problem] = []

    def add(
        self, sheet: str, row: int | None, column: str, msgid: str, params: dict | None = None
    ) -> None:
        self.items.append(Problem(sheet, row, column, msgid, params or {}))

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass
class Row:
    """One data row: only non-blank cells appear in `values` (blank means "keep as is")."""

    table: Table
    row: int
    values: dict[str, Any]
    ok: bool = True
    failed: set[str] = field(default_factory=set)  # fields whose cell could not be read
    # Filled in by validation:
    unit_code: str | None = None
    id_hash: str | None = None
    key: "PersonKey | None" = None
    existing: Any = None
    level: UnitLevel | None = None

    def header(self, f: str) -> str:
        return self.table.headers.get(f) or HEADERS[self.table.kind][f]

    def bad(self, problems: Problems, f: str, msgid: str, **params) -> None:
        problems.add(self.table.sheet, self.row, self.header(f), msgid, params)
        self.ok = False


def parse_rows(table: Table, problems: Problems) -> list[Row]:
    """Convert and check each cell; the rows come back even when some cells are wrong."""
    parsers = PARSERS[table.kind]
    result = []
    for number, cells in table.rows:
        row = Row(table, number, {})
        for f, idx in table.columns.items():
            raw = cells[idx] if idx < len(cells) else None
            # The rule every text input obeys (lib/text.py): no bidi or control characters (a
            # spreadsheet cell may hold tabs and line breaks, as a multi-line field may).
            refused = text.refusal(_text(raw), multiline=True) if isinstance(raw, str) else None
            try:
                if refused:
                    raise _Bad(refused)
                value = parsers[f](raw)
            except _Bad as bad:
                row.bad(problems, f, bad.msgid, **bad.params)
                row.failed.add(f)
                continue
            if value is not None:
                row.values[f] = value
        for f in ALWAYS_REQUIRED[table.kind]:
            if f in table.columns and f not in row.values and f not in row.failed:
                row.bad(problems, f, ERR_REQUIRED)
        result.append(row)
    return result


# --- The database snapshot. ---


def _chunks(items: Iterable, size: int = _CHUNK):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _lookup_key(text: str) -> str:
    return text.strip().lower()


class Snapshot:
    """What validation needs from the database, loaded in bulk (a fixed number of queries)."""

    def __init__(self, user):
        self.user = user
        levels, ranks = list(UnitLevel.objects.all()), list(Rank.objects.all())
        self.levels: dict[str, UnitLevel] = {}
        for level in levels:
            self.levels.setdefault(_lookup_key(level.name), level)
            self.levels.setdefault(_lookup_key(level.code), level)
        self.level_names = "、".join(lv.name for lv in levels)
        self.ranks: dict[str, Rank] = {}
        for rank in ranks:
            self.ranks.setdefault(_lookup_key(rank.name), rank)
            self.ranks.setdefault(_lookup_key(rank.code), rank)
        self.rank_names = "、".join(r.name for r in ranks)
        self.by_code: dict[str, OrgUnit] = {}
        self.by_id: dict[int, OrgUnit] = {}
        self.scope_by_name: dict[str, list[OrgUnit]] = defaultdict(list)
        self.people_by_hash: dict[str, Person] = {}
        self.people_by_unit_name: dict[tuple[str, str], list[Person]] = defaultdict(list)
        self.family_names: dict[int, set[str]] = defaultdict(set)
        self.first_responsible: dict[int, int | None] = {}  # unit id → person id
        self.liaisons: dict[int, set[int]] = defaultdict(set)  # unit id → person ids
        self.roles_of: dict[int, set[int]] = defaultdict(set)  # person id → unit ids
        self.holder_unit: dict[int, int] = {}  # person id → unit id, for role holders

    def can(self, unit: OrgUnit) -> bool:
        return selectors.can(self.user, selectors.CAP_ROSTER_MANAGE, unit)

    def may_create_roots(self) -> bool:
        return selectors.has_global(self.user, selectors.CAP_ROSTER_MANAGE)

    def parent_code(self, unit: OrgUnit) -> str | None:
        parent = self.by_id.get(unit.parent_id) if unit.parent_id else None
        return parent.code if parent else None

    def _add_units(self, units: Iterable[OrgUnit]) -> None:
        units = [u for u in units if u.pk not in self.by_id]
        for u in units:
            self.by_code[u.code] = u
            self.by_id[u.pk] = u
        missing = {a for u in units for a in ancestor_ids(u.path)} - self.by_id.keys()
        for chunk in _chunks(missing):
            for u in OrgUnit.objects.filter(pk__in=chunk):
                self.by_code[u.code] = u
                self.by_id[u.pk] = u

    def load_units(self, refs: set[str]) -> None:
        """Units named by code anywhere, and units in scope named by their exact name."""
        for chunk in _chunks(refs):
            self._add_units(OrgUnit.objects.filter(code__in=chunk))
        scoped = selectors.units_for(self.user, selectors.CAP_ROSTER_MANAGE)
        for chunk in _chunks(refs):
            found = list(scoped.filter(name__in=chunk))
            self._add_units(found)
            for u in found:
                self.scope_by_name[u.name].append(self.by_id[u.pk])

    def load_people(self, hashes: set[str], unit_names: set[tuple[str, str]]) -> None:
        for chunk in _chunks(hashes):
            for p in Person.objects.filter(id_number_hash__in=chunk).select_related("unit"):
                self.people_by_hash[p.id_number_hash] = p
        codes = {c for c, _ in unit_names if c in self.by_code}
        names = {n for c, n in unit_names if c in codes}
        unit_ids = [self.by_code[c].pk for c in codes]
        for ids in _chunks(unit_ids):
            for names_chunk in _chunks(names):
                qs = Person.objects.filter(unit_id__in=ids, name__in=names_chunk)
                for p in qs.select_related("unit").order_by("id"):
                    self.people_by_unit_name[(p.unit.code, p.name)].append(p)
        self._add_units(
            [p.unit for p in self.people_by_hash.values()]
            + [p.unit for ps in self.people_by_unit_name.values() for p in ps]
        )

    def load_family(self, person_ids: set[int]) -> None:
        for chunk in _chunks(person_ids):
            for pid, name in FamilyMember.objects.filter(person_id__in=chunk).values_list(
                "person_id", "name"
            ):
                self.family_names[pid].add(name)

    def load_roles(self, unit_ids: set[int], person_ids: set[int]) -> None:
        """First responsible persons and liaisons of these units, and every role these people hold."""
        through = OrgUnit.liaisons.through
        unit_ids = set(unit_ids)
        for chunk in _chunks(person_ids):
            for uid, pid in OrgUnit.objects.filter(first_responsible_id__in=chunk).values_list(
                "id", "first_responsible_id"
            ):
                self.roles_of[pid].add(uid)
                unit_ids.add(uid)
            for uid, pid in through.objects.filter(person_id__in=chunk).values_list(
                "orgunit_id", "person_id"
            ):
                self.roles_of[pid].add(uid)
                unit_ids.add(uid)
        holders: set[int] = set()
        for chunk in _chunks(unit_ids):
            for uid, pid in OrgUnit.objects.filter(pk__in=chunk).values_list(
                "id", "first_responsible_id"
            ):
                self.first_responsible[uid] = pid
                if pid:
                    holders.add(pid)
            for uid, pid in through.objects.filter(orgunit_id__in=chunk).values_list(
                "orgunit_id", "person_id"
            ):
                self.liaisons[uid].add(pid)
                holders.add(pid)
        missing_units = set(unit_ids)
        for chunk in _chunks(holders):
            for pid, uid in Person.objects.filter(pk__in=chunk).values_list("id", "unit_id"):
                self.holder_unit[pid] = uid
                missing_units.add(uid)
        missing_units -= self.by_id.keys()
        for chunk in _chunks(missing_units):
            self._add_units(OrgUnit.objects.filter(pk__in=chunk))


# --- The plan. ---

PersonKey = tuple[str, int]  # ("db", person id) or ("new", index into Plan.people)


@dataclass
class UnitOp:
    code: str
    existing_id: int | None
    parent_code: str | None
    move: bool
    fields: dict  # create: every field; update: only those that change


@dataclass
class PersonOp:
    key: PersonKey
    existing_id: int | None
    unit_code: str
    move: bool
    fields: dict
    id_number: str | None = None


@dataclass
class ResponsiblesOp:
    unit_code: str
    first_responsible: PersonKey | None
    liaisons: list[PersonKey]


@dataclass
class FamilyOp:
    person: PersonKey
    name: str
    relation: str
    lives_with: bool
    birth_year: int | None


@dataclass
class Plan:
    units: list[UnitOp] = field(default_factory=list)
    people: list[PersonOp] = field(default_factory=list)
    responsibles: list[ResponsiblesOp] = field(default_factory=list)
    family: list[FamilyOp] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


COUNT_KEYS = (
    "units_new",
    "units_updated",
    "units_unchanged",
    "people_new",
    "people_updated",
    "people_unchanged",
    "family_new",
    "family_unchanged",
    "responsibles_updated",
)


# --- Validation. ---


def _no_marks() -> dict[str, Any]:
    return {"fr_yes": None, "fr_no": set(), "li_yes": [], "li_no": set()}


class _Validator:
    """Checks parsed rows against the snapshot and builds the plan; every problem is recorded."""

    def __init__(self, user, tables: list[Table], problems: Problems):
        self.user = user
        self.problems = problems
        self.rows: dict[str, list[Row]] = {kind: [] for kind in KINDS}
        for table in tables:
            self.rows[table.kind].extend(parse_rows(table, problems))
        self.plan = Plan(counts=dict.fromkeys(COUNT_KEYS, 0))
        self.file_units: dict[str, Row] = {}
        self.final_parent: dict[str, str | None] = {}
        self.person_rows: dict[PersonKey, Row] = {}
        self._covered: dict[str, bool] = {}

    def run(self) -> Plan:
        self.snap = Snapshot(self.user)
        refs = {r.values[f] for r in self.rows[UNITS] for f in ("code", "parent") if f in r.values}
        refs |= {r.values["unit"] for r in self.rows[PEOPLE] if "unit" in r.values}
        refs |= {r.values["person_unit"] for r in self.rows[FAMILY] if "person_unit" in r.values}
        self.snap.load_units(refs)
        self.check_units()
        self.check_people()
        self.check_responsibles()
        self.check_family()
        return self.plan

    # The final tree: units in the file placed as the file says, all others as they are now.

    def parent_of(self, code: str) -> str | None:
        if code in self.final_parent:
            return self.final_parent[code]
        unit = self.snap.by_code.get(code)
        return self.snap.parent_code(unit) if unit else None

    def chain(self, code: str) -> list[str]:
        """The unit and its ancestors in the final tree, stopping before a repeat."""
        seen = [code]
        parent = self.parent_of(code)
        while parent is not None and parent not in seen:
            seen.append(parent)
            parent = self.parent_of(parent)
        return seen

    def within(self, code: str, ancestor: str) -> bool:
        return ancestor in self.chain(code)

    def covered(self, code: str) -> bool:
        """The unit will lie in the user's scope: an existing unit they hold, or a new one under one."""
        if code in self._covered:
            return self._covered[code]
        self._covered[code] = False  # a cycle of new units is never covered
        existing = self.snap.by_code.get(code)
        if existing is not None:
            result = self.snap.can(existing)
        elif code in self.file_units:
            parent = self.final_parent.get(code)
            result = self.snap.may_create_roots() if parent is None else self.covered(parent)
        else:
            result = False
        self._covered[code] = result
        return result

    def final_name(self, code: str) -> str | None:
        row = self.file_units.get(code)
        if row is not None and "name" in row.values:
            return row.values["name"]
        unit = self.snap.by_code.get(code)
        return unit.name if unit else None

    def resolve_unit(self, ref: str, current: OrgUnit | None = None) -> str | None:
        """A unit code from a code or an exact name; names match only units the user may manage."""
        if ref in self.file_units or ref in self.snap.by_code:
            return ref
        candidates = {c for c, r in self.file_units.items() if r.values.get("name") == ref}
        candidates |= {u.code for u in self.snap.scope_by_name.get(ref, ())}
        if current is not None and current.name == ref:
            candidates.add(current.code)  # the present parent, even when outside the scope
        candidates = {c for c in candidates if self.final_name(c) == ref}
        if len(candidates) > 1:
            raise _Bad(ERR_UNIT_NAME_AMBIGUOUS)
        return candidates.pop() if candidates else None

    # Units.

    def check_units(self) -> None:
        snap = self.snap
        for row in self.rows[UNITS]:
            code = row.values.get("code")
            if code is None:
                continue
            if code in self.file_units:
                first = self.file_units[code].row
                row.bad(self.problems, "code", ERR_UNIT_CODE_DUPLICATE_IN_FILE, row=first)
                continue
            self.file_units[code] = row
        # Settle every parent first, so that the later checks see the whole final tree.
        for code, row in self.file_units.items():
            existing = snap.by_code.get(code)
            self.final_parent[code] = snap.parent_code(existing) if existing else None
            if existing is not None and not snap.can(existing):
                row.bad(self.problems, "code", ERR_UNIT_OUT_OF_SCOPE)
                continue
            ref = row.values.get("parent")
            if ref is None:
                continue
            current = snap.by_id.get(existing.parent_id) if existing else None
            try:
                parent = self.resolve_unit(ref, current)
            except _Bad as bad:
                row.bad(self.problems, "parent", bad.msgid, **bad.params)
                continue
            if parent is None:
                row.bad(self.problems, "parent", ERR_PARENT_UNKNOWN)
            else:
                self.final_parent[code] = parent
        for code, row in self.file_units.items():
            if row.ok:
                self._check_unit(code, row)
        for code in sorted(self.file_units, key=lambda c: len(self.chain(c))):
            if self.file_units[code].ok:
                self._plan_unit(code, self.file_units[code])

    def _check_unit(self, code: str, row: Row) -> None:
        snap, v = self.snap, row.values
        existing = snap.by_code.get(code)
        parent = self.final_parent[code]
        moved = existing is None or parent != snap.parent_code(existing)
        if parent is not None and code in self.chain(parent):
            names = [self.final_name(c) or c for c in self.chain(code)]
            row.bad(self.problems, "parent", ERR_CYCLE, chain=" → ".join([*names, names[0]]))
        elif moved and parent is None and not snap.may_create_roots():
            row.bad(self.problems, "parent", ERR_ROOT_NOT_ALLOWED)
        elif moved and parent is not None and not self.covered(parent):
            row.bad(self.problems, "parent", ERR_PARENT_UNKNOWN)
        if "level" in v:
            row.level = snap.levels.get(_lookup_key(v["level"]))
            if row.level is None:
                row.bad(self.problems, "level", ERR_LEVEL_UNKNOWN, choices=snap.level_names)
        elif existing is None:
            row.bad(self.problems, "level", ERR_LEVEL_REQUIRED, choices=snap.level_names)
        if existing is None and "name" not in v and "name" not in row.failed:
            row.bad(self.problems, "name", ERR_UNIT_NAME_REQUIRED)
        opened = v.get("opened_on", existing.opened_on if existing else None)
        closed = v.get("closed_on", existing.closed_on if existing else None)
        if opened and closed and closed <= opened:
            column = "closed_on" if "closed_on" in v else "opened_on"
            row.bad(self.problems, column, ERR_DATE_ORDER)

    def _plan_unit(self, code: str, row: Row) -> None:
        v = row.values
        existing = self.snap.by_code.get(code)
        parent = self.final_parent[code]
        if existing is None:
            fields = {
                "name": v["name"],
                "short_name": v.get("short_name", ""),
                "level": row.level,
                "opened_on": v.get("opened_on"),
                "closed_on": v.get("closed_on"),
            }
            self.plan.units.append(UnitOp(code, None, parent, True, fields))
            self.plan.counts["units_new"] += 1
            return
        fields = {
            k: v[k]
            for k in ("name", "short_name", "opened_on", "closed_on")
            if k in v and v[k] != getattr(existing, k)
        }
        if row.level is not None and row.level.pk != existing.level_id:
            fields["level"] = row.level
        move = parent != self.snap.parent_code(existing)
        if fields or move:
            self.plan.units.append(UnitOp(code, existing.pk, parent, move, fields))
            self.plan.counts["units_updated"] += 1
        else:
            self.plan.counts["units_unchanged"] += 1

    # People.

    def check_people(self) -> None:
        snap = self.snap
        rows = self.rows[PEOPLE]
        for row in rows:
            ref = row.values.get("unit")
            if ref is None:
                continue
            try:
                code = self.resolve_unit(ref)
            except _Bad as bad:
                row.bad(self.problems, "unit", bad.msgid, **bad.params)
                continue
            # Out of scope reads exactly like "does not exist", so nothing leaks.
            if code is None or not self.covered(code):
                row.bad(self.problems, "unit", ERR_UNIT_UNKNOWN)
            else:
                row.unit_code = code
        hashes: dict[str, str] = {}
        for row, f in [(r, "id_number") for r in rows] + [
            (r, "person_id_number") for r in self.rows[FAMILY]
        ]:
            number = row.values.get(f)
            if number and not isinstance(number, Masked):
                if number not in hashes:
                    hashes[number] = crypto.keyed_hash(number)
                row.id_hash = hashes[number]
        pairs = {
            (r.unit_code, r.values["name"]) for r in rows if r.unit_code and "name" in r.values
        }
        for row in self.rows[FAMILY]:
            ref, name = row.values.get("person_unit"), row.values.get("person_name")
            if ref and name:
                try:
                    row.unit_code = self.resolve_unit(ref)
                except _Bad:
                    row.unit_code = None
                if row.unit_code:
                    pairs.add((row.unit_code, name))
        snap.load_people(set(hashes.values()), pairs)
        seen_hash: dict[str, Row] = {}
        for row in rows:
            self._match_person(row, seen_hash)
        self._check_staff_numbers(rows)
        snap.load_family(
            {p.pk for p in snap.people_by_hash.values()}
            | {p.pk for ps in snap.people_by_unit_name.values() for p in ps}
        )
        for row in rows:
            if row.ok and row.key is not None:
                self._plan_person(row)

    def _check_staff_numbers(self, rows: list[Row]) -> None:
        """A staff number (工号) belongs to one person: not two rows, not someone else on file."""
        numbers = {r.values["staff_number"] for r in rows if r.ok and r.values.get("staff_number")}
        holders: dict[str, int] = {}
        for chunk in _chunks(numbers):
            holders.update(
                Person.objects.filter(staff_number__in=chunk).values_list("staff_number", "pk")
            )
        seen: dict[str, Row] = {}
        for row in rows:
            number = row.values.get("staff_number")
            if not row.ok or not number:
                continue
            if number in seen:
                row.bad(
                    self.problems,
                    "staff_number",
                    ERR_STAFF_NUMBER_DUPLICATE_IN_FILE,
                    row=seen[number].row,
                )
                continue
            seen[number] = row
            holder = holders.get(number)
            if holder is not None and holder != (row.existing.pk if row.existing else None):
                row.bad(self.problems, "staff_number", ERR_STAFF_NUMBER_TAKEN)

    def _match_person(self, row: Row, seen_hash: dict[str, Row]) -> None:
        """Find the existing person a row describes: by ID number, else by unit and name."""
        snap, v = self.snap, row.values
        if "id_number" in row.failed:
            return
        number = v.get("id_number")
        existing = None
        if row.id_hash is not None:
            if row.id_hash in seen_hash:
                first = seen_hash[row.id_hash].row
                row.bad(self.problems, "id_number", ERR_ID_DUPLICATE_IN_FILE, row=first)
                return
            seen_hash[row.id_hash] = row
            existing = snap.people_by_hash.get(row.id_hash)
            if existing is not None and not snap.can(existing.unit):
                row.bad(self.problems, "id_number", ERR_ID_TAKEN)
                return
            if existing is None and row.unit_code and "name" in v:
                # Someone entered earlier without an ID number: this row supplies it.
                blanks = [
                    p
                    for p in snap.people_by_unit_name.get((row.unit_code, v["name"]), [])
                    if not p.id_number_hash
                ]
                existing = blanks[0] if len(blanks) == 1 else None
        elif row.unit_code and "name" in v:
            found = snap.people_by_unit_name.get((row.unit_code, v["name"]), [])
            if len(found) > 1:
                row.bad(self.problems, "id_number", ERR_NAME_AMBIGUOUS)
                return
            if not found:
                masked = isinstance(number, Masked)
                row.bad(
                    self.problems, "id_number", ERR_ID_MASKED_UNKNOWN if masked else ERR_ID_REQUIRED
                )
                return
            existing = found[0]
            if isinstance(number, Masked) and number != existing.id_number_masked:
                row.bad(self.problems, "id_number", ERR_ID_MASKED_MISMATCH)
                return
        else:
            return
        if existing is not None:
            key: PersonKey = ("db", existing.pk)
            if key in self.person_rows:
                first = self.person_rows[key].row
                row.bad(self.problems, "name", ERR_PERSON_DUPLICATE_IN_FILE, row=first)
                return
        else:
            key = ("new", -row.row)  # numbered properly once planned
        row.existing, row.key = existing, key
        self.person_rows[key] = row

    def _plan_person(self, row: Row) -> None:
        v = row.values
        existing: Person | None = row.existing
        rank = None
        if "rank" in v:
            rank = self.snap.ranks.get(_lookup_key(v["rank"]))
            if rank is None:
                row.bad(self.problems, "rank", ERR_RANK_UNKNOWN, choices=self.snap.rank_names)
        mobile = v.get("mobile")
        if isinstance(mobile, Masked):
            # An exported (masked) number means "keep the number on file".
            if existing is None or mask_mobile(existing.mobile) != mobile:
                row.bad(self.problems, "mobile", ERR_MOBILE_MASKED)
            mobile = None
        if not row.ok:
            return
        number = v.get("id_number")
        full_number = number if number and not isinstance(number, Masked) else None
        if existing is None:
            gender = v.get("gender")
            if gender is None and full_number:
                gender = Gender.MALE if int(full_number[16]) % 2 else Gender.FEMALE
            fields = {
                "name": v["name"],
                "post": v.get("post", ""),
                "rank": rank,
                "mobile": mobile or "",
                "staff_number": v.get("staff_number", ""),
                "gender": gender or "",
                "political_status": v.get("political_status", PoliticalStatus.MASSES),
                "active_from": v.get("active_from"),
                "left_on": v.get("left_on"),
            }
            del self.person_rows[row.key]
            row.key = ("new", len(self.plan.people))
            self.person_rows[row.key] = row
            op = PersonOp(row.key, None, row.unit_code, True, fields, full_number)
            self.plan.people.append(op)
            self.plan.counts["people_new"] += 1
            return
        wanted = {
            "name": v.get("name"),
            "post": v.get("post"),
            "mobile": mobile,
            "staff_number": v.get("staff_number"),
            "gender": v.get("gender"),
            "political_status": v.get("political_status"),
            "active_from": v.get("active_from"),
            "left_on": v.get("left_on"),
        }
        fields = {
            k: val for k, val in wanted.items() if val is not None and val != getattr(existing, k)
        }
        if rank is not None and rank.pk != existing.rank_id:
            fields["rank"] = rank
        move = row.unit_code != existing.unit.code
        new_number = full_number if full_number and not existing.id_number_hash else None
        if fields or move or new_number:
            op = PersonOp(row.key, existing.pk, row.unit_code, move, fields, new_number)
            self.plan.people.append(op)
            self.plan.counts["people_updated"] += 1
        else:
            self.plan.counts["people_unchanged"] += 1

    # First responsible persons (第一责任人) and liaisons (联络员).

    def final_unit_of(self, key: PersonKey) -> str | None:
        row = self.person_rows.get(key)
        if row is not None:
            return row.unit_code
        unit = self.snap.by_id.get(self.snap.holder_unit.get(key[1], 0))
        return unit.code if unit else None

    def _inside(self, key: PersonKey, code: str) -> bool:
        unit_code = self.final_unit_of(key)
        return unit_code is not None and self.within(unit_code, code)

    def check_responsibles(self) -> None:
        """是/否 marks change only the people named; whoever moves out of a unit loses its roles."""
        snap = self.snap
        marks: dict[str, dict[str, Any]] = defaultdict(_no_marks)
        for row in self.rows[PEOPLE]:
            if not row.ok or row.key is None:
                continue
            fr, li = row.values.get("is_first_responsible"), row.values.get("is_liaison")
            if fr is None and li is None:
                continue
            m = marks[row.unit_code]
            if fr is True and m["fr_yes"] is not None:
                first = m["fr_yes"].row
                row.bad(self.problems, "is_first_responsible", ERR_TWO_RESPONSIBLES, row=first)
                continue
            if fr is True:
                m["fr_yes"] = row
            elif fr is False:
                m["fr_no"].add(row.key)
            if li is True:
                m["li_yes"].append(row.key)
            elif li is False:
                m["li_no"].add(row.key)
        moving = {
            r.existing.pk
            for r in self.rows[PEOPLE]
            if r.ok and r.existing is not None and r.unit_code != r.existing.unit.code
        }
        snap.load_roles({snap.by_code[c].pk for c in marks if c in snap.by_code}, moving)
        affected = set(marks) | {
            snap.by_id[u].code for pid in moving for u in snap.roles_of[pid] if u in snap.by_id
        }
        for code in sorted(affected):
            unit = snap.by_code.get(code)
            current_fr: PersonKey | None = None
            current_li: set[PersonKey] = set()
            if unit is not None:
                fr_id = snap.first_responsible.get(unit.pk)
                current_fr = ("db", fr_id) if fr_id else None
                current_li = {("db", pid) for pid in snap.liaisons.get(unit.pk, ())}
            m = marks.get(code) or _no_marks()
            fr = current_fr
            if m["fr_yes"] is not None:
                fr = m["fr_yes"].key
            elif current_fr in m["fr_no"]:
                fr = None
            liaisons = [k for k in sorted(current_li) if k not in m["li_no"]]
            liaisons += [k for k in m["li_yes"] if k not in liaisons]
            if fr is not None and not self._inside(fr, code):
                fr = None
            liaisons = [k for k in liaisons if self._inside(k, code)]
            if fr != current_fr or set(liaisons) != current_li:
                self.plan.responsibles.append(ResponsiblesOp(code, fr, liaisons))
                self.plan.counts["responsibles_updated"] += 1

    # Family members.

    def check_family(self) -> None:
        by_hash = {r.id_hash: r.key for r in self.rows[PEOPLE] if r.ok and r.key and r.id_hash}
        by_unit_name: dict[tuple[str, str], list[PersonKey]] = defaultdict(list)
        for r in self.rows[PEOPLE]:
            if r.ok and r.key is not None:
                by_unit_name[(r.unit_code, r.values["name"])].append(r.key)
        seen: dict[tuple[PersonKey, str], Row] = {}
        for row in self.rows[FAMILY]:
            if "person_id_number" in row.failed:
                continue
            key = self._family_person(row, by_hash, by_unit_name)
            if key is None or not row.ok:
                continue
            v = row.values
            if (key, v["name"]) in seen:
                first = seen[(key, v["name"])].row
                row.bad(self.problems, "name", ERR_FAMILY_DUPLICATE, row=first)
                continue
            seen[(key, v["name"])] = row
            if key[0] == "db" and v["name"] in self.snap.family_names.get(key[1], ()):
                self.plan.counts["family_unchanged"] += 1
                continue
            self.plan.family.append(
                FamilyOp(
                    key, v["name"], v["relation"], v.get("lives_with", True), v.get("birth_year")
                )
            )
            self.plan.counts["family_new"] += 1

    def _family_person(self, row: Row, by_hash, by_unit_name) -> PersonKey | None:
        """The staff member a family row belongs to: by full ID, else by unit and staff name."""
        snap, v = self.snap, row.values
        if row.id_hash is not None:
            key = by_hash.get(row.id_hash)
            if key is None:
                person = snap.people_by_hash.get(row.id_hash)
                if person is not None and snap.can(person.unit):
                    key = ("db", person.pk)
            if key is None:
                row.bad(self.problems, "person_id_number", ERR_FAMILY_PERSON_UNKNOWN)
            return key
        name = v.get("person_name")
        if not name or "person_unit" not in v:
            row.bad(self.problems, "person_id_number", ERR_FAMILY_PERSON_KEY)
            return None
        code = row.unit_code
        in_db = []
        if code and self.covered(code):
            in_db = snap.people_by_unit_name.get((code, name), [])
        candidates = set(by_unit_name.get((code, name), [])) | {("db", p.pk) for p in in_db}
        number = v.get("person_id_number")
        if isinstance(number, Masked):
            candidates = {k for k in candidates if self._masked_id_of(k, in_db) in (None, number)}
        if len(candidates) != 1:
            row.bad(self.problems, "person_id_number", ERR_FAMILY_PERSON_UNKNOWN)
            return None
        return candidates.pop()

    def _masked_id_of(self, key: PersonKey, in_db: list[Person]) -> str | None:
        if key[0] == "db":
            for p in in_db:
                if p.pk == key[1]:
                    return p.id_number_masked
        row = self.person_rows.get(key)
        number = row.values.get("id_number") if row else None
        if number and not isinstance(number, Masked):
            return mask_id_number(number)
        return None


# --- Analysis: the one entry point used by services. ---


@dataclass
class Analysis:
    plan: Plan | None
    problems: list[Problem]
    sheets: list[dict]
    skipped: list[str]

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.problems

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.plan.counts) if self.plan else dict.fromkeys(COUNT_KEYS, 0)

    def summary(self) -> dict:
        # Listed sheet by sheet and row by row, the order in which the user will fix them.
        order = {s["name"]: i for i, s in enumerate(self.sheets)}
        problems = sorted(self.problems, key=lambda p: (order.get(p.sheet, -1), p.row or 0))
        return {
            "counts": self.counts,
            "errors": [p.as_json() for p in problems[:MAX_ERRORS]],
            "error_count": len(self.problems),
            "sheets": self.sheets,
            "skipped_sheets": self.skipped,
        }


def analyse(data: bytes, *, user) -> Analysis:
    """Read, check and plan a roster file for `user`; nothing is written."""
    problems = Problems()
    try:
        sheets = read_sheets(data)
    except RosterFileError as exc:
        return Analysis(None, [exc.problem], [], [])
    tables, skipped = find_tables(sheets, problems)
    if not tables:
        return Analysis(None, [Problem("", None, "", ERR_NO_HEADERS)], [], skipped)
    total = sum(len(t.rows) for t in tables)
    if total == 0 and not problems:
        return Analysis(None, [Problem("", None, "", ERR_NO_ROWS)], [], skipped)
    if total > MAX_ROWS:
        return Analysis(
            None, [Problem("", None, "", ERR_TOO_MANY_ROWS, {"limit": MAX_ROWS})], [], skipped
        )
    described = [{"name": t.sheet, "kind": t.kind, "rows": len(t.rows)} for t in tables]
    if problems:  # a missing column makes row checks meaningless
        return Analysis(None, problems.items, described, skipped)
    plan = _Validator(user, tables, problems).run()
    return Analysis(plan, problems.items, described, skipped)


# --- Writing workbooks: the export and the template share the layout the importer reads. ---

_TEXT_FIELDS = {
    "code",
    "parent",
    "unit",
    "mobile",
    "staff_number",
    "id_number",
    "person_id_number",
    "person_unit",
}
_DATE_FIELDS = {"opened_on", "closed_on", "active_from", "left_on"}
_WIDE_FIELDS = {"name", "id_number", "person_id_number", "unit", "parent", "person_unit"}
YES, NO = "是", "否"

TEMPLATE_NOTES = [
    "名册导入说明",
    "1. 本文件有「单位」「人员」「家庭成员」三张表，可只填其中一张或几张；第一行是列名，请勿修改。",
    "2. 单位按「单位编码」对应：编码已存在则更新该单位，不存在则新增。上级单位填编码或准确名称。"
    "编码只能用字母、数字、汉字和 - _ .（编码会出现在网址中）。",
    "3. 人员按「身份证号」对应：已登记则更新，未登记则新增。单位填编码或准确名称。",
    "4. 留空的单元格表示“保持不变”（新增时为空）。日期写成 2020-01-23 或 2020年1月23日。",
    "5. 从系统导出的名册中，身份证号和手机号码已脱敏（含 *）：这样的值表示“保持不变”，"
    "只能用于本单位已有的同名人员；新增或调动人员请填写完整号码。",
    "6. 身份证号、手机号码两列请保持“文本”格式，否则 Excel 会把身份证号后几位变成 0。",
    "7. 家庭成员按「职工身份证号」找到职工；若身份证号已脱敏，请同时填写「职工姓名」和「单位」。",
    "8. 表中的示例行请在导入前删除。",
]


def _dropdowns() -> dict[str, list[str]]:
    return {
        "level": [lv.name for lv in UnitLevel.objects.all()],
        "rank": [r.name for r in Rank.objects.all()],
        "gender": [_zh(label) for _, label in Gender.choices],
        "political_status": [_zh(label) for _, label in PoliticalStatus.choices],
        "relation": [_zh(label) for _, label in Relation.choices],
        "is_first_responsible": [YES, NO],
        "is_liaison": [YES, NO],
        "lives_with": [YES, NO],
    }


def write_workbook(records: dict[str, list[dict]], *, notes: list[str] | None = None) -> bytes:
    """An .xlsx with the 单位 / 人员 / 家庭成员 sheets; every value is written as plain text or a date."""
    # Text is never turned into a formula, number or link: cells hold exactly the data (text that
    # a spreadsheet would run as a formula gets a leading quote, which the reader takes off again).
    book = Workbook()
    head = book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    text = book.add_format({"num_format": "@"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    dropdowns = _dropdowns()
    for kind in KINDS:
        ws = book.add_worksheet(SHEET_NAMES[kind])
        columns = COLUMNS[kind]
        rows = records.get(kind, [])
        for j, col in enumerate(columns):
            fmt = text if col.field in _TEXT_FIELDS else day if col.field in _DATE_FIELDS else None
            ws.set_column(j, j, 22 if col.field in _WIDE_FIELDS else 13, fmt)
            ws.write(0, j, col.header, head)
            source = dropdowns.get(col.field)
            if source and len("，".join(source)) < 250:
                # A warning, not a stop: synonyms and codes are accepted too.
                ws.data_validation(
                    1,
                    j,
                    max(len(rows), 1000),
                    j,
                    {"validate": "list", "source": source, "error_type": "warning"},
                )
        ws.freeze_panes(1, 0)
        for i, record in enumerate(rows, start=1):
            for j, col in enumerate(columns):
                value = record.get(col.field)
                if value is None or value == "":
                    continue
                if isinstance(value, date):
                    ws.write(i, j, value, day)
                elif isinstance(value, int) and not isinstance(value, bool):
                    ws.write(i, j, value)
                else:
                    ws.write(i, j, str(value))
    if notes:
        ws = book.add_worksheet("说明")
        ws.set_column(0, 0, 110)
        for i, line in enumerate(notes):
            ws.write(i, 0, line)
    return book.close()


def build_export(unit: OrgUnit) -> tuple[bytes, dict[str, int]]:
    """The unit's subtree as an editable workbook; ID numbers and mobiles are masked."""
    low, high = subtree_bounds(unit.path)
    units = list(
        OrgUnit.objects.filter(path__gte=low, path__lt=high).select_related("level", "parent")
    )
    people = list(
        Person.objects.filter(unit__path__gte=low, unit__path__lt=high)
        .select_related("unit", "rank")
        .order_by("unit__path", "id")
    )
    responsible = {(u.pk, u.first_responsible_id) for u in units if u.first_responsible_id}
    liaisons = set(
        OrgUnit.liaisons.through.objects.filter(
            orgunit__path__gte=low, orgunit__path__lt=high
        ).values_list("orgunit_id", "person_id")
    )
    family = list(
        FamilyMember.objects.filter(person__unit__path__gte=low, person__unit__path__lt=high)
        .select_related("person__unit")
        .order_by("person__unit__path", "person_id", "id")
    )
    genders = {value: _zh(label) for value, label in Gender.choices}
    political = {value: _zh(label) for value, label in PoliticalStatus.choices}
    relations = {value: _zh(label) for value, label in Relation.choices}
    records = {
        UNITS: [
            {
                "code": u.code,
                "name": u.name,
                "short_name": u.short_name,
                "parent": u.parent.code if u.parent_id else "",
                "level": u.level.name,
                "opened_on": u.opened_on,
                "closed_on": u.closed_on,
            }
            for u in units
        ],
        PEOPLE: [
            {
                "name": p.name,
                "unit": p.unit.code,
                "post": p.post,
                "rank": p.rank.name if p.rank_id else "",
                "mobile": mask_mobile(p.mobile),
                "staff_number": p.staff_number,
                "id_number": p.id_number_masked,
                "gender": genders.get(p.gender, ""),
                "political_status": political.get(p.political_status, ""),
                "active_from": p.active_from,
                "left_on": p.left_on,
                "is_first_responsible": YES if (p.unit_id, p.pk) in responsible else NO,
                "is_liaison": YES if (p.unit_id, p.pk) in liaisons else NO,
            }
            for p in people
        ],
        FAMILY: [
            {
                "person_id_number": m.person.id_number_masked,
                "person_name": m.person.name,
                "person_unit": m.person.unit.code,
                "name": m.name,
                "relation": relations.get(m.relation, ""),
                "lives_with": YES if m.lives_with else NO,
                "birth_year": m.birth_year,
            }
            for m in family
        ],
    }
    counts = {"units": len(units), "people": len(people), "family": len(family)}
    return write_workbook(records), counts


def build_template(user) -> bytes:
    """A blank roster with one example row per sheet, placed under the user's own top unit."""
    top = selectors.units_for(user, selectors.CAP_ROSTER_MANAGE).order_by("depth", "path").first()
    code = f"{top.code}-SL" if top else "SL-001"
    example_id = idcard.make("110101", date(1990, 5, 1), 123)
    records = {
        UNITS: [
            {
                "code": code,
                "name": "示例科室",
                "short_name": "示例",
                "parent": top.code if top else "",
                "level": "处室",
                "opened_on": date(2020, 1, 23),
            }
        ],
        PEOPLE: [
            {
                "name": "张三",
                "unit": code,
                "post": "科员",
                "rank": "科员及以下",
                "mobile": "13800000000",
                "id_number": example_id,
                "gender": "男",
                "political_status": "中共党员",
                "active_from": date(2015, 7, 1),
                "is_first_responsible": NO,
                "is_liaison": YES,
            }
        ],
        FAMILY: [
            {
                "person_id_number": example_id,
                "person_name": "张三",
                "person_unit": code,
                "name": "李四",
                "relation": "配偶",
                "lives_with": YES,
                "birth_year": 1991,
            }
        ],
    }
    return write_workbook(records, notes=TEMPLATE_NOTES)

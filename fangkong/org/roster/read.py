"""Roster files (名册), read: the messages, the columns of each sheet, the file read through
lib/sheets.py, the sheets recognised by their headers, and every cell checked (pure functions of
the bytes)."""

import base64
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from functools import cache
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from fangkong.lib import cells as cell_grammar
from fangkong.lib import crypto, idcard, text
from fangkong.lib import sheets as sheet_reader
from fangkong.lib.mobile import normalise_mobile
from fangkong.lib.spreadsheet_out import restore
from fangkong.org.models import (
    ERR_UNIT_CODE,
    UNIT_CODE_PATTERN,
    Gender,
    PoliticalStatus,
    Relation,
    UnitLevel,
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


Sheet = sheet_reader.Sheet


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
    """Decode a workbook or CSV by its content (not its name) with lib/sheets.py; raise
    RosterFileError, in the roster's words, if unreadable."""
    if len(data) > settings.ROSTER_MAX_BYTES:
        raise RosterFileError(ERR_TOO_LARGE, limit=max_megabytes())
    if not data.strip():
        raise RosterFileError(ERR_EMPTY)
    try:
        return sheet_reader.read_sheets(
            data, max_rows=MAX_ROWS + HEADER_SCAN_ROWS, max_columns=MAX_COLUMNS
        )
    except sheet_reader.SheetError as exc:
        msgid = _SHEET_ERRORS[exc.code]
        limit = {
            ERR_TOO_LARGE: max_megabytes,
            ERR_TOO_MANY_ROWS: lambda: MAX_ROWS,
            ERR_TOO_WIDE: lambda: MAX_COLUMNS,
        }.get(msgid)
        raise RosterFileError(msgid, **({"limit": limit()} if limit else {})) from exc


# What the sheet reader's refusals say to someone uploading a roster.
_SHEET_ERRORS = {
    sheet_reader.EMPTY: ERR_EMPTY,
    sheet_reader.GARBAGE: ERR_GARBAGE,
    sheet_reader.ENCODING: ERR_ENCODING,
    sheet_reader.UNPACKED_TOO_LARGE: ERR_TOO_LARGE,
    sheet_reader.TOO_MANY_ROWS: ERR_TOO_MANY_ROWS,
    sheet_reader.TOO_WIDE: ERR_TOO_WIDE,
}


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


def parse_date(value: Any) -> date | None:
    """lib/cells.py's date grammar (2020-01-23, 2020/1/23, 2020年1月23日, 20200123, an Excel date),
    within the years 1900 to 2100."""
    if not isinstance(value, date | int | float) or isinstance(value, bool):
        value = _text(value)
    try:
        day = cell_grammar.parse_date(value)
    except cell_grammar.CellError:
        raise _Bad(ERR_DATE) from None
    if day is not None and not 1900 <= day.year <= 2100:
        raise _Bad(ERR_DATE)
    return day


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

PersonKey = tuple[str, int]  # ("db", person id) or ("new", index into Plan.people)


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
    key: PersonKey | None = None
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

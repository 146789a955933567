"""One sheet reader for every upload (rosters, relief ledgers): bytes or a path in, sheets of cells out.

The kind of file is told by its content, never its name: a zip that is a workbook (.xlsx, .xlsb,
.ods) or an OLE file (.xls) is read with calamine; anything else is text (CSV, tab-separated
"Unicode text"), decoded as UTF-8 (with or without BOM), UTF-16 LE/BE (with or without BOM) or
GB18030 (which covers GBK and GB2312), its delimiter guessed from its first lines. A zip is refused
before inflating when its entries add up to more than `settings.SHEET_MAX_UNPACKED_BYTES`.

Every failure is a `SheetError` with a code (the constants below) and numbers; each caller turns
it into its own message. Nothing is cached: each upload is read once by the code that needs it.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import python_calamine
from django.conf import settings

# Why a file cannot be read (SheetError.code).
EMPTY = "empty"
GARBAGE = "garbage"  # not a workbook nor text
ENCODING = "encoding"  # text in no encoding we know
UNPACKED_TOO_LARGE = "unpacked_too_large"  # a zip that inflates beyond the limit
TOO_MANY_ROWS = "too_many_rows"
TOO_WIDE = "too_wide"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
DELIMITERS = (",", "\t", ";")
# The delimiter is judged on this many non-blank lines (a title line above the header has none).
DELIMITER_LINES = 10
_SNIFF = 65536


class SheetError(Exception):
    """The file as a whole cannot be read; `code` says why, `params` carries the numbers."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


@dataclass
class Sheet:
    """One worksheet's cells (workbooks) or one text table (CSV): `rows` for workbooks and for text
    read with `text_rows=True`; `text` (decoded) and its delimiter and encoding for text."""

    name: str
    rows: list[list] | None = None  # rows[0] is the first row as Excel numbers it (row 1)
    text: str | None = None
    delimiter: str = ","
    encoding: str = ""
    path: Path | None = None  # the file read, when a path was given

    def text_records(self, n: int | None = None) -> list[list[str]]:
        """The first `n` records of a text table (all when None)."""
        out: list[list[str]] = []
        reader = csv.reader(io.StringIO(self.text or "", newline=""), delimiter=self.delimiter)
        try:
            for record in reader:
                out.append(record)
                if n is not None and len(out) >= n:
                    break
        except csv.Error as exc:
            raise SheetError(GARBAGE) from exc
        return out


def max_unpacked_bytes() -> int:
    return settings.SHEET_MAX_UNPACKED_BYTES


def file_type(head: bytes) -> str:
    """xlsx (any zip), xls (OLE) or csv (anything else), from the first 8 bytes."""
    if head[:4] == ZIP_MAGIC:
        return "xlsx"
    if head[:8] == OLE_MAGIC:
        return "xls"
    return "csv"


def read_sheets(
    source: bytes | Path | str,
    *,
    text_rows: bool = True,
    max_rows: int | None = None,
    max_columns: int | None = None,
) -> list[Sheet]:
    """Every worksheet of a workbook that has cells (none: []), or the one table of a text file;
    SheetError if unreadable.

    `max_rows` / `max_columns`: refuse larger sheets (TOO_MANY_ROWS / TOO_WIDE). `text_rows=False`
    leaves a text file's records unparsed (a reader of its own, such as DuckDB's, takes the text).
    """
    path = None
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        head = data[:8]
    else:
        path = Path(source)
        try:
            with open(path, "rb") as fh:
                head = fh.read(8)
        except OSError as exc:
            raise SheetError(GARBAGE) from exc
        data = None
    kind = file_type(head)
    if kind == "csv":
        if data is None:
            data = path.read_bytes()
        if not data.strip():
            raise SheetError(EMPTY)
        text, encoding = decode_text(data)
        if not text.strip():
            raise SheetError(EMPTY)
        sheet = Sheet("", text=text, delimiter=guess_delimiter(text), encoding=encoding, path=path)
        if text_rows:
            sheet.rows = _records(sheet, max_rows, max_columns)
        return [sheet]
    if kind == "xlsx":
        check_zip(data if data is not None else path)
    sheets = _read_workbook(data if data is not None else path, max_rows, max_columns)
    for sheet in sheets:
        sheet.path = path
    return sheets


def check_zip(source: bytes | Path) -> None:
    """Refuse zips that are not spreadsheets, or that would inflate beyond the limit."""
    target = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with zipfile.ZipFile(target) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > max_unpacked_bytes():
                raise SheetError(UNPACKED_TOO_LARGE, limit_mb=max_unpacked_bytes() // 2**20)
            names = {i.filename for i in infos}
            # An OpenDocument spreadsheet (.ods) names itself in a small "mimetype" entry.
            is_ods = "mimetype" in names and b"spreadsheet" in zf.read("mimetype")[:100]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError) as exc:
        raise SheetError(GARBAGE) from exc
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names and not is_ods:
        raise SheetError(GARBAGE)


def _read_workbook(source, max_rows: int | None, max_columns: int | None) -> list[Sheet]:
    sheets: list[Sheet] = []
    try:
        if isinstance(source, bytes):
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source))
        else:
            book = python_calamine.CalamineWorkbook.from_path(str(source))
        for meta in book.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            sheet = book.get_sheet_by_name(meta.name)
            end = sheet.end
            if end is None:
                continue
            if max_rows is not None and end[0] > max_rows:
                raise SheetError(TOO_MANY_ROWS)
            if max_columns is not None and end[1] >= max_columns:
                raise SheetError(TOO_WIDE)
            sheets.append(Sheet(meta.name, rows=sheet.to_python(skip_empty_area=False)))
    except SheetError:
        raise
    except Exception as exc:
        # calamine raises its own errors for damaged files; any of them means "not a sheet".
        raise SheetError(GARBAGE) from exc
    except BaseException as exc:
        # A Rust panic inside calamine surfaces as pyo3's PanicException (a BaseException).
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise SheetError(GARBAGE) from exc
    return sheets


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM), UTF-16 LE or BE (with or without BOM), else
    GB18030.

    Excel's "Unicode text" (Unicode 文本) is UTF-16 LE with a BOM and tabs; other tools write
    UTF-16 without a BOM, recognised by its zero bytes all falling on one side of each pair
    (a table is full of digits and separators, whose high byte is zero).
    """
    guessed = False
    if data[:3] == b"\xef\xbb\xbf":
        candidates = ["utf-8-sig"]
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        candidates = ["utf-16"]
    else:
        head = data[:_SNIFF]
        even, odd = head[0::2].count(0), head[1::2].count(0)
        # A CJK character such as 一 (U+4E00) holds a zero byte on the other side too: rarely.
        if len(data) % 2 == 0 and max(even, odd) >= 8 and min(even, odd) * 8 <= max(even, odd):
            candidates, guessed = ["utf-16-le" if odd > even else "utf-16-be"], True
        elif b"\x00" in data:
            # Binary files nearly always hold NUL bytes; no text encoding used for tables does.
            raise SheetError(GARBAGE)
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
            raise SheetError(GARBAGE)
        return text, encoding
    raise SheetError(GARBAGE if guessed else ENCODING)


def guess_delimiter(text: str) -> str:
    """The delimiter used most on the first non-blank lines: comma, tab or semicolon."""
    lines = [line for line in text[:_SNIFF].splitlines() if line.strip()]
    sample = "\n".join(lines[:DELIMITER_LINES])
    return max(DELIMITERS, key=sample.count)


def _records(sheet: Sheet, max_rows: int | None, max_columns: int | None) -> list[list]:
    rows: list[list] = []
    reader = csv.reader(io.StringIO(sheet.text or "", newline=""), delimiter=sheet.delimiter)
    try:
        for record in reader:
            rows.append(record)
            if max_rows is not None and len(rows) > max_rows:
                raise SheetError(TOO_MANY_ROWS)
            if max_columns is not None and len(record) > max_columns:
                raise SheetError(TOO_WIDE)
    except csv.Error as exc:
        raise SheetError(GARBAGE) from exc
    return rows

"""Every Excel and CSV file the product writes goes through here: text stays text, never a formula.

A spreadsheet reads a cell that starts with =, +, -, @, a tab or a carriage return as a formula,
when the file is opened or when someone edits the cell: a person named
`=HYPERLINK("http://…","点我")` would become a live link in a coordinator's export. As OWASP's
CSV-injection guidance recommends, such text is written with a leading single quote ('), which
Excel shows as plain text. Numbers, Decimals, dates and datetimes are written as typed cells and
are never changed, so sums and filters keep working.

XlsxWriter's own `write()` turns strings starting with = into formulas; `Sheet` here offers only
typed writes, and the workbook is created with every string conversion switched off as well.
`restore()` undoes the quote when the product reads its own export back (the roster round trip).
"""

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.utils import timezone

# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def neutralise(text: str) -> str:
    """'=1+1 for =1+1: text that a spreadsheet would run as a formula gets a leading quote."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def restore(text: str) -> str:
    """The inverse of `neutralise`, for files the product wrote and reads back."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def _local(moment: datetime) -> datetime:
    """Spreadsheets have no time zones: show the server's local time (Asia/Shanghai)."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.replace(tzinfo=None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


class Workbook:
    """An .xlsx in memory whose sheets only take typed values; `close()` returns the bytes."""

    def __init__(self):
        self._buffer = io.BytesIO()
        self._book = xlsxwriter.Workbook(
            self._buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "nan_inf_to_errors": True,
            },
        )
        self._props: dict[int, dict] = {}  # id(format) → the properties it was made with
        self._dated: dict[tuple[int | None, str], Any] = {}

    def add_format(self, props: dict | None = None):
        fmt = self._book.add_format(props or {})
        self._props[id(fmt)] = dict(props or {})
        return fmt

    def add_worksheet(self, name: str | None = None) -> "Sheet":
        return Sheet(self, self._book.add_worksheet(name))

    def close(self) -> bytes:
        self._book.close()
        return self._buffer.getvalue()

    def _date_format(self, fmt, pattern: str):
        """`fmt` with a date pattern added when it has none (a border format on a date cell)."""
        if fmt is not None and "num_format" in self._props.get(id(fmt), {}):
            return fmt
        key = (id(fmt) if fmt is not None else None, pattern)
        if key not in self._dated:
            base = self._props.get(id(fmt), {}) if fmt is not None else {}
            self._dated[key] = self.add_format(base | {"num_format": pattern})
        return self._dated[key]


class Sheet:
    """A worksheet that writes text as text (neutralised), numbers as numbers, dates as dates."""

    def __init__(self, book: Workbook, worksheet):
        self._book = book
        self._ws = worksheet

    def write(self, row: int, col: int, value: Any, fmt=None) -> None:
        ws = self._ws
        if value is None:
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif _is_number(value):
            ws.write_number(row, col, float(value) if isinstance(value, Decimal) else value, fmt)
        elif isinstance(value, datetime):
            ws.write_datetime(
                row, col, _local(value), self._book._date_format(fmt, DATETIME_FORMAT)
            )
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
            ws.write_datetime(row, col, moment, self._book._date_format(fmt, DATE_FORMAT))
        else:
            ws.write_string(row, col, neutralise(str(value)), fmt)

    def write_row(self, row: int, col: int, values: Iterable[Any], fmt=None) -> None:
        for offset, value in enumerate(values):
            self.write(row, col + offset, value, fmt)

    def merge_range(self, first_row, first_col, last_row, last_col, value: Any, fmt=None) -> None:
        # Merge an empty range, then write the value through the typed path.
        self._ws.merge_range(first_row, first_col, last_row, last_col, "", fmt)
        self.write(first_row, first_col, value, fmt)

    # Layout only: these never write a value.

    def set_column(self, *args, **kwargs):
        return self._ws.set_column(*args, **kwargs)

    def set_row(self, *args, **kwargs):
        return self._ws.set_row(*args, **kwargs)

    def freeze_panes(self, *args, **kwargs):
        return self._ws.freeze_panes(*args, **kwargs)

    def autofilter(self, *args, **kwargs):
        return self._ws.autofilter(*args, **kwargs)

    def data_validation(self, *args, **kwargs):
        return self._ws.data_validation(*args, **kwargs)


def csv_cell(value: Any) -> str:
    """One CSV field: text neutralised, numbers and dates in their plain written form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if _is_number(value):
        return str(value)
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """Rows as CSV, UTF-8 with a byte-order mark so that Excel shows the Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")

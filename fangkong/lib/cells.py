"""One date grammar and one money grammar for every cell users upload (rosters, relief ledgers).

Dates: 2020-02-03, 2020/2/3, 2020.2.3, 2020年2月3日 (spaces around the separators allowed, a time or
anything else after a space or "T" ignored), 20200203 as text or as a number, an Excel serial day
number from 20000 to 73050 (1954-10-03 to 2099-12-31; a fraction is the time of day), an Excel date
cell; and, only when the caller knows the year, month-day forms 2.3 / 2-3 / 2/3 / 2月3日. Nothing
else: 03/02/2020 could be March or February and is refused.

Money: 1234.5, 1,234.50, ¥1234, RMB 1234, 人民币1234元, 1.2万, 1.2万元, 3亿, (1,234.50) as a negative
(the caller decides whether a negative is allowed); Decimal out, never float.

The regular expressions are shared with the relief importer, which runs them in DuckDB (RE2) over
whole columns: the same strings, so Python and SQL read a cell the same way.
"""

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

# --- Dates. ---

DATE_YMD = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?"
DATE_COMPACT = r"(\d{4})(\d{2})(\d{2})"
DATE_MD = r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
DATE_SERIAL = r"\d{5}(?:\.\d+)?"
SERIAL_MIN, SERIAL_MAX = 20_000, 73_050
EXCEL_EPOCH = date(1899, 12, 30)

# --- Money. ---

# Removed anywhere before reading the number: thousands separators, spaces, currency marks.
MONEY_STRIP = r"[,\s¥￥]|RMB|人民币"
MONEY_NUMBER = r"([-+]?\d+(?:\.\d+)?)(万元|亿元|万|亿|元)?"
MONEY_UNITS = {
    "": Decimal(1),
    "元": Decimal(1),
    "万": Decimal(10_000),
    "万元": Decimal(10_000),
    "亿": Decimal(100_000_000),
    "亿元": Decimal(100_000_000),
}
QUANTITY_NUMBER = r"([-+]?\d+(?:\.\d+)?)(万)?\D*"


class CellError(ValueError):
    """A cell that does not follow the grammar; callers say so in their own words."""


def halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation (１２３，（）) to their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def parse_date(value, *, year: int | None = None) -> date | None:
    """A date cell by the grammar above; None for a blank cell; CellError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if _is_number(value):
        if value != value:  # NaN
            raise CellError(value)
        if value == int(value) and 19_000_101 <= value <= 21_001_231:
            value = str(int(value))  # 20200203 typed as a number
        elif SERIAL_MIN <= value <= SERIAL_MAX:
            return EXCEL_EPOCH + timedelta(days=int(value))
        else:
            raise CellError(value)
    text = halfwidth(str(value if value is not None else "")).strip()
    if not text:
        return None
    if re.fullmatch(DATE_SERIAL, text) and SERIAL_MIN <= float(text) <= SERIAL_MAX:
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    for pattern, month_day in ((DATE_YMD, False), (DATE_COMPACT, False), (DATE_MD, True)):
        m = re.fullmatch(pattern, text)
        if not m:
            continue
        parts = [int(p) for p in m.groups()]
        if month_day:
            if year is None:
                break
            parts = [year, *parts]
        try:
            return date(*parts)
        except ValueError:
            break
    raise CellError(value)


def parse_money(value) -> Decimal:
    """An amount in yuan as written → Decimal yuan (unit words applied); CellError if unreadable.

    Checks of sign, range and precision are the caller's: they speak of its limits.
    """
    if value is None or isinstance(value, bool):
        raise CellError(value)
    if _is_number(value):
        number = Decimal(str(value))
    else:
        text = re.sub(MONEY_STRIP, "", halfwidth(str(value)).strip())
        negative = text.startswith("(") and text.endswith(")")  # accountants' negative
        if negative:
            text = text[1:-1]
        m = re.fullmatch(MONEY_NUMBER, text)
        if not m:
            raise CellError(value)
        number = Decimal(m.group(1)) * MONEY_UNITS[m.group(2) or ""]
        if negative:
            number = -number
    if not number.is_finite():
        raise CellError(value)
    return number


def parse_quantity(value) -> Decimal:
    """A quantity such as 1,000 / 1000只 / 2.5万 → Decimal (the unit of measure is the caller's)."""
    if _is_number(value):
        number = Decimal(str(value))
        if not number.is_finite():
            raise CellError(value)
        return number
    text = halfwidth(str(value if value is not None else "")).strip().replace(",", "")
    m = re.fullmatch(QUANTITY_NUMBER, text)
    if not m:
        raise CellError(value)
    try:
        number = Decimal(m.group(1))
    except InvalidOperation as exc:
        raise CellError(value) from exc
    return number * (10_000 if m.group(2) else 1)

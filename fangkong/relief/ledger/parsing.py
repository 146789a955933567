"""Cell parsers for the ledgers relief bodies keep: money, quantities, dates and names as written.

The finance bureau writes "1,234.50", the Red Cross "1234.5元", a charity "1.2万"; dates arrive as
2020-02-03, 2020/2/3, 2020年2月3日, 20200203, 2.3 or Excel serials. Every parser returns a value or
raises ParseError with a message an auditor can act on. Money is integer fen, never float.
"""

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_noop as N_

ERR_AMOUNT = "金额无法识别：{value}（应为数字，可带千分位、“元”或“万元”）"
ERR_NEGATIVE = "金额不能为负数：{value}"
ERR_FEN = "金额最多保留到分：{value}"
ERR_DATE = "日期无法识别：{value}（可写作 2020-02-03、2020/2/3、2020年2月3日 或 20200203）"
ERR_QUANTITY = "数量无法识别：{value}"
# Plausible maxima of one ledger row, far above any real one and far below int64 (and DuckDB's
# DECIMAL(18,3)): a value beyond them is a typing error, reported on its row, never an overflow.
MAX_AMOUNT_YUAN = 10**12
MAX_FEN = MAX_AMOUNT_YUAN * 100
MAX_QUANTITY = 10**12
ERR_AMOUNT_RANGE = N_("金额超出合理范围：{value}（一笔不能超过 1 万亿元），请核对。")
ERR_QUANTITY_RANGE = N_("数量超出合理范围：{value}（一行不能超过 1 万亿），请核对。")

_EXCEL_EPOCH = date(1899, 12, 30)
_UNITS = {
    "万": Decimal(10_000),
    "万元": Decimal(10_000),
    "亿": Decimal(100_000_000),
    "亿元": Decimal(100_000_000),
    "元": Decimal(1),
    "": Decimal(1),
}


class ParseError(ValueError):
    """A cell that cannot be read; the message is for the auditor."""


class OutOfRange(ParseError):
    """A number that reads well but is beyond the plausible maximum; the message says it."""


def halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation (１２３，（）) to their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def parse_fen(value, *, allow_negative: bool = False) -> int:
    """An amount in yuan as written in a ledger → integer fen (分)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ParseError(ERR_AMOUNT.format(value="（空）"))
    if isinstance(value, bool):
        raise ParseError(ERR_AMOUNT.format(value=value))
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        text = halfwidth(str(value)).strip().replace(",", "").replace(" ", "")
        text = text.removeprefix("¥").removeprefix("￥").removeprefix("RMB")
        negative = text.startswith("(") and text.endswith(")")
        text = text.strip("()")
        match = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)(万元|亿元|万|亿|元)?", text)
        if not match:
            raise ParseError(ERR_AMOUNT.format(value=value))
        number = Decimal(match.group(1)) * _UNITS[match.group(2) or ""]
        if negative:
            number = -number
    if not number.is_finite():
        raise ParseError(ERR_AMOUNT.format(value=value))
    fen = number * 100
    if fen < 0 and not allow_negative:
        raise ParseError(ERR_NEGATIVE.format(value=value))
    if abs(fen) > MAX_FEN:
        raise OutOfRange(ERR_AMOUNT_RANGE.format(value=value))
    if fen != fen.to_integral_value():
        # Excel floats such as 1234.5000000001 are rounding noise; anything else is a real error.
        rounded = fen.quantize(Decimal(1))
        if abs(fen - rounded) > Decimal("0.000001"):
            raise ParseError(ERR_FEN.format(value=value))
        fen = rounded
    return int(fen)


def parse_quantity(value) -> Decimal:
    """A quantity such as 1,000 / 1000只 / 2.5万 → Decimal (units of measure are handled elsewhere)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(str(value))
        if not number.is_finite():
            raise ParseError(ERR_QUANTITY.format(value=value))
        return _within(number, value)
    text = halfwidth(str(value or "")).strip().replace(",", "")
    match = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)(万)?\D*", text)
    if not match:
        raise ParseError(ERR_QUANTITY.format(value=value))
    try:
        number = Decimal(match.group(1))
    except InvalidOperation as exc:
        raise ParseError(ERR_QUANTITY.format(value=value)) from exc
    return _within(number * (10_000 if match.group(2) else 1), value)


def _within(number: Decimal, value) -> Decimal:
    if abs(number) > MAX_QUANTITY:
        raise OutOfRange(ERR_QUANTITY_RANGE.format(value=value))
    return number


def parse_date(value, *, year: int | None = None) -> date:
    """A date as written in a ledger; `year` completes month-day forms such as 2.3 or 2月3日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20_000 < value < 80_000:
        return _EXCEL_EPOCH + timedelta(days=int(value))  # an Excel serial day number
    text = halfwidth(str(value or "")).strip()
    patterns = [
        (r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?", "ymd"),
        (r"(\d{4})(\d{2})(\d{2})", "ymd"),
        (r"(\d{1,2})[-/.月](\d{1,2})日?", "md"),
    ]
    for pattern, kind in patterns:
        match = re.fullmatch(pattern, text)
        if not match:
            continue
        parts = [int(p) for p in match.groups()]
        if kind == "md":
            if year is None:
                break
            parts = [year, *parts]
        try:
            return date(*parts)
        except ValueError:
            break
    raise ParseError(ERR_DATE.format(value=value))


_COMPANY_SUFFIXES = ("有限责任公司", "股份有限公司", "有限公司", "公司")


def normalise_party(name: str) -> str:
    """A key for matching parties written differently: width, spaces, brackets, company suffixes.

    湖北 某某医疗器械（有限）公司 / 湖北某某医疗器械(有限)公司 / 湖北某某医疗器械有限责任公司 → one key.
    """
    text = halfwidth(name or "").strip()
    text = re.sub(r"\s+", "", text)
    text = text.replace("（", "(").replace("）", ")").replace("(有限)", "有限")
    text = re.sub(r"[()\[\]【】「」“”\"'·・.,，。]", "", text)
    for suffix in _COMPANY_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)] + "公司"
            break
    return text.upper()

"""Cell parsers for the ledgers relief bodies keep: money, quantities, dates and names as written.

The grammars are lib/cells.py's (one date grammar and one money grammar for every upload); here
they get the ledger's limits (MAX_FEN, MAX_QUANTITY) and the messages an auditor can act on
(ParseError). Money is integer fen, never float.
"""

import re
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_noop as N_

from fangkong.lib import cells
from fangkong.lib.cells import halfwidth

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


class ParseError(ValueError):
    """A cell that cannot be read; the message is for the auditor."""


class OutOfRange(ParseError):
    """A number that reads well but is beyond the plausible maximum; the message says it."""


def parse_fen(value, *, allow_negative: bool = False) -> int:
    """An amount in yuan as written in a ledger (lib/cells.py's money grammar) → integer fen (分)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ParseError(ERR_AMOUNT.format(value="（空）"))
    try:
        number = cells.parse_money(value)
    except cells.CellError as exc:
        raise ParseError(ERR_AMOUNT.format(value=value)) from exc
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
    try:
        number = cells.parse_quantity(value)
    except cells.CellError as exc:
        raise ParseError(ERR_QUANTITY.format(value=value)) from exc
    if abs(number) > MAX_QUANTITY:
        raise OutOfRange(ERR_QUANTITY_RANGE.format(value=value))
    return number


def parse_date(value, *, year: int | None = None) -> date:
    """A date as written in a ledger (lib/cells.py's date grammar); `year` completes month-day
    forms such as 2.3 or 2月3日."""
    try:
        day = cells.parse_date(value, year=year)
    except cells.CellError:
        day = None
    if day is None:
        raise ParseError(ERR_DATE.format(value=value))
    return day


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

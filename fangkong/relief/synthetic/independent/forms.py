"""How offices write dates, amounts and quantities, and how to read each form back.

One rule, one place: the writers (``date_cell``, ``amount_cell``, ``qty_cell``) and the readers
(``read_date``, ``read_amount``, ``read_qty``, ``read_text``) live together, so the answer key,
the tests and a scorer all read the forms the same way.

A cell is ``(value, number_format)``: value is a str, int, float, date or datetime; the
number format (or None) is what Excel would show.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

EXCEL_EPOCH = date(1899, 12, 30)
YEAR = 2020

DATE_STYLES = (
    "iso",
    "dot",
    "cn",
    "md",
    "slash",
    "compact",
    "serial",
    "dt",
    "dt_cn",
    "dt_time",
    "fw_cn",
)
AMOUNT_STYLES = ("num", "comma", "yen", "yuan", "wan", "upper", "plain", "fw")

_FW = str.maketrans("0123456789.-,", "０１２３４５６７８９．－，")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def fullwidth(text: str) -> str:
    """Digits and separators as a Chinese input method types them in full width."""
    return text.translate(_FW)


def date_cell(d: date, style: str, *, seconds: int = 0):
    """A date in one office form."""
    if style == "iso":
        return (f"{d:%Y-%m-%d}", None)
    if style == "dot":
        return (f"{d.year}.{d.month}.{d.day}", None)
    if style == "cn":
        return (f"{d.year}年{d.month}月{d.day}日", None)
    if style == "md":
        return (f"{d.month}/{d.day}", None)
    if style == "slash":
        return (f"{d.year}/{d.month}/{d.day}", None)
    if style == "compact":
        return (f"{d:%Y%m%d}", None)
    if style == "serial":
        return ((d - EXCEL_EPOCH).days, None)
    if style == "dt":
        return (d, "yyyy-mm-dd")
    if style == "dt_cn":
        return (d, 'yyyy"年"m"月"d"日"')
    if style == "dt_time":
        moment = datetime(d.year, d.month, d.day) + timedelta(seconds=seconds or 9 * 3600 + 1234)
        return (moment, "yyyy-mm-dd hh:mm")
    if style == "fw_cn":
        return (
            fullwidth(f"{d.year}")
            + "年"
            + fullwidth(str(d.month))
            + "月"
            + fullwidth(str(d.day))
            + "日",
            None,
        )
    raise ValueError(style)


def yuan(fen: int) -> str:
    """Canonical amount text: yuan with two decimals, no separators ('1234.50')."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def upper_amount(fen: int) -> str:
    """Chinese capital form of an amount (大写金额), e.g. 壹万贰仟叁佰肆拾伍元陆角整."""
    if fen < 0:
        return "负" + upper_amount(-fen)
    whole, cents = divmod(fen, 100)
    out = ""
    if whole:
        out = _upper_int(whole) + "元"
    jiao, fen_ = divmod(cents, 10)
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif fen_ and whole:
        out += "零"
    if fen_:
        out += _DIGITS[fen_] + "分"
    return out if fen_ else out + "整"


def _upper_int(n: int) -> str:
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out = ""
    for index in range(len(groups) - 1, -1, -1):
        g = groups[index]
        part = _upper_group(g)
        if g and g < 1000 and out and not out.endswith("零"):
            out += "零"
        if g:
            out += part + ("", "万", "亿")[index]
        elif out and not out.endswith("零"):
            out += "零"
    return out.rstrip("零")


def _upper_group(g: int) -> str:
    out, zero = "", False
    for unit, value in (("仟", 1000), ("佰", 100), ("拾", 10), ("", 1)):
        d = g // value % 10
        if d:
            if zero and out:
                out += "零"
            out += _DIGITS[d] + unit
            zero = False
        else:
            zero = True
    return out


def amount_cell(fen: int, style: str):
    """An amount in one office form; a form that cannot show the amount exactly falls back."""
    y = Decimal(fen) / 100
    if fen < 0 and style not in ("num", "comma", "plain"):
        style = "plain"  # offices write a negative figure plainly: -1234.50
    if style == "num":
        return (float(y), "#,##0.00")
    if style == "comma":
        return (f"{y:,.2f}", None)
    if style == "yen":
        return (f"￥{y:,.2f}" if fen >= 100000 else f"￥{y.normalize():f}", None)
    if style == "yuan":
        return (f"{y.normalize():f}元", None)
    if style == "wan":
        if fen >= 1000000 and fen % 10000 == 0:
            w = (y / 10000).normalize()
            return (f"{w:f}万元" if fen % 1000000 == 0 else f"{w:f}万", None)
        return (f"{y:.2f}", None)
    if style == "upper":
        return (upper_amount(fen), None)
    if style == "plain":
        return (f"{y:.2f}", None)
    if style == "fw":
        return (fullwidth(f"{y:.2f}"), None)
    raise ValueError(style)


def qty_text(q) -> str:
    """Canonical quantity text: an integer, or a decimal such as 4.5."""
    d = Decimal(str(q)).normalize()
    return f"{d:f}"


def qty_cell(q, style: str = "num"):
    if style == "num":
        return (int(q) if float(q).is_integer() else float(q), None)
    if style == "comma":
        return (
            f"{Decimal(str(q)):,f}".rstrip("0").rstrip(".") if "." in str(q) else f"{int(q):,}",
            None,
        )
    if style == "text":
        return (qty_text(q), None)
    if style == "fw":
        return (fullwidth(qty_text(q)), None)
    raise ValueError(style)


# ---------------------------------------------------------------- reading back


def read_text(raw) -> str:
    """Text as an auditor compares it: NFKC (full width folded), spaces trimmed."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(raw))).strip()


_CN_DATE = re.compile(r"^(\d{4})[年.\-/](\d{1,2})[月.\-/](\d{1,2})日?$")
_MD = re.compile(r"^(\d{1,2})/(\d{1,2})$")


def read_date(raw, *, year: int = YEAR) -> date | None:
    """Any date form the world writes; 'm/d' takes the ledger's year (2020)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | float):
        return EXCEL_EPOCH + timedelta(days=int(raw))
    text = read_text(raw)
    m = _CN_DATE.match(text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = _MD.match(text)
    if m:
        return date(year, int(m[1]), int(m[2]))
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    if re.fullmatch(r"\d{5}(\.0)?", text):
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    return None


def _read_upper(text: str) -> int | None:
    """Chinese capital amount to fen."""
    text = text.replace("整", "").replace("正", "")
    if text.startswith("负"):
        inner = _read_upper(text[1:] + "整")
        return None if inner is None else -inner
    total, section, number = 0, 0, 0
    fen = 0
    units = {"拾": 10, "佰": 100, "仟": 1000}
    head, sep, tail = text.partition("元")
    if not sep:  # less than one yuan: 伍角 / 伍分
        head, tail = "", text
    for ch in head:
        if ch in _DIGITS:
            number = _DIGITS.index(ch)
        elif ch in units:
            section += (number or 1) * units[ch]
            number = 0
        elif ch == "万":
            total += (section + number) * 10000
            section = number = 0
        elif ch == "亿":
            total = (total + section + number) * 100000000
            section = number = 0
        else:
            return None
    total += section + number
    m = re.fullmatch(
        r"(?:零)?(?:([壹贰叁肆伍陆柒捌玖])角)?(?:零)?(?:([壹贰叁肆伍陆柒捌玖])分)?", tail
    )
    if not m:
        return None
    if m[1]:
        fen += _DIGITS.index(m[1]) * 10
    if m[2]:
        fen += _DIGITS.index(m[2])
    return total * 100 + fen


def read_amount(raw) -> int | None:
    """Any amount form the world writes, in fen (int)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, int | float):
        return int((Decimal(str(raw)) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    text = read_text(raw).replace("¥", "").replace("￥", "").replace(",", "").replace(" ", "")
    if any(ch in text for ch in _DIGITS[1:]) or text.endswith("整"):
        return _read_upper(text)
    text = text.removesuffix("元")
    scale = Decimal(1)
    if text.endswith("万"):
        text, scale = text[:-1], Decimal(10000)
    try:
        value = Decimal(text) * scale
    except InvalidOperation:
        return None
    return int((value * 100).quantize(Decimal(1), ROUND_HALF_UP))


def read_qty(raw) -> Decimal | None:
    """A quantity as written (number, '1,000', full width), without unit conversion."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, int | float):
        return Decimal(str(raw)).normalize()
    text = read_text(raw).replace(",", "")
    text = re.sub(r"[^\d.\-]+$", "", text)
    try:
        return Decimal(text).normalize()
    except InvalidOperation:
        return None


def normalise(kind: str, raw) -> str:
    """The canonical text the answer key uses for a raw cell of the given kind."""
    if kind == "date":
        d = read_date(raw)
        return d.isoformat() if d else ""
    if kind == "amount":
        fen = read_amount(raw)
        return yuan(fen) if fen is not None else ""
    if kind == "qty":
        q = read_qty(raw)
        return f"{q:f}" if q is not None else ""
    return read_text(raw)

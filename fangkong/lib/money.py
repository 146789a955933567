"""Money as users read it: integer fen (分) shown as yuan with thousands separators."""

from decimal import ROUND_HALF_EVEN, Decimal


def yuan(fen, *, blank: str = "") -> str:
    """123456 → "1,234.56"; -5 → "-0.05"; None → `blank`. A non-integer fen is rounded."""
    if fen is None:
        return blank
    if not isinstance(fen, int):
        fen = int(Decimal(str(fen)).to_integral_value(ROUND_HALF_EVEN))
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"

"""Resident identity numbers (GB 11643-1999): format and check digit."""

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")


def normalise(value: str) -> str:
    """Strip spaces and full-width characters; upper-case a trailing x."""
    value = (value or "").strip().replace(" ", "")
    value = value.translate(
        {0xFF10 + i: ord("0") + i for i in range(10)} | {0xFF38: "X", 0xFF58: "X"}
    )
    return value.upper()


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid(value: str) -> bool:
    """True when the number has 18 characters, a real birth date and a correct check digit."""
    value = normalise(value)
    if not _PATTERN.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return check_digit(value[:17]) == value[17]


def make(region: str, born: date, sequence: int) -> str:
    """Build a valid number (used by the demo generator and tests)."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)

"""Mainland mobile numbers in one form (11 digits), for the roster and for platform sign-in alike."""

import re

_MOBILE_RE = re.compile(r"^1\d{10}$")
_NOISE_RE = re.compile(r"[\s\-()（）]")


def normalise_mobile(value: str | None) -> str | None:
    """13871000001 from '+86 138-7100-0001', '8613871000001' or '0086…'; None when not a mobile."""
    if not value:
        return None
    digits = _NOISE_RE.sub("", str(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086") and len(digits) == 15:
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _MOBILE_RE.match(digits) else None

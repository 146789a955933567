"""One-time codes: how they are made, typed and stored (only as an HMAC).

An activation code has 60 random bits, so a fast keyed hash is enough to store it: nobody can
try 2^60 guesses against a server that slows every address and account down after a few
failures (accounts/throttle.py). That keeps password hashing off the bulk path, where it would
cost ~0.3 s per account. The key is derived from SECRET_KEY unless ACCOUNT_CODE_KEY is set, so a
stolen database alone does not reveal which code belongs to whom.
"""

import hashlib
import hmac
import re
import secrets
from functools import cache

from django.conf import settings

# No 0/O, 1/I/L: a code read off paper is typed back without guessing which was meant.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols
ACTIVATION_LENGTH = 12  # 31^12 ≈ 2^59.5
UNLOCK_DIGITS = 6
_SPACE = len(ALPHABET) ** ACTIVATION_LENGTH


@cache
def _key(secret: str) -> bytes:
    return hashlib.sha256(("fangkong.access-code:" + secret).encode()).digest()


def code_hash(code: str) -> str:
    """HMAC-SHA256 of a normalised code, hex."""
    secret = settings.ACCOUNT_CODE_KEY or settings.SECRET_KEY
    return hmac.new(_key(secret), normalise(code).encode(), hashlib.sha256).hexdigest()


def normalise(typed: str) -> str:
    """What the person typed, as stored: upper case, without spaces and dashes."""
    return re.sub(r"[\s\-－—_]", "", typed or "").upper()


def new_activation_code() -> str:
    """A random activation code, e.g. 7KQM-4XTA-92HC."""
    # One unbiased draw below 31^12, written in base 31 (one call instead of twelve).
    n = secrets.randbelow(_SPACE)
    digits = []
    for _ in range(ACTIVATION_LENGTH):
        n, d = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[d])
    text = "".join(digits)
    return "-".join(text[i : i + 4] for i in range(0, ACTIVATION_LENGTH, 4))


def new_unlock_code() -> str:
    """Six random digits for an SMS."""
    return f"{secrets.randbelow(10**UNLOCK_DIGITS):0{UNLOCK_DIGITS}d}"


def binding_hash(nonce: str) -> str:
    """What an unlock code stores of the browser cookie that asked for it."""
    return hashlib.sha256(("fangkong.unlock:" + nonce).encode()).hexdigest()

"""Hostile text for the tests that put it into every field a user can set.

Each payload is harmless as text and does something if a page ever treats it as markup, script
or a template: closes a script element, runs an `onerror`/`onload` handler, breaks out of an
attribute, evaluates as a template expression, or reverses the text that follows (U+202E).
"""

SCRIPT = "</script><script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = "\"'><svg onload=alert(1)>"
TEMPLATE = "{{7*7}}"
RLO = "\u202e"
QUOTES = "\"'`"

PAYLOADS = [SCRIPT, IMG, SVG, TEMPLATE, RLO + "反", QUOTES]


def hostile(tag: str, max_length: int = 200, payloads: list[str] = PAYLOADS) -> str:
    """`tag` (to find the value again) followed by as many payloads as fit in `max_length`.

    The order of the payloads turns with the tag, so short fields get different ones.
    """
    start = sum(map(ord, tag)) % len(payloads)
    value = tag
    for p in payloads[start:] + payloads[:start]:
        if len(value) + len(p) <= max_length:
            value += p
    return value


# What can still be typed into a form or a roster: inputs refuse U+202E (fangkong/lib/text.py).
# Stored text keeps it in the hostile world (data from before the rule, a platform's user name).
TYPED = [p for p in PAYLOADS if RLO not in p]


def typed(tag: str, max_length: int = 200) -> str:
    """As `hostile`, without the payloads every text input refuses."""
    return hostile(tag, max_length, TYPED)

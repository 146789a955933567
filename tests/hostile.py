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


def hostile(tag: str, max_length: int = 200) -> str:
    """`tag` (to find the value again) followed by as many payloads as fit in `max_length`.

    The order of the payloads turns with the tag, so short fields get different ones.
    """
    start = sum(map(ord, tag)) % len(PAYLOADS)
    value = tag
    for p in PAYLOADS[start:] + PAYLOADS[:start]:
        if len(value) + len(p) <= max_length:
            value += p
    if "<" not in value and len(tag) + len(IMG) <= max_length:
        # The rotation (which follows database ids) left out every markup payload: put one first,
        # so each field carries markup whatever ids the database hands out.
        value = (tag + IMG + value[len(tag) :])[:max_length]
    return value


def typed(tag: str, max_length: int = 200) -> str:
    """As `hostile`, without U+202E: what can still be typed into a form or a roster, which refuse
    bidirectional controls (fangkong/lib/text.py). Stored text keeps it in the hostile world, as
    data from before that rule, or a platform's user name, would hold it."""
    return hostile(tag, max_length).replace(RLO, "")

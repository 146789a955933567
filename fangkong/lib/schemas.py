"""The base of every API input schema: strings refuse control characters and bidirectional
controls (lib/text.py).

The error types `control_characters` and `bidi_characters` are mapped to their Chinese messages by
the API's 422 handler.
"""

from ninja import Schema
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from fangkong.lib.text import ERR_BIDI, refusal

_ERROR_TYPES = {ERR_BIDI: "bidi_characters"}


def _refusal(value) -> str | None:
    """The message id of the first string in `value` (nested lists and dicts too) that breaks
    the rule, or None."""
    if isinstance(value, str):
        return refusal(value)
    if isinstance(value, list | tuple | set):
        items = list(value)
    elif isinstance(value, dict):
        items = [x for pair in value.items() for x in pair]
    else:
        return None
    return next((m for m in map(_refusal, items) if m), None)


class InSchema(Schema):
    """Use instead of ninja.Schema for request bodies."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value):
        msgid = _refusal(value)
        if msgid:
            raise PydanticCustomError(_ERROR_TYPES.get(msgid, "control_characters"), msgid)
        return value

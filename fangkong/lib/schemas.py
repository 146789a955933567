"""The base of every API input schema: strings refuse control characters (lib/text.py).

The error type `control_characters` is mapped to its Chinese message by the API's 422 handler.
"""

from ninja import Schema
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from fangkong.lib.text import ERR_CONTROL, has_control


def _has_control(value) -> bool:
    if isinstance(value, str):
        return has_control(value)
    if isinstance(value, list | tuple | set):
        return any(_has_control(v) for v in value)
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    return False


class InSchema(Schema):
    """Use instead of ninja.Schema for request bodies."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value):
        if _has_control(value):
            raise PydanticCustomError("control_characters", ERR_CONTROL)
        return value

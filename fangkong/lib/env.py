"""Read settings from the environment with typed defaults.

A value that does not parse never stops the process at import: the default is used and the
problem is kept (`problems()`, copied into `settings.ENV_PROBLEMS`) for the system checks
(fangkong/checks.py) to report with what to do.
"""

import json
import os

ERR_NOT_INT = "{name}={value!r} 不是整数，已按默认值 {default} 运行：请改为整数或删除该变量。"
ERR_NOT_BOOL = (
    "{name}={value!r} 不是开关值，已按默认值 {default} 运行：请写 1/true/yes/on 或 0/false/no/off。"
)
ERR_NOT_JSON = "{name} 不是合法的 JSON（{error}），已按默认值运行：请检查引号、逗号和括号。"

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}

_problems: list[str] = []


def problems() -> list[str]:
    """Every value read so far that did not parse, in the order read."""
    return list(_problems)


def envstr(name: str, default: str) -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    word = value.strip().lower()
    if word not in TRUE | FALSE:
        _problems.append(ERR_NOT_BOOL.format(name=name, value=value, default=default))
        return default
    return word in TRUE


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        _problems.append(ERR_NOT_INT.format(name=name, value=value, default=default))
        return default


def envjson(name: str, default):
    """A JSON value (the default when unset or malformed)."""
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        _problems.append(ERR_NOT_JSON.format(name=name, error=exc))
        return default

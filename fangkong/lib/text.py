"""Control characters in text: the one rule every form, API body and address goes through.

NUL cannot be stored in PostgreSQL text, and the other C0/C1 controls break Excel, Word and XML
exports or hide text on screen. Multi-line text may hold tab, line feed and carriage return;
single-line text may not.

Bidirectional controls are refused everywhere too: the twelve characters of Unicode's
Bidi_Control property. The overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069) turn
the text after them around, so "2020-02-03", "500 箱" or "报告<U+202E>xslx.exe" display as
"30-20-0202", "箱 005" or "报告exe.xlsx"; the marks (U+200E LRM, U+200F RLM, U+061C ALM) are
invisible strong characters that move digits and punctuation next to them ("1<RLM>-<RLM>2" shows
as "12-"). Chinese, English and numbers never need them; they arrive by copy and paste (Windows
wraps copied phone numbers in U+202A…U+202C). Zero-width joiners and spaces change no order and
are left alone.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

ERR_CONTROL = N_("不能包含控制字符或不可见字符（如 NUL、换行、制表符），请删除后重新填写。")
ERR_CONTROL_MULTILINE = N_("不能包含控制字符或不可见字符（如 NUL），请删除后重新填写。")
ERR_BIDI = N_(
    "不能包含改变文字方向的隐藏字符（如 U+202E），它们会让日期、数字或文件扩展名倒过来显示。"
    "这类字符常随复制粘贴带入，请删除后重新输入（必要时先粘贴到记事本再复制）。"
)

_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def has_control(text: str, *, multiline: bool = False) -> bool:
    """True when `text` holds a C0/C1 control character the rule refuses."""
    return bool((_MULTI_LINE if multiline else _SINGLE_LINE).search(text))


def has_bidi(text: str) -> bool:
    """True when `text` holds a bidirectional control (Unicode's Bidi_Control property)."""
    return bool(_BIDI.search(text))


def refusal(text: str, *, multiline: bool = False) -> str | None:
    """The message id of what the rule refuses in `text` (control characters first), or None."""
    if has_control(text, multiline=multiline):
        return ERR_CONTROL_MULTILINE if multiline else ERR_CONTROL
    if has_bidi(text):
        return ERR_BIDI
    return None


def control_message(*, multiline: bool = False) -> str:
    return _(ERR_CONTROL_MULTILINE if multiline else ERR_CONTROL)


@deconstructible
class NoControlCharacters:
    """A Django validator: refuse control characters (tab and line breaks too, unless multi-line)
    and bidirectional controls. (Uploaded files' names arrive without either: Django's multipart
    parser drops every non-printable character.)"""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        msgid = refusal(value, multiline=self.multiline) if isinstance(value, str) else None
        if msgid is not None:
            raise ValidationError(_(msgid), code="bidi" if msgid == ERR_BIDI else "control")

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline


def strings_with_control(data, *, path: str = "") -> list[str]:
    """Paths ("subjects.0.symptom_other") of the strings in nested JSON data that break the rule."""
    found = []
    if isinstance(data, str):
        if refusal(data):
            found.append(path)
    elif isinstance(data, dict):
        for key, value in data.items():
            found += strings_with_control(value, path=f"{path}.{key}" if path else str(key))
            if isinstance(key, str) and refusal(key):
                found.append(path or "__all__")
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            found += strings_with_control(value, path=f"{path}.{i}" if path else str(i))
    return found


class ControlCharacterMiddleware:
    """Refuse addresses and query strings holding control characters or bidirectional controls
    (forms and API bodies have their own fields to report on; an address has none): 422 for the
    API, 400 for pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        checks = [("__path__", request.path)]
        checks += [(k, v) for k, values in request.GET.lists() for v in [k, *values]]
        bad: dict[str, str] = {}
        for name, value in checks:
            msgid = refusal(value)
            if msgid:
                bad.setdefault(name, _(msgid))
        if bad:
            return self._refuse(request, dict(sorted(bad.items())))
        return self.get_response(request)

    @staticmethod
    def _refuse(request, bad: dict[str, str]):
        from django.http import HttpResponseBadRequest, JsonResponse

        message = next(iter(bad.values()))
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": message, "errors": {n: [m] for n, m in bad.items()}},
                status=422,
                json_dumps_params={"ensure_ascii": False},
            )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

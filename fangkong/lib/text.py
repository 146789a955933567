"""Control characters in text: the one rule every form, API body and address goes through.

NUL cannot be stored in PostgreSQL text, and the other C0/C1 controls break Excel, Word and XML
exports or hide text on screen. Multi-line text may hold tab, line feed and carriage return;
single-line text may not.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

ERR_CONTROL = N_("不能包含控制字符或不可见字符（如 NUL、换行、制表符），请删除后重新填写。")
ERR_CONTROL_MULTILINE = N_("不能包含控制字符或不可见字符（如 NUL），请删除后重新填写。")

_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control(text: str, *, multiline: bool = False) -> bool:
    """True when `text` holds a character the rule refuses."""
    return bool((_MULTI_LINE if multiline else _SINGLE_LINE).search(text))


def control_message(*, multiline: bool = False) -> str:
    return _(ERR_CONTROL_MULTILINE if multiline else ERR_CONTROL)


@deconstructible
class NoControlCharacters:
    """A Django validator: refuse control characters (tab and line breaks too, unless multi-line)."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        if isinstance(value, str) and has_control(value, multiline=self.multiline):
            raise ValidationError(control_message(multiline=self.multiline), code="control")

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline


def strings_with_control(data, *, path: str = "") -> list[str]:
    """Paths ("subjects.0.symptom_other") of the strings in nested JSON data that break the rule."""
    found = []
    if isinstance(data, str):
        if has_control(data):
            found.append(path)
    elif isinstance(data, dict):
        for key, value in data.items():
            found += strings_with_control(value, path=f"{path}.{key}" if path else str(key))
            if isinstance(key, str) and has_control(key):
                found.append(path or "__all__")
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            found += strings_with_control(value, path=f"{path}.{i}" if path else str(i))
    return found


class ControlCharacterMiddleware:
    """Refuse addresses and query strings holding control characters (forms and API bodies have
    their own fields to report on; an address has none): 422 for the API, 400 for pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = ["__path__"] if has_control(request.path) else []
        bad += [k for k, values in request.GET.lists() for v in [k, *values] if has_control(v)]
        if bad:
            return self._refuse(request, sorted(set(bad)))
        return self.get_response(request)

    @staticmethod
    def _refuse(request, names: list[str]):
        from django.http import HttpResponseBadRequest, JsonResponse

        message = control_message()
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": message, "errors": {n: [message] for n in names}},
                status=422,
                json_dumps_params={"ensure_ascii": False},
            )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

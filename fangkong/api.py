"""The HTTP API (Django Ninja): session or personal-token authentication, one router per app."""

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from fangkong.accounts.services import token_authenticate
from fangkong.lib import text


class TokenAuth(HttpBearer):
    """Authorization: Bearer fk_… — a personal API token, scoped like its owner."""

    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class CookieSessionAuth(SessionAuth):
    """The browser's session; CSRF is checked only when a session cookie is actually sent."""

    def _get_key(self, request):
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)


api = NinjaAPI(
    title="Fangkong API",
    version="1",
    description="防控系统接口。使用会话（浏览器）或个人 API 令牌（Authorization: Bearer）认证。",
    auth=[TokenAuth(), CookieSessionAuth()],
    urls_namespace="api",
)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": _("未找到，或您无权访问。")}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return api.create_response(request, {"detail": _("未登录或令牌无效。")}, status=401)


@api.exception_handler(HttpError)
def http_error(request, exc):
    # Ninja says "Cannot parse request body" in English for a body that is not JSON.
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return api.create_response(request, {"detail": _(_MESSAGES["json_invalid"])}, status=400)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


# Pydantic's messages are English; the callers are not. Map the common kinds to plain Chinese.
_MESSAGES = {
    "missing": "必填项，请填写。",
    "bool_parsing": "应为 true 或 false。",
    "bool_type": "应为 true 或 false。",
    "int_parsing": "应为整数。",
    "int_type": "应为整数。",
    "float_parsing": "应为数字。",
    "date_parsing": "日期格式应为 YYYY-MM-DD。",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD。",
    "list_type": "应为列表。",
    "string_type": "应为文本。",
    "json_invalid": "请求体不是有效的 JSON。",
    "finite_number": N_("应为有限的数字。"),
    "int_from_float": N_("应为整数。"),
    "date_from_datetime_inexact": N_("日期格式应为 YYYY-MM-DD。"),
    "control_characters": text.ERR_CONTROL,
    "bidi_characters": text.ERR_BIDI,
}
# Bounds say the bound (paging, lengths): the value comes from the error's context.
_BOUNDED = {
    "less_than_equal": (N_("不能大于 {le}。"), "le"),
    "less_than": (N_("应小于 {lt}。"), "lt"),
    "greater_than_equal": (N_("不能小于 {ge}。"), "ge"),
    "greater_than": (N_("应大于 {gt}。"), "gt"),
    "string_too_long": (N_("不能超过 {max_length} 个字符。"), "max_length"),
    "too_long": (N_("不能超过 {max_length} 项。"), "max_length"),
}


def _message(error: dict) -> str:
    kind = error.get("type", "")
    if kind in _BOUNDED:
        template, key = _BOUNDED[kind]
        return _(template).format(**{key: (error.get("ctx") or {}).get(key, "")})
    return _(_MESSAGES.get(kind, "格式不正确。"))


@api.exception_handler(ValidationError)
def invalid(request, exc):
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        loc = [str(p) for p in e.get("loc", []) if p not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(loc) or "__all__", []).append(_message(e))
    return api.create_response(
        request, {"detail": _("请求参数有误，请按提示修改。"), "errors": errors}, status=422
    )


from fangkong.accounts.api import router as accounts_router  # noqa: E402
from fangkong.health.api import router as health_router  # noqa: E402
from fangkong.org.api import router as org_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/", org_router)
api.add_router("/", health_router)

"""System checks of the settings read from the environment (`manage.py check`, and before
`migrate`, `runserver` and the other commands): a bad value is reported with what to do, instead
of a crash at import or a channel that fails only when a message is sent.

Registered by `fangkong.org.apps.OrgConfig.ready()` (org is the app every deployment has).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

ERR_WEBHOOKS_SHAPE = 'FANGKONG_WEBHOOKS 应为 {{"机器人名称": {{"url": "https://…", "secret": "…"}}}} 形式的 JSON 对象。'
ERR_WEBHOOK_ROBOT = (
    "FANGKONG_WEBHOOKS 中的机器人 {name!r} 设置有误：需要以 http:// 或 https:// 开头的 url，"
    "secret 为文字，mentions 为手机号码列表。"
)
ERR_SMS_URL = "SMS_GATEWAY_URL={url!r} 不是 http:// 或 https:// 地址，短信无法发送。"
# A message about the token, not a token.
WARN_SMS_TOKEN = "已设置 SMS_GATEWAY_URL 但没有 SMS_GATEWAY_TOKEN：短信将不带认证发出。请填入短信网关提供的令牌。"  # noqa: S105
ERR_SSO_HALF_SET = (
    "{platform}登录只设置了 {given}，还缺少 {missing}：请补齐，或全部删除以关闭该登录方式。"
)
ERR_SSO_WECOM_MODE = (
    "SSO_WECOM_MODE={mode!r} 无效：只能是 oauth（企业微信内打开）或 qr（扫码登录）。"
)
ERR_USERNAME_RULE = "ACCOUNT_USERNAME_RULE={rule!r} 无效：只能是 mobile 或 staff_number。"

# Each platform: the names that must be set together (the optional ones are not listed).
SSO_PLATFORMS = {
    "企业微信": ("SSO_WECOM_CORP_ID", "SSO_WECOM_AGENT_ID", "SSO_WECOM_SECRET"),
    "钉钉": ("SSO_DINGTALK_CLIENT_ID", "SSO_DINGTALK_CLIENT_SECRET"),
    "统一身份认证（OpenID Connect）": (
        "SSO_OIDC_SERVER_URL",
        "SSO_OIDC_CLIENT_ID",
        "SSO_OIDC_SECRET",
    ),
}


def _is_http_url(value) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@register()
def environment_values(app_configs, **kwargs) -> list:
    """Values that did not parse as the number, switch or JSON they should be."""
    return [Error(problem, id="fangkong.E001") for problem in getattr(settings, "ENV_PROBLEMS", [])]


@register()
def outbound_channels(app_configs, **kwargs) -> list:
    """Group robots and the SMS gateway (fangkong/notify/channels.py)."""
    found = []
    robots = settings.FANGKONG_WEBHOOKS
    if not isinstance(robots, dict):
        found.append(Error(ERR_WEBHOOKS_SHAPE, id="fangkong.E002"))
    else:
        for name, config in robots.items():
            ok = (
                isinstance(config, dict)
                and _is_http_url(config.get("url"))
                and isinstance(config.get("secret", ""), str)
                and isinstance(config.get("mentions", []), list)
            )
            if not ok:
                found.append(Error(ERR_WEBHOOK_ROBOT.format(name=name), id="fangkong.E003"))
    url = settings.SMS_GATEWAY_URL
    if url and not _is_http_url(url):
        found.append(Error(ERR_SMS_URL.format(url=url), id="fangkong.E004"))
    elif url and not settings.SMS_GATEWAY_TOKEN:
        found.append(Warning(WARN_SMS_TOKEN, id="fangkong.W001"))
    return found


@register()
def platform_sign_in(app_configs, **kwargs) -> list:
    """A platform's sign-in set up half-way shows a button that can only fail."""
    given = getattr(settings, "SSO_ENVIRONMENT", {})
    found = []
    for platform, names in SSO_PLATFORMS.items():
        have = [n for n in names if given.get(n)]
        if have and len(have) < len(names):
            missing = [n for n in names if n not in have]
            found.append(
                Error(
                    ERR_SSO_HALF_SET.format(
                        platform=platform, given="、".join(have), missing="、".join(missing)
                    ),
                    id="fangkong.E005",
                )
            )
    mode = given.get("SSO_WECOM_MODE", "")
    if mode and mode not in ("oauth", "qr"):
        found.append(Error(ERR_SSO_WECOM_MODE.format(mode=mode), id="fangkong.E006"))
    return found


@register()
def account_rules(app_configs, **kwargs) -> list:
    """The username rule of new accounts (otherwise 开通账号 fails when pressed)."""
    from fangkong.accounts.provisioning import RULES

    rule = settings.ACCOUNT_USERNAME_RULE
    if rule not in RULES:
        return [Error(ERR_USERNAME_RULE.format(rule=rule), id="fangkong.E007")]
    return []

"""WeCom (企业微信) sign-in on allauth's OAuth2 base. django-allauth ships no WeCom provider.

WeCom is not plain OAuth2: the code from the authorize redirect is exchanged, with the
organisation's own access token (gettoken: corpid + secret, valid two hours, rate-limited, so
cached), for the member's userid (auth/getuserinfo); the member's record (user/get) carries the
mobile, or for newer apps the sensitive-data call (auth/getuserdetail with the user_ticket that
the snsapi_privateinfo scope yields) does. Every answer has an errcode; 42001 (token expired) and
40014 (token invalid) fetch a fresh token once. The secret travels only to gettoken, in its query
string as WeCom documents, which is why urllib3's debug log is kept quiet (settings.LOGGING).
"""

import logging

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.oauth2.client import OAuth2Client
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2Adapter,
    OAuth2CallbackView,
    OAuth2LoginView,
)
from allauth.utils import get_request_param
from django.core.cache import cache
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from fangkong.sso.platforms import PlatformMixin, app_url

log = logging.getLogger(__name__)

API_URL = "https://qyapi.weixin.qq.com"
# Inside the WeCom app (the usual way staff open the system) and, for desktop browsers, the QR page.
OAUTH_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
QR_URL = "https://login.work.weixin.qq.com/wwlogin/sso/login"
TOKEN_EXPIRED = {40014, 42001}


class WeComError(ProviderException):
    """An errcode answer from WeCom; the code is kept for the error page and the log."""

    def __init__(self, errcode: int, where: str):
        super().__init__(f"WeCom {where} errcode {errcode}")
        self.errcode = errcode
        self.where = where


class WeComApi:
    """Calls to qyapi with the organisation's access token, cached and refreshed once if stale."""

    def __init__(self, app):
        self.app = app
        self.base = str(app.settings.get("api_url") or API_URL).rstrip("/")
        self.key = f"sso:wecom:token:{app.client_id}:{app.settings.get('agent_id', '')}"

    def _get(self, sess, path: str, params: dict) -> dict:
        resp = sess.get(f"{self.base}{path}", params=params)
        resp.raise_for_status()
        return resp.json()

    def token(self, sess, *, fresh: bool = False) -> str:
        if not fresh:
            cached = cache.get(self.key)
            if cached:
                return cached
        body = self._get(
            sess, "/cgi-bin/gettoken", {"corpid": self.app.client_id, "corpsecret": self.app.secret}
        )
        if body.get("errcode", 0) != 0 or not body.get("access_token"):
            raise WeComError(int(body.get("errcode", -1)), "gettoken")
        # Renew five minutes early so a token never expires between the check and the call.
        cache.set(self.key, body["access_token"], max(60, int(body.get("expires_in", 7200)) - 300))
        return body["access_token"]

    def call(self, path: str, *, params: dict | None = None, json: dict | None = None) -> dict:
        with get_adapter().get_requests_session() as sess:
            for attempt in (1, 2):
                query = {"access_token": self.token(sess, fresh=attempt == 2)} | (params or {})
                if json is None:
                    body = self._get(sess, path, query)
                else:
                    resp = sess.post(f"{self.base}{path}", params=query, json=json)
                    resp.raise_for_status()
                    body = resp.json()
                errcode = int(body.get("errcode", 0))
                if errcode in TOKEN_EXPIRED and attempt == 1:
                    log.info(
                        "WeCom token refused (errcode %s) at %s; fetching a new one", errcode, path
                    )
                    cache.delete(self.key)
                    continue
                if errcode != 0:
                    raise WeComError(errcode, path.rsplit("/", 1)[-1])
                return body
        raise AssertionError("unreachable")


class WeComClient(OAuth2Client):
    def __init__(self, *args, mode: str = "oauth", agent_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.mode, self.agent_id = mode, agent_id

    def get_redirect_url(self, authorization_url, scope, extra_params) -> str:
        if self.mode == "qr":
            params = {"login_type": "CorpApp", "appid": self.consumer_key}
        else:
            params = {"appid": self.consumer_key, "response_type": "code", "scope": " ".join(scope)}
        params |= {"agentid": self.agent_id, "redirect_uri": self.callback_url}
        if self.state:
            params["state"] = self.state
        params.update(extra_params)
        # WeCom's in-app authorize page wants the #wechat_redirect fragment.
        suffix = "#wechat_redirect" if self.mode != "qr" else ""
        return f"{authorization_url}?{urlencode(params)}{suffix}"

    def get_access_token(self, code, pkce_code_verifier=None, extra_data=None):
        raise NotImplementedError("WeCom exchanges the code in WeComAdapter")


class WeComAdapter(OAuth2Adapter):
    provider_id = "wecom"
    client_class = WeComClient

    @property
    def _settings(self) -> dict:
        return self.get_provider().app.settings

    @property
    def authorize_url(self):
        default = QR_URL if self._settings.get("mode") == "qr" else OAUTH_URL
        return app_url(self.get_provider(), "authorize_url", default)

    @property
    def access_token_url(self):
        return f"{app_url(self.get_provider(), 'api_url', API_URL)}/cgi-bin/gettoken"

    def get_client(self, request, app):
        client = super().get_client(request, app)
        client.mode = app.settings.get("mode", "oauth")
        client.agent_id = str(app.settings.get("agent_id", ""))
        return client

    def get_access_token_data(self, request, app, client, pkce_code_verifier=None):
        """Exchange the code for the member's userid (and user_ticket); no member token exists."""
        code = get_request_param(self.request, "code")
        info = WeComApi(app).call("/cgi-bin/auth/getuserinfo", params={"code": code})
        self.did_fetch_access_token = True
        if not info.get("userid"):
            # A WeChat user outside the organisation (openid only) is not a member.
            raise WeComError(0, "not-a-member")
        # allauth wants an access_token; the organisation's token stays in the cache only.
        return {
            "access_token": "",
            "userid": info["userid"],
            "user_ticket": info.get("user_ticket"),
        }

    def complete_login(self, request, app, token, **kwargs):
        response = kwargs.get("response") or {}
        api = WeComApi(app)
        member = api.call("/cgi-bin/user/get", params={"userid": response["userid"]})
        mobile = member.get("mobile")
        if not mobile and response.get("user_ticket"):
            detail = api.call(
                "/cgi-bin/auth/getuserdetail", json={"user_ticket": response["user_ticket"]}
            )
            mobile = detail.get("mobile")
        data = {"userid": response["userid"], "name": member.get("name", ""), "mobile": mobile}
        return self.get_provider().sociallogin_from_response(request, data)


class WeCom(PlatformMixin, OAuth2Provider):
    id = "wecom"
    name = "企业微信"
    label = _("企业微信登录")
    oauth2_adapter_class = WeComAdapter

    def get_default_scope(self):
        # snsapi_privateinfo: the member agrees to share the mobile (getuserdetail).
        return ["snsapi_privateinfo"]

    def extract_uid(self, data) -> str:
        return str(data["userid"])

    def extract_display_name(self, data) -> str:
        return str(data.get("name") or "")

    def extract_mobile(self, data):
        return data.get("mobile"), True


wecom_login = OAuth2LoginView.adapter_view(WeComAdapter)
wecom_callback = OAuth2CallbackView.adapter_view(WeComAdapter)

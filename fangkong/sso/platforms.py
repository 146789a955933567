"""Sign-in platforms on django-allauth: DingTalk and OpenID Connect (allauth's own, with base URLs
from settings) and WeCom (ours, in wecom.py). Each hands the sign-in flow the mobile number the
platform vouches for, and keeps no personal data of the platform's beyond a name and a masked
mobile (SocialAccount.extra_data)."""

from allauth.socialaccount.providers.dingtalk.provider import DingTalkProvider
from allauth.socialaccount.providers.dingtalk.views import DingTalkOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.utils.translation import gettext_lazy as _

from fangkong.lib.masking import mask_mobile
from fangkong.lib.mobile import normalise_mobile


def app_url(provider, key: str, default: str) -> str:
    """A base URL from the app's settings (SOCIALACCOUNT_PROVIDERS), without a trailing slash."""
    return str(provider.app.settings.get(key) or default).rstrip("/")


class PlatformMixin:
    """What every platform gives the sign-in flow: a display name and the vouched-for mobile."""

    label = ""  # the button text, e.g. 企业微信登录

    def extract_display_name(self, data) -> str:
        raise NotImplementedError

    def extract_mobile(self, data) -> tuple[str | None, bool]:
        """(the mobile as the platform gives it, whether the platform says it checked it)."""
        raise NotImplementedError

    def extract_extra_data(self, data) -> dict:
        # Stored on SocialAccount for the administrator: a name and a masked mobile, nothing else.
        mobile, _verified = self.extract_mobile(data)
        return {
            "name": self.extract_display_name(data),
            "mobile_masked": mask_mobile(normalise_mobile(mobile) or ""),
        }

    def extract_common_fields(self, data) -> dict:
        # Only used by allauth to pre-fill a new user, which this project never creates.
        return {}

    def extract_email_addresses(self, data) -> list:
        return []

    def sociallogin_from_response(self, request, response):
        login = super().sociallogin_from_response(request, response)
        mobile, verified = self.extract_mobile(response)
        login.fk_mobile = normalise_mobile(mobile) if verified else None
        login.fk_mobile_unverified = bool(mobile) and not verified
        login.fk_display_name = self.extract_display_name(response)
        return login


# --- DingTalk (钉钉): allauth's provider, with its URLs from settings so tests reach a local server.


class DingTalkAdapter(DingTalkOAuth2Adapter):
    @property
    def _api(self) -> str:
        return app_url(self.get_provider(), "api_url", "https://api.dingtalk.com")

    @property
    def access_token_url(self):
        return f"{self._api}/v1.0/oauth2/userAccessToken"

    @property
    def profile_url(self):
        return f"{self._api}/v1.0/contact/users/me"

    @property
    def authorize_url(self):
        return app_url(
            self.get_provider(), "authorize_url", "https://login.dingtalk.com/oauth2/auth"
        )


class DingTalk(PlatformMixin, DingTalkProvider):
    name = "钉钉"
    label = _("钉钉登录")
    oauth2_adapter_class = DingTalkAdapter

    def get_auth_params(self):
        # DingTalk's authorize page requires prompt=consent.
        return {"prompt": "consent"} | super().get_auth_params()

    def extract_display_name(self, data) -> str:
        return str(data.get("nick") or "")

    def extract_mobile(self, data):
        # stateCode is the country code; only mainland numbers can match the roster.
        if str(data.get("stateCode") or "86") != "86":
            return None, False
        return data.get("mobile"), True


dingtalk_login = OAuth2LoginView.adapter_view(DingTalkAdapter)
dingtalk_callback = OAuth2CallbackView.adapter_view(DingTalkAdapter)


# --- A standard OpenID Connect provider (a province's identity platform, Keycloak, …).


class OpenIdConnect(PlatformMixin, OpenIDConnectProvider):
    label = None  # the configured app's name

    def get_default_scope(self):
        return ["openid", "profile", "phone"]

    def extract_display_name(self, data) -> str:
        claims = data.get("userinfo") or data.get("id_token") or data
        return str(claims.get("name") or claims.get("preferred_username") or "")

    def extract_mobile(self, data):
        # The standard claims: phone_number, and phone_number_verified when the IdP checked it.
        # An explicit false is not trusted; an IdP that does not say is taken at its word.
        claims = {}
        for part in ("id_token", "userinfo"):
            claims |= data.get(part) or {}
        if not claims:
            claims = data
        verified = claims.get("phone_number_verified")
        return claims.get("phone_number"), verified is not False and verified != "false"

"""allauth adapters: no sign-up ever, a confirmation before the first binding, our own pages."""

import logging
import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, _build_apps_from_settings
from allauth.socialaccount.providers.base import AuthError
from django.shortcuts import redirect, render

from fangkong.sso import services
from fangkong.sso.wecom import WeComError

log = logging.getLogger(__name__)

PENDING_KEY = "sso_pending"
# Sessions are restored by the one sign-in backend, which also ends a leaver's session.
MODEL_BACKEND = "fangkong.accounts.backends.SignInBackend"


def platform_name(provider) -> str:
    """企业微信, 钉钉, or the name given to the OpenID Connect app (allauth names it so)."""
    return str(getattr(provider, "name", provider))


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def login(self, request, user) -> None:
        # The first backend with get_user would be chosen otherwise; ours is the model backend.
        user.backend = MODEL_BACKEND
        super().login(request, user)

    def add_message(self, *args, **kwargs) -> None:
        # allauth's stock messages are not ours to show (wording, language); pages say what happened.
        return None


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return False

    def list_apps(self, request, provider=None, client_id=None) -> list:
        """Platforms come from settings only (SOCIALACCOUNT_PROVIDERS, from the environment):
        no table of apps to keep in step, and the sign-in page makes no query for its buttons."""
        apps = _build_apps_from_settings(provider=provider, client_id=client_id)
        return [app for provider_apps in apps.values() for app in provider_apps]

    def pre_social_login(self, request, sociallogin) -> None:
        """Sign in a bound identity; send an unbound one to confirmation or to a clear refusal."""
        # Only ever "log in": connect/redirect processes would bypass the checks below.
        sociallogin.state["process"] = "login"
        provider = sociallogin.account.provider
        name = platform_name(sociallogin.provider)
        if sociallogin.is_existing:
            if not services.user_may_sign_in(sociallogin.user):
                raise ImmediateHttpResponse(refusal(request, services.ERR_INACTIVE))
            services.sign_in_recorded(user=sociallogin.user, provider=provider)
            return
        mobile = getattr(sociallogin, "fk_mobile", None)
        match = services.identity_match(
            mobile=mobile, unverified=getattr(sociallogin, "fk_mobile_unverified", False)
        )
        if match.reason:
            services.identity_refused(
                provider=provider, reason=match.reason, mobile=mobile, people=match.people
            )
            raise ImmediateHttpResponse(
                refusal(request, match.message(platform=name, mobile=mobile))
            )
        request.session[PENDING_KEY] = {
            "provider": provider,
            "platform": name,
            "uid": sociallogin.account.uid,
            "person": match.person.pk,
            "display_name": getattr(sociallogin, "fk_display_name", ""),
            "extra_data": sociallogin.account.extra_data,
            "next": sociallogin.state.get("next") or "",
            "at": time.time(),
        }
        raise ImmediateHttpResponse(redirect("sso:confirm"))

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        """Every failure of the platform dance ends on our page; the log names no secret."""
        errcode = getattr(exception, "errcode", None)
        log.warning(
            "platform sign-in failed: provider=%s error=%s exception=%s errcode=%s",
            getattr(provider, "id", provider),
            error,
            type(exception).__name__ if exception else None,
            errcode,
        )
        raise ImmediateHttpResponse(
            render(
                request,
                "sso/error.html",
                {
                    "platform": platform_name(provider),
                    "cancelled": error == AuthError.CANCELLED,
                    "not_member": isinstance(exception, WeComError)
                    and exception.where == "not-a-member",
                    "errcode": errcode,
                },
                status=401,
            )
        )


def refusal(request, message: str):
    return render(request, "sso/refused.html", {"message": message}, status=403)

"""The sign-in redirect and callback of each platform. allauth reverses these names without a
namespace (`wecom_callback`, `openid_connect_login`, …), so they are included without one."""

from allauth.socialaccount.providers.openid_connect import urls as oidc_urls
from django.urls import include, path

from fangkong.sso import platforms, wecom

urlpatterns = [
    path("wecom/login/", wecom.wecom_login, name="wecom_login"),
    path("wecom/login/callback/", wecom.wecom_callback, name="wecom_callback"),
    path("dingtalk/login/", platforms.dingtalk_login, name="dingtalk_login"),
    path("dingtalk/login/callback/", platforms.dingtalk_callback, name="dingtalk_callback"),
    path("", include(oidc_urls)),
]

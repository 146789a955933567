"""URL configuration. Every pattern here must have a scope test (tests/test_scope_coverage.py)."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from fangkong import views
from fangkong.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("fangkong.accounts.urls")),
    path("org/", include("fangkong.org.urls")),
    path("audit/", include("fangkong.audit.urls")),
    path("health/", include("fangkong.health.urls")),
    path("reports/", include("fangkong.reports.urls")),
    path("notify/", include("fangkong.notify.urls")),
    path("screen/", include("fangkong.screen.urls")),
    path("notices/", include("fangkong.notices.urls")),
    path("relief/", include("fangkong.relief.urls")),
    path("sso/", include("fangkong.sso.urls")),
    # The platforms' redirect and callback URLs: allauth reverses them without a namespace.
    path("sso/", include("fangkong.sso.platform_urls")),
    path("api/v1/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]

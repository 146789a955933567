"""Our platform sign-in pages (namespaced). The platforms' own redirect URLs are in platform_urls."""

from django.urls import path

from fangkong.sso import views

app_name = "sso"
urlpatterns = [
    path("confirm/", views.confirm, name="confirm"),
    path("adoption/", views.adoption, name="adoption"),
]

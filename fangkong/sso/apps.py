from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "fangkong.sso"
    label = "sso"
    verbose_name = _("平台登录")

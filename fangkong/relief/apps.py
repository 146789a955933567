"""Relief-fund and donated-materials follow-up audit (跟踪审计)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "fangkong.relief"
    verbose_name = _("救灾资金物资审计")

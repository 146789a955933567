"""Notices: notices and work plans (通知/工作方案) with read receipts, and the reminder ladder."""

from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "fangkong.notices"
    verbose_name = "通知与催报"

"""Notify: one outbox for every message (in-app inbox, email, SMS, WeCom and DingTalk robots)."""

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "fangkong.notify"
    verbose_name = "消息通知"

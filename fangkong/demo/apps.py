"""Demo data: the organisation, its accounts and a day of activity (management commands only)."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "fangkong.demo"
    verbose_name = "演示数据"

"""Reports: unit daily reports and zero reports, review up the chain, live roll-up, signals."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "fangkong.reports"
    verbose_name = "疫情日报告"

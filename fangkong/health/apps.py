"""Health: daily check-ins for staff and families, abnormal follow-up cases, exemptions."""

from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "fangkong.health"
    verbose_name = "健康打卡"

"""Audit: the append-only trail of writes and of views of personal data."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "fangkong.audit"
    verbose_name = "审计日志"

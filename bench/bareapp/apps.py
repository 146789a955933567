"""A bench-only app: the bare baseline endpoint the check-in is measured against."""

from django.apps import AppConfig


class BareAppConfig(AppConfig):
    name = "bench.bareapp"
    label = "bareapp"

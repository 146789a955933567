"""Org: the unit tree, reporting lines, people and their families."""

from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "fangkong.org"
    verbose_name = "组织与人员"

    def ready(self) -> None:
        # The project's checks of settings from the environment (registered on import).
        from fangkong import checks  # noqa: F401

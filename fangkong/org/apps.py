"""Org: the unit tree, reporting lines, people and their families."""

from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "fangkong.org"
    verbose_name = "组织与人员"

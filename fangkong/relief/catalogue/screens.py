"""Catalogue tests: screens (see fangkong/relief/catalogue/__init__.py)."""

from fangkong.relief.catalogue import Hit, Param, test  # noqa: F401

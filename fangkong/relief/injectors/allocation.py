"""Injectors and decoys: allocation (see fangkong/relief/injectors/__init__.py)."""

from fangkong.relief.injectors import Decoy, Planted, decoy, injector  # noqa: F401

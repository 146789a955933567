"""Relief scope cases (trace): see tests/test_relief_scope.py."""

from tests.relief_case import Case, u  # noqa: F401

CASES: list = []

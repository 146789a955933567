"""One scope case for a relief page: who asks, for what, and what they must get."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class Case:
    name: str  # URL name, "relief:..."
    persona: str  # auditor (lead), auditor2 (member), auditor_out, admin, staff, ...
    path: Callable  # ReliefWorld → URL
    status: int
    method: str = "get"
    data: dict | None = None
    absent: tuple[str, ...] = ()


def u(name: str, *args: Callable | object, query: str = "") -> Callable:
    """A path builder: args may be callables of the ReliefWorld."""
    return lambda rw: reverse(name, args=[a(rw) if callable(a) else a for a in args]) + query

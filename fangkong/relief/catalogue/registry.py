"""The catalogue's registry: the `@test` decorator, the tests it collects, their parameters and
hits. Test modules import from here; the package imports them (`load()`)."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    """A documented, editable parameter of a test."""

    name: str
    default: float | int | str
    label: str  # plain Chinese: what it means and its unit


@dataclass
class Hit:
    """One problem found by a test: its evidence rows and what is at risk."""

    row_ids: list[int]
    detail: str
    amount_fen: int | None = None
    quantity: int | None = None
    key: str = ""  # stable identity when the rows alone are not (e.g. a series gap)
    severity: str | None = None  # overrides the test's default


@dataclass(frozen=True)
class Test:
    """A catalogue entry: id, plain-Chinese description, the rule it rests on, its parameters."""

    id: str
    category: str
    title: str
    description: str
    rule: str
    severity: str
    fn: Callable
    params: tuple[Param, ...] = ()
    screen: bool = False  # a statistical screen, not proof (Benford, round numbers)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


REGISTRY: dict[str, Test] = {}
CATEGORIES = {
    "money_in": "资金收入",
    "payments": "资金支付",
    "goods": "物资管理",
    "allocation": "物资分配",
    "procurement": "采购",
    "subsidies": "补助发放",
    "disclosure": "信息公开",
    "screens": "统计筛查",
}


def test(
    id: str,
    *,
    category: str,
    title: str,
    description: str,
    rule: str,
    severity: str = "medium",
    params: tuple[Param, ...] = (),
    screen: bool = False,
):
    """Register a test function `fn(con, params: dict) -> list[Hit]`."""

    def register(fn):
        REGISTRY[id] = Test(id, category, title, description, rule, severity, fn, params, screen)
        return fn

    return register


test.__test__ = False  # not a pytest test

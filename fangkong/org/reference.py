"""Default reference data (level names and ranks), ensured idempotently by the demo and tests."""

from fangkong.org.models import Rank, UnitLevel

LEVELS = [
    ("province", "省厅", "Provincial department", 10),
    ("city", "市局", "City bureau", 20),
    ("county", "县局", "County bureau", 30),
    ("division", "处室", "Division", 40),
    ("command", "指挥部", "Epidemic command", 50),
]
RANKS = [
    ("ting", "厅级", "Department level", 10),
    ("fu_ting", "副厅级", "Deputy department level", 20),
    ("zheng_chu", "正处级", "Division level", 30),
    ("fu_chu", "副处级", "Deputy division level", 40),
    ("zheng_ke", "正科级", "Section level", 50),
    ("fu_ke", "副科级", "Deputy section level", 60),
    ("keyuan", "科员及以下", "Clerk and below", 70),
]


def ensure_reference_data() -> tuple[dict[str, UnitLevel], dict[str, Rank]]:
    """Create missing default levels and ranks; return both keyed by code."""
    for code, name, name_en, order in LEVELS:
        UnitLevel.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "order": order}
        )
    for code, name, name_en, order in RANKS:
        Rank.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "order": order}
        )
    return (
        {lv.code: lv for lv in UnitLevel.objects.all()},
        {r.code: r for r in Rank.objects.all()},
    )

"""Unit codes are in addresses (/org/units/<code>/): only a safe set of characters is accepted, by
the roster (a problem at the row) and by the model (issue 11: a code with "/" was imported and
every address of the unit answered 500).

The message constant is imported inside each test, after the behaviour it checks, so on the old
code the tests fail on the behaviour rather than on the import.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fangkong.org import services
from fangkong.org.models import OrgUnit, RosterUpload, UnitLevel
from tests.test_roster import UNIT_HEADERS, csv_bytes, problems, upload

BAD = ["HZ/KS", "HZ KS", "..", ".HZ", "-HZ", "HZ?x=1", "HZ#1", "HZ%2F", "ＨＧ-ＫＳ", "HZ\\KS"]
GOOD = ["HZ-KS_1.a", "黄州-科室1", "421102001"]


def test_roster_refuses_codes_outside_the_safe_set(world, client_for):
    c = client_for("city_coord")
    rows = [[code, f"新科室{i}", "", "HG-HZ", "处室", "", ""] for i, code in enumerate(BAD + GOOD)]
    units = OrgUnit.objects.count()
    r = upload(c, "单位.csv", csv_bytes([UNIT_HEADERS, *rows]))
    assert r.status_code == 302
    from fangkong.org.models import ERR_UNIT_CODE

    up = RosterUpload.objects.get()
    assert problems(up) == [("单位", i + 2, "单位编码", ERR_UNIT_CODE) for i in range(len(BAD))]
    assert OrgUnit.objects.count() == units


def test_safe_codes_import_and_their_pages_open(world, client_for):
    c = client_for("city_coord")
    rows = [[code, f"新科室{i}", "", "HG-HZ", "处室", "", ""] for i, code in enumerate(GOOD)]
    r = upload(c, "单位.csv", csv_bytes([UNIT_HEADERS, *rows]))
    r = c.post(r["Location"])
    assert r.status_code == 302
    for code in GOOD:
        assert c.get(reverse("org:unit", args=[code])).status_code == 200, code
        assert c.get(reverse("accounts:unit_roles", args=[code])).status_code == 200, code
    parent = c.get(reverse("org:unit", args=["HG-HZ"]))  # links to every child's page
    assert parent.status_code == 200
    for code in GOOD:
        assert reverse("org:unit", args=[code]) in parent.content.decode()


@pytest.mark.parametrize("code", BAD)
def test_the_model_refuses_them_too(world, code):
    with pytest.raises(ValidationError) as caught:
        services.unit_create(
            actor=world.users["admin"],
            code=code,
            name="新科室",
            level=UnitLevel.objects.get(code="division"),
            parent=world.units["HG-HZ"],
        )
    from fangkong.org.models import ERR_UNIT_CODE

    assert caught.value.message_dict == {"code": [ERR_UNIT_CODE]}


def test_a_unit_with_an_old_code_can_still_be_renamed(world):
    """Codes from before the rule are checked only when they change."""
    unit = world.units["HG-MC"]
    OrgUnit.objects.filter(pk=unit.pk).update(code="HG MC")
    unit.refresh_from_db()
    services.unit_update(actor=world.users["admin"], unit=unit, name="麻城市审计局（新）")
    assert OrgUnit.objects.get(pk=unit.pk).name == "麻城市审计局（新）"
    with pytest.raises(ValidationError):
        services.unit_update(actor=world.users["admin"], unit=unit, code="HG/MC")

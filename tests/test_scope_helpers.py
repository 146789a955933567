"""The named scope questions of org.selectors that callers ask instead of looping over grants."""

from datetime import date

import pytest

from fangkong.accounts.models import User
from fangkong.org import selectors as org
from fangkong.org import services as org_services
from fangkong.org.models import Role, UnitLevel
from fangkong.reports import selectors as reports
from fangkong.reports.models import ReportForm


@pytest.fixture
def rform(world):
    form = ReportForm.objects.create(
        code="daily", name="日报告", root=world.units["HB"], active_from=date(2020, 1, 1)
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    return form


@pytest.fixture
def unit_auditor(world):
    """An auditor whose grant names a unit (the constraint allows it): relief only, no unit view."""
    user = User.objects.create_user("unit_auditor")
    org_services.role_assign(
        actor=world.users["admin"], user=user, role=Role.AUDITOR, unit=world.units["HG"]
    )
    return user


def test_forms_for_asks_for_the_unit_view_capability(world, rform, unit_auditor):
    """A form rooted above a user's units applies to them only through a grant that lets them
    see units: an auditor's grant at 黄冈 does not open the province's form (it did when the
    rooted-above rule looked at every grant whatever its capability)."""
    assert list(reports.forms_for(world.users["city_coord"])) == [rform]
    assert list(reports.forms_for(world.users["county_liaison"])) == [rform]
    assert list(reports.forms_for(unit_auditor)) == []
    assert not org.can(unit_auditor, org.CAP_UNITS_VIEW, world.units["HG"])


def test_holds_granted_and_caps(world, unit_auditor):
    coord, liaison, staff = (world.users[k] for k in ("city_coord", "county_liaison", "staff"))
    assert org.holds(coord, org.CAP_CHASE) and not org.holds(liaison, org.CAP_CHASE)
    assert org.holds(liaison, org.CAP_REPORT) and not org.holds(staff, org.CAP_REPORT)
    assert org.holds(world.users["admin"], org.CAP_CHASE)  # global
    assert org.holds(unit_auditor, org.CAP_RELIEF) and not org.holds(unit_auditor, org.CAP_CHASE)
    assert org.caps_of(staff) == frozenset()
    assert org.CAP_ROLES_MANAGE in org.caps_of(coord) and org.CAP_REPORT not in org.caps_of(coord)
    # A global grant is among `granted` but names no unit, so not among `granted_units`.
    admin = world.users["admin"]
    assert [g.unit_id for g in org.granted(admin, org.CAP_CHASE)] == [None]
    assert org.granted_units(admin, org.CAP_CHASE) == []
    assert [g.unit_code for g in org.granted_units(coord, org.CAP_CHASE)] == ["HG"]
    assert org.granted_units(unit_auditor, org.CAP_UNITS_VIEW) == []
    assert [g.unit_code for g in org.granted_units(unit_auditor)] == ["HG"]


def test_granted_units_name_each_unit_once_in_path_order(world):
    """The leader who is also the liaison of a unit holds two grants there: one unit."""
    hz = world.units["HG-HZ"]
    org_services.unit_set_responsibles(
        actor=world.users["admin"],
        unit=hz,
        first_responsible=world.people["county_liaison"],
        liaisons=[world.people["county_liaison"]],
    )
    liaison = User.objects.get(pk=world.users["county_liaison"].pk)  # grants load afresh
    assert {g.role for g in org.grants(liaison)} == {"liaison", "leader"}
    assert [g.unit_code for g in org.granted_units(liaison, org.CAP_HEALTH_VIEW)] == ["HG-HZ"]
    org_services.role_assign(
        actor=world.users["admin"], user=liaison, role=Role.COORDINATOR, unit=world.units["XG"]
    )
    liaison = User.objects.get(pk=liaison.pk)
    codes = [g.unit_code for g in org.granted_units(liaison, org.CAP_HEALTH_VIEW)]
    assert codes == ["HG-HZ", "XG"]  # by path: 湖北/黄冈/黄州 before 湖北/孝感


def test_role_readers(world):
    assert org.coordinators_in(world.units["HG"]) == {
        world.users["city_coord"].pk: world.units["HG"].pk
    }
    assert set(org.coordinators_in(world.units["HB"])) == {
        world.users[k].pk for k in ("prov_coord", "city_coord", "outsider")
    }
    contacts = {(unit, user) for unit, user, _e, _m in org.coordinator_contacts()}
    assert (world.units["XG"].pk, world.users["outsider"].pk) in contacts
    assert org.roles_by_user([world.users["city_coord"].pk]) == {
        world.users["city_coord"].pk: [("coordinator", "HG")]
    }
    assert list(org.holders_of(Role.ADMIN)) == [world.users["admin"]]

"""The unit tree: paths, subtree queries, moves, open/closed dates, reporting lines, ranks, scope."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.org import selectors, services
from fangkong.org.models import OrgUnit, Person, Rank, ancestor_ids, subtree_bounds


def test_paths_encode_ancestry(world):
    zh = world.units["HG-HZ-ZH"]
    assert ancestor_ids(zh.path) == [world.units[c].pk for c in ["HB", "HG", "HG-HZ", "HG-HZ-ZH"]]
    assert zh.depth == 4


def test_subtree_is_one_query(world):
    with CaptureQueriesContext(connection) as ctx:
        codes = set(OrgUnit.objects.subtree_of(world.units["HG"]).values_list("code", flat=True))
    assert len(ctx) == 1
    assert codes == {"HG", "HG-HZ", "HG-HZ-ZH", "HG-MC"}


def test_subtree_query_uses_the_path_index(world):
    qs = OrgUnit.objects.subtree_of(world.units["HG"]).values("id")
    plan = qs.explain()
    if connection.vendor == "sqlite":
        assert "USING" in plan and "INDEX" in plan, plan
    else:
        # A tiny table may be seq-scanned; forbid that to see the index is usable.
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            plan = qs.explain()
        assert "Index" in plan, plan


def test_subtree_bounds_do_not_leak_to_siblings():
    low, high = subtree_bounds("0000000100000002")
    assert low <= "000000010000000200000009" < high
    assert not (low <= "0000000100000003" < high)
    assert not (low <= "00000001000000120000" < high) or "00000001000000120000".startswith(low)


def test_moving_a_unit_moves_its_subtree(world):
    admin = world.users["admin"]
    services.unit_update(actor=admin, unit=world.units["HG-HZ"], parent=world.units["XG"])
    zh = OrgUnit.objects.get(code="HG-HZ-ZH")
    assert ancestor_ids(zh.path)[:2] == [world.units["HB"].pk, world.units["XG"].pk]
    assert set(OrgUnit.objects.subtree_of(world.units["XG"]).values_list("code", flat=True)) == {
        "XG",
        "XG-XN",
        "HG-HZ",
        "HG-HZ-ZH",
    }


def test_a_unit_cannot_move_under_its_own_descendant(world):
    with pytest.raises(ValidationError) as exc:
        services.unit_update(
            actor=world.users["admin"], unit=world.units["HG"], parent=world.units["HG-HZ-ZH"]
        )
    assert services.ERR_PARENT_CYCLE in str(exc.value)


def test_open_and_closed_units(world):
    services.unit_update(
        actor=world.users["admin"], unit=world.units["HG-MC"], closed_on=date(2020, 2, 1)
    )
    open_codes = set(OrgUnit.objects.open_on(date(2020, 2, 1)).values_list("code", flat=True))
    assert "HG-MC" not in open_codes
    assert "HG-MC" in set(OrgUnit.objects.open_on(date(2020, 1, 31)).values_list("code", flat=True))
    with pytest.raises(ValidationError):
        services.unit_update(
            actor=world.users["admin"], unit=world.units["HG-MC"], opened_on=date(2020, 3, 1)
        )


def test_extra_reporting_line(world):
    hz = world.units["HG-HZ"]
    assert [line.superior.code for line in hz.reporting_lines.all()] == ["HG-ZHB"]
    with pytest.raises(ValidationError):
        services.reporting_line_add(actor=world.users["admin"], unit=hz, superior=hz)


def test_ranks_compare_by_order(world):
    fu_chu, ke = Rank.objects.get(name="副处级"), Rank.objects.get(name="科员及以下")
    assert fu_chu.at_least(ke) and not ke.at_least(fu_chu)
    assert [r.name for r in Rank.objects.all()][:2] == ["厅级", "副厅级"]


def test_liaison_and_responsible_must_belong_to_the_unit(world):
    with pytest.raises(ValidationError):
        services.unit_set_responsibles(
            actor=world.users["admin"],
            unit=world.units["HG-MC"],
            first_responsible=world.people["staff"],
            liaisons=[],
        )
    with pytest.raises(ValidationError):
        services.unit_set_responsibles(
            actor=world.users["admin"],
            unit=world.units["HG-MC"],
            first_responsible=None,
            liaisons=[world.people["xn_clerk"]],
        )


def test_grants_and_scope_checks(world):
    liaison = world.users["county_liaison"]
    roles = {(g.role, g.unit_id) for g in selectors.grants(liaison)}
    assert roles == {("liaison", world.units["HG-HZ"].pk)}
    leader = {g.role for g in selectors.grants(world.users["leader"])}
    assert leader == {"leader"}
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.can(liaison, selectors.CAP_PEOPLE_VIEW, world.units["HG-HZ-ZH"])
        assert not selectors.can(liaison, selectors.CAP_PEOPLE_VIEW, world.units["HG-MC"])
        assert not selectors.can(liaison, selectors.CAP_CHASE, world.units["HG-HZ"])
    assert len(ctx) == 0  # grants are cached on the user object


def test_people_scope(world):
    names = set(selectors.people_for(world.users["city_coord"]).values_list("name", flat=True))
    assert "孙丽" not in names and "张伟" in names
    assert set(selectors.people_for(world.users["staff"]).values_list("name", flat=True)) == {
        "张伟"
    }
    assert selectors.people_for(world.users["admin"]).count() == Person.objects.count()


def test_id_numbers_are_validated_encrypted_and_masked(world):
    p = world.people["staff"]
    assert p.id_number_masked.startswith("420") and "*" in p.id_number_masked
    assert p.id_number_masked[-4:] in services.person_reveal_id_number(
        actor=world.users["admin"], person=p
    )
    assert "420102" not in p.id_number_encrypted
    with pytest.raises(ValidationError) as exc:
        services.person_update(actor=world.users["admin"], person=p, id_number="420102198503040011")
    assert services.ERR_ID_INVALID in str(exc.value)

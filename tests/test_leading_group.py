"""The leading group (领导小组): dated seats, never rewritten, shown wherever the unit is."""

from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from fangkong.audit.models import AuditEvent
from fangkong.org import selectors, services
from fangkong.org.models import LeadingGroupSeat, UnitLevel

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2020, 2, 3, 9, 0, tzinfo=SH)


@pytest.fixture
def hz(world, clock):
    """黄州区审计局 with 刘志强 (its first responsible person) and 陈晓东 (its liaison)."""
    clock.freeze(MONDAY)
    return world.units["HG-HZ"]


def appoint(world, who="county_liaison", *, person, role, day=date(2020, 2, 1), **kw):
    return services.leading_group_appoint(
        actor=world.users[who],
        unit=world.units["HG-HZ"],
        person=world.people[person],
        role=role,
        valid_from=day,
        **kw,
    )


def test_without_seats_the_first_responsible_person_leads_by_default(world, hz):
    group = selectors.leading_group_on(hz, date(2020, 2, 3))
    assert group.leader == world.people["leader"]
    assert group.leader_is_default and not group.is_set


def test_the_liaison_names_the_group_and_it_is_audited(world, hz):
    appoint(world, person="leader", role="leader", duty="全面负责")
    appoint(world, person="county_liaison", role="deputy")
    appoint(world, person="staff", role="member", duty="后勤保障")
    appoint(
        world, person="county_liaison", role="office", phone="0713-8888888", day=date(2020, 2, 3)
    )
    group = selectors.leading_group_on(hz, date(2020, 2, 3))
    assert group.leader == world.people["leader"] and not group.leader_is_default
    assert [s.person.name for s in group.members] == ["张伟"]
    # 陈晓东 moved from 副组长 to the office on 2-3: the deputy seat ended on 2-2.
    assert group.deputies == []
    assert group.office.person.name == "陈晓东"
    assert group.summary() == "组长 刘志强；办公室 陈晓东 0713-8888888"
    on_2nd = selectors.leading_group_on(hz, date(2020, 2, 2))
    assert [s.person.name for s in on_2nd.deputies] == ["陈晓东"] and on_2nd.office is None
    actions = list(
        AuditEvent.objects.filter(action__startswith="leading_group.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["leading_group.appoint"] * 3 + ["leading_group.end", "leading_group.appoint"]


def test_a_new_leader_closes_the_old_seat_and_history_answers_for_any_day(world, hz):
    first = appoint(world, person="leader", role="leader", day=date(2020, 1, 25))
    appoint(world, person="county_liaison", role="leader", day=date(2020, 2, 3))
    first.refresh_from_db()
    assert first.valid_to == date(2020, 2, 2)  # closed, not rewritten
    assert selectors.leading_group_on(hz, date(2020, 1, 30)).leader.name == "刘志强"
    assert selectors.leading_group_on(hz, date(2020, 2, 3)).leader.name == "陈晓东"
    assert selectors.leading_group_on(hz, date(2020, 1, 24)).leader_is_default
    # A later appointment dated before the current 组长's start would overwrite history.
    with pytest.raises(ValidationError) as exc:
        appoint(world, person="staff", role="leader", day=date(2020, 2, 1))
    assert exc.value.message_dict["valid_from"] == [services.ERR_GROUP_BEFORE_CURRENT]
    assert LeadingGroupSeat.objects.count() == 2


@pytest.mark.parametrize(
    ("person", "day", "field", "error"),
    [
        ("mc_clerk", date(2020, 2, 3), "person", "ERR_GROUP_PERSON_OUTSIDE"),
        ("xn_clerk", date(2020, 2, 3), "person", "ERR_GROUP_PERSON_OUTSIDE"),
        ("staff", date(2018, 2, 3), "valid_from", "ERR_GROUP_DATE_WINDOW"),
        ("staff", date(2099, 2, 3), "valid_from", "ERR_GROUP_DATE_WINDOW"),
    ],
)
def test_bad_appointments_are_refused(world, hz, person, day, field, error):
    with pytest.raises(ValidationError) as exc:
        appoint(world, person=person, role="member", day=day)
    assert exc.value.message_dict[field] == [getattr(services, error)]
    assert not LeadingGroupSeat.objects.exists()


def test_a_person_who_left_cannot_be_seated(world, hz):
    services.person_update(
        actor=world.users["admin"], person=world.people["staff"], left_on=date(2020, 1, 31)
    )
    world.people["staff"].refresh_from_db()
    with pytest.raises(ValidationError):
        appoint(world, person="staff", role="member")


def test_only_the_units_liaison_or_coordinators_above_manage_it(world, hz):
    appoint(world, "city_coord", person="staff", role="member")
    appoint(world, "admin", person="county_liaison", role="deputy")
    for who in ("leader", "staff", "outsider"):
        with pytest.raises(PermissionDenied):
            appoint(world, who, person="leader", role="leader")


def test_the_same_seat_twice_and_ending_rules(world, hz):
    seat = appoint(world, person="staff", role="member")
    with pytest.raises(ValidationError) as exc:
        appoint(world, person="staff", role="member", day=date(2020, 2, 3))
    assert exc.value.message_dict["person"] == [services.ERR_GROUP_SAME_SEAT]
    with pytest.raises(ValidationError) as exc:
        services.leading_group_end(
            actor=world.users["county_liaison"], seat=seat, valid_to=date(2020, 1, 30)
        )
    assert exc.value.message_dict["valid_to"] == [services.ERR_GROUP_END_BEFORE_START]
    services.leading_group_end(
        actor=world.users["county_liaison"], seat=seat, valid_to=date(2020, 2, 3)
    )
    with pytest.raises(ValidationError) as exc:
        services.leading_group_end(
            actor=world.users["county_liaison"], seat=seat, valid_to=date(2020, 2, 4)
        )
    assert exc.value.messages == [services.ERR_GROUP_ALREADY_ENDED]
    assert [s.person.name for s in selectors.leading_group_on(hz, date(2020, 2, 3)).members] == [
        "张伟"
    ]
    assert selectors.leading_group_on(hz, date(2020, 2, 4)).members == []


def test_the_database_refuses_two_open_leaders(world, hz):
    appoint(world, person="leader", role="leader")
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadingGroupSeat.objects.create(
            unit=hz, person=world.people["staff"], role="leader", valid_from=date(2020, 2, 3)
        )


def test_pages_unit_page_and_history(world, hz, client_for):
    appoint(world, person="leader", role="leader", day=date(2020, 1, 25))
    c = client_for("county_liaison")
    r = c.post(
        "/org/units/HG-HZ/leading-group/",
        {
            "role": "leader",
            "person": world.people["county_liaison"].pk,
            "valid_from": "2020-02-03",
            "duty": "",
            "phone": "",
        },
    )
    assert r.status_code == 302
    unit_page = c.get("/org/units/HG-HZ/").content.decode()
    assert 'id="leading-group"' in unit_page and "陈晓东" in unit_page
    old_day = c.get("/org/units/HG-HZ/leading-group/?on=2020-01-30").content.decode()
    assert "2020年1月30日的组成" in old_day
    assert '<dd class="group-leader">刘志强' in old_day
    # A refused appointment says why, and nothing changes.
    r = c.post(
        "/org/units/HG-HZ/leading-group/",
        {"role": "leader", "person": world.people["staff"].pk, "valid_from": "2020-01-20"},
    )
    assert r.status_code == 200
    assert services.ERR_GROUP_BEFORE_CURRENT in r.content.decode()
    assert LeadingGroupSeat.objects.count() == 2
    # The first responsible person sees the group but has no forms, and may not post.
    leader = client_for("leader")
    page = leader.get("/org/units/HG-HZ/leading-group/").content.decode()
    assert 'id="appoint"' not in page and 'id="group-history"' in page
    assert leader.post("/org/units/HG-HZ/leading-group/", {"role": "member"}).status_code == 404
    # A impossible date in the query falls back to today.
    assert c.get("/org/units/HG-HZ/leading-group/?on=2020-02-30").status_code == 200


def test_rollup_ledger_and_notice_board_name_the_group(world, hz, client_for):
    from openpyxl import load_workbook

    from fangkong.reports.models import ReportForm

    appoint(world, person="leader", role="leader")
    appoint(world, person="county_liaison", role="office", phone="0713-8888888")
    form = ReportForm.objects.create(
        code="daily", name="疫情防控日报", root=world.units["HB"], active_from=date(2020, 1, 1)
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    c = client_for("city_coord")
    rollup = c.get(f"/reports/{form.pk}/rollup/?node=HG&day=2020-02-03").content.decode()
    assert "领导小组：组长 刘志强；办公室 陈晓东 0713-8888888" in rollup
    # Before the group was named the roll-up of that day shows no group line.
    earlier = c.get(f"/reports/{form.pk}/rollup/?node=HG&day=2020-01-31").content.decode()
    assert "领导小组：" not in earlier
    r = c.get(f"/reports/{form.pk}/ledger.xlsx?node=HG&from=2020-01-31&to=2020-02-03")
    ws = load_workbook(BytesIO(r.content)).active
    header = [ws.cell(2, col).value for col in range(1, 10)]
    assert "领导小组" in header
    col = header.index("领导小组") + 1
    cells = {
        (ws.cell(row, 1).value, ws.cell(row, 2).value): ws.cell(row, col).value
        for row in range(4, ws.max_row + 1)
    }
    assert cells[("2020-02-03", "黄州区审计局")] == "组长 刘志强；办公室 陈晓东 0713-8888888"
    assert not cells[("2020-01-31", "黄州区审计局")]
    # The clerk of 综合科 (no group of its own) sees the county bureau's group on the board.
    board = client_for("staff").get("/notices/").content.decode()
    assert 'id="board-leading-group"' in board and "黄州区审计局疫情防控领导小组" in board
    assert "0713-8888888" in board
    assert (
        'id="board-leading-group"' not in client_for("outsider").get("/notices/").content.decode()
    )

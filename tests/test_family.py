"""The household list staff keep themselves: additions and move-outs count from the next day."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fangkong.audit.models import AuditEvent
from fangkong.health import selectors as health_selectors
from fangkong.health import services as health
from fangkong.org import services
from fangkong.org.models import FamilyMember, OrgUnit

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2020, 2, 3, 9, 0, tzinfo=SH)
TUESDAY = MONDAY + timedelta(days=1)


def subjects(person, day):
    return [f.name for f in health.family_of(person, day)]


def test_an_added_member_joins_the_check_in_the_next_day(world, clock):
    clock.freeze(MONDAY)
    staff = world.people["staff"]
    member = services.family_member_declare(
        actor=world.users["staff"], person=staff, name="张奶奶", relation="grandparent"
    )
    assert member.active_from == date(2020, 2, 4)
    assert "张奶奶" not in subjects(staff, date(2020, 2, 3))
    assert "张奶奶" in subjects(staff, date(2020, 2, 4))
    hz = world.units["HG-HZ"]
    _people, today = health_selectors.unit_day(world.users["county_liaison"], hz, date(2020, 2, 3))
    assert today["family_total"] == 2
    # Today the new member cannot be checked in for; tomorrow they can.
    answers = [
        health.Answers(temperature=Decimal("36.5"), work_mode="on_site", attested=True),
        health.Answers(temperature=Decimal("36.6"), family_member_id=member.pk, attested=True),
    ]
    with pytest.raises(ValidationError) as exc:
        health.checkin_submit(
            actor=world.users["staff"], person=staff, answers=answers, channel="web"
        )
    assert exc.value.message_dict["family_member_id"] == [health.ERR_FAMILY_NOT_YOURS]
    clock.freeze(TUESDAY)
    _people, tomorrow = health_selectors.unit_day(
        world.users["county_liaison"], hz, date(2020, 2, 4)
    )
    assert tomorrow["family_total"] == 3
    result = health.checkin_submit(
        actor=world.users["staff"], person=staff, answers=answers, channel="web"
    )
    assert len(result["checkins"]) == 2


def test_a_member_who_moved_out_is_kept_and_leaves_the_check_in_the_next_day(world, clock):
    clock.freeze(MONDAY)
    staff = world.people["staff"]
    spouse = staff.family.get(relation="spouse")
    services.family_member_move_out(
        actor=world.users["staff"], member=spouse, moved_out_on=date(2020, 2, 1)
    )
    spouse.refresh_from_db()
    assert (spouse.moved_out_on, spouse.expected_until) == (date(2020, 2, 1), date(2020, 2, 3))
    assert "李娜" in subjects(staff, date(2020, 2, 3))  # today's set is the one the day began with
    assert "李娜" not in subjects(staff, date(2020, 2, 4))
    assert FamilyMember.objects.filter(pk=spouse.pk).exists()  # never deleted
    with pytest.raises(ValidationError) as exc:
        services.family_member_move_out(
            actor=world.users["staff"], member=spouse, moved_out_on=date(2020, 2, 2)
        )
    assert exc.value.messages == [services.ERR_FAMILY_ALREADY_MOVED_OUT]


@pytest.mark.parametrize(
    ("day", "error"),
    [
        (date(2020, 2, 4), "ERR_FAMILY_MOVE_OUT_FUTURE"),
        (date(2019, 1, 1), "ERR_FAMILY_MOVE_OUT_TOO_OLD"),
    ],
)
def test_implausible_move_out_dates_are_refused(world, clock, day, error):
    clock.freeze(MONDAY)
    child = world.people["staff"].family.get(relation="child")
    with pytest.raises(ValidationError) as exc:
        services.family_member_move_out(actor=world.users["staff"], member=child, moved_out_on=day)
    assert exc.value.message_dict["moved_out_on"] == [getattr(services, error)]
    child.refresh_from_db()
    assert child.moved_out_on is None


def test_duplicates_and_strangers_are_refused(world, clock):
    clock.freeze(MONDAY)
    staff = world.people["staff"]
    with pytest.raises(ValidationError) as exc:
        services.family_member_declare(
            actor=world.users["staff"], person=staff, name="李娜", relation="spouse"
        )
    assert exc.value.message_dict["name"] == [services.ERR_FAMILY_DUPLICATE]
    # Another staff member, and a coordinator (who does not report for the unit), may not.
    for key in ("leader", "city_coord", "outsider"):
        with pytest.raises(PermissionDenied):
            services.family_member_declare(
                actor=world.users[key], person=staff, name="王五", relation="co_resident"
            )
    # The unit's liaison may, for staff without an account.
    member = services.family_member_declare(
        actor=world.users["county_liaison"], person=staff, name="王五", relation="co_resident"
    )
    assert member.active_from == date(2020, 2, 4)


def test_the_audit_trail_keeps_no_name_or_mobile(world, clock):
    clock.freeze(MONDAY)
    member = services.family_member_declare(
        actor=world.users["staff"],
        person=world.people["staff"],
        name="张奶奶",
        relation="grandparent",
        mobile="13900001111",
    )
    services.family_member_move_out(
        actor=world.users["staff"], member=member, moved_out_on=date(2020, 2, 3)
    )
    events = AuditEvent.objects.filter(action__startswith="family.", object_id=str(member.pk))
    assert [e.action for e in events.order_by("id")] == ["family.declare", "family.move_out"]
    dumped = json.dumps([[e.old, e.new, e.object_repr] for e in events], ensure_ascii=False)
    assert "13900001111" not in dumped


def test_staff_page_adds_and_moves_out_and_the_liaison_sees_the_changes(world, client_for, clock):
    clock.freeze(MONDAY)
    staff = world.people["staff"]
    c = client_for("staff")
    page = c.get(f"/org/people/{staff.pk}/family/")
    assert page.status_code == 200
    assert "李娜" in page.content.decode()
    r = c.post(
        f"/org/people/{staff.pk}/family/",
        {"name": "张奶奶", "relation": "grandparent", "lives_with": "1", "birth_year": "1950"},
    )
    assert r.status_code == 302
    follow = c.get(r["Location"])
    assert "从 2020-02-04 起纳入每日健康打卡" in follow.content.decode()
    child = staff.family.get(relation="child")
    r = c.post(
        f"/org/people/{staff.pk}/family/{child.pk}/move-out/", {"moved_out_on": "2020-02-03"}
    )
    assert r.status_code == 302
    # A date in the future: the message says what to do, nothing changes.
    spouse = staff.family.get(relation="spouse")
    r = c.post(
        f"/org/people/{staff.pk}/family/{spouse.pk}/move-out/",
        {"moved_out_on": "2020-02-09"},
        follow=True,
    )
    assert services.ERR_FAMILY_MOVE_OUT_FUTURE in r.content.decode()
    spouse.refresh_from_db()
    assert spouse.moved_out_on is None
    day_page = client_for("county_liaison").get("/health/units/HG-HZ/?day=2020-02-03")
    body = day_page.content.decode()
    assert 'id="family-changes"' in body
    assert "张奶奶" in body and "新增，2月4日起打卡" in body
    assert "张小宝" in body and "迁出（2020-02-03）" in body
    # The next day's page has no changes recorded that day.
    assert 'id="family-changes"' not in (
        client_for("county_liaison").get("/health/units/HG-HZ/?day=2020-02-04").content.decode()
    )


def test_a_member_of_another_household_answers_404(world, client_for, clock):
    clock.freeze(MONDAY)
    other = FamilyMember.objects.get(person=world.people["xn_clerk"])
    staff = world.people["staff"]
    r = client_for("staff").post(
        f"/org/people/{staff.pk}/family/{other.pk}/move-out/", {"moved_out_on": "2020-02-03"}
    )
    assert r.status_code == 404
    other.refresh_from_db()
    assert other.moved_out_on is None


def test_changes_page_is_one_query(world, clock, django_assert_num_queries):
    clock.freeze(MONDAY)
    from fangkong.org import selectors

    hz = OrgUnit.objects.get(code="HG-HZ")
    with django_assert_num_queries(1):
        list(selectors.family_changes(hz, date(2020, 2, 3)))

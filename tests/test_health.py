"""Daily check-ins: honest by construction, follow-up cases, the liaison's day, API, privacy, retention."""

from datetime import datetime, timedelta
from decimal import Decimal
from io import BytesIO, StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from fangkong.audit.models import AuditEvent
from fangkong.health import selectors, services
from fangkong.health.models import (
    CaseStatus,
    CheckIn,
    CheckInRevision,
    DailyHealthAggregate,
    FollowUpCase,
)
from fangkong.health.services import Answers

SH = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2020, 2, 3, 8, 30, tzinfo=SH)


def household_post(world, *, temp="36.5", family_temp="36.6", key="k1", **extra):
    data = {
        "submission_key": key,
        "attested": "on",
        "self-temperature": temp,
        "self-contact": "none",
        "self-risk_travel": "0",
        "self-quarantine": "none",
        "self-work_mode": "on_site",
        "self-current_city": "黄冈",
        "self-out_of_town": "0",
    }
    for f in world.people["staff"].family.all():
        data.update(
            {
                f"f{f.pk}-temperature": family_temp,
                f"f{f.pk}-contact": "none",
                f"f{f.pk}-risk_travel": "0",
                f"f{f.pk}-quarantine": "none",
            }
        )
    data.update(extra)
    return data


def test_household_check_in_with_server_time(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    r = c.post("/health/checkin/", household_post(world))
    assert r.status_code == 302
    rows = CheckIn.objects.filter(person=world.people["staff"])
    assert rows.count() == 3  # self and two family members
    assert {r.submitted_at for r in rows} == {MORNING}
    assert {r.day for r in rows} == {MORNING.date()}
    assert set(rows.values_list("channel", flat=True)) == {"web"}


def test_double_clicked_submit_creates_one_check_in(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    c.post("/health/checkin/", household_post(world, key="same"))
    c.post("/health/checkin/", household_post(world, key="same", **{"self-temperature": "38.0"}))
    mine = CheckIn.objects.get(person=world.people["staff"], family_member__isnull=True)
    assert mine.version == 1 and mine.temperature == Decimal("36.5")
    assert CheckInRevision.objects.count() == 0


def test_one_check_in_per_person_per_day_is_a_database_rule(world, clock):
    clock.freeze(MORNING)
    services.checkin_submit(
        actor=world.users["staff"],
        person=world.people["staff"],
        channel="web",
        answers=[Answers(temperature=Decimal("36.5"), work_mode="on_site", attested=True)],
    )
    first = CheckIn.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckIn.objects.create(
            person=first.person,
            day=first.day,
            unit=first.unit,
            temperature=Decimal("36.5"),
            channel="web",
            entered_by=first.entered_by,
            submitted_at=MORNING,
            updated_at=MORNING,
        )


def test_correction_before_lock_keeps_the_old_version(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    c.post("/health/checkin/", household_post(world, key="a"))
    clock.advance(timedelta(hours=2))
    c.post("/health/checkin/", household_post(world, key="b", temp="37.0"))
    mine = CheckIn.objects.get(person=world.people["staff"], family_member__isnull=True)
    assert mine.version == 2 and mine.temperature == Decimal("37.0")
    assert mine.submitted_at == MORNING and mine.updated_at == MORNING + timedelta(hours=2)
    old = mine.revisions.get()
    assert old.version == 1 and old.answers["temperature"] == "36.5"


def test_after_the_lock_only_a_liaison_corrects_with_a_reason(world, client_for, clock, settings):
    settings.CHECKIN_LOCK_AFTER_MINUTES = 20 * 60  # lock at 20:00
    clock.freeze(MORNING)
    client_for("staff").post("/health/checkin/", household_post(world))
    clock.freeze(MORNING.replace(hour=21))
    r = client_for("staff").get("/health/checkin/")
    assert "今日打卡已截止" in r.content.decode()
    with pytest.raises(ValidationError):
        services.checkin_submit(
            actor=world.users["staff"],
            person=world.people["staff"],
            channel="web",
            answers=[Answers(temperature=Decimal("36.4"), work_mode="on_site", attested=True)],
        )
    mine = CheckIn.objects.get(person=world.people["staff"], family_member__isnull=True)
    with pytest.raises(ValidationError) as exc:
        services.checkin_correct(
            actor=world.users["county_liaison"],
            checkin=mine,
            answers=Answers(temperature=Decimal("38.2"), work_mode="on_site"),
            reason=" ",
        )
    assert services.ERR_REASON_REQUIRED in str(exc.value)
    r = client_for("county_liaison").post(
        f"/health/checkins/{mine.pk}/",
        {
            "c-temperature": "38.2",
            "c-contact": "none",
            "c-risk_travel": "0",
            "c-quarantine": "none",
            "c-work_mode": "on_site",
            "c-out_of_town": "0",
            "reason": "本人电话告知体温记错",
        },
    )
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.corrected_after_lock and mine.correction_reason == "本人电话告知体温记错"
    assert mine.version == 2 and mine.revisions.count() == 1
    page = client_for("city_coord").get(f"/health/checkins/{mine.pk}/").content.decode()
    assert "截止后由联络员更正" in page and "本人电话告知体温记错" in page


def test_health_answers_are_not_prefilled_from_yesterday(world, client_for, clock):
    clock.freeze(MORNING)
    client_for("staff").post(
        "/health/checkin/",
        household_post(world, **{"self-symptoms": ["cough"], "self-temperature": "37.1"}),
    )
    clock.freeze(MORNING + timedelta(days=1))
    r = client_for("staff").get("/health/checkin/")
    form = r.context["forms"][0]
    assert form["temperature"].value() in (None, "")
    assert not form["symptoms"].value()
    assert form["current_city"].value() == "黄冈"  # a stable fact may be pre-filled


def test_fever_opens_a_case_that_is_followed_to_release(world, clock):
    clock.freeze(MORNING)
    staff = world.people["staff"]
    spouse = staff.family.get(relation="spouse")
    services.checkin_submit(
        actor=world.users["staff"],
        person=staff,
        channel="web",
        answers=[
            Answers(temperature=Decimal("36.5"), work_mode="on_site", attested=True),
            Answers(temperature=Decimal("38.5"), family_member_id=spouse.pk, attested=True),
        ],
    )
    case = FollowUpCase.objects.get()
    assert case.family_member == spouse and case.status == CaseStatus.OBSERVING
    assert case.reasons == ["fever"]
    # A second abnormal day attaches to the open case instead of opening another.
    clock.advance(timedelta(days=1))
    services.checkin_submit(
        actor=world.users["staff"],
        person=staff,
        channel="web",
        answers=[Answers(temperature=Decimal("37.8"), family_member_id=spouse.pk, attested=True)],
    )
    assert FollowUpCase.objects.count() == 1
    liaison = world.users["county_liaison"]
    with pytest.raises(ValidationError):
        services.case_update(actor=liaison, case=case, to_status=CaseStatus.RECOVERED, note="x")
    with pytest.raises(ValidationError):
        services.case_update(actor=liaison, case=case, to_status=CaseStatus.RELEASED, note="")
    services.case_update(
        actor=liaison,
        case=case,
        to_status=CaseStatus.RELEASED,
        note="核酸阴性，体温正常三天，解除观察",
    )
    case.refresh_from_db()
    assert not case.is_open and case.closed_at is not None
    with pytest.raises(ValidationError):
        services.case_update(actor=liaison, case=case, to_status=CaseStatus.RELEASED, note="再次")
    with pytest.raises(RuntimeError):
        case.delete()
    assert [e.to_status for e in case.entries.all()] == ["observing", "released"]


def test_rules_are_configurable(world, clock):
    from fangkong.health.models import HealthRules

    rules = HealthRules.current()
    rules.fever_threshold = Decimal("37.5")
    rules.any_symptom = False
    rules.save()
    clock.freeze(MORNING)
    services.checkin_submit(
        actor=world.users["staff"],
        person=world.people["staff"],
        channel="web",
        answers=[
            Answers(
                temperature=Decimal("37.4"), symptoms=["cough"], work_mode="on_site", attested=True
            )
        ],
    )
    assert not CheckIn.objects.get().abnormal and not FollowUpCase.objects.exists()


def test_unit_day_finds_everyone_in_one_query(world, clock):
    clock.freeze(MORNING)
    services.checkin_submit(
        actor=world.users["staff"],
        person=world.people["staff"],
        channel="web",
        answers=[Answers(temperature=Decimal("36.5"), work_mode="on_site", attested=True)],
    )
    services.exemption_add(
        actor=world.users["county_liaison"],
        person=world.people["leader"],
        kind="long_leave",
        start=MORNING.date(),
        end=MORNING.date() + timedelta(days=3),
    )
    with CaptureQueriesContext(connection) as ctx:
        people, counts = selectors.unit_day(
            world.users["county_liaison"], world.units["HG-HZ"], MORNING.date()
        )
        [(p.checkin_id, p.exempt, p.family_total, p.family_done, p.unit.name) for p in people]
    assert len(ctx) == 1
    assert counts["expected"] == 2 and counts["exempt"] == 1
    assert counts["reported"] == 1 and counts["missing"] == 1
    assert counts["family_total"] == 2 and counts["family_done"] == 0
    # The exemption has dates: the day after it ends the leader is expected again.
    _, later = selectors.unit_day(
        world.users["county_liaison"], world.units["HG-HZ"], MORNING.date() + timedelta(days=4)
    )
    assert later["exempt"] == 0 and later["expected"] == 3


def test_liaison_proxy_entry_is_recorded_as_such(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("county_liaison")
    data = household_post(world)
    r = c.post(f"/health/checkin/for/{world.people['staff'].pk}/", data)
    assert r.status_code == 302
    row = CheckIn.objects.get(person=world.people["staff"], family_member__isnull=True)
    assert row.channel == "proxy" and row.entered_by == world.users["county_liaison"]


def test_api_replay_returns_the_first_result(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    body = {
        "attested": True,
        "subjects": [{"temperature": 36.6, "work_mode": "home_post"}],
        "day": "2020-01-01",
        "submitted_at": "2019-12-31T00:00:00",
    }
    first = c.post(
        "/api/v1/checkins", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    clock.advance(timedelta(minutes=5))
    second = c.post(
        "/api/v1/checkins", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    row = CheckIn.objects.get()
    assert row.version == 1 and row.channel == "api"
    assert row.day == MORNING.date() and row.submitted_at == MORNING  # the client cannot choose
    third = c.post(
        "/api/v1/checkins", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="def"
    )
    assert third.json()["checkins"][0]["version"] == 2


def test_api_errors_are_field_level_and_in_chinese(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    r = c.post(
        "/api/v1/checkins",
        {"attested": True, "subjects": [{"work_mode": "on_site"}]},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"subjects.0.temperature": ["请填写体温。"]}
    r = c.post(
        "/api/v1/checkins", {"attested": "maybe", "subjects": []}, content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["errors"]["attested"] == ["应为 true 或 false。"]
    r = c.post(
        "/api/v1/checkins",
        {"attested": False, "subjects": [{"temperature": 36.5, "work_mode": "on_site"}]},
        content_type="application/json",
    )
    assert r.json()["errors"]["attested"] == [services.ERR_NOT_ATTESTED]
    assert not CheckIn.objects.exists()


def test_views_and_exports_are_audited_and_masked(world, client_for, clock):
    from openpyxl import load_workbook

    clock.freeze(MORNING)
    c = client_for("county_liaison")
    c.get("/health/units/HG-HZ/")
    assert AuditEvent.objects.filter(action="health.view", actor_name="county_liaison").exists()
    r = c.get("/health/units/HG-HZ/export/")
    assert AuditEvent.objects.filter(action="health.export").exists()
    ws = load_workbook(BytesIO(r.content)).active
    text = " ".join(str(cell.value) for row in ws.iter_rows() for cell in row if cell.value)
    staff = world.people["staff"]
    assert staff.name in text and staff.mobile not in text
    assert staff.id_number_masked in text


def test_retention_purge_keeps_totals(world, clock):
    clock.freeze(MORNING)
    services.checkin_submit(
        actor=world.users["staff"],
        person=world.people["staff"],
        channel="web",
        answers=[Answers(temperature=Decimal("38.0"), work_mode="on_site", attested=True)],
    )
    clock.freeze(MORNING + timedelta(days=200))
    out = StringIO()
    call_command("purge_checkins", "--days", "180", stdout=out)
    assert "purged 1 check-ins" in out.getvalue()
    assert not CheckIn.objects.exists()
    total = DailyHealthAggregate.objects.get()
    assert (total.staff_checked, total.staff_fever, total.staff_abnormal) == (1, 1, 1)
    assert FollowUpCase.objects.count() == 1  # the case history stays

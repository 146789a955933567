"""Plausibility bounds on every number, date and text a user or a client can send (issue 11, item 4
and the first half of item 5): API paging, non-finite temperatures, dates in a window around the
server's today, report figures bounded by the unit's roster, control characters, and an
Idempotency-Key reused for a different body.

Constants this file asserts that are new with the bounds are imported inside the tests, after the
behaviour they describe, so the tests fail on the old code for the behaviour, not the import.
"""

import inspect
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django import forms as django_forms
from django.core.exceptions import ValidationError

from fangkong.health import services as health
from fangkong.health.models import CheckIn
from fangkong.reports import services as reports
from fangkong.reports.models import CurrentReport
from tests.test_health import household_post

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2020, 2, 3)
MORNING = datetime(2020, 2, 3, 8, 30, tzinfo=SH)


def window(past: int, future: int) -> tuple[str, str]:
    return (TODAY - timedelta(days=past)).isoformat(), (TODAY + timedelta(days=future)).isoformat()


def date_message(past: int, future: int) -> str:
    from fangkong.lib.plausible import ERR_DATE_WINDOW

    earliest, latest = window(past, future)
    return ERR_DATE_WINDOW.format(earliest=earliest, latest=latest)


def post_json(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def subject(**answers) -> dict:
    return {"temperature": 36.5, "work_mode": "on_site"} | answers


# --- API paging ------------------------------------------------------------------------------


def test_api_page_size_is_capped_and_huge_numbers_are_a_422(world, client_for):
    c = client_for("prov_coord")
    assert c.get("/api/v1/units?limit=200").status_code == 200
    for query, field, message in [
        ("limit=201", "limit", "不能大于 200。"),
        (f"limit={2**64}", "limit", "不能大于 200。"),
        ("limit=0", "limit", "不能小于 1。"),
        (f"offset={2**63}", "offset", "不能大于 1000000000。"),
        (f"offset={2**70}&limit=5", "offset", "不能大于 1000000000。"),
        ("offset=-1", "offset", "不能小于 0。"),
    ]:
        r = c.get(f"/api/v1/units?{query}")
        assert r.status_code == 422, query
        assert r.json()["errors"][field] == [message], query
    r = c.get(f"/api/v1/units/HG-HZ/people?offset={2**63}")
    assert r.status_code == 422


# --- Temperatures and dates through the API --------------------------------------------------


@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-Infinity", "1e999", "sNaN"])
def test_api_non_finite_temperature_is_the_temperature_message(world, client_for, clock, value):
    clock.freeze(MORNING)
    r = post_json(
        client_for("staff"),
        "/api/v1/checkins",
        {"attested": True, "subjects": [subject(temperature=value)]},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"subjects.0.temperature": [health.ERR_TEMPERATURE_RANGE]}
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("start", ["2099-01-01", "1900-01-01", "2020-02-04"])
def test_api_quarantine_start_within_the_window(world, client_for, clock, start):
    clock.freeze(MORNING)
    body = subject(quarantine="home", quarantine_place="家中", quarantine_start=start)
    r = post_json(client_for("staff"), "/api/v1/checkins", {"attested": True, "subjects": [body]})
    assert r.status_code == 422
    # Under way means begun on or before today: the window ends today.
    assert r.json()["errors"] == {"subjects.0.quarantine_start": [date_message(366, 0)]}
    ok = subject(quarantine="home", quarantine_place="家中", quarantine_start="2020-01-25")
    r = post_json(client_for("staff"), "/api/v1/checkins", {"attested": True, "subjects": [ok]})
    assert r.status_code == 200


def test_api_unit_day_refuses_far_days(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("county_liaison")
    for day in ["9999-12-31", "0001-01-01", "1900-01-01"]:
        r = c.get(f"/api/v1/units/HG-HZ/checkins?day={day}")
        assert r.status_code == 422, day
        assert r.json()["errors"] == {"day": [date_message(3660, 366)]}, day
    assert c.get("/api/v1/units/HG-HZ/checkins?day=2020-02-01").status_code == 200


def test_api_text_is_bounded_and_free_of_control_characters(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    r = post_json(
        c, "/api/v1/checkins", {"attested": True, "subjects": [subject(symptom_other="咳\x00嗽")]}
    )
    assert r.status_code == 422
    from fangkong.lib.text import ERR_CONTROL

    assert r.json()["errors"] == {"subjects.0.symptom_other": [ERR_CONTROL]}
    r = post_json(
        c, "/api/v1/checkins", {"attested": True, "subjects": [subject(current_city="黄\n冈")]}
    )
    assert r.json()["errors"] == {"subjects.0.current_city": [ERR_CONTROL]}
    r = post_json(
        c, "/api/v1/checkins", {"attested": True, "subjects": [subject(symptom_other="咳" * 101)]}
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"subjects.0.symptom_other": ["不能超过 100 个字符。"]}
    assert not CheckIn.objects.exists()
    # Addresses and query strings have no field to report on: refused as a whole.
    r = client_for("prov_coord").get("/api/v1/units?parent=HG%00")
    assert r.status_code == 422 and r.json()["errors"] == {"parent": [ERR_CONTROL]}


# --- Idempotency-Key reused with another body -----------------------------------------------


def test_same_key_with_a_different_body_is_refused(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    first_body = {"attested": True, "subjects": [subject(temperature=36.5)]}
    first = post_json(c, "/api/v1/checkins", first_body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200
    other = {"attested": True, "subjects": [subject(temperature=38.5)]}
    r = post_json(c, "/api/v1/checkins", other, HTTP_IDEMPOTENCY_KEY="k-1")
    assert r.status_code == 422
    assert r.json() == {
        "detail": health.ERR_IDEMPOTENCY_REUSED,
        "errors": {"Idempotency-Key": [health.ERR_IDEMPOTENCY_REUSED]},
    }
    row = CheckIn.objects.get()
    assert row.temperature == Decimal("36.5") and row.version == 1
    # The same body again (36.5 written as text this time) still replays the first answer.
    same = {"attested": True, "subjects": [subject(temperature="36.50")]}
    again = post_json(c, "/api/v1/checkins", same, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json() == first.json()


def test_web_resubmission_with_edited_answers_is_not_dropped_silently(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    assert c.post("/health/checkin/", household_post(world, key="page-1")).status_code == 302
    # Back, change the temperature, submit the same page (same key) again.
    r = c.post("/health/checkin/", household_post(world, key="page-1", temp="38.2"))
    assert r.status_code == 200
    assert health.ERR_RESUBMITTED in r.context["attest"].non_field_errors()
    fresh = r.context["attest"]["submission_key"].value()
    assert fresh != "page-1"
    assert CheckIn.objects.get(family_member__isnull=True).temperature == Decimal("36.5")
    # The next click stores the edited answers.
    r = c.post("/health/checkin/", household_post(world, key=fresh, temp="38.2"))
    assert r.status_code == 302
    assert CheckIn.objects.get(family_member__isnull=True).temperature == Decimal("38.2")


# --- Dates in the web forms -------------------------------------------------------------------


def test_checkin_form_quarantine_problems_are_field_errors(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    home = {"self-quarantine": "home", "self-quarantine_place": "家中"}
    r = c.post(
        "/health/checkin/", household_post(world, **home, **{"self-quarantine_start": "2099-01-01"})
    )
    assert r.status_code == 200
    assert r.context["forms"][0].errors["quarantine_start"] == [date_message(366, 0)]
    # In quarantine without a place: said on the field, not a server error.
    r = c.post(
        "/health/checkin/",
        household_post(world, **{"self-quarantine": "home", "self-quarantine_start": "2020-02-01"}),
    )
    assert r.status_code == 200
    assert r.context["forms"][0].errors["quarantine_place"] == [health.ERR_QUARANTINE_PLACE]
    assert not CheckIn.objects.exists()


def test_exemption_dates_within_the_window(world, client_for, clock):
    clock.freeze(MORNING)
    url = f"/health/people/{world.people['staff'].pk}/exemptions/"
    r = client_for("county_liaison").post(
        url, {"kind": "sick_leave", "start": "2020-02-04", "end": "2099-12-31"}
    )
    assert r.status_code == 200
    assert r.context["form"].errors["end"] == [date_message(366, 366)]


def test_screen_post_dates_within_the_window(world, client_for, clock):
    clock.freeze(MORNING)
    data = {"title": "勤洗手", "body": "正文", "unit": "HG", "published_from": "2020-02-03"}
    r = client_for("city_coord").post("/screen/posts/", data | {"published_until": "9999-12-31"})
    assert r.status_code == 200
    assert r.context["form"].errors["published_until"] == [date_message(366, 366)]


def test_notice_acknowledgement_deadline_within_the_window(world, client_for, clock):
    from fangkong.notices.models import Notice

    clock.freeze(MORNING)
    r = client_for("city_coord").post(
        "/notices/new/",
        {
            "kind": "notice",
            "title": "通知",
            "body": "正文",
            "unit": "HG",
            "audiences": ["liaison"],
            "requires_ack": "on",
            "ack_by": "9999-12-31T10:00",
        },
    )
    assert r.status_code == 200
    assert r.context["form"].errors["ack_by"] == [date_message(366, 366)]
    assert not Notice.objects.exists()


# --- Days in addresses and query strings ------------------------------------------------------


@pytest.mark.parametrize("day", ["0", "2020-02-30", "9999-12-31", "0001-01-01"])
def test_bad_query_days_show_today_with_a_message(world, client_for, clock, day):
    from fangkong.lib.plausible import ERR_DATE_FORMAT

    clock.freeze(MORNING)
    r = client_for("county_liaison").get(f"/health/units/HG-HZ/?day={day}")
    assert r.status_code == 200
    assert r.context["day"] == TODAY
    expected = ERR_DATE_FORMAT if day in ("0", "2020-02-30") else date_message(3660, 366)
    assert [str(m) for m in r.context["messages"]] == [expected]
    # A file for another day than asked would mislead: the export refuses.
    r = client_for("county_liaison").get(f"/health/units/HG-HZ/export/?day={day}")
    assert r.status_code == 400 and r.content.decode() == expected


@pytest.fixture
def daily(world):
    return reports.form_create(
        actor=world.users["admin"],
        code="daily",
        name="疫情防控日报告",
        root=world.units["HB"],
        level_codes=["province", "city", "county"],
        active_from=date(2020, 1, 1),
    )


def test_report_pages_and_files_refuse_bad_days(world, client_for, clock, daily):
    clock.freeze(MORNING)
    c = client_for("city_coord")
    r = c.get(f"/reports/{daily.pk}/rollup/?node=HG&day=2020-02-30")
    assert r.status_code == 200 and r.context["day"] == TODAY
    r = c.get(f"/reports/{daily.pk}/rollup/?node=HG&day=0")
    assert r.status_code == 200 and r.context["day"] == TODAY
    for url in ["ledger.xlsx", "rollup.pdf", "dhis2.json"]:
        r = c.get(f"/reports/{daily.pk}/{url}?node=HG&day=9999-12-31")
        assert r.status_code == 400 and r.content.decode() == date_message(3660, 366), url
    liaison = client_for("county_liaison")
    for day in ["0001-01-01", "9999-12-31", "2020-02-30", "0"]:
        assert liaison.get(f"/reports/{daily.pk}/units/HG-HZ/{day}/").status_code == 404, day


# --- Report figures bounded by the unit's roster ---------------------------------------------


def test_report_figures_cannot_exceed_the_people_on_the_roster(world, clock, daily):
    clock.freeze(MORNING)
    unit = world.units["HG-HZ"]  # liaison, leader, the clerk in 综合科 and the clerk's 2 family
    roster = 5

    def submit(value):
        return reports.report_submit(
            actor=world.users["county_liaison"],
            form=daily,
            unit=unit,
            day=TODAY,
            kind="daily",
            values={"staff_fever": value},
            explanation="与打卡数据不一致的说明",
        )

    with pytest.raises(ValidationError) as err:
        submit(10**12)
    assert err.value.message_dict == {
        "staff_fever": [reports.ERR_OVER_CEILING.format(n=10_000_000)]
    }
    with pytest.raises(ValidationError) as err:
        submit(roster + 1)
    assert err.value.message_dict == {"staff_fever": [reports.ERR_OVER_ROSTER.format(n=roster)]}
    assert not CurrentReport.objects.exists()
    assert submit(roster).values["staff_fever"] == roster


def test_report_figure_error_is_shown_on_its_field(world, client_for, clock, daily):
    clock.freeze(MORNING)
    data = {f"v_{k}": "0" for k in daily.field_keys} | {
        "v_staff_fever": str(10**12),
        "explanation": "说明",
    }
    r = client_for("county_liaison").post(f"/reports/{daily.pk}/units/HG-HZ/2020-02-03/", data)
    assert r.status_code == 200
    assert r.context["values_form"].errors["v_staff_fever"] == [
        reports.ERR_OVER_CEILING.format(n=10_000_000)
    ]
    assert not CurrentReport.objects.exists()


# --- Control characters in forms and addresses ----------------------------------------------


def test_control_characters_are_refused_in_form_text(world, client_for, clock):
    from fangkong.lib.text import ERR_CONTROL, ERR_CONTROL_MULTILINE

    clock.freeze(MORNING)
    c = client_for("staff")
    r = c.post("/health/checkin/", household_post(world, **{"self-current_city": "黄冈\x00"}))
    assert r.status_code == 200
    assert r.context["forms"][0].errors["current_city"] == [ERR_CONTROL]
    r = c.post("/health/checkin/", household_post(world, **{"self-symptom_other": "咳\x1b[31m"}))
    assert r.context["forms"][0].errors["symptom_other"] == [ERR_CONTROL]
    assert not CheckIn.objects.exists()
    # Multi-line text keeps its line breaks; other controls are refused there too.
    clock.freeze(MORNING)
    post = {"title": "勤洗手", "unit": "HG", "published_from": "2020-02-03"}
    city = client_for("city_coord")
    r = city.post("/screen/posts/", post | {"body": "第一行\r\n第二行\t完"})
    assert r.status_code == 302
    r = city.post("/screen/posts/", post | {"body": "第一行\x07"})
    assert r.status_code == 200
    assert r.context["form"].errors["body"] == [ERR_CONTROL_MULTILINE]


def test_control_characters_in_addresses_are_refused(world, client_for):
    from fangkong.lib.text import ERR_CONTROL

    r = client_for("prov_coord").get("/org/?q=%E9%BB%84%00")
    assert r.status_code == 400 and r.content.decode() == ERR_CONTROL


def test_every_form_refuses_control_characters():
    """Every form class in the project goes through the one rule (fangkong/lib/forms.py)."""
    import importlib
    import pkgutil

    import fangkong
    from fangkong.lib.forms import Form

    allowed: set[str] = set()
    found = []
    for info in pkgutil.walk_packages(fangkong.__path__, "fangkong."):
        if ".migrations" in info.name or ".management" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, django_forms.Form):
                continue
            if cls is Form or f"{cls.__module__}.{name}" in allowed:
                continue
            found.append(cls)
            assert issubclass(cls, Form), f"{cls.__module__}.{name} is not a fangkong Form"
    assert len(found) > 15


def test_a_body_that_is_not_json_is_said_in_chinese(world, client_for):
    r = client_for("staff").post("/api/v1/checkins", b"{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json() == {"detail": "请求体不是有效的 JSON。"}


def test_audit_filter_days_are_checked(world, client_for, clock):
    clock.freeze(MORNING)
    r = client_for("admin").get("/audit/?date_from=2020-02-30&date_to=9999-12-31")
    assert r.status_code == 200
    from fangkong.lib.plausible import ERR_DATE_FORMAT

    assert [str(m) for m in r.context["messages"]] == [ERR_DATE_FORMAT, date_message(3660, 366)]

"""Regressions from the scope review: departed staff, back-dated exemptions, report access,
date-range limits, token revocation on password reset, audited notice reads, masking."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from fangkong.accounts import services as accounts
from fangkong.audit.models import AuditEvent
from fangkong.health import services as health
from fangkong.org import selectors, services
from fangkong.org.models import UnitLevel
from fangkong.reports import services as reports
from fangkong.reports.models import ReportForm

SH = ZoneInfo("Asia/Shanghai")
D = date(2020, 2, 3)


def test_staff_who_left_lose_the_roles_their_unit_names_them_for(world, client_for, clock):
    clock.freeze(datetime(2020, 2, 3, 9, tzinfo=SH))
    services.person_update(
        actor=world.users["admin"], person=world.people["county_liaison"], left_on=date(2020, 2, 1)
    )
    c = client_for("county_liaison")
    # A leaver's open session ends on their next request (accounts/backends.py), roles and all.
    r = c.post(f"/org/people/{world.people['staff'].pk}/reveal/mobile/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    assert not selectors.can(
        world.users["county_liaison"], selectors.CAP_REPORT, world.units["HG-HZ"]
    )


def test_exemptions_cannot_be_back_dated(world, clock):
    clock.freeze(datetime(2020, 2, 3, 9, tzinfo=SH))
    with pytest.raises(ValidationError) as exc:
        health.exemption_add(
            actor=world.users["county_liaison"],
            person=world.people["leader"],
            kind="long_leave",
            start=D - timedelta(days=5),
        )
    assert health.ERR_EXEMPTION_PAST in str(exc.value)
    health.exemption_add(
        actor=world.users["county_liaison"],
        person=world.people["leader"],
        kind="long_leave",
        start=D,
    )


def test_report_contents_need_health_view(world, client_for, clock):
    clock.freeze(datetime(2020, 2, 3, 9, tzinfo=SH))
    form = ReportForm.objects.create(code="d", name="日报", root=world.units["HB"], active_from=D)
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    report = reports.report_submit(
        actor=world.users["county_liaison"],
        form=form,
        unit=world.units["HG-HZ"],
        day=D,
        kind="zero",
        narrative="本局情况",
    )
    services.role_assign(
        actor=world.users["admin"],
        user=world.users["staff"],
        role="duty_officer",
        unit=world.units["HG-HZ"],
    )
    duty = client_for("staff")
    assert duty.get(f"/reports/r/{report.pk}/").status_code == 404
    assert duty.get(f"/reports/{form.pk}/rollup/?node=HG-HZ").status_code == 404
    assert duty.get(f"/reports/{form.pk}/ledger.xlsx?node=HG-HZ").status_code == 404
    assert client_for("leader").get(f"/reports/r/{report.pk}/").status_code == 200


def test_report_date_ranges_are_bounded(world, client_for, clock):
    clock.freeze(datetime(2020, 2, 3, 9, tzinfo=SH))
    form = ReportForm.objects.create(
        code="d", name="日报", root=world.units["HB"], active_from=date(2019, 1, 1)
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    r = client_for("city_coord").get(
        f"/reports/{form.pk}/dhis2.json?node=HG&from=2019-01-01&to=2020-06-30"
    )
    assert r.status_code == 200
    assert r.json()["completeDate"] == "2020-02-03"  # never beyond today
    # A day outside the plausible window is refused, not quietly changed (tests/test_bounds.py).
    r = client_for("city_coord").get(
        f"/reports/{form.pk}/dhis2.json?node=HG&from=2019-01-01&to=9999-12-31"
    )
    assert r.status_code == 400
    page = client_for("city_coord").get(
        f"/reports/{form.pk}/rollup/?node=HG&from=2019-01-01&day=2020-02-03"
    )
    assert page.context["day_from"] == date(2020, 2, 3) - timedelta(days=91)


def test_password_reset_revokes_api_tokens(world, client):
    _, raw = accounts.token_create(actor=world.users["staff"], user=world.users["staff"], name="t")
    accounts.user_reset_password(actor=world.users["admin"], user=world.users["staff"])
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_opening_a_notice_is_an_audited_read(world, client_for, clock):
    from fangkong.notices import services as notices

    clock.freeze(datetime(2020, 2, 3, 9, tzinfo=SH))
    notice = notices.notice_publish(
        actor=world.users["city_coord"],
        unit=world.units["HG"],
        title="通知",
        body="正文",
        kind="notice",
        audiences=["liaison"],
    )
    client_for("county_liaison").get(f"/notices/{notice.pk}/")
    client_for("county_liaison").get(f"/notices/{notice.pk}/")
    assert AuditEvent.objects.filter(action="notice.read").count() == 1


def test_short_mobiles_are_masked_too(world, client_for):
    services.person_update(
        actor=world.users["admin"], person=world.people["staff"], mobile="5551234"
    )
    page = client_for("county_liaison").get("/org/units/HG-HZ-ZH/").content.decode()
    assert "5551234" not in page

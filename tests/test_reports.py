"""Unit daily reports: statuses from data and clock, locks and unlocks, review, roll-up, signals, tamper evidence."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO, StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.accounts import services as account_services
from fangkong.audit.models import AuditEvent
from fangkong.health import services as health
from fangkong.org import services as org_services
from fangkong.org.models import UnitLevel
from fangkong.reports import selectors, services
from fangkong.reports.models import CurrentReport, Report, ReportForm
from fangkong.reports.schedule import schedule_of

SH = ZoneInfo("Asia/Shanghai")
D = date(2020, 2, 3)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SH)


@pytest.fixture
def rform(world):
    form = ReportForm.objects.create(
        code="daily", name="疫情防控日报", root=world.units["HB"], active_from=date(2020, 1, 1)
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    return form


def submit(world, form, unit="HG-HZ", day=D, kind="daily", who="county_liaison", **kw):
    values = kw.pop("values", dict.fromkeys(form.field_keys, 0))
    return services.report_submit(
        actor=world.users[who],
        form=form,
        unit=world.units[unit],
        day=day,
        kind=kind,
        values=values,
        **kw,
    )


def status(form, world, unit="HG-HZ", day=D):
    rows = selectors.rollup(form, world.units["HB"], day, day)
    return rows[world.units[unit].pk].status


def test_status_follows_the_deadline_and_the_clock(world, rform, clock):
    clock.freeze(at(D, 9, 59))
    assert status(rform, world) == selectors.NOT_DUE
    clock.freeze(at(D, 10, 0))
    assert status(rform, world) == selectors.MISSING
    clock.freeze(at(D, 10, 30))
    submit(world, rform)
    assert status(rform, world) == selectors.LATE
    clock.freeze(at(D + timedelta(days=1), 9, 0))
    submit(world, rform, day=D + timedelta(days=1), kind="zero")
    assert status(rform, world, day=D + timedelta(days=1)) == selectors.ZERO_ON_TIME
    zero = Report.objects.get(day=D + timedelta(days=1))
    assert zero.kind == "zero" and set(zero.values.values()) == {0}


def test_deadline_and_lock_overridable_for_a_subtree(world, rform, clock):
    from fangkong.reports.models import ScheduleOverride

    ScheduleOverride.objects.create(
        form=rform, unit=world.units["HG"], deadline_minutes=8 * 60, lock_minutes=20 * 60
    )
    assert schedule_of(rform).minutes(world.units["HG-HZ"].path) == (480, 1200)
    assert schedule_of(rform).minutes(world.units["XG-XN"].path) == (600, 1440)
    clock.freeze(at(D, 8, 30))
    assert status(rform, world) == selectors.MISSING
    assert status(rform, world, unit="XG-XN") == selectors.NOT_DUE
    clock.freeze(at(D, 20, 0))
    with pytest.raises(ValidationError) as exc:
        submit(world, rform)
    assert services.ERR_LOCKED in str(exc.value)


def test_the_client_cannot_choose_its_submission_time(world, rform, client_for, clock):
    clock.freeze(at(D, 9, 15))
    data = {f"v_{k}": "0" for k in rform.field_keys}
    data.update({"submitted_at": "2020-02-03T08:00:00", "day": "2020-02-01", "daily": "1"})
    r = client_for("county_liaison").post(f"/reports/{rform.pk}/units/HG-HZ/2020-02-03/", data)
    assert r.status_code == 302
    report = Report.objects.get()
    assert report.submitted_at == at(D, 9, 15) and report.day == D


def test_future_days_are_refused(world, rform, clock):
    clock.freeze(at(D, 9))
    with pytest.raises(ValidationError):
        submit(world, rform, day=D + timedelta(days=1))


def test_after_the_lock_an_expiring_audited_unlock_is_needed_and_lateness_stays(
    world, rform, clock
):
    clock.freeze(at(D + timedelta(days=1), 9))
    assert status(rform, world) == selectors.MISSING
    with pytest.raises(ValidationError):
        submit(world, rform)
    with pytest.raises(PermissionDenied):
        services.unlock_grant(
            actor=world.users["county_liaison"],
            form=rform,
            unit=world.units["HG-HZ"],
            day=D,
            reason="补报",
        )
    services.unlock_grant(
        actor=world.users["city_coord"],
        form=rform,
        unit=world.units["HG-HZ"],
        day=D,
        reason="联络员生病，同意补报",
        hours=2,
    )
    assert AuditEvent.objects.filter(action="report.unlock").exists()
    report = submit(world, rform, kind="zero")
    assert report.unlock is not None
    assert status(rform, world) == selectors.ZERO_LATE  # submitted after the lock: stays late
    clock.freeze(at(D + timedelta(days=1), 11, 1))  # the unlock expired
    with pytest.raises(ValidationError):
        submit(world, rform, correction_reason="再改")


def test_a_correction_is_a_new_version_with_a_reason(world, rform, clock):
    clock.freeze(at(D, 9))
    values = dict.fromkeys(rform.field_keys, 0) | {"staff_fever": 2}
    first = submit(world, rform, values=values, explanation="两人在外地就诊，未打卡")
    with pytest.raises(ValidationError) as exc:
        submit(world, rform, values=values, explanation="x")
    assert services.ERR_REASON in str(exc.value)
    clock.freeze(at(D, 11))
    second = submit(
        world,
        rform,
        values=values | {"staff_fever": 0},
        correction_reason="核实后为误报",
        explanation="",
    )
    assert (first.version, second.version) == (1, 2)
    assert Report.objects.filter(unit=world.units["HG-HZ"]).count() == 2
    current = CurrentReport.objects.get()
    assert current.report == second and current.first_submitted_at == at(D, 9)
    assert status(rform, world) == selectors.ON_TIME  # lateness comes from the first version
    rows = selectors.rollup(rform, world.units["HB"], D, D)
    found = selectors.signals(rform, rows, world.units["HB"], D)
    assert any(s["signal"] == "corrected_down" and "2→0" in s["text"] for s in found)


def test_adjusting_derived_figures_needs_an_explanation(world, rform, clock):
    clock.freeze(at(D, 8))
    health.checkin_submit(
        actor=world.users["staff"],
        person=world.people["staff"],
        channel="web",
        answers=[health.Answers(temperature=Decimal("38.2"), work_mode="on_site", attested=True)],
    )
    derived = selectors.derived_for_unit(rform, world.units["HG-HZ"], D)
    assert derived["staff_fever"] == 1 and derived["staff_checked"] == 1
    with pytest.raises(ValidationError) as exc:
        submit(world, rform)  # all zeros although a fever was reported
    assert services.ERR_EXPLAIN in str(exc.value)


def test_review_return_resubmit_and_accept(world, rform, clock):
    clock.freeze(at(D, 9))
    report = submit(world, rform)
    with pytest.raises(ValidationError):
        services.report_review(actor=world.users["city_coord"], report=report, action="return")
    with pytest.raises(PermissionDenied):
        services.report_review(actor=world.users["outsider"], report=report, action="accept")
    services.report_review(
        actor=world.users["city_coord"], report=report, action="return", comment="措施一栏请写具体"
    )
    assert status(rform, world) == selectors.RETURNED
    again = submit(world, rform, correction_reason="按退回意见补充措施", measures="每日消毒两次")
    assert status(rform, world) == selectors.ON_TIME
    services.report_review(actor=world.users["city_coord"], report=again, action="accept")
    assert status(rform, world) == selectors.ACCEPTED
    with pytest.raises(ValidationError):
        services.report_review(actor=world.users["city_coord"], report=report, action="accept")


def test_superior_report_with_missing_children_needs_a_reason(world, rform, clock):
    clock.freeze(at(D, 9))
    submit(world, rform)  # HG-HZ reported, HG-MC has not
    hg = submit(world, rform, unit="HG", who="admin")
    with pytest.raises(ValidationError) as exc:
        services.report_review(actor=world.users["prov_coord"], report=hg, action="accept")
    assert services.ERR_CHILDREN_MISSING in str(exc.value)
    review = services.report_review(
        actor=world.users["prov_coord"],
        report=hg,
        action="accept",
        missing_children_reason="麻城市审计局电话报告无情况，系统故障",
    )
    assert review.missing_children_reason


def test_two_reporting_lines_both_review(world, rform, clock):
    cmd_user = account_services.user_create(actor=None, username="cmd", password=None)
    org_services.role_assign(
        actor=None, user=cmd_user, role="coordinator", unit=world.units["HG-ZHB"]
    )
    clock.freeze(at(D, 9))
    report = submit(world, rform)
    assert [u.code for u in services.reviewer_units_for(cmd_user, world.units["HG-HZ"])] == [
        "HG-ZHB"
    ]
    assert [
        u.code for u in services.reviewer_units_for(world.users["city_coord"], world.units["HG-HZ"])
    ] == ["HG"]
    services.report_review(actor=cmd_user, report=report, action="accept")
    services.report_review(
        actor=world.users["city_coord"], report=report, action="return", comment="数字有误"
    )
    assert sorted(report.reviews.values_list("reviewer_unit__code", flat=True)) == ["HG", "HG-ZHB"]


def test_rates_over_a_range_with_opening_closing_and_short_months(world, rform, clock):
    clock.freeze(at(date(2021, 4, 1), 12))
    admin = world.users["admin"]
    county = UnitLevel.objects.get(code="county")
    org_services.unit_create(
        actor=admin,
        code="HG-NEW",
        name="新设局",
        level=county,
        parent=world.units["HG"],
        opened_on=date(2021, 3, 1),
    )
    org_services.unit_update(actor=admin, unit=world.units["HG-MC"], closed_on=date(2021, 2, 15))
    start, end = date(2021, 2, 1), date(2021, 3, 31)  # 28 + 31 days
    rows = selectors.rollup(rform, world.units["HB"], start, end)
    hg = rows[world.units["HG"].pk].stats
    # HG and HG-HZ every day (59 each), HG-MC until 14 Feb (14), HG-NEW from 1 Mar (31).
    assert hg.expected == 59 + 59 + 14 + 31
    assert hg.received == 0 and hg.missing == hg.expected
    assert hg.completeness == 0 and hg.timeliness == 0
    province = rows[world.units["HB"].pk].stats
    assert province.expected == 59 * 5 + 14 + 31  # HB, HG, HG-HZ, XG, XG-XN + the two partial


def test_rates_never_exceed_one(world, rform, clock):
    clock.freeze(at(D, 9))
    for code in ["HB", "HG", "HG-HZ", "HG-MC", "XG", "XG-XN"]:
        submit(world, rform, unit=code, who="admin", kind="zero")
    stats = selectors.rollup(rform, world.units["HB"], D, D)[world.units["HB"].pk].stats
    assert stats.expected == stats.received == stats.on_time == stats.zero == 6
    assert stats.completeness == 1 and stats.timeliness == 1


def test_zero_report_contradicting_a_fever_is_signalled(world, rform, clock):
    clock.freeze(at(D, 8))
    health.checkin_submit(
        actor=world.users["staff"],
        person=world.people["staff"],
        channel="web",
        answers=[health.Answers(temperature=Decimal("38.5"), work_mode="on_site", attested=True)],
    )
    clock.freeze(at(D, 9))
    with pytest.raises(ValidationError):
        submit(world, rform, kind="zero")  # the pre-fill disagrees: an explanation is required
    submit(world, rform, kind="zero", explanation="无")
    rows = selectors.rollup(rform, world.units["HB"], D, D)
    found = selectors.signals(rform, rows, world.units["HB"], D)
    hit = [s for s in found if s["code"] == "HG-HZ" and s["signal"] == "zero_vs_checkins"]
    assert hit and "1 人" in hit[0]["text"]
    services.signal_mark_reviewed(
        actor=world.users["city_coord"],
        form=rform,
        unit=world.units["HG-HZ"],
        day=D,
        signal="zero_vs_checkins",
        note="电话核实：家中发热已就医，已要求更正",
    )
    found = selectors.signals(
        rform, selectors.rollup(rform, world.units["HB"], D, D), world.units["HB"], D
    )
    assert [s for s in found if s["code"] == "HG-HZ"][0]["review"]["note"].startswith("电话核实")


def test_superior_below_children_is_signalled(world, rform, clock):
    clock.freeze(at(D, 9))
    values = dict.fromkeys(rform.field_keys, 0)
    submit(world, rform, values=values | {"staff_quarantine": 3}, explanation="居家隔离三人")
    submit(world, rform, unit="HG", who="admin", kind="zero")
    found = selectors.signals(
        rform, selectors.rollup(rform, world.units["HB"], D, D), world.units["HB"], D
    )
    assert any(s["code"] == "HG" and s["signal"] == "below_children" for s in found)


def test_tampering_is_detected_by_the_verify_command(world, rform, clock):
    clock.freeze(at(D, 9))
    submit(world, rform)
    clock.freeze(at(D, 10))
    submit(world, rform, correction_reason="补充")
    submit(world, rform, unit="XG-XN", who="admin", kind="zero")
    out = StringIO()
    call_command("verify_reports", stdout=out)
    assert "no tampering" in out.getvalue()
    first = Report.objects.get(unit=world.units["HG-HZ"], version=1)
    with connection.cursor() as cur:
        cur.execute(
            'UPDATE reports_report SET "values" = %s WHERE id = %s',
            ['{"staff_fever": 9}', first.pk],
        )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_reports", stdout=out)
    assert "HG-HZ 黄州区审计局 2020-02-03 v1: content changed" in out.getvalue()
    assert "XG-XN" not in out.getvalue()


def test_rollup_query_count_does_not_grow_with_the_tree(world, rform, clock):
    clock.freeze(at(D, 12))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.rollup(rform, world.units["HB"], D, D)
            selectors.signals(rform, rows, world.units["HB"], D)
            selectors.trend(rform, world.units["HB"], D - timedelta(days=29), D)
        return len(ctx)

    submit(world, rform, kind="zero", who="county_liaison")
    small = count()
    county = UnitLevel.objects.get(code="county")
    for i in range(25):
        u = org_services.unit_create(
            actor=world.users["admin"],
            code=f"X{i}",
            name=f"单位{i}",
            level=county,
            parent=world.units["XG"],
        )
        services.report_submit(actor=world.users["admin"], form=rform, unit=u, day=D, kind="zero")
    assert count() == small


def test_rollup_page_queries_are_pinned(world, rform, client_for, clock):
    clock.freeze(at(D, 12))
    c = client_for("prov_coord")
    c.get(f"/reports/{rform.pk}/rollup/?node=HB&day=2020-02-03")
    with CaptureQueriesContext(connection) as ctx:
        r = c.get(f"/reports/{rform.pk}/rollup/?node=HB&day=2020-02-03")
    assert r.status_code == 200
    first = len(ctx)
    county = UnitLevel.objects.get(code="county")
    for i in range(15):
        org_services.unit_create(
            actor=world.users["admin"],
            code=f"Y{i}",
            name=f"乙{i}",
            level=county,
            parent=world.units["HG"],
        )
    with CaptureQueriesContext(connection) as ctx:
        c.get(f"/reports/{rform.pk}/rollup/?node=HB&day=2020-02-03")
    assert len(ctx) == first


def test_exports(world, rform, client_for, clock):
    from openpyxl import load_workbook

    clock.freeze(at(D, 9))
    submit(
        world,
        rform,
        values=dict.fromkeys(rform.field_keys, 0) | {"staff_home_post": 2},
        explanation="两人居家办公未打卡",
    )
    c = client_for("city_coord")
    r = c.get(f"/reports/{rform.pk}/ledger.xlsx?node=HG&from=2020-02-02&to=2020-02-03")
    ws = load_workbook(BytesIO(r.content)).active
    assert "疫情防控监测台账" in ws["A1"].value
    assert any("B2" in str(m) or "A2:A3" in str(m) for m in ws.merged_cells.ranges)
    assert ws.cell(2, 9).value == "职工"
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert "黄州区审计局" in texts and "下级合计" in texts
    dhis = c.get(f"/reports/{rform.pk}/dhis2.json?node=HG&from=2020-02-03&to=2020-02-03").json()
    assert {
        "dataElement": "staff_home_post",
        "period": "20200203",
        "orgUnit": "HG-HZ",
        "value": "2",
        "comment": "",
    } in dhis["dataValues"]
    pdf = c.get(f"/reports/{rform.pk}/rollup.pdf?node=HG&day=2020-02-03")
    assert pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action__startswith="report.export").count() == 3
    assert c.get(f"/reports/{rform.pk}/ledger.xlsx?node=XG").status_code == 404

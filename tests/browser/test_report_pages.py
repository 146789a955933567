"""Unit daily reports in the browser: zero report, review and return, resubmission, the province's signal."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

D = date(2020, 2, 3)


@pytest.fixture
def day(bworld):
    from fangkong.lib import clock
    from fangkong.org.models import UnitLevel
    from fangkong.reports.models import ReportForm

    form = ReportForm.objects.create(
        code="daily", name="疫情防控日报告", root=bworld.units["HB"], active_from=date(2020, 1, 1)
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    clock.freeze(datetime(2020, 2, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    yield form
    clock.freeze(None)


def test_zero_report_review_return_and_resubmit(page_for, bworld, day):
    from fangkong.accounts.models import User
    from fangkong.org import services as org_services
    from fangkong.reports import services
    from tests.world import PASSWORD

    form = day
    # 麻城市审计局 gets a liaison with an account; its report is submitted before the coordinator looks.
    mc_user = User.objects.create_user("mc_liaison", password=PASSWORD)
    clerk = bworld.people["mc_clerk"]
    clerk.user = mc_user
    clerk.save(update_fields=["user"])
    org_services.unit_set_responsibles(
        actor=bworld.users["admin"],
        unit=bworld.units["HG-MC"],
        first_responsible=clerk,
        liaisons=[clerk],
    )
    services.report_submit(
        actor=mc_user,
        form=form,
        unit=bworld.units["HG-MC"],
        day=D,
        kind="daily",
        values=dict.fromkeys(form.field_keys, 0),
    )

    liaison = page_for("county_liaison")
    liaison.click("nav >> text=日报告")
    expect(liaison.locator("#status-HG-HZ")).to_have_text("未到截止时间")
    shot(liaison, "reports-today-liaison")
    liaison.click(".report-card[data-unit='HG-HZ'] >> text=填报今日报告")
    expect(liaison.locator("h1")).to_contain_text("黄州区审计局")
    shot(liaison, "report-submit")
    liaison.once("dialog", lambda d: d.accept())
    liaison.click("button:has-text('零报告')")
    expect(liaison.locator(".messages")).to_contain_text("零报告已报送")
    expect(liaison.locator("#status-HG-HZ")).to_have_text("零报告（按时）")

    coord = page_for("city_coord")
    coord.goto(f"{coord.base}/reports/{form.pk}/rollup/?node=HG&day=2020-02-03")
    expect(coord.locator("#n-received")).to_have_text("2")
    expect(coord.locator("#n-zero")).to_have_text("1")
    expect(coord.locator("tr[data-unit='HG-HZ']")).to_contain_text("零报告（按时）")
    expect(coord.locator("tr[data-unit='HG-HZ']")).to_contain_text("刘志强")
    coord.wait_for_function("document.querySelector('#chart-trend canvas') !== null")
    shot(coord, "rollup-city")
    coord.locator("tr[data-unit='HG-MC'] >> text=按时报送").click()
    coord.check("input[name=action][value=return]")
    coord.fill("textarea[name=comment]", "请补充今日采取的防控措施")
    coord.click("button:has-text('保存审核意见')")
    expect(coord.locator("tr[data-unit='HG-MC']")).to_contain_text("已退回")
    shot(coord, "rollup-city-returned")

    mc = page_for("mc_liaison")
    mc.click("nav >> text=日报告")
    expect(mc.locator("#status-HG-MC")).to_have_text("已退回")
    mc.click(".report-card[data-unit='HG-MC'] >> text=查看或更正今日报告")
    mc.fill("textarea[name=measures]", "每日两次消毒，全员测温")
    mc.fill("textarea[name=correction_reason]", "按退回意见补充措施")
    mc.click("button:has-text('提交更正')")
    expect(mc.locator("#status-HG-MC")).to_have_text("按时报送")
    coord.reload()
    expect(coord.locator("tr[data-unit='HG-MC']")).to_contain_text("按时报送")


def test_province_sees_the_signal_of_a_contradicting_zero_report(page_for, bworld, day):
    from fangkong.health import services as health
    from fangkong.reports import services

    health.checkin_submit(
        actor=bworld.users["staff"],
        person=bworld.people["staff"],
        channel="web",
        answers=[health.Answers(temperature=Decimal("38.6"), work_mode="on_site", attested=True)],
    )
    services.report_submit(
        actor=bworld.users["county_liaison"],
        form=day,
        unit=bworld.units["HG-HZ"],
        day=D,
        kind="zero",
        explanation="无",
    )
    page = page_for("prov_coord")
    page.goto(f"{page.base}/reports/{day.pk}/rollup/?node=HB&day=2020-02-03")
    row = page.locator("#signals tr", has_text="黄州区审计局")
    expect(row).to_contain_text("零报告与打卡数据矛盾")
    expect(row).to_contain_text("发热、疑似或确诊共 1 人")
    page.wait_for_function("document.querySelector('#chart-children canvas') !== null")
    shot(page, "rollup-province-signal")
    row.locator("textarea").fill("已电话核实，要求更正")
    row.locator("button").click()
    expect(page.locator("#signals tr", has_text="黄州区审计局")).to_contain_text("已核查")


def test_history_unlock_and_verify_pages(page_for, bworld, day):
    from fangkong.lib import clock

    clock.freeze(datetime(2020, 2, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    page = page_for("city_coord")
    page.goto(f"{page.base}/reports/{day.pk}/units/HG-HZ/")
    row = page.locator("tr[data-day='2020-02-03']")
    expect(row).to_contain_text("漏报")
    row.locator("summary").click()
    row.locator("textarea[name=reason]").fill("联络员病假，同意补报")
    row.locator("button:has-text('解锁')").click()
    expect(page.locator(".messages")).to_contain_text("已解锁")
    shot(page, "report-history")
    admin = page_for("admin")
    admin.goto(f"{admin.base}/reports/verify/")
    expect(admin.locator("#all-good")).to_be_visible()
    shot(admin, "report-verify")

"""The leading group in the browser: the liaison names it, the roll-up and the notice board show it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot


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


def appoint(page, *, role: str, person, valid_from: str, phone: str = "", duty: str = ""):
    page.select_option("#id_role", role)
    page.select_option("#id_person", str(person.pk))
    page.fill("#id_duty", duty)
    page.fill("#id_phone", phone)
    page.fill("#id_valid_from", valid_from)
    page.click("#appoint button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("领导小组已调整")


def test_liaison_names_the_group_and_it_shows_in_rollup_and_on_the_board(page_for, bworld, day):
    people = bworld.people
    page = page_for("county_liaison")
    page.goto(f"{page.base}/org/units/HG-HZ/")
    # Nothing named yet: the first responsible person leads by default.
    expect(page.locator("#leading-group .group-leader")).to_contain_text("默认：第一责任人")
    page.click("#leading-group >> text=任命、调整及历史")
    appoint(page, role="leader", person=people["leader"], valid_from="2020-01-25", duty="全面负责")
    appoint(page, role="deputy", person=people["county_liaison"], valid_from="2020-01-25")
    appoint(page, role="member", person=people["staff"], valid_from="2020-01-25", duty="后勤保障")
    appoint(
        page,
        role="office",
        person=people["county_liaison"],
        valid_from="2020-02-03",
        phone="0713-8888888",
        duty="设在局办公室",
    )
    expect(page.locator("#group-on-day .group-office")).to_contain_text("陈晓东 · 0713-8888888")
    expect(page.locator("#group-history tbody tr")).to_have_count(4)
    shot(page, "leading-group-manage")
    # The day before, 陈晓东 was still 副组长 and there was no office contact.
    page.fill("input[name=on]", "2020-02-02")
    page.click("#group-on-day >> xpath=preceding::button[1]")
    expect(page.locator("#group-on-day h2")).to_contain_text("2020年2月2日")
    expect(page.locator("#group-on-day .group-deputies")).to_contain_text("陈晓东")
    expect(page.locator("#group-on-day .group-office")).to_have_text("—")
    shot(page, "leading-group-history-day")
    page.goto(f"{page.base}/org/units/HG-HZ/")
    expect(page.locator("#leading-group .group-leader")).to_contain_text("刘志强")
    shot(page, "unit-with-leading-group")

    coord = page_for("city_coord")
    coord.goto(f"{coord.base}/reports/{day.pk}/rollup/?node=HG&day=2020-02-03")
    expect(coord.locator("tr[data-unit='HG-HZ'] .group-line")).to_have_text(
        "领导小组：组长 刘志强；办公室 陈晓东 0713-8888888"
    )
    shot(coord, "rollup-with-leading-group")

    staff = page_for("staff", mobile=True)
    staff.goto(f"{staff.base}/notices/")
    expect(staff.locator("#board-leading-group")).to_contain_text("黄州区审计局疫情防控领导小组")
    expect(staff.locator("#board-leading-group .group-members")).to_contain_text("张伟（后勤保障）")
    shot(staff, "notice-board-leading-group-mobile")

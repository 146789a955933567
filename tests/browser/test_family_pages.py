"""A staff member adds a family member on a phone; the next day's check-in includes them."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def frozen():
    from fangkong.lib import clock

    clock.freeze(datetime(2020, 2, 3, 8, 30, tzinfo=SH))
    yield clock
    clock.freeze(None)


def test_staff_adds_a_family_member_who_appears_on_the_next_days_check_in(page_for, bworld, frozen):
    from fangkong.org.models import FamilyMember

    page = page_for("staff", mobile=True)
    page.click("#task-family >> text=添加或登记迁出")
    expect(page.locator("h1")).to_have_text("我的家庭成员及同住人")
    page.fill("#id_name", "张奶奶")
    page.select_option("#id_relation", "grandparent")
    page.fill("#id_birth_year", "1950")
    page.click("#family-add button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("从 2020-02-04 起纳入每日健康打卡")
    member = FamilyMember.objects.get(name="张奶奶")
    expect(page.locator(f"tr[data-member='{member.pk}']")).to_contain_text("2月4日起打卡")
    shot(page, "family-added-mobile")
    # Today's check-in is the household the day began with.
    page.goto(f"{page.base}/health/checkin/")
    expect(page.locator("fieldset.subject")).to_have_count(3)
    expect(page.locator(f"fieldset[data-subject='f{member.pk}']")).to_have_count(0)
    # The next morning she is on the form.
    frozen.advance(timedelta(days=1))
    page.goto(f"{page.base}/health/checkin/")
    expect(page.locator("fieldset.subject")).to_have_count(4)
    expect(page.locator(f"fieldset[data-subject='f{member.pk}'] legend")).to_contain_text(
        "张奶奶（祖父母/外祖父母）"
    )
    shot(page, "family-next-day-checkin-mobile")


def test_staff_records_a_move_out_and_the_liaison_sees_it(page_for, bworld, frozen):
    staff = bworld.people["staff"]
    child = staff.family.get(relation="child")
    page = page_for("staff", mobile=True)
    page.goto(f"{page.base}/org/people/{staff.pk}/family/")
    row = page.locator(f"tr[data-member='{child.pk}']")
    row.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("已登记 张小宝 迁出")
    expect(page.locator(f"tr[data-member='{child.pk}']")).to_contain_text("2020-02-03 迁出")
    shot(page, "family-moved-out-mobile")
    liaison = page_for("county_liaison")
    liaison.goto(f"{liaison.base}/health/units/HG-HZ/?day=2020-02-03")
    expect(liaison.locator("#family-changes")).to_contain_text("张小宝（子女）")
    expect(liaison.locator("#family-changes")).to_contain_text("迁出（2020-02-03）")
    shot(liaison, "unit-day-family-changes")

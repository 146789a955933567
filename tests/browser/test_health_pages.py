"""Check-in on a phone, the liaison's day with proxy entry, and a fever followed to release."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import shot


def fill_subject(page, prefix: str, temperature: str):
    section = page.locator(f"fieldset[data-subject='{prefix}']")
    section.locator("input[name$='temperature']").fill(temperature)
    return section


def test_staff_checks_in_for_self_and_family_on_a_phone(page_for, bworld):
    from fangkong.health.models import CheckIn

    page = page_for("staff", mobile=True)
    expect(page.locator("#task-checkin")).to_contain_text("0/3")
    page.click("#task-checkin >> text=去打卡")
    expect(page.locator("h1")).to_have_text("今日健康打卡")
    expect(page.locator("#purpose-notice")).to_contain_text("个人信息使用说明")
    shot(page, "checkin-empty-mobile")
    me = fill_subject(page, "self", "36.5")
    me.locator("text=在岗").click()
    family = list(bworld.people["staff"].family.order_by("id"))
    fill_subject(page, f"f{family[0].pk}", "38.6")  # the spouse has a fever
    fill_subject(page, f"f{family[1].pk}", "36.7")
    page.click("button[type=submit]")  # the browser refuses: the attestation is required
    assert page.evaluate("document.querySelector('input[name=attested]').validity.valueMissing")
    assert not CheckIn.objects.exists()
    page.locator("input[name=attested]").check()
    page.click("button[type=submit]")
    expect(page.locator("#done-banner")).to_contain_text("今日已完成打卡")
    shot(page, "checkin-done-mobile")
    assert CheckIn.objects.filter(person=bworld.people["staff"]).count() == 3


def test_liaison_sees_check_ins_proxies_and_releases_a_case(page_for, bworld):
    from decimal import Decimal

    from fangkong.health import services
    from fangkong.health.models import FollowUpCase

    staff = bworld.people["staff"]
    spouse = staff.family.get(relation="spouse")
    services.checkin_submit(
        actor=bworld.users["staff"],
        person=staff,
        channel="web",
        answers=[
            services.Answers(temperature=Decimal("36.5"), work_mode="on_site", attested=True),
            services.Answers(
                temperature=Decimal("38.6"), family_member_id=spouse.pk, attested=True
            ),
        ],
    )
    page = page_for("county_liaison")
    page.click(".task-unit-day >> text=打开")
    expect(page.locator("#count-reported")).to_have_text("1")
    expect(page.locator("#count-missing")).to_have_text("2")
    expect(page.locator("#count-abnormal")).to_have_text("1")
    expect(page.locator(f"tr[data-person='{staff.pk}']")).to_contain_text("1人异常")
    shot(page, "unit-day-liaison")
    # Proxy entry for a colleague.
    leader = bworld.people["leader"]
    page.locator(f"tr[data-person='{leader.pk}'] a.proxy").click()
    expect(page.locator("h1")).to_contain_text("代 刘志强 健康打卡")
    fill_subject(page, "self", "36.4").locator("text=在岗").click()
    page.locator("input[name=attested]").check()
    page.click("button[type=submit]")
    expect(page.locator("#done-banner")).to_be_visible()
    page.goto(f"{page.base}/health/units/HG-HZ/")
    expect(page.locator("#count-reported")).to_have_text("2")
    expect(page.locator(f"tr[data-person='{leader.pk}']")).to_contain_text("代填")
    # The spouse's fever opened a case; the liaison releases it with a note.
    page.click("text=查看异常跟踪个案")
    expect(page.locator("table")).to_contain_text("李娜")
    page.click("table >> text=李娜")
    expect(page.locator("#case-status")).to_have_text("观察中")
    page.select_option("select[name=to_status]", "released")
    page.fill("textarea[name=note]", "体温连续三天正常，社区医生确认，解除观察")
    page.click("button:has-text('保存')")
    expect(page.locator("#case-status")).to_have_text("解除")
    expect(page.locator(".timeline")).to_contain_text("观察中 → 解除")
    shot(page, "case-released")
    assert not FollowUpCase.objects.get(family_member=spouse).is_open


def test_chase_list(page_for, bworld):
    page = page_for("county_liaison")
    page.goto(f"{page.base}/health/units/HG-HZ/")
    page.click("text=催报未打卡人员")
    expect(page.locator("#chase-text")).to_have_value(re.compile("健康打卡提醒.*张伟"))
    shot(page, "chase")

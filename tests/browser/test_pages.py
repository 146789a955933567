"""Every page of the foundation, in a real browser, in Chinese; screenshots for review."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import shot


def test_login_page_in_chinese(browser, live_server, bworld):
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("h1")).to_have_text("登录防控系统")
    page.fill("#id_username", "staff")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("正确的用户名和密码")
    shot(page, "login-error")
    ctx.close()


def test_staff_home_on_a_phone(page_for, bworld):
    page = page_for("staff", mobile=True)
    expect(page.locator("h1")).to_contain_text("张伟，您好")
    expect(page.locator("#task-family")).to_contain_text("已登记 2 人")
    shot(page, "home-staff-mobile")
    page.click("text=查看我的信息")
    expect(page.locator("h1")).to_contain_text("张伟")
    expect(page.locator("table")).to_contain_text("张小宝")
    # Own identifiers can be revealed; the page shows them masked first.
    expect(page.locator("#idnumber")).to_contain_text("420")
    page.locator("#idnumber button").click()
    expect(page.locator("#idnumber .revealed")).to_have_text(re.compile(r"^\d{17}[\dX]$"))
    shot(page, "person-self-mobile")


def test_city_coordinator_drills_down(page_for, bworld):
    page = page_for("city_coord")
    expect(page.locator("#task-responsibles")).to_contain_text("麻城市审计局")
    shot(page, "home-city-coordinator")
    page.click("nav >> text=单位与人员")
    expect(page.locator("h1")).to_contain_text("黄冈市审计局")
    expect(page.locator("body")).not_to_contain_text("孝感")
    shot(page, "unit-city")
    page.click("text=黄州区审计局")
    # The first key-value list is the unit's own (the leading group has another).
    expect(page.locator(".kv").first).to_contain_text("刘志强")
    expect(page.locator(".kv").first).to_contain_text("黄冈市疫情防控指挥部")
    shot(page, "unit-county")
    page.click('table a:has-text("陈晓东")')
    expect(page.locator("#idnumber")).to_contain_text("*")
    expect(page.locator("#idnumber button")).to_have_count(0)  # coordinators cannot unmask
    shot(page, "person-by-coordinator")


def test_liaison_reveals_an_id_number(page_for, bworld):
    from fangkong.audit.models import AuditEvent

    page = page_for("county_liaison")
    page.goto(f"{page.base}/org/people/{bworld.people['staff'].pk}/")
    page.locator("#idnumber button").click()
    expect(page.locator("#idnumber .revealed")).to_have_text(re.compile(r"^\d{17}[\dX]$"))
    assert AuditEvent.objects.filter(
        action="person.reveal_id", actor_name="county_liaison"
    ).exists()


def test_foreign_unit_is_not_found(page_for, bworld):
    page = page_for("outsider")
    response = page.goto(f"{page.base}/org/units/HG-HZ/")
    assert response.status == 404


def test_admin_pages(page_for, bworld):
    page = page_for("admin")
    page.click("nav >> text=账号管理")
    expect(page.locator("h1")).to_have_text("账号管理")
    shot(page, "users-admin")
    page.once("dialog", lambda d: d.accept())
    page.locator("tr", has_text="staff").locator("button").click()
    expect(page.locator("h1")).to_have_text("密码已重置")
    expect(page.locator("#temporary-password")).to_have_text(re.compile(r"^Fk-"))
    page.click("nav >> text=审计日志")
    expect(page.locator("table")).to_contain_text("user.password_reset")
    shot(page, "audit-admin")


def test_tokens_and_password_pages(page_for, bworld):
    page = page_for("staff")
    page.goto(f"{page.base}/accounts/tokens/")
    page.fill("#id_name", "每日脚本")
    page.click("text=创建令牌")
    expect(page.locator("#new-token")).to_have_text(re.compile(r"^fk_"))
    shot(page, "tokens")
    page.click("text=吊销")
    expect(page.locator("table")).to_contain_text("已吊销")
    page.goto(f"{page.base}/accounts/password/")
    expect(page.locator("h1")).to_have_text("修改密码")
    shot(page, "password-change")


def test_english_is_available(page_for, bworld):
    page = page_for("city_coord")
    page.select_option("select[name=language]", "en")
    expect(page.locator("nav.mainnav")).to_contain_text("Units and people")
    shot(page, "home-english")

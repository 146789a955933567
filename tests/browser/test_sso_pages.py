"""Signing in through WeCom in Chromium: the full redirect flow against the local WeCom stand-in."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot


@pytest.fixture
def phone(browser, live_server):
    """A fresh phone-sized browser, signed in as nobody."""
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
    )
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server.url
    yield page
    ctx.close()


def test_staff_signs_in_through_wecom_confirms_once_and_lands_on_today(phone, bworld, platforms):
    from allauth.socialaccount.models import SocialAccount

    staff = bworld.people["staff"]
    platforms.add("zhangwei", "张伟", staff.mobile)
    platforms.who = "zhangwei"
    phone.goto(f"{phone.base}/accounts/login/")
    expect(phone.locator("#sso-buttons")).to_contain_text("企业微信登录")
    shot(phone, "login-with-platforms-mobile")
    phone.click("#sso-wecom")
    # Our callback sent the browser to the one-time confirmation.
    phone.wait_for_url("**/sso/confirm/**")
    expect(phone.locator("#sso-confirm h1")).to_have_text("首次使用企业微信登录")
    expect(phone.locator("#confirm-name")).to_have_text("张伟")
    shot(phone, "sso-confirm-mobile")
    assert any(r["path"] == "/connect/oauth2/authorize" for r in platforms.requests)
    phone.click("#confirm-yes")
    expect(phone.locator("h1")).to_contain_text("张伟，您好")
    expect(phone.locator("#task-checkin")).to_be_visible()
    shot(phone, "sso-signed-in-home-mobile")
    assert SocialAccount.objects.get(provider="wecom").user == bworld.users["staff"]
    # Signing out and in again goes straight through.
    phone.click("text=退出")
    phone.goto(f"{phone.base}/accounts/login/")
    phone.click("#sso-wecom")
    expect(phone.locator("h1")).to_contain_text("张伟，您好")


def test_an_unknown_wecom_identity_is_refused_with_a_clear_message(phone, bworld, platforms):
    from fangkong.accounts.models import User

    users = User.objects.count()
    platforms.add("stranger", "陌生人", "13912345678")
    platforms.who = "stranger"
    phone.goto(f"{phone.base}/accounts/login/")
    phone.click("#sso-wecom")
    expect(phone.locator("#sso-refused h1")).to_have_text("无法登录")
    expect(phone.locator("#refusal-message")).to_contain_text(
        "名册中没有手机号码为 139****5678 的在职人员"
    )
    shot(phone, "sso-refused-mobile")
    assert User.objects.count() == users


def test_administrator_sees_sign_in_adoption_per_unit(page_for, bworld, platforms):
    page = page_for("admin")
    page.goto(f"{page.base}/org/units/HG/")
    page.click("#adoption-link")
    expect(page.locator("h1")).to_contain_text("账号开通与登录情况")
    expect(page.locator("#adoption tr[data-unit='HG-HZ']")).to_contain_text("黄州区审计局")
    shot(page, "sso-adoption")

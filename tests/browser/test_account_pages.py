"""Accounts in the browser: a city coordinator opens accounts for a county bureau and prints the
slips (the PDF rendered to PNG for review), a new staff member activates with a code on a phone
and checks in, a coordinator grants and revokes a liaison, and a locked-out sign-in page."""

import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, shot

NEW_PASSWORD = "Mein-Passw0rt!2020"


def add(bworld, unit, name, mobile=""):
    from fangkong.org import services as org

    return org.person_create(
        actor=bworld.users["admin"], unit=bworld.units[unit], name=name, mobile=mobile
    )


def pdf_to_png(pdf: Path, name: str) -> Path:
    """Render a PDF's first page with poppler's pdftoppm beside the screenshots."""
    tool = shutil.which("pdftoppm")
    assert tool, "pdftoppm is missing: apt-get install poppler-utils"
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = SHOTS / name
    subprocess.run(  # noqa: S603 - our own file through poppler
        [tool, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
    )
    return stem.with_suffix(".png")


def test_city_coordinator_opens_accounts_for_a_county_and_prints_the_slips(
    page_for, bworld, tmp_path
):
    from fangkong.accounts.models import AccessCode
    from fangkong.org.models import Person

    add(bworld, "HG-HZ", "吴芳", "13900001111")
    add(bworld, "HG-HZ-ZH", "欧阳建国", "13900002222")
    add(bworld, "HG-HZ-ZH", "王五")  # no mobile
    page = page_for("city_coord")
    page.goto(f"{page.base}/org/units/HG-HZ/")
    page.click("#unit-account-links >> text=账号")
    expect(page.locator("h1")).to_contain_text("黄州区审计局及下级单位的账号")
    expect(page.locator("#count-none")).to_have_text("3")
    shot(page, "accounts-unit-before")
    page.locator("text=全部打印凭条，由联络员分发").click()
    page.click("#open-button")
    expect(page.locator("#batch-status")).to_have_text("已完成")
    expect(page.locator("#count-created")).to_have_text("3")
    shot(page, "accounts-batch-done")
    assert Person.objects.filter(name="王五", user__isnull=False).exists()
    with page.expect_download() as download:
        page.click("#slips-button")
    pdf = tmp_path / "slips.pdf"
    download.value.save_as(pdf)
    assert download.value.suggested_filename.endswith(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert AccessCode.objects.filter(channel="slip").count() == 3
    pdf_to_png(pdf, "accounts-slips-pdf")
    page.goto(f"{page.base}/accounts/units/HG-HZ/")
    expect(page.locator("#count-slip")).to_have_text("3")
    shot(page, "accounts-unit-after")


def test_a_new_staff_member_activates_on_a_phone_and_checks_in(browser, live_server, bworld):
    from fangkong.accounts import provisioning, slips

    person = add(bworld, "HG-HZ-ZH", "吴芳", "13900001111")
    provisioning.account_batch_start(
        actor=bworld.users["city_coord"], unit=bworld.units["HG-HZ"], delivery="slip"
    )
    issued, _ = slips.slips_issue(actor=bworld.users["city_coord"], unit=bworld.units["HG-HZ"])
    slip = next(s for s in issued if s.name == "吴芳")
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
    )
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=首次使用？凭激活码设置密码")
    expect(page.locator("h1")).to_have_text("激活账号，设置密码")
    page.fill("#id_username", slip.username)
    page.fill("#id_code", slip.code.lower())
    page.fill("#id_new_password1", "short")
    page.fill("#id_new_password2", "short")
    page.click("button:has-text('激活并登录')")
    expect(page.locator("#activate .errorlist").first).to_be_visible()
    shot(page, "activate-weak-password-mobile")
    page.fill("#id_code", slip.code)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    shot(page, "activate-filled-mobile")
    page.click("button:has-text('激活并登录')")
    expect(page.locator(".messages")).to_contain_text("账号已激活")
    expect(page.locator("h1")).to_contain_text("吴芳")
    shot(page, "activate-done-home-mobile")
    page.click("#task-checkin >> text=去打卡")
    section = page.locator("fieldset[data-subject='self']")
    section.locator("input[name$='temperature']").fill("36.5")
    section.locator("text=在岗").click()
    page.locator("input[name=attested]").check()
    page.click("button[type=submit]")
    expect(page.locator("#done-banner")).to_contain_text("今日已完成打卡")
    shot(page, "activate-checked-in-mobile")
    from fangkong.health.models import CheckIn

    assert CheckIn.objects.filter(person=person).count() == 1
    ctx.close()


def test_a_coordinator_grants_a_liaison_and_revokes_it(page_for, bworld):
    page = page_for("city_coord")
    page.goto(f"{page.base}/org/units/HG-HZ-ZH/")
    page.click("#unit-account-links >> text=角色")
    expect(page.locator("h1")).to_have_text("综合科的角色")
    expect(page.locator("#role-holders")).to_contain_text("本单位尚未指定任何角色")
    page.select_option("select[name=role]", "liaison")
    page.select_option("select[name=person]", str(bworld.people["staff"].pk))
    shot(page, "roles-grant-form")
    page.click("button:has-text('授予')")
    expect(page.locator(".messages")).to_contain_text("已将联络员授予 张伟")
    row = page.locator("#role-holders tr[data-role='liaison']")
    expect(row).to_contain_text("张伟")
    shot(page, "roles-granted")
    # The staff member's own session has the role on their next page.
    staff = page_for("staff")
    staff.goto(f"{staff.base}/org/units/HG-HZ-ZH/")
    expect(staff.locator("h1")).to_contain_text("综合科")
    row.locator("button:has-text('撤销')").click()
    expect(page.locator(".messages")).to_contain_text("已撤销 张伟 的联络员角色")
    expect(page.locator("#role-holders tr[data-role='liaison']")).to_have_count(0)
    shot(page, "roles-revoked")
    staff.reload()
    expect(staff.locator("h1")).not_to_contain_text("综合科")


def test_a_locked_out_sign_in_offers_an_sms_code(browser, live_server, bworld):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    for i in range(6):
        page.fill("#id_username", "staff")
        page.fill("#id_password", f"guess-{i}")
        page.click("button:has-text('登录')")
    expect(page.locator(".errorlist")).to_contain_text("该账号最近登录失败的次数较多")
    expect(page.locator("#unlock-code")).to_be_visible()
    shot(page, "login-locked-out-mobile")
    page.click("button:has-text('获取短信验证码')")
    expect(page.locator(".messages")).to_contain_text("验证码已发出")
    expect(page.locator("#id_username")).to_have_value("staff")
    shot(page, "login-unlock-code-sent-mobile")
    # Enter in the form signs in; it does not ask for another code.
    page.fill("#id_password", "Test-Passw0rd!2020")
    page.fill("#id_unlock_code", "000000")
    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.press("#id_unlock_code", "Enter")
    assert posted.value.url.endswith("/accounts/login/")
    ctx.close()

"""Publishing a notice, a staff member acknowledging it, and the publisher's receipts page."""

from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import shot


def test_publish_acknowledge_and_receipts(page_for, bworld, tmp_path):
    from django.utils import timezone

    coord = page_for("city_coord")
    coord.click("nav >> text=通知")
    coord.click("text=下发通知")
    coord.select_option("select[name=kind]", "work_plan")
    coord.fill("input[name=title]", "黄冈市审计局疫情防控工作方案")
    coord.fill("textarea[name=body]", "一、严格执行日报告和零报告制度。\n二、落实24小时值班。")
    coord.select_option("select[name=unit]", "HG")
    coord.check("input[name=audiences][value=staff]")
    coord.check("input[name=requires_ack]")
    due = timezone.localtime() + timedelta(days=1)
    coord.fill("input[name=ack_by]", due.strftime("%Y-%m-%dT%H:%M"))
    plan = tmp_path / "工作方案.txt"
    plan.write_text("附件内容", encoding="utf-8")
    coord.set_input_files("input[name=files]", str(plan))
    shot(coord, "notice-new")
    coord.click("button:has-text('下发')")
    expect(coord.locator("h1")).to_have_text("签收情况")
    expect(coord.locator("#n-acked")).to_have_text("0")

    staff = page_for("staff", mobile=True)
    expect(staff.locator("#task-notices")).to_contain_text("疫情防控工作方案")
    staff.click("#task-notices a")
    expect(staff.locator(".notice-body")).to_contain_text("零报告制度")
    expect(staff.locator("text=工作方案.txt")).to_be_visible()
    shot(staff, "notice-detail-mobile")
    staff.click("button:has-text('确认收到')")
    expect(staff.locator("#my-receipt")).to_contain_text("确认收到")

    coord.reload()
    expect(coord.locator("#n-acked")).to_have_text("1")
    expect(coord.locator("#receipts")).to_contain_text("黄州区审计局")
    shot(coord, "notice-receipts")

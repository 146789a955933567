"""The inbox and the outbox in a real browser; screenshots for review."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from fangkong.notify.models import Message, MessageStatus
from fangkong.notify.services import message_enqueue
from tests.browser.conftest import shot


def test_inbox_shows_a_message_and_marks_it_read(page_for, bworld):
    staff = bworld.users["staff"]
    first, _ = message_enqueue(
        key="b.notice.1:staff",
        kind="notice",
        channel="inbox",
        user=staff,
        subject="【通知】关于做好春节后返岗人员健康排查的通知",
        body="各科室：\n请于 2 月 3 日前完成返岗人员健康排查，并在系统中如实填报。",
    )
    message_enqueue(
        key="b.reminder.1:staff",
        kind="reminder.checkin",
        channel="inbox",
        user=staff,
        subject="健康打卡提醒",
        body="您今天还没有完成健康打卡。",
    )
    page = page_for("staff", mobile=True)
    page.goto(f"{page.base}/notify/inbox/")
    expect(page.locator("h1")).to_have_text("站内消息")
    expect(page.locator("#inbox tr.unread")).to_have_count(2)
    expect(page.locator("#inbox tr.unread strong").first).to_have_css("font-weight", "700")
    shot(page, "notify-inbox-unread-mobile")
    page.click("text=关于做好春节后返岗人员健康排查的通知")
    expect(page).to_have_url(re.compile(rf"/notify/inbox/{first.pk}/$"))
    expect(page.locator("#message-body")).to_contain_text("如实填报")
    shot(page, "notify-inbox-message-mobile")
    first.refresh_from_db()
    assert first.read_at is not None
    page.click(".breadcrumb >> text=站内消息")
    expect(page.locator("#inbox tr.unread")).to_have_count(1)
    expect(page.locator("#inbox tr.read")).to_contain_text("返岗人员")
    shot(page, "notify-inbox-after-reading-mobile")


def test_outbox_for_an_administrator(page_for, bworld):
    from fangkong.lib import clock

    staff = bworld.users["staff"]
    message_enqueue(
        key="b.inbox:staff", kind="notice", channel="inbox", user=staff, subject="通知", body="b"
    )
    failed, _ = message_enqueue(
        key="b.sms:1",
        kind="reminder.checkin",
        channel="sms",
        address="13871000004",
        subject="健康打卡提醒",
        body="请完成健康打卡。",
    )
    stuck, _ = message_enqueue(
        key="b.ding:1",
        kind="reminder.report",
        channel="dingtalk",
        address="hg-ding:13871000002",
        subject="日报告催报",
        body="黄州区审计局尚未报送。",
    )
    retrying, _ = message_enqueue(
        key="b.mail:1",
        kind="reminder.report",
        channel="email",
        address="liaison@hg.example.cn",
        subject="日报告提醒",
        body="请报送。",
    )
    now = clock.now()
    Message.objects.filter(pk=failed.pk).update(
        status=MessageStatus.FAILED, attempts=6, last_error='HTTP 500: {"error": "busy"}'
    )
    Message.objects.filter(pk=stuck.pk).update(
        status=MessageStatus.SENDING, attempts=1, claimed_at=now - timedelta(hours=1)
    )
    Message.objects.filter(pk=retrying.pk).update(
        attempts=2,
        last_error="SMTP: ConnectionRefusedError: [Errno 111] Connection refused",
        next_attempt_at=now + timedelta(minutes=2),
    )
    page = page_for("admin")
    page.goto(f"{page.base}/notify/outbox/")
    expect(page.locator("h1")).to_have_text("消息发送情况")
    expect(page.locator("#counts")).to_contain_text("钉钉群机器人")
    expect(page.locator("#failed")).to_contain_text("138****0004")
    expect(page.locator("#stuck")).to_contain_text("hg-ding:138****0002")
    expect(page.locator("#retrying")).to_contain_text("Connection refused")
    shot(page, "notify-outbox-admin")
    page.locator("#failed button", has_text="重试").click()
    expect(page.locator(".messages")).to_contain_text("已重新排队")
    expect(page.locator("#failed")).to_contain_text("没有。")
    shot(page, "notify-outbox-after-retry")
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (MessageStatus.PENDING, 0)


def test_outbox_is_not_found_for_others(page_for, bworld):
    page = page_for("city_coord")
    assert page.goto(f"{page.base}/notify/outbox/").status == 404

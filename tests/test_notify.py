"""The outbox: channels against a real SMTP server and a real HTTP receiver, delivery with
retries and back-off, at-most-once under re-runs and concurrent workers, and the pages."""

import base64
import email
import email.policy
import hashlib
import hmac
import threading
import urllib.parse
from datetime import datetime, timedelta

import pytest
from django.db import connection, connections
from django.template import Context, Template
from django.urls import reverse

from fangkong.audit.models import AuditEvent
from fangkong.lib import clock as server_clock
from fangkong.notify import channels
from fangkong.notify.delivery import deliver_due
from fangkong.notify.models import Message, MessageStatus
from fangkong.notify.services import message_enqueue
from tests.receivers import free_port

T0 = datetime.fromisoformat("2020-02-03T09:00:00+08:00")


# --- Real receivers. ---


@pytest.fixture
def frozen(clock):
    clock.freeze(T0)
    return clock


def sms(n: int, **kw) -> Message:
    return message_enqueue(
        key=f"test.sms.{n}",
        kind="reminder.checkin",
        channel="sms",
        address=f"1387100{n:04d}",
        subject="健康打卡提醒",
        body=f"请于今日 10:00 前完成健康打卡（{n}）。",
        **kw,
    )[0]


def reload(message: Message) -> Message:
    message.refresh_from_db()
    return message


# --- Channels: exact payloads. ---


def test_inbox_message_is_delivered_at_once(world, frozen):
    m, created = message_enqueue(
        key="n.1",
        kind="notice",
        channel="inbox",
        subject="通知",
        body="内容",
        user=world.users["staff"],
    )
    assert created
    assert deliver_due() == {"sent": 1, "retry": 0, "failed": 0, "skipped": 0, "stuck": 0}
    m = reload(m)
    assert (m.status, m.sent_at, m.attempts) == (MessageStatus.SENT, T0, 1)
    assert deliver_due()["sent"] == 0


def test_enqueue_twice_keeps_one_message(world, frozen):
    a, created_a = message_enqueue(key="k", kind="x", channel="sms", subject="s", body="b")
    b, created_b = message_enqueue(key="k", kind="x", channel="sms", subject="s2", body="b2")
    assert (created_a, created_b, a.pk) == (True, False, b.pk)


def test_email_over_smtp(world, frozen, smtp_server):
    m, _ = message_enqueue(
        key="reminder.report:HG-HZ:2020-02-03:email",
        kind="reminder.report",
        channel="email",
        address="liaison@hg.example.cn",
        subject="日报告提醒：黄州区审计局",
        body="今日疫情防控日报告尚未报送，请于 10:00 前报送。",
    )
    assert deliver_due()["sent"] == 1
    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == "noreply@fk.example.cn"
    assert envelope.rcpt_tos == ["liaison@hg.example.cn"]
    mail = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert mail["Subject"] == "日报告提醒：黄州区审计局"
    assert mail["To"] == "liaison@hg.example.cn"
    assert mail["From"].addresses[0].addr_spec == "noreply@fk.example.cn"
    assert mail["From"].addresses[0].display_name == "防控系统"
    digest = hashlib.sha256(b"reminder.report:HG-HZ:2020-02-03:email").hexdigest()[:40]
    assert mail["Message-ID"] == f"<{digest}@fk.example.cn>"
    assert mail.get_content().strip() == "今日疫情防控日报告尚未报送，请于 10:00 前报送。"
    m = reload(m)
    assert (m.status, m.sent_at, m.last_error) == (MessageStatus.SENT, T0, "")


def test_email_without_address_goes_to_the_users_own(world, frozen, smtp_server):
    user = world.users["staff"]
    user.email = "zhangwei@hg.example.cn"
    user.save()
    message_enqueue(key="e.own", kind="x", channel="email", subject="主题", body="正文", user=user)
    deliver_due()
    assert smtp_server.envelopes[0].rcpt_tos == ["zhangwei@hg.example.cn"]


def test_email_when_the_smtp_server_is_down_is_retried(world, frozen, settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    m, _ = message_enqueue(
        key="e.down", kind="x", channel="email", address="a@b.cn", subject="s", body="b"
    )
    assert deliver_due()["retry"] == 1
    m = reload(m)
    assert m.status == MessageStatus.PENDING
    assert m.last_error.startswith("SMTP: ConnectionRefusedError")
    assert m.next_attempt_at == T0 + timedelta(minutes=1)


def test_sms_gateway_payload(world, frozen, http_receiver):
    m = sms(7)
    assert deliver_due()["sent"] == 1
    [req] = http_receiver.requests
    assert (req["method"], req["path"], req["query"]) == ("POST", "/sms/send", {})
    assert req["headers"]["Authorization"] == "Bearer sms-token-123"
    assert req["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert req["json"] == {
        "mobile": "13871000007",
        "content": "健康打卡提醒\n请于今日 10:00 前完成健康打卡（7）。",
        "sign": "黄冈审计",
        "id": "test.sms.7",
    }
    assert reload(m).status == MessageStatus.SENT


def test_sms_gateway_any_2xx_is_delivered(world, frozen, http_receiver):
    http_receiver.respond((202, b""))
    m = sms(1)
    deliver_due()
    assert reload(m).status == MessageStatus.SENT


def test_wecom_robot_payload(world, frozen, http_receiver):
    message_enqueue(
        key="w.1",
        kind="reminder.report",
        channel="wecom",
        address="hg-wecom:13871000002,13871000003",
        subject="日报告催报",
        body="黄州区审计局、麻城市审计局尚未报送。",
    )
    message_enqueue(
        key="w.2", kind="x", channel="wecom", address="hg-wecom", subject="", body="早安"
    )
    assert deliver_due()["sent"] == 2
    first, second = http_receiver.requests
    assert (first["path"], first["query"]) == ("/cgi-bin/webhook/send", {"key": "wk-1"})
    assert first["json"] == {
        "msgtype": "text",
        "text": {
            "content": "日报告催报\n黄州区审计局、麻城市审计局尚未报送。",
            "mentioned_mobile_list": ["13871000002", "13871000003"],
        },
    }
    assert second["json"] == {"msgtype": "text", "text": {"content": "早安"}}


def test_wecom_robot_error_code_is_a_failure(world, frozen, http_receiver):
    http_receiver.respond((200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    m, _ = message_enqueue(
        key="w.e", kind="x", channel="wecom", address="hg-wecom", subject="s", body="b"
    )
    assert deliver_due()["retry"] == 1
    assert reload(m).last_error == "errcode 93000: invalid webhook url"


def test_dingtalk_robot_payload_unsigned(world, frozen, http_receiver):
    message_enqueue(
        key="d.1",
        kind="x",
        channel="dingtalk",
        address="hg-ding:13871000004",
        subject="值班提醒",
        body="今晚由黄州区审计局值班。",
    )
    deliver_due()
    [req] = http_receiver.requests
    assert (req["path"], req["query"]) == ("/robot/send", {"access_token": "dt-1"})
    assert req["json"] == {
        "msgtype": "text",
        "text": {"content": "值班提醒\n今晚由黄州区审计局值班。\n@13871000004"},
        "at": {"atMobiles": ["13871000004"], "isAtAll": False},
    }


def test_dingtalk_robot_signed_url(world, frozen, http_receiver):
    m, _ = message_enqueue(
        key="d.2",
        kind="x",
        channel="dingtalk",
        address="hb-ding",
        subject="",
        body="全省日报告已汇总。",
    )
    deliver_due()
    [req] = http_receiver.requests
    timestamp = str(int(T0.timestamp() * 1000))
    secret = "SEC0123456789abcdef"
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = base64.b64encode(digest).decode()
    assert req["query"] == {"access_token": "dt-2", "timestamp": timestamp, "sign": sign}
    # The sign is URL-encoded in the query string itself.
    assert req["raw_query"] == (
        f"access_token=dt-2&timestamp={timestamp}&sign={urllib.parse.quote_plus(sign)}"
    )
    # The robot's configured mentions apply when the address names none.
    assert req["json"] == {
        "msgtype": "text",
        "text": {"content": "全省日报告已汇总。\n@13871000001"},
        "at": {"atMobiles": ["13871000001"], "isAtAll": False},
    }
    assert reload(m).status == MessageStatus.SENT


def test_unknown_robot_fails_at_once(world, frozen, http_receiver):
    m, _ = message_enqueue(
        key="d.x", kind="x", channel="dingtalk", address="nope", subject="s", body="b"
    )
    assert deliver_due()["failed"] == 1
    m = reload(m)
    assert (m.status, m.attempts, m.next_attempt_at) == (MessageStatus.FAILED, 1, None)
    assert m.last_error == "no webhook robot named 'nope'"
    assert http_receiver.requests == []


def test_channel_send_raises_channel_error(world, frozen, settings):
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{free_port()}/sms"
    m = sms(1)
    with pytest.raises(channels.ChannelError, match="HTTP: .*refused"):
        channels.send(m)


# --- Retries and back-off. ---


def test_retry_after_a_gateway_error(world, frozen, http_receiver):
    http_receiver.respond((500, {"error": "busy"}))
    m = sms(1)
    assert deliver_due() == {"sent": 0, "retry": 1, "failed": 0, "skipped": 0, "stuck": 0}
    m = reload(m)
    assert (m.status, m.attempts) == (MessageStatus.PENDING, 1)
    assert m.last_error == 'HTTP 500: {"error": "busy"}'
    assert m.next_attempt_at == T0 + timedelta(minutes=1)
    # Not due yet: nothing is sent.
    frozen.advance(timedelta(seconds=59))
    assert deliver_due()["sent"] == 0
    assert len(http_receiver.requests) == 1
    frozen.advance(timedelta(seconds=1))
    assert deliver_due()["sent"] == 1
    m = reload(m)
    assert (m.status, m.attempts, m.sent_at) == (MessageStatus.SENT, 2, T0 + timedelta(minutes=1))
    assert [r["json"]["id"] for r in http_receiver.requests] == ["test.sms.1", "test.sms.1"]


def test_gives_up_after_six_attempts_with_exponential_backoff(world, frozen, http_receiver):
    http_receiver.default = (503, {"error": "down"})
    m = sms(1)
    waits = []
    for attempt in range(1, 7):
        counts = deliver_due()
        m = reload(m)
        assert m.attempts == attempt
        if attempt < 6:
            assert counts["retry"] == 1
            waits.append(m.next_attempt_at - server_clock.now())
            # One second early nothing happens; on time the next attempt goes out.
            frozen.advance(waits[-1] - timedelta(seconds=1))
            assert deliver_due()["retry"] == 0
            frozen.advance(timedelta(seconds=1))
        else:
            assert counts["failed"] == 1
    assert waits == [timedelta(minutes=n) for n in (1, 2, 4, 8, 16)]
    assert (m.status, m.next_attempt_at) == (MessageStatus.FAILED, None)
    assert m.last_error == 'HTTP 503: {"error": "down"}'
    assert len(http_receiver.requests) == 6
    frozen.advance(timedelta(days=1))
    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "stuck": 0}
    assert len(http_receiver.requests) == 6


# --- At most once: re-runs, a killed worker, concurrent workers. ---


def test_rerun_sends_nothing_twice(world, frozen, http_receiver):
    for n in range(5):
        sms(n)
    assert deliver_due(limit=3)["sent"] == 3
    assert deliver_due()["sent"] == 2
    assert deliver_due()["sent"] == 0
    ids = [r["json"]["id"] for r in http_receiver.requests]
    assert sorted(ids) == [f"test.sms.{n}" for n in range(5)]


def test_worker_killed_mid_send_neither_resends_nor_skips(
    world, frozen, http_receiver, monkeypatch, client_for
):
    """The worker dies right after the gateway accepted message 1, before recording it."""
    messages = [sms(n) for n in range(3)]
    real = channels.SENDERS["sms"]

    def dies_after_sending(message):
        real(message)
        if message.key == "test.sms.1":
            raise SystemExit("killed")

    monkeypatch.setitem(channels.SENDERS, "sms", dies_after_sending)
    with pytest.raises(SystemExit):
        deliver_due()
    monkeypatch.setitem(channels.SENDERS, "sms", real)
    statuses = [reload(m).status for m in messages]
    assert statuses == [MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.PENDING]
    # The restarted worker sends message 2 and leaves message 1, whose fate is unknown, alone.
    assert deliver_due()["sent"] == 1
    assert deliver_due()["sent"] == 0
    ids = [r["json"]["id"] for r in http_receiver.requests]
    assert ids == ["test.sms.0", "test.sms.1", "test.sms.2"]
    assert reload(messages[1]).status == MessageStatus.SENDING
    # After a while it is reported as stuck, for an administrator to decide.
    c = client_for("admin")
    assert "13871000001" not in c.get("/notify/outbox/").content.decode()
    frozen.advance(timedelta(minutes=11))
    assert deliver_due()["stuck"] == 1
    page = c.get("/notify/outbox/").content.decode()
    assert "发送中断" in page and "138****0001" in page
    r = c.post(reverse("notify:outbox_retry", args=[messages[1].pk]))
    assert r.status_code == 302
    assert deliver_due()["sent"] == 1
    assert [r["json"]["id"] for r in http_receiver.requests][-1] == "test.sms.1"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_workers_send_each_message_once(http_receiver, clock):
    clock.freeze(T0)
    for n in range(40):
        sms(n)
    http_receiver.delay = 0.005
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(deliver_due())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r["json"]["id"] for r in http_receiver.requests]
    assert sorted(ids) == sorted(f"test.sms.{n}" for n in range(40))
    assert sum(r["sent"] for r in results) == 40
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 40


def test_huey_task_delivers(world, frozen, http_receiver):
    from fangkong.notify.tasks import deliver_outbox

    sms(1)
    assert deliver_outbox.call_local()["sent"] == 1


# --- Pages: inbox. ---


def inbox_message(world, persona="staff", n=1, **kw):
    return message_enqueue(
        key=f"notice:{n}:{persona}:inbox",
        kind="notice",
        channel="inbox",
        user=world.users[persona],
        subject=kw.get("subject", f"关于做好疫情防控工作的通知（{n}）"),
        body=kw.get("body", "各单位：\n请做好职工健康排查。"),
    )[0]


def test_inbox_newest_first_unread_bold_and_read_on_open(world, frozen, client_for):
    old = inbox_message(world, n=1)
    frozen.advance(timedelta(hours=1))
    new = inbox_message(world, n=2)
    c = client_for("staff")
    page = c.get("/notify/inbox/").content.decode()
    assert page.index("通知（2）") < page.index("通知（1）")
    assert page.count('<tr class="unread">') == 2
    assert f'<strong><a href="/notify/inbox/{old.pk}/">' in page
    r = c.get(f"/notify/inbox/{old.pk}/")
    assert r.status_code == 200
    assert "请做好职工健康排查。" in r.content.decode()
    assert reload(old).read_at == T0 + timedelta(hours=1)
    page = c.get("/notify/inbox/").content.decode()
    assert page.count('<tr class="unread">') == 1
    assert f'<strong><a href="/notify/inbox/{new.pk}/">' in page
    # Opening it again keeps the first reading time.
    frozen.advance(timedelta(hours=1))
    c.get(f"/notify/inbox/{old.pk}/")
    assert reload(old).read_at == T0 + timedelta(hours=1)


def test_inbox_is_the_recipients_alone(world, frozen, client_for):
    mine = inbox_message(world, "staff", subject="张伟的私信")
    for persona in ["admin", "county_liaison", "outsider"]:
        c = client_for(persona)
        assert c.get(f"/notify/inbox/{mine.pk}/").status_code == 404
        assert "张伟的私信" not in c.get("/notify/inbox/").content.decode()
    assert reload(mine).read_at is None
    assert client_for("staff").get("/notify/inbox/999999/").status_code == 404


def test_inbox_shows_only_inbox_messages(world, frozen, client_for):
    message_enqueue(
        key="e.staff",
        kind="x",
        channel="email",
        user=world.users["staff"],
        subject="邮件副本",
        body="b",
    )
    assert "邮件副本" not in client_for("staff").get("/notify/inbox/").content.decode()


def test_unread_badge_include(world, frozen):
    template = Template('{% include "notify/_inbox_link.html" %}')
    staff = world.users["staff"]
    m = inbox_message(world, n=1)
    inbox_message(world, n=2)
    html = template.render(Context({"user": staff}))
    assert (
        'href="/notify/inbox/"' in html
        and '<span class="badge red"' in html
        and ">2</span>" in html
    )
    from fangkong.notify.services import message_mark_read

    message_mark_read(user=staff, message=m)
    assert ">1</span>" in template.render(Context({"user": staff}))
    message_mark_read(user=staff, message=Message.objects.get(key="notice:2:staff:inbox"))
    html = template.render(Context({"user": staff}))
    assert "消息" in html and "badge" not in html


def test_inbox_pages_need_sign_in(world, client):
    assert client.get("/notify/inbox/").status_code == 302


# --- Pages: outbox. ---


def test_outbox_is_for_administrators_only(world, frozen, client_for):
    for persona in ["prov_coord", "city_coord", "county_liaison", "leader", "staff", "outsider"]:
        assert client_for(persona).get("/notify/outbox/").status_code == 404


def test_outbox_counts_and_failures(world, frozen, http_receiver, client_for):
    http_receiver.default = (500, b"gateway exploded")
    sms(1)
    inbox_message(world)
    message_enqueue(
        key="d.bad", kind="x", channel="dingtalk", address="nope", subject="坏机器人", body="b"
    )
    deliver_due()
    r = client_for("admin").get("/notify/outbox/")
    assert r.status_code == 200
    page = r.content.decode()
    # Counts by channel and status: inbox sent 1, SMS pending 1 (retrying), DingTalk failed 1.
    assert "<tr><td>站内消息</td><td>0</td><td>0</td><td>1</td><td>0</td></tr>" in page
    assert "<tr><td>短信</td><td>1</td><td>0</td><td>0</td><td>0</td></tr>" in page
    assert "<tr><td>钉钉群机器人</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>" in page
    assert "<tr><th>合计</th><th>1</th><th>0</th><th>1</th><th>1</th></tr>" in page
    assert "no webhook robot named &#x27;nope&#x27;" in page
    assert "HTTP 500: gateway exploded" in page
    # Mobiles are masked in the list.
    assert "13871000001" not in page and "138****0001" in page
    assert page.count(">重试</button>") == 1


def test_retry_button_resets_a_failed_message(world, frozen, http_receiver, client_for):
    http_receiver.default = (500, b"down")
    m = sms(1)
    for _ in range(6):
        deliver_due()
        frozen.advance(timedelta(minutes=16))
    assert reload(m).status == MessageStatus.FAILED
    url = reverse("notify:outbox_retry", args=[m.pk])
    assert client_for("city_coord").post(url).status_code == 404
    assert client_for("admin").get(url).status_code == 405
    r = client_for("admin").post(url, follow=True)
    assert "已重新排队" in r.content.decode()
    m = reload(m)
    assert (m.status, m.attempts, m.next_attempt_at) == (
        MessageStatus.PENDING,
        0,
        server_clock.now(),
    )
    event = AuditEvent.objects.get(action="notify.retry")
    assert (event.actor_name, event.object_id) == ("admin", str(m.pk))
    assert event.old == {"status": "failed", "attempts": 6}
    http_receiver.default = (200, b"{}")
    assert deliver_due()["sent"] == 1
    # A sent message is not retried; the button says so and changes nothing.
    r = client_for("admin").post(url, follow=True)
    assert "无需重试" in r.content.decode()
    assert reload(m).status == MessageStatus.SENT
    assert AuditEvent.objects.filter(action="notify.retry").count() == 1


def test_a_message_being_sent_cannot_be_retried_yet(world, frozen, client_for):
    m = sms(1)
    Message.objects.filter(pk=m.pk).update(status=MessageStatus.SENDING, claimed_at=T0)
    c = client_for("admin")
    frozen.advance(timedelta(minutes=5))
    c.post(reverse("notify:outbox_retry", args=[m.pk]))
    assert reload(m).status == MessageStatus.SENDING
    frozen.advance(timedelta(minutes=6))
    c.post(reverse("notify:outbox_retry", args=[m.pk]))
    assert reload(m).status == MessageStatus.PENDING


def test_outbox_page_queries_do_not_grow(world, frozen, client_for, django_assert_max_num_queries):
    for n in range(30):
        m = sms(n)
        Message.objects.filter(pk=m.pk).update(status=MessageStatus.FAILED, last_error="x")
    c = client_for("admin")
    with django_assert_max_num_queries(12):
        assert c.get("/notify/outbox/").status_code == 200

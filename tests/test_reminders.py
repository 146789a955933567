"""The reminder ladder driven through a day: right people, right order, stops on arrival, chases past days."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.health import services as health
from fangkong.notices import reminders, services
from fangkong.notify.models import Message
from fangkong.org.models import UnitLevel
from fangkong.reports import services as reports
from fangkong.reports.models import ReportForm

SH = ZoneInfo("Asia/Shanghai")
D = date(2020, 2, 3)


def at(day, hh, mm=0):
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SH)


@pytest.fixture
def rform(world):
    form = ReportForm.objects.create(
        code="daily", name="日报告", root=world.units["HB"], active_from=D
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    world.people["county_liaison"].user.email = "liaison@example.org"
    world.people["county_liaison"].user.save()
    world.users["city_coord"].email = "city@example.org"
    world.users["city_coord"].save()
    return form


def sent(**filters):
    return sorted(
        Message.objects.filter(kind__startswith="reminder.report", **filters).values_list(
            "channel", "user__username"
        )
    )


def step(clock, moment):
    clock.freeze(moment)
    return reminders.run()


def test_a_day_of_report_reminders(world, rform, clock):
    assert (
        step(clock, at(D, 8, 30))["prepared"] == 0
        or not Message.objects.filter(kind__startswith="reminder.report").exists()
    )
    # 09:00, an hour before the deadline: the liaison of each missing unit, in-app and by SMS.
    step(clock, at(D, 9, 0))
    assert sent(key__contains=f":{world.units['HG-HZ'].pk}:{D}:0:") == [
        ("inbox", "county_liaison"),
        ("sms", "county_liaison"),
    ]
    # The same minute again adds nothing.
    before = Message.objects.count()
    step(clock, at(D, 9, 0))
    assert Message.objects.count() == before
    # 10:00, the deadline: the first responsible person.
    step(clock, at(D, 10, 0))
    assert sent(key__contains=f":{world.units['HG-HZ'].pk}:{D}:1:") == [
        ("inbox", "leader"),
        ("sms", "leader"),
    ]
    # 10:30 the county reports; at 11:00 the city coordinator's digest lists only the others.
    clock.freeze(at(D, 10, 30))
    reports.report_submit(
        actor=world.users["county_liaison"],
        form=rform,
        unit=world.units["HG-HZ"],
        day=D,
        kind="zero",
    )
    step(clock, at(D, 11, 0))
    digest = Message.objects.get(
        kind="reminder.report.digest",
        user=world.users["city_coord"],
        channel="inbox",
        key__contains=f"coord:{D}:2",
    )
    assert "麻城市审计局" in digest.body and "黄州区审计局" not in digest.body
    assert Message.objects.filter(
        kind="reminder.report.digest",
        user=world.users["city_coord"],
        channel="email",
        address="city@example.org",
    ).exists()
    # Nothing further for the unit that reported.
    assert not Message.objects.filter(key__contains=f":{world.units['HG-HZ'].pk}:{D}:2:").exists()
    # Next morning the missing county is chased for yesterday as well.
    step(clock, at(D + timedelta(days=1), 8, 0))
    tomorrow = D + timedelta(days=1)
    digest = Message.objects.get(
        kind="reminder.report.digest",
        channel="inbox",
        user=world.users["city_coord"],
        key__contains=f"coord:{tomorrow}:past",
    )
    assert "麻城市审计局（02月03日，漏报）" in digest.body and "黄州区" not in digest.body
    past = Message.objects.filter(key__contains=f"{D}:past:{tomorrow}")
    assert not past.filter(key__contains=f"r:{rform.pk}:{world.units['HG-HZ'].pk}:").exists()


def test_checkin_reminders_stop_when_people_check_in(world, clock):
    clock.freeze(at(D, 9, 0))
    health.checkin_submit(
        actor=world.users["staff"],
        person=world.people["staff"],
        channel="web",
        answers=[health.Answers(temperature=Decimal("36.5"), work_mode="on_site", attested=True)],
    )
    reminders.run()
    persons = set(
        Message.objects.filter(kind="reminder.checkin").values_list("user__username", flat=True)
    )
    assert "staff" not in persons and {"county_liaison", "leader", "city_coord"} <= persons
    step(clock, at(D, 11, 0))
    digest = Message.objects.get(kind="reminder.checkin.digest", user=world.users["county_liaison"])
    assert "陈晓东" in digest.body and "张伟" not in digest.body


def test_non_acknowledgers_are_chased(world, clock):
    clock.freeze(at(D, 9, 0))
    notice = services.notice_publish(
        actor=world.users["city_coord"],
        unit=world.units["HG"],
        title="关于做好疫情防控的通知",
        body="各单位：……",
        kind="notice",
        audiences=["liaison", "leader"],
        requires_ack=True,
        ack_by=at(D, 18, 0),
    )
    services.notice_acknowledge(user=world.users["leader"], notice=notice)
    step(clock, at(D, 17, 0))  # within a day of the deadline: the person
    chased = set(
        Message.objects.filter(kind="reminder.notice").values_list("user__username", flat=True)
    )
    assert chased == {"county_liaison"}
    step(clock, at(D, 18, 0))  # at the deadline: the liaison gets the list
    assert Message.objects.filter(kind="reminder.notice.digest").exists()


def test_the_run_makes_a_constant_number_of_queries(world, rform, clock):
    from fangkong.accounts.models import User
    from fangkong.org.models import Person

    clock.freeze(at(D, 11, 30))

    def queries():
        Message.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            reminders.run()
        return len(ctx), Message.objects.count()

    few, few_messages = queries()
    users = User.objects.bulk_create([User(username=f"bulk{i}", password="!") for i in range(60)])
    Person.objects.bulk_create(
        [Person(unit=world.units["XG-XN"], name=f"员工{i}", user=u) for i, u in enumerate(users)]
    )
    many, many_messages = queries()
    assert many_messages > few_messages + 50
    assert many == few


def test_a_day_through_real_smtp_and_http(world, rform, clock, smtp_server, http_receiver):
    """The ladder with SMS, email and a WeCom group robot; the servers receive exactly this."""
    from fangkong.notices.models import ReminderRule
    from fangkong.notify.delivery import deliver_due

    ReminderRule.objects.create(
        kind="report",
        form=rform,
        unit=world.units["HB"],
        steps=[
            {"offset": -60, "to": "liaison", "channels": ["inbox", "sms"]},
            {"offset": 0, "to": "leader", "channels": ["sms"]},
            {"offset": 60, "to": "parent_coordinator", "channels": ["email", "wecom:hg-wecom"]},
        ],
    )

    def tick(moment):
        clock.freeze(moment)
        reminders.run()
        deliver_due()

    tick(at(D, 8, 0))
    tick(at(D, 9, 0))
    tick(at(D, 9, 1))  # a minute later: nothing new
    tick(at(D, 10, 0))
    clock.freeze(at(D, 10, 30))
    reports.report_submit(
        actor=world.users["county_liaison"],
        form=rform,
        unit=world.units["HG-HZ"],
        day=D,
        kind="zero",
    )
    tick(at(D, 11, 0))
    tick(at(D + timedelta(days=1), 8, 0))

    sms = [
        (r["json"]["mobile"], r["json"]["content"][:13])
        for r in http_receiver.requests
        if r["path"] == "/sms/send"
    ]
    liaison, leader = world.people["county_liaison"].mobile, world.people["leader"].mobile
    assert sms == [(liaison, "【提醒】黄州区审计局 日报"), (leader, "【催报】黄州区审计局 日报")]
    wecom = [r["json"] for r in http_receiver.requests if r["path"] == "/cgi-bin/webhook/send"]
    mentioned = sorted(m for w in wecom for m in w["text"].get("mentioned_mobile_list", []))
    assert mentioned == sorted(
        world.people[k].mobile for k in ["prov_coord", "city_coord", "outsider"]
    )
    assert all(w["msgtype"] == "text" and "未报送" in w["text"]["content"] for w in wecom)
    mails = [(e.rcpt_tos, e.content.decode()) for e in smtp_server.envelopes]
    assert [m[0] for m in mails] == [["city@example.org"], ["city@example.org"]]
    assert "麻城市审计局" in mails[0][1] and "黄州区审计局" not in mails[0][1]
    assert Message.objects.filter(status="sent").count() == Message.objects.count()

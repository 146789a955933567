"""Notices: publish to a subtree and roles, read receipts, acknowledgement, rates rolled up."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from fangkong.audit.models import AuditEvent
from fangkong.notices import selectors, services
from fangkong.notices.models import Notice, NoticeRecipient
from fangkong.notify.models import Message

NOW = datetime(2020, 2, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def publish(world, **kw):
    args = {
        "actor": world.users["city_coord"],
        "unit": world.units["HG"],
        "title": "关于加强值守的通知",
        "body": "请各单位……",
        "kind": "notice",
        "audiences": ["liaison", "leader", "staff"],
        "requires_ack": True,
        "ack_by": NOW + timedelta(hours=8),
    } | kw
    return services.notice_publish(**args)


def test_publish_reaches_the_subtree_roles_only(world, clock):
    clock.freeze(NOW)
    notice = publish(world, audiences=["liaison", "leader"])
    users = set(notice.recipients.values_list("user__username", flat=True))
    assert users == {"county_liaison", "leader"}
    assert Message.objects.filter(kind="notice", channel="inbox").count() == 2
    assert AuditEvent.objects.filter(action="notice.publish").exists()
    staff = publish(world, audiences=["staff"], title="全体职工")
    assert set(staff.recipients.values_list("user__username", flat=True)) == {
        "city_coord",
        "county_liaison",
        "leader",
        "staff",
    }


def test_only_coordinators_above_publish(world, clock):
    clock.freeze(NOW)
    with pytest.raises(PermissionDenied):
        publish(world, actor=world.users["outsider"])
    with pytest.raises(PermissionDenied):
        publish(world, actor=world.users["county_liaison"], unit=world.units["HG-HZ"])
    with pytest.raises(ValidationError):
        publish(world, ack_by=NOW - timedelta(minutes=1))
    with pytest.raises(ValidationError):
        publish(world, audiences=[])


def test_read_ack_and_rates_per_unit(world, client_for, clock):
    clock.freeze(NOW)
    notice = publish(world)
    c = client_for("county_liaison")
    assert c.get(f"/notices/{notice.pk}/").status_code == 200
    receipt = NoticeRecipient.objects.get(notice=notice, user=world.users["county_liaison"])
    assert receipt.read_at == NOW and receipt.acked_at is None
    clock.advance(timedelta(minutes=5))
    assert c.post(f"/notices/{notice.pk}/ack/").status_code == 302
    receipt.refresh_from_db()
    assert receipt.acked_at == NOW + timedelta(minutes=5)
    rows = {r["name"]: r for r in selectors.receipts_rollup(notice)}
    assert rows["黄州区审计局"]["total"] == 3 and rows["黄州区审计局"]["acked"] == 1
    assert rows["黄冈市审计局"]["total"] == 1  # the coordinator, at the notice's own level
    page = client_for("city_coord").get(f"/notices/{notice.pk}/receipts/").content.decode()
    assert "33.3%" in page and "张伟" in page  # the staff member has not acknowledged


def test_attachments_are_only_for_those_who_see_the_notice(world, client_for, clock):
    clock.freeze(NOW)
    c = client_for("city_coord")
    r = c.post(
        "/notices/new/",
        {
            "kind": "work_plan",
            "title": "防控工作方案",
            "body": "见附件",
            "unit": "HG",
            "audiences": ["liaison"],
            "files": [SimpleUploadedFile("方案.docx", b"PK\x03\x04demo")],
        },
    )
    assert r.status_code == 302
    notice = Notice.objects.get()
    file = notice.attachments.get()
    url = f"/notices/{notice.pk}/files/{file.pk}/"
    assert client_for("county_liaison").get(url).content == b"PK\x03\x04demo"
    assert client_for("outsider").get(url).status_code == 404
    assert client_for("staff").get(url).status_code == 404

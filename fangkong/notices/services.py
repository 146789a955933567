"""Writes for notices: publish to a subtree and roles, record reads and acknowledgements."""

import hashlib
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import clock, plausible
from fangkong.notices.models import Audience, Notice, NoticeAttachment, NoticeRecipient
from fangkong.notify.models import ChannelKind
from fangkong.notify.services import Outgoing, messages_offer
from fangkong.org import selectors as org
from fangkong.org.models import OrgUnit, Person, subtree_bounds

ERR_NOT_ALLOWED = "您无权向该范围下发通知。"
ERR_NO_AUDIENCE = "请至少选择一类接收对象。"
ERR_ACK_BY = "需要确认时，请填写确认截止时间（须晚于现在）。"
ERR_NOBODY = "所选范围内没有符合条件、已开通账号的接收人。"
MAX_ATTACHMENT = 10 * 1024 * 1024


def recipients_of(unit: OrgUnit, audiences: list[str]) -> dict[int, int]:
    """user id → unit id of everyone the notice reaches (a constant number of queries)."""
    low, high = subtree_bounds(unit.path)
    in_tree = {"unit__path__gte": low, "unit__path__lt": high}
    found: dict[int, int] = {}
    if Audience.STAFF in audiences:
        found |= dict(
            Person.objects.filter(user__isnull=False, left_on__isnull=True, **in_tree).values_list(
                "user_id", "unit_id"
            )
        )
    if Audience.LIAISON in audiences:
        found |= dict(
            OrgUnit.objects.filter(
                path__gte=low, path__lt=high, liaisons__user__isnull=False
            ).values_list("liaisons__user_id", "id")
        )
    if Audience.LEADER in audiences:
        found |= dict(
            OrgUnit.objects.filter(
                path__gte=low, path__lt=high, first_responsible__user__isnull=False
            ).values_list("first_responsible__user_id", "id")
        )
    if Audience.COORDINATOR in audiences:
        found |= org.coordinators_in(unit)
    return found


@transaction.atomic
def notice_publish(
    *,
    actor,
    unit: OrgUnit,
    title: str,
    body: str,
    kind: str,
    audiences: list[str],
    requires_ack: bool = False,
    ack_by: datetime | None = None,
    files: list[tuple[str, bytes]] = (),
) -> Notice:
    """Issue a notice to a subtree; every recipient gets a receipt row and an inbox message."""
    if not org.can(actor, org.CAP_CHASE, unit):
        raise PermissionDenied(ERR_NOT_ALLOWED)
    if not audiences:
        raise ValidationError({"audiences": ERR_NO_AUDIENCE})
    now = clock.now()
    if requires_ack and (ack_by is None or ack_by <= now):
        raise ValidationError({"ack_by": ERR_ACK_BY})
    if requires_ack:
        # The reminder ladder adds hours to the deadline: a year 9999 one would overflow it.
        problem = plausible.date_problem(timezone.localtime(ack_by).date(), plausible.FORM)
        if problem:
            raise ValidationError({"ack_by": problem})
    reach = recipients_of(unit, audiences)
    if not reach:
        raise ValidationError(ERR_NOBODY)
    notice = Notice(
        unit=unit,
        title=title.strip(),
        body=body.strip(),
        kind=kind,
        audiences=sorted(audiences),
        requires_ack=requires_ack,
        ack_by=ack_by if requires_ack else None,
        published_by=actor,
        published_at=now,
    )
    notice.full_clean()
    notice.save()
    for name, content in files:
        if len(content) > MAX_ATTACHMENT:
            raise ValidationError({"files": f"附件「{name}」超过 10 MB。"})
        NoticeAttachment.objects.create(
            notice=notice,
            name=name[:200],
            content=content,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
    NoticeRecipient.objects.bulk_create(
        [
            NoticeRecipient(notice=notice, user_id=u, unit_id=unit_id)
            for u, unit_id in reach.items()
        ],
        batch_size=2000,
    )
    subject = f"【{notice.get_kind_display()}】{notice.title}"
    messages_offer(
        [
            Outgoing(
                f"notice:{notice.pk}:{u}:inbox",
                "notice",
                ChannelKind.INBOX,
                u,
                "",
                subject,
                notice.body[:500],
            )
            for u in reach
        ],
        now=now,
        batch_size=2000,
    )
    audit_record(
        actor=actor,
        action=AuditAction.NOTICE_PUBLISH,
        obj=notice,
        new={
            "unit": unit.code,
            "audiences": notice.audiences,
            "recipients": len(reach),
            "requires_ack": requires_ack,
            "attachments": [name for name, _c in files],
        },
    )
    return notice


@transaction.atomic
def notice_read(*, actor, notice: Notice) -> None:
    """The first time a recipient opens the notice (the read receipt feeds the roll-up)."""
    if NoticeRecipient.objects.filter(notice=notice, user=actor, read_at__isnull=True).update(
        read_at=clock.now()
    ):
        audit_record(actor=actor, action=AuditAction.NOTICE_READ, obj=notice)


@transaction.atomic
def notice_acknowledge(*, user, notice: Notice) -> NoticeRecipient:
    """A recipient confirms receipt (a read is implied). Repeating it changes nothing."""
    receipt = NoticeRecipient.objects.select_for_update().get(notice=notice, user=user)
    if receipt.acked_at is None:
        now = clock.now()
        receipt.acked_at = now
        receipt.read_at = receipt.read_at or now
        receipt.save(update_fields=["acked_at", "read_at"])
        audit_record(actor=user, action=AuditAction.NOTICE_ACK, obj=notice)
    return receipt

"""Writes to the outbox. Planning is idempotent by key; delivery lives in delivery.py."""

from django.db import IntegrityError, transaction
from django.db.models import Q

from fangkong.audit.services import audit_record
from fangkong.lib import clock
from fangkong.notify.delivery import stuck_cutoff
from fangkong.notify.models import Message, MessageStatus


def message_enqueue(
    *, key: str, kind: str, channel: str, subject: str, body: str, user=None, address: str = ""
) -> tuple[Message, bool]:
    """Add a message unless one with the same key exists; returns (message, created)."""
    try:
        with transaction.atomic():
            message = Message.objects.create(
                key=key[:200],
                kind=kind,
                channel=channel,
                user=user,
                address=address,
                subject=subject[:200],
                body=body,
                created_at=clock.now(),
                next_attempt_at=clock.now(),
            )
        return message, True
    except IntegrityError:
        return Message.objects.get(key=key[:200]), False


def message_mark_read(*, user, message: Message) -> bool:
    """The recipient opened an inbox message; the first opening sets read_at.

    A read receipt on the user's own message changes no one else's data, so it is not audited.
    """
    done = (
        Message.objects.filter(pk=message.pk, user=user, read_at__isnull=True)
        .order_by()
        .update(read_at=clock.now())
    )
    if done:
        message.read_at = clock.now()
    return bool(done)


def message_retryable(message: Message) -> bool:
    """Failed for good, or stuck in `sending` (its worker died mid-send, see delivery.py)."""
    if message.status == MessageStatus.FAILED:
        return True
    return (
        message.status == MessageStatus.SENDING
        and message.claimed_at is not None
        and message.claimed_at < stuck_cutoff()
    )


@transaction.atomic
def message_retry(*, actor, message: Message) -> bool:
    """An administrator sends a failed or stuck message again, with a fresh set of attempts.

    For a stuck message this is the person's decision that it did not arrive. Returns False (and
    changes nothing) when the message is neither failed nor stuck any more.
    """
    old = {"status": message.status, "attempts": message.attempts}
    now = clock.now()
    done = (
        Message.objects.filter(
            Q(status=MessageStatus.FAILED)
            | Q(status=MessageStatus.SENDING, claimed_at__lt=stuck_cutoff(now)),
            pk=message.pk,
        )
        .order_by()
        .update(status=MessageStatus.PENDING, attempts=0, next_attempt_at=now, claimed_at=None)
    )
    if not done:
        return False
    message.refresh_from_db()
    audit_record(
        actor=actor,
        action="notify.retry",
        obj=message,
        old=old,
        new={"status": message.status, "attempts": 0},
        detail=message.last_error[:500],
    )
    return True

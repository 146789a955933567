"""Writes to the outbox. Planning is idempotent by key; delivery lives in delivery.py.

Nothing outside `notify` writes Message rows (tests/test_layout.py): one message goes in through
`message_enqueue`, many through `messages_offer` (idempotent by key, for planners that run again)
or `messages_add` (new keys only, at the database's bulk speed).
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import bulk, clock
from fangkong.notify.delivery import stuck_cutoff
from fangkong.notify.models import Message, MessageStatus


class Outgoing(NamedTuple):
    """A message to put in the outbox: its idempotency key, what it is, to whom, what it says."""

    key: str
    kind: str
    channel: str
    user_id: int | None
    address: str
    subject: str
    body: str


# The columns both bulk writers fill, in this order.
_COLUMNS = [
    "key",
    "kind",
    "channel",
    "user_id",
    "address",
    "subject",
    "body",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
]


def _row(m: Outgoing, now) -> tuple:
    return (
        m.key[:200],
        m.kind,
        m.channel,
        m.user_id,
        m.address,
        m.subject[:200],
        m.body,
        MessageStatus.PENDING,
        0,
        now,
        "",
        now,
    )


def messages_offer(
    messages: Sequence[Outgoing],
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    checkpoint: Callable[[], bool] | None = None,
) -> int:
    """Insert the messages whose key is not in the outbox yet (ON CONFLICT on the key does
    nothing), one executemany and transaction per batch.

    `checkpoint` is asked before each batch (a job renews its lease there); False stops, leaving
    the rest to whoever runs again. Returns how many were offered (inserted or already there).
    """
    now = now or clock.now()
    table = Message._meta.db_table
    # Table and column names are constants of this module, values are parameters.
    sql = (
        f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES "  # noqa: S608
        f"({', '.join(['%s'] * len(_COLUMNS))}) ON CONFLICT (key) DO NOTHING"
    )
    moment = connection.ops.adapt_datetimefield_value(now)
    rows = [_row(m, moment) for m in messages]
    size = batch_size or len(rows) or 1
    offered = 0
    for i in range(0, len(rows), size):
        if checkpoint is not None and not checkpoint():
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows[i : i + size])
        offered += len(rows[i : i + size])
    return offered


def messages_add(messages: Sequence[Outgoing], *, now: datetime) -> int:
    """Insert messages with keys new to the outbox (COPY / executemany, inside the caller's
    transaction); a key already there is an error, as it would be for a single insert."""
    return bulk.insert(
        Message,
        ["key", "kind", "channel", "user", "address", "subject", "body", "status", "attempts"]
        + ["next_attempt_at", "last_error", "created_at"],
        [_row(m, now) for m in messages],
    )


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
        action=AuditAction.NOTIFY_RETRY,
        obj=message,
        old=old,
        new={"status": message.status, "attempts": 0},
        detail=message.last_error[:500],
    )
    return True

"""Deliver due messages from the outbox, at most once each, with retries and back-off.

The life of a message:

    pending ──claim──▶ sending ──ok──▶ sent
       ▲                  │
       └──error, retry────┤ (attempts < 6: again after 1, 2, 4, 8, 16 minutes)
                          └──error, 6th attempt or permanent──▶ failed (last_error kept)

A message still `sending` long after its claim belongs to a worker that died mid-send; it is
shown on the outbox page for an administrator to decide (see `stuck_cutoff`).

Every step is a single conditional UPDATE committed on its own, so a worker killed at any point
and started again neither sends a message twice nor loses one: a pending message is picked up by
the next run, a claimed one is never taken again without a person's decision.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q

from fangkong.lib import clock
from fangkong.notify import channels
from fangkong.notify.models import ChannelKind, Message, MessageStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Messages that carry a one-time code (account activation, sign-in unlock): once delivered, the
# body is emptied, so the outbox keeps no usable code (the code itself is stored only hashed).
ONE_TIME_CODE_KINDS = frozenset({"account.activation", "account.unlock"})


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8, 16 minutes."""
    return timedelta(minutes=2 ** (attempts - 1))


def stuck_cutoff(now: datetime | None = None) -> datetime:
    """Messages claimed before this moment and still `sending` are stuck.

    Their worker died between the claim and recording the outcome, so nobody knows whether the
    message went out: the SMTP server or gateway may have accepted it just before the crash.
    Sending it again could deliver it twice, so delivery is at-most-once for a message whose fate
    is unknown: it is never re-sent by itself but reported on the outbox page, where an
    administrator can check with the recipient and press 重试 (services.message_retry).
    """
    return (now or clock.now()) - timedelta(minutes=settings.NOTIFY_STUCK_AFTER_MINUTES)


def _due(now: datetime) -> Q:
    return Q(status=MessageStatus.PENDING) & (
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
    )


def deliver_due(*, limit: int = 500) -> dict:
    """Send every due message (at most `limit` besides inbox ones); returns counts of what happened.

    Must run outside a transaction: each claim and each outcome commits on its own, so that a
    second worker sees the claim at once and a crash loses nothing already recorded.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    now = clock.now()
    # Inbox messages need no sending: one UPDATE marks every due one delivered.
    counts["sent"] += (
        Message.objects.filter(_due(now), channel=ChannelKind.INBOX)
        .order_by()
        .update(
            status=MessageStatus.SENT,
            sent_at=now,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    )
    due = list(
        Message.objects.filter(_due(now))
        .exclude(channel=ChannelKind.INBOX)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "attempts")[:limit]
    )
    for pk, attempts in due:
        outcome = _deliver_one(pk, attempts)
        counts[outcome] += 1
    counts["stuck"] = Message.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=stuck_cutoff()
    ).count()
    if counts["retry"] or counts["failed"] or counts["stuck"]:
        log.warning("outbox: %s", counts)
    return counts


def _deliver_one(pk: int, attempts: int) -> str:
    claimed_at = clock.now()
    # The claim: only the worker whose UPDATE finds the message still pending, with the attempt
    # count it read, sends it. PostgreSQL re-checks the condition after a concurrent claim
    # commits; SQLite serialises writers. Either way one UPDATE returns 1, every other 0.
    claimed = Message.objects.filter(pk=pk, status=MessageStatus.PENDING, attempts=attempts).update(
        status=MessageStatus.SENDING, claimed_at=claimed_at, attempts=attempts + 1
    )
    if not claimed:
        return "skipped"
    attempt = attempts + 1
    message = Message.objects.select_related("user").get(pk=pk)
    mine = Message.objects.filter(
        pk=pk, status=MessageStatus.SENDING, attempts=attempt, claimed_at=claimed_at
    )
    try:
        channels.send(message)
    except Exception as e:
        permanent = isinstance(e, channels.ChannelError) and e.permanent
        reason = str(e) if isinstance(e, channels.ChannelError) else f"{type(e).__name__}: {e}"
        if not isinstance(e, channels.ChannelError):
            log.exception("outbox: unexpected error sending message %s", pk)
        if permanent or attempt >= MAX_ATTEMPTS:
            mine.update(status=MessageStatus.FAILED, next_attempt_at=None, last_error=reason[:2000])
            return "failed"
        mine.update(
            status=MessageStatus.PENDING,
            next_attempt_at=clock.now() + backoff(attempt),
            last_error=reason[:2000],
        )
        return "retry"
    scrub = {"body": ""} if message.kind in ONE_TIME_CODE_KINDS else {}
    mine.update(status=MessageStatus.SENT, sent_at=clock.now(), **scrub)
    return "sent"

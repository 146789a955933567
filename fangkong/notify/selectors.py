"""Reads of the outbox: a user's own inbox, and the delivery overview for administrators."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from fangkong.lib.db import one_or_none
from fangkong.notify.delivery import stuck_cutoff
from fangkong.notify.models import ChannelKind, Message, MessageStatus
from fangkong.org.selectors import CAP_AUDIT_VIEW, has_global


def inbox_for(user) -> QuerySet[Message]:
    """The user's in-app messages, newest first; nobody else's, administrators included."""
    if user is None or not user.is_authenticated:
        return Message.objects.none()
    return Message.objects.filter(user=user, channel=ChannelKind.INBOX).order_by(
        "-created_at", "-id"
    )


def get_inbox_message_for(user, message_id: int) -> Message:
    """One of the user's own inbox messages: 404 alike for missing and someone else's."""
    message = one_or_none(inbox_for(user).filter(pk=message_id))
    if message is None:
        raise Http404("no such message")
    return message


def inbox_unread_count(user) -> int:
    """Unread inbox messages (one count on the (user, channel, read_at) index)."""
    return inbox_for(user).filter(read_at__isnull=True).order_by().count()


def _outbox(user) -> QuerySet[Message]:
    if not has_global(user, CAP_AUDIT_VIEW):
        raise Http404("not an administrator")
    return Message.objects.all()


@dataclass
class OutboxOverview:
    channels: list[tuple[str, str]]  # (value, label) of each channel, in display order
    statuses: list[tuple[str, str]]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # channel → status → n
    totals: dict[str, int] = field(default_factory=dict)  # status → n
    stuck: list[Message] = field(default_factory=list)
    failed: list[Message] = field(default_factory=list)
    retrying: list[Message] = field(default_factory=list)

    def rows(self):
        """(channel label, [count per status]) for the table."""
        for value, label in self.channels:
            yield label, [self.counts.get(value, {}).get(s, 0) for s, _l in self.statuses]

    @property
    def total_row(self) -> list[int]:
        return [self.totals.get(s, 0) for s, _l in self.statuses]


def outbox_overview(user, *, limit: int = 100) -> OutboxOverview:
    """Counts by channel and status, and the messages that need attention (newest first):
    failed for good, stuck in `sending`, and pending again after an error. Administrators only."""
    qs = _outbox(user)
    overview = OutboxOverview(
        channels=list(ChannelKind.choices), statuses=list(MessageStatus.choices)
    )
    for row in qs.order_by().values("channel", "status").annotate(n=Count("id")):
        overview.counts.setdefault(row["channel"], {})[row["status"]] = row["n"]
        overview.totals[row["status"]] = overview.totals.get(row["status"], 0) + row["n"]
    recent = qs.select_related("user").order_by("-created_at", "-id")
    overview.stuck = list(
        recent.filter(status=MessageStatus.SENDING, claimed_at__lt=stuck_cutoff())[:limit]
    )
    overview.failed = list(recent.filter(status=MessageStatus.FAILED)[:limit])
    overview.retrying = list(
        recent.filter(Q(status=MessageStatus.PENDING) & ~Q(last_error=""), attempts__gt=0)[:limit]
    )
    return overview


def get_outbox_message_for(user, message_id: int) -> Message:
    """Any message, for administrators; 404 for everyone else."""
    message = one_or_none(_outbox(user).filter(pk=message_id))
    if message is None:
        raise Http404("no such message")
    return message

"""Writes to the outbox. Planning is idempotent by key; delivery lives in delivery.py."""

from django.db import IntegrityError, transaction

from fangkong.lib import clock
from fangkong.notify.models import Message


def message_enqueue(*, key: str, kind: str, channel: str, subject: str, body: str, user=None,
                    address: str = "") -> tuple[Message, bool]:
    """Add a message unless one with the same key exists; returns (message, created)."""
    try:
        with transaction.atomic():
            message = Message.objects.create(
                key=key[:200], kind=kind, channel=channel, user=user, address=address,
                subject=subject[:200], body=body, created_at=clock.now(),
                next_attempt_at=clock.now(),
            )
        return message, True
    except IntegrityError:
        return Message.objects.get(key=key[:200]), False

"""Write audit events. Call inside the transaction of the write being recorded.

`action` is a member of `audit.actions.AuditAction`; a code not declared there is refused.
"""

from typing import Any

from django.db import models

from fangkong.audit import actions
from fangkong.audit.models import AuditEvent
from fangkong.lib.masking import mask_username
from fangkong.lib.request_context import client_ip


def actor_name(actor) -> str:
    """How the trail names who acted: the username, masked when it is a number (often a mobile:
    logs hold no personal data in clear); the event's `actor` keeps the account itself."""
    return mask_username(actor.get_username()) if actor is not None and actor.pk else "system"


def _event(*, actor, action: str, obj=None, old=None, new=None, detail: str = "", ip=None):
    known = actor is not None and actor.pk
    return AuditEvent(
        actor=actor if known else None,
        actor_name=actor_name(actor),
        action=actions.check(action),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        old=old,
        new=new,
        detail=detail,
        ip=ip,
    )


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    detail: str = "",
) -> AuditEvent:
    """Append one event; `actor` may be None for system jobs."""
    event = _event(
        actor=actor, action=action, obj=obj, old=old, new=new, detail=detail, ip=client_ip()
    )
    event.save()
    return event


def audit_record_many(*, actor, action: str, items: list[tuple[models.Model, dict]]) -> None:
    """Append one event per (obj, new) pair, as audit_record would, in one INSERT per batch."""
    ip = client_ip()
    AuditEvent.objects.bulk_create(
        [_event(actor=actor, action=action, obj=obj, new=new, ip=ip) for obj, new in items],
        batch_size=500,
    )


def diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (old, new)."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}

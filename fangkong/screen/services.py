"""Writes for education posts and display links. Each is audited, except a display's heartbeat."""

import secrets
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import clock
from fangkong.org import selectors as org
from fangkong.org.models import OrgUnit
from fangkong.reports.models import ReportForm
from fangkong.screen.models import DisplayLink, EducationPost
from fangkong.screen.selectors import MANAGE_CAP, form_applies, token_hash

ERR_NOT_ALLOWED = _("您无权管理该单位的宣教内容或大屏。")
ERR_FORM = _("该报表不适用于所选单位。")


def _check(actor, unit: OrgUnit | None) -> None:
    allowed = (
        org.has_global(actor, MANAGE_CAP) if unit is None else org.can(actor, MANAGE_CAP, unit)
    )
    if not allowed:
        raise PermissionDenied(ERR_NOT_ALLOWED)


@transaction.atomic
def post_create(
    *,
    actor,
    title: str,
    body: str,
    source: str = "",
    unit: OrgUnit | None = None,
    published_from: datetime | None = None,
    published_until: datetime | None = None,
) -> EducationPost:
    """Publish a post to `unit`'s subtree (everywhere when None: administrators only)."""
    _check(actor, unit)
    now = clock.now()
    post = EducationPost(
        title=title.strip(),
        body=body.strip(),
        source=source.strip(),
        unit=unit,
        published_from=published_from or now,
        published_until=published_until,
        created_by=actor,
        created_at=now,
    )
    post.full_clean()
    post.save()
    audit_record(
        actor=actor,
        action=AuditAction.SCREEN_POST_CREATE,
        obj=post,
        new={
            "title": post.title,
            "unit": unit.code if unit else None,
            "published_from": post.published_from.isoformat(),
            "published_until": post.published_until.isoformat() if post.published_until else None,
        },
    )
    return post


@transaction.atomic
def post_unpublish(*, actor, post: EducationPost) -> EducationPost:
    """Stop showing a post now (a post not yet started ends before it starts)."""
    _check(actor, post.unit)
    now = clock.now()
    if post.published_until is not None and post.published_until <= now:
        return post
    old = post.published_until
    post.published_until = max(now, post.published_from)
    post.full_clean()
    post.save(update_fields=["published_until"])
    audit_record(
        actor=actor,
        action=AuditAction.SCREEN_POST_UNPUBLISH,
        obj=post,
        old={"published_until": old.isoformat() if old else None},
        new={"published_until": post.published_until.isoformat()},
    )
    return post


@transaction.atomic
def display_link_create(
    *, actor, node: OrgUnit, form: ReportForm, name: str
) -> tuple[DisplayLink, str]:
    """Create a display link; the raw token is returned once and only its hash is stored."""
    _check(actor, node)
    if not form_applies(form, node):
        raise ValidationError({"form": ERR_FORM})
    raw = secrets.token_urlsafe(32)
    link = DisplayLink(
        name=name.strip(),
        node=node,
        form=form,
        token_hash=token_hash(raw),
        created_by=actor,
        created_at=clock.now(),
    )
    link.full_clean()
    link.save()
    audit_record(
        actor=actor,
        action=AuditAction.DISPLAY_LINK_CREATE,
        obj=link,
        new={"name": link.name, "node": node.code, "form": form.code},
    )
    return link, raw


@transaction.atomic
def display_link_revoke(*, actor, link: DisplayLink) -> DisplayLink:
    _check(actor, link.node)
    if link.revoked_at is None:
        link.revoked_at = clock.now()
        link.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.DISPLAY_LINK_REVOKE,
            obj=link,
            new={"node": link.node.code},
        )
    return link


def display_link_seen(*, link: DisplayLink) -> None:
    """Record that a display fetched its screen: a heartbeat, deliberately not audited."""
    now = clock.now()
    DisplayLink.objects.filter(pk=link.pk).update(last_seen_at=now)
    link.last_seen_at = now

"""Sealed activation slips (激活凭条) for the liaison to hand out, as a PDF (WeasyPrint).

A slip's code is made when the PDF is: codes are stored only as HMACs, so no earlier code can be
printed again. Printing a unit's slips therefore gives a new code to every account there that
still waits for one on paper (never activated, and no live code by SMS), and the codes of any
earlier printout of those accounts stop working: a lost sheet is replaced by printing again.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.accounts import codes, provisioning
from fangkong.accounts.models import AccessCode
from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib import bulk, clock
from fangkong.org.models import OrgUnit, Person

ERR_TOO_MANY_SLIPS = N_(
    "该单位有 {n} 个账号待打印凭条，超过一次最多 {limit} 张：请进入下级单位分别打印。"
)
ERR_NO_SLIPS = N_("该单位没有待打印凭条的账号：账号都已激活，或激活码已通过短信发出。")


@dataclass(frozen=True)
class Slip:
    unit: str
    name: str
    username: str
    code: str


def waiting_for_slips(unit: OrgUnit) -> QuerySet[Person]:
    """People in post in `unit`'s subtree whose account waits for a code on paper."""
    sms = AccessCode.objects.filter(
        provisioning.live_activation_q(),
        user=OuterRef("user_id"),
        channel=AccessCode.Channel.SMS,
    )
    return (
        Person.objects.filter(unit__in=OrgUnit.objects.subtree_of(unit).values("pk"))
        .filter(provisioning.active_q(), user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .filter(~Exists(sms))
    )


def _unit_label(unit: OrgUnit) -> str:
    """A division's name alone (综合科) is ambiguous on a slip: prefix its bureau."""
    if unit.level.code == "division" and unit.parent_id:
        return f"{unit.parent.name} {unit.name}"
    return unit.name


@transaction.atomic
def slips_issue(*, actor, unit: OrgUnit) -> tuple[list[Slip], datetime]:
    """New slip codes for everyone in `unit`'s subtree waiting for one; older unused slips of
    theirs are revoked. Returns the slips (by unit, then name) and their expiry."""
    people = list(
        waiting_for_slips(unit).select_related("unit", "user").order_by("unit__path", "name", "pk")
    )
    if not people:
        raise ValidationError(_(ERR_NO_SLIPS), code="none")
    if len(people) > settings.ACCOUNT_SLIPS_MAX:
        message = _(ERR_TOO_MANY_SLIPS).format(n=len(people), limit=settings.ACCOUNT_SLIPS_MAX)
        raise ValidationError(message, code="too_many")
    now = clock.now()
    expires = now + timedelta(days=settings.ACCOUNT_ACTIVATION_DAYS)
    AccessCode.objects.filter(
        user_id__in=[p.user_id for p in people],
        purpose=AccessCode.Purpose.ACTIVATE,
        used_at__isnull=True,
        revoked_at__isnull=True,
    ).order_by().update(revoked_at=now)
    slips, rows = [], []
    for p in people:
        raw = codes.new_activation_code()
        slips.append(Slip(_unit_label(p.unit), p.name, p.user.username, raw))
        rows.append(
            (p.user_id, AccessCode.Purpose.ACTIVATE, AccessCode.Channel.SLIP,
             codes.code_hash(raw), "", now, expires, 0)
        )  # fmt: skip
    bulk.insert(
        AccessCode,
        ["user", "purpose", "channel", "code_hash", "binding", "created_at", "expires_at"]
        + ["failures"],
        rows,
    )
    # Who printed slips for whom; never the codes.
    audit_record(
        actor=actor,
        action=AuditAction.ACCOUNTS_SLIPS,
        obj=unit,
        new={"unit": unit.code, "slips": len(slips), "users": [p.user_id for p in people]},
    )
    return slips, expires


def slips_pdf(*, unit: OrgUnit, slips: list[Slip], expires: datetime) -> bytes:
    """Four slips to an A4 page, each folded in half to seal its code inside."""
    from weasyprint import HTML

    html = render_to_string(
        "accounts/slips_pdf.html",
        {
            "unit": unit,
            "slips": slips,
            "expires": timezone.localtime(expires),
            "url": provisioning.activation_url(),
            "site": settings.FANGKONG_SITE_URL.rstrip("/"),
        },
    )
    return HTML(string=html).write_pdf()

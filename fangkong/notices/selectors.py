"""Reads of notices: what a user received or may oversee, and acknowledgement rates rolled up."""

from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from fangkong.lib.db import one_or_none
from fangkong.notices.models import Notice, NoticeRecipient
from fangkong.org import selectors as org
from fangkong.org.models import SEGMENT, OrgUnit, ancestor_ids


def notices_for(user) -> QuerySet[Notice]:
    """Notices the user received, plus those issued to units they coordinate."""
    if user is None or not user.is_authenticated:
        return Notice.objects.none()
    q = Q(recipients__user=user)
    overseen = org.scope_q(user, org.CAP_CHASE, prefix="unit__")
    if overseen is None:
        return Notice.objects.all()
    return Notice.objects.filter(q | overseen).distinct()


def get_notice_for(user, notice_id: int) -> Notice:
    notice = one_or_none(
        notices_for(user).select_related("unit", "published_by").filter(pk=notice_id)
    )
    if notice is None:
        raise Http404("no such notice")
    return notice


def publish_units_for(user) -> list[OrgUnit]:
    """The units a user may issue notices to: those they coordinate (admins: the roots)."""
    if org.has_global(user, org.CAP_CHASE):
        return list(org.root_units_for(user))
    ids = [g.unit_id for g in org.granted_units(user, org.CAP_CHASE)]
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("path"))


def can_oversee(user, notice: Notice) -> bool:
    return org.can(user, org.CAP_CHASE, notice.unit)


def receipt_of(user, notice: Notice) -> NoticeRecipient | None:
    return one_or_none(NoticeRecipient.objects.filter(notice=notice, user=user))


def receipts_rollup(notice: Notice) -> list[dict]:
    """Recipients, reads and acknowledgements per child unit of the notice's unit (two queries)."""
    per_unit = {
        r["unit_id"]: r
        for r in NoticeRecipient.objects.filter(notice=notice)
        .values("unit_id")
        .annotate(
            total=Count("id"),
            read=Count("id", filter=Q(read_at__isnull=False)),
            acked=Count("id", filter=Q(acked_at__isnull=False)),
        )
    }
    units = {u["id"]: u for u in OrgUnit.objects.filter(pk__in=per_unit).values("id", "path")}
    depth = len(notice.unit.path) // SEGMENT
    rows: dict[int, dict] = defaultdict(lambda: {"total": 0, "read": 0, "acked": 0})
    for unit_id, r in per_unit.items():
        chain = ancestor_ids(units[unit_id]["path"])
        key = chain[depth] if len(chain) > depth else notice.unit.pk  # the child it falls under
        for k in ("total", "read", "acked"):
            rows[key][k] += r[k]
    names = dict(OrgUnit.objects.filter(pk__in=rows).values_list("id", "name"))
    out = []
    for key, r in rows.items():
        out.append(
            {
                "unit_id": key,
                "name": names.get(key, ""),
                **r,
                "ack_rate": r["acked"] / r["total"] if r["total"] else None,
                "read_rate": r["read"] / r["total"] if r["total"] else None,
            }
        )
    return sorted(out, key=lambda r: (r["unit_id"] != notice.unit.pk, r["name"]))


def missing_acks(notice: Notice) -> QuerySet[NoticeRecipient]:
    return NoticeRecipient.objects.filter(notice=notice, acked_at__isnull=True).select_related(
        "user__person", "unit"
    )

"""Reads for education posts, display links and the big screen's figures.

Managing posts and display links is for coordinators and administrators: the capability is
`CAP_CHASE` (held by coordinators over their subtree and by administrators everywhere).
The big screen shows totals only — counts, rates and unit names — never a person.
"""

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.http import Http404
from django.utils import timezone

from fangkong.lib import clock
from fangkong.lib.db import one_or_none
from fangkong.org import selectors as org
from fangkong.org.models import SEGMENT, OrgUnit, ancestor_ids
from fangkong.reports import selectors as reports
from fangkong.reports.models import ReportForm
from fangkong.screen.models import DisplayLink, EducationPost

MANAGE_CAP = org.CAP_CHASE
HOME_POSTS = 3
SCREEN_POSTS = 10
TREND_DAYS = 30
MAX_BARS = 15
MAX_OVERDUE = 60
OVERDUE = (reports.MISSING, reports.LATE, reports.ZERO_LATE)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- who may manage -----------------------------------------------------------------------


def can_manage(user) -> bool:
    """True for coordinators and administrators (no query once grants are loaded)."""
    return org.holds(user, MANAGE_CAP)


def require_manager(user) -> None:
    if not can_manage(user):
        raise Http404("not a coordinator")


def units_to_target(user) -> list[OrgUnit]:
    """Open units a manager may choose for a post or a link: their subtrees, three levels deep."""
    if not can_manage(user):
        return []
    q = org.scope_q(user, MANAGE_CAP)
    qs = OrgUnit.objects.filter(closed_on__isnull=True)
    if q is not None:
        qs = qs.filter(q)
    tops = [g.path for g in org.granted_units(user, MANAGE_CAP)]
    top_depth = min((len(p) for p in tops), default=SEGMENT)
    qs = qs.annotate(path_len=Length("path")).filter(path_len__lte=top_depth + 2 * SEGMENT)
    return list(qs.select_related("level").order_by("path")[:500])


# --- education posts ----------------------------------------------------------------------


def _live(now: datetime) -> Q:
    return Q(published_from__lte=now) & (
        Q(published_until__isnull=True) | Q(published_until__gt=now)
    )


def posts_managed_by(user) -> QuerySet[EducationPost]:
    """Posts the user may unpublish: those aimed inside their subtrees (administrators: all)."""
    qs = EducationPost.objects.select_related("unit", "created_by")
    if not can_manage(user):
        return qs.none()
    q = org.scope_q(user, MANAGE_CAP, prefix="unit__")
    return qs if q is None else qs.filter(q)


def get_post_for(user, post_id: int) -> EducationPost:
    post = one_or_none(posts_managed_by(user).filter(pk=post_id))
    if post is None:
        raise Http404("no such post")
    return post


def posts_visible_to(user, now: datetime | None = None) -> QuerySet[EducationPost]:
    """Live posts for the user: everywhere-posts and posts aimed at a subtree the user is in.

    A user is in their own unit and in the units of their roles; administrators see every post.
    """
    if user is None or not user.is_authenticated:
        return EducationPost.objects.none()
    qs = EducationPost.objects.filter(_live(now or clock.now()))
    if org.has_global(user, MANAGE_CAP):
        return qs
    ids: set[int] = set()
    for g in org.granted_units(user):
        ids.update(ancestor_ids(g.path))
    person = org.own_person(user)
    if person is not None:
        ids.update(ancestor_ids(person.unit.path))
    return qs.filter(Q(unit__isnull=True) | Q(unit_id__in=ids))


def posts_for_node(node: OrgUnit, now: datetime | None = None) -> QuerySet[EducationPost]:
    """Live posts that show at `node`: everywhere-posts and posts aimed at it or above it."""
    return EducationPost.objects.filter(_live(now or clock.now())).filter(
        Q(unit__isnull=True) | Q(unit_id__in=ancestor_ids(node.path))
    )


# --- display links ------------------------------------------------------------------------


def links_for(user) -> QuerySet[DisplayLink]:
    qs = DisplayLink.objects.select_related("node", "form", "created_by")
    if not can_manage(user):
        return qs.none()
    q = org.scope_q(user, MANAGE_CAP, prefix="node__")
    return qs if q is None else qs.filter(q)


def get_link_for(user, link_id: int) -> DisplayLink:
    link = one_or_none(links_for(user).filter(pk=link_id))
    if link is None:
        raise Http404("no such link")
    return link


def link_for_token(raw: str) -> DisplayLink:
    """The live link of a raw token. Unknown, revoked, or its creator no longer holds the node:
    the same 404."""
    link = None
    if raw and len(raw) <= 100:
        link = one_or_none(
            DisplayLink.objects.select_related("node", "form", "form__root", "created_by").filter(
                token_hash=token_hash(raw), revoked_at__isnull=True
            )
        )
    if link is None or not org.can(link.created_by, MANAGE_CAP, link.node):
        raise Http404("no such display")
    return link


# --- forms for a node ---------------------------------------------------------------------


def form_applies(form: ReportForm, node: OrgUnit) -> bool:
    """The form covers the node's subtree, or part of it."""
    return node.path.startswith(form.root.path) or form.root.path.startswith(node.path)


def forms_for_node(user, node: OrgUnit) -> list[ReportForm]:
    return [f for f in reports.forms_for(user) if form_applies(f, node)]


def screen_form_for(user, node: OrgUnit, form_id: str | None) -> ReportForm:
    """The form a user's screen of `node` shows: the one asked for, or the first that applies."""
    if form_id:
        if not str(form_id).isdigit():
            raise Http404("no such form")
        form = reports.get_form_for(user, int(form_id))
        if not form_applies(form, node):
            raise Http404("form does not apply")
        return form
    forms = forms_for_node(user, node)
    if not forms:
        raise Http404("no form for this unit")
    return forms[0]


# --- the big screen -----------------------------------------------------------------------


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def screen_data(form: ReportForm, node: OrgUnit, now: datetime | None = None) -> dict:
    """Everything the big screen shows, as JSON-ready totals: no person appears in it.

    Today's counts and rates come from the roll-up's root row, the 30-day line from the trend,
    the figures from the children's current reports (the node's own report when no child
    reports) beside the check-in totals of the subtree.
    """
    now = now or clock.now()
    today = timezone.localtime(now).date()
    rows = reports.rollup(form, node, today, today, now=now)
    me = rows[node.pk]
    stats = me.stats
    children = reports.children_rows(rows, node)
    depth0 = len(node.path) // SEGMENT

    # Figures: the sum of the reporting children's current values, beside the check-in totals.
    reporting = [c for c in children if c.expected or c.stats.expected]
    sources = [c.current for c in reporting if c.current] if reporting else [me.current]
    summed: dict[str, int] = defaultdict(int)
    for cur in sources:
        if cur:
            for k, v in cur["values"].items():
                summed[k] += int(v or 0)
    figures = [
        {
            "key": f["key"],
            "label": f["label"],
            "group": f.get("group", ""),
            "reported": summed.get(f["key"], 0),
            "derived": int(stats.derived.get(f.get("derive", ""), 0)),
        }
        for f in form.fields
    ]

    bars = [c for c in children if c.stats.expected]
    if len(bars) > MAX_BARS:
        worst = sorted(bars, key=lambda c: (-(c.stats.late + c.stats.missing), c.path))
        keep = {c.id for c in worst[:MAX_BARS]}
        bars = [c for c in bars if c.id in keep]

    overdue = sorted(
        (r for r in rows.values() if r.status in OVERDUE),
        key=lambda r: (r.status != reports.MISSING, r.path),
    )

    def branch(row) -> str:
        """The child of `node` a deeper unit sits under, so that same-named divisions differ."""
        ids = ancestor_ids(row.path)
        if len(ids) <= depth0 + 1:
            return ""
        parent = rows.get(ids[depth0])
        return parent.name if parent else ""

    trend = reports.trend(form, node, today - timedelta(days=TREND_DAYS - 1), today)
    posts = posts_for_node(node, now)[:SCREEN_POSTS]
    return {
        "node": {"code": node.code, "name": node.name},
        "form": {"id": form.pk, "name": form.name},
        "day": today.isoformat(),
        "now": timezone.localtime(now).isoformat(),
        "stats": {
            "expected": stats.expected,
            "received": stats.received,
            "zero": stats.zero,
            "late": stats.late,
            "missing": stats.missing,
            "not_due": stats.not_due,
            "completeness": _pct(stats.completeness),
            "timeliness": _pct(stats.timeliness),
        },
        "trend": {
            "days": [t["day"].strftime("%m-%d") for t in trend],
            "completeness": [_pct(t["completeness"]) for t in trend],
            "timeliness": [_pct(t["timeliness"]) for t in trend],
        },
        "children": {
            "names": [c.name for c in bars],
            "late": [c.stats.late for c in bars],
            "missing": [c.stats.missing for c in bars],
        },
        "figures": figures,
        "reported_units": sum(1 for s in sources if s),
        "checkins": {
            "staff": int(stats.derived.get("staff_checked", 0)),
            "family": int(stats.derived.get("family_checked", 0)),
        },
        "overdue": {
            "total": len(overdue),
            "units": [
                {
                    "name": r.name,
                    "branch": branch(r),
                    "status": r.status,
                    "label": str(reports.STATUS_LABELS[r.status]),
                }
                for r in overdue[:MAX_OVERDUE]
            ],
        },
        "posts": [
            {"id": p.pk, "title": p.title, "body": p.body, "source": p.source} for p in posts
        ],
    }

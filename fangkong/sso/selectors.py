"""Reads of platform sign-in: the configured platforms and, per unit, how far sign-in has come."""

from dataclasses import dataclass, field
from datetime import timedelta

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount
from django.db.models import Count, Exists, OuterRef, Q

from fangkong.audit.actions import AuditAction
from fangkong.audit.models import AuditEvent
from fangkong.lib import clock
from fangkong.org import selectors as org
from fangkong.org.models import SEGMENT, OrgUnit, Person, subtree_bounds


def platforms(request) -> list:
    """The providers with an app configured in settings, in a stable order (WeCom, DingTalk, OIDC)."""
    order = {"wecom": 0, "dingtalk": 1, "openid_connect": 2}
    return sorted(get_adapter(request).list_providers(request), key=lambda p: order.get(p.id, 9))


def week_start():
    """Monday 00:00 of the server's current week."""
    today = clock.today()
    return clock.day_start(today - timedelta(days=today.weekday()))


@dataclass
class Adoption:
    """Counts for one unit (its whole subtree, or the unit alone for the node's own row)."""

    unit: OrgUnit | None
    staff: int = 0
    accounts: int = 0
    activated: int = 0
    this_week: int = 0
    never: int = 0
    bound: int = 0
    subtree: bool = True

    def add(self, row: dict) -> None:
        for key in ("staff", "accounts", "activated", "this_week", "never", "bound"):
            setattr(self, key, getattr(self, key) + row[key])


@dataclass
class AdoptionPage:
    node: OrgUnit
    own: Adoption
    children: list[Adoption] = field(default_factory=list)
    total: Adoption | None = None


def adoption(node: OrgUnit) -> AdoptionPage:
    """Staff in post of the node's subtree, per child unit: with an account, activated (a usable
    password or a bound platform identity), signed in this week, never signed in. One grouped
    query for the counts and one for the children, whatever the subtree's size."""
    today = clock.today()
    low, high = subtree_bounds(node.path)
    bound = Q(Exists(SocialAccount.objects.filter(user_id=OuterRef("user_id"))))
    has_account = Q(user__isnull=False, user__is_active=True)
    # Django marks an unusable password with a leading "!" (set_unusable_password).
    usable = ~Q(user__password__startswith="!") & ~Q(user__password="")  # noqa: S106
    rows = (
        Person.objects.filter(unit__path__gte=low, unit__path__lt=high)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=today))
        .values("unit__path")
        .annotate(
            staff=Count("id"),
            accounts=Count("id", filter=has_account),
            activated=Count("id", filter=has_account & (usable | bound)),
            this_week=Count("id", filter=has_account & Q(user__last_login__gte=week_start())),
            never=Count("id", filter=Q(user__isnull=True) | Q(user__last_login__isnull=True)),
            bound=Count("id", filter=has_account & bound),
        )
        .order_by()
    )
    children = list(OrgUnit.objects.filter(parent=node).order_by("sort_order", "path"))
    page = AdoptionPage(
        node=node,
        own=Adoption(node, subtree=False),
        children=[Adoption(c) for c in children],
        total=Adoption(None),
    )
    by_prefix = {c.unit.path: c for c in page.children}
    width = len(node.path) + SEGMENT  # a child's path: the node's, plus one segment
    for row in rows:
        path = row["unit__path"]
        page.total.add(row)
        if path == node.path:
            page.own.add(row)
        elif path[:width] in by_prefix:
            by_prefix[path[:width]].add(row)
    return page


def duplicate_mobiles(user, node: OrgUnit, limit: int = 50) -> list[dict]:
    """Mobiles registered to more than one person in post (platform sign-in refuses them), named."""
    today = clock.today()
    low, high = subtree_bounds(node.path)
    in_post = Q(left_on__isnull=True) | Q(left_on__gt=today)
    # Counted over everyone in post: a number shared with someone outside the user's scope is
    # refused all the same; only the people inside the scope are named.
    shared = dict(
        Person.objects.filter(in_post)
        .exclude(mobile="")
        .values("mobile")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("mobile", "n")[:500]
    )
    people = (
        org.people_for(user)
        .filter(in_post, unit__path__gte=low, unit__path__lt=high, mobile__in=list(shared))
        .select_related("unit")
        .order_by("mobile", "unit__path", "id")[: limit * 2]
    )
    groups: dict[str, list[Person]] = {}
    for p in people:
        groups.setdefault(p.mobile, []).append(p)
    return [
        {"mobile": m, "people": ps, "elsewhere": shared[m] - len(ps)}
        for m, ps in list(groups.items())[:limit]
    ]


def recent_refusals(user, limit: int = 20):
    """The last refused platform sign-ins, for administrators (the audit trail is theirs)."""
    if not org.has_global(user, org.CAP_AUDIT_VIEW):
        return []
    return list(
        AuditEvent.objects.filter(action=AuditAction.SSO_REFUSED).order_by("-at", "-id")[:limit]
    )

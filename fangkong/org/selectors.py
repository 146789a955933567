"""Reads of the org tree, always narrowed to what the acting user may see.

A user's grants come from three places: explicit role assignments (admin, coordinator, duty
officer, auditor), the units that name their Person as liaison or first responsible person, and
their own Person (staff: self and family). Each grant covers a unit's subtree; a scope check
compares the grant's unit with the ancestors written in the target's path, so it needs no query
once the grants are loaded (one query per request, cached on the user object).
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.lib import clock
from fangkong.lib.db import one_or_none
from fangkong.org.models import (
    FamilyMember,
    OrgUnit,
    Person,
    ReportingLine,
    Role,
    RoleAssignment,
    ancestor_ids,
    in_post_q,
    subtree_bounds,
)

CAP_UNITS_VIEW = "units.view"
CAP_PEOPLE_VIEW = "people.view"
CAP_PEOPLE_UNMASK = "people.unmask"
CAP_HEALTH_VIEW = "health.view"
CAP_ROSTER_MANAGE = "roster.manage"
CAP_AUDIT_VIEW = "audit.view"
CAP_USERS_MANAGE = "users.manage"
CAP_CHASE = "chase"
CAP_REPORT = "report"
CAP_DUTY = "duty"
CAP_RELIEF = "relief.audit"  # create relief-audit projects; their data is for members only
CAP_ACCOUNTS_MANAGE = "accounts.manage"  # create accounts for the roster, print activation slips
CAP_ROLES_MANAGE = "roles.manage"  # grant and revoke roles (within roles_grantable)

ROLE_LIAISON = "liaison"
ROLE_LEADER = "leader"
ROLE_DEPUTY_LIAISON = "deputy_liaison"

# What each role may do inside the subtree it is granted. Admin holds every capability globally.
ROLE_CAPS: dict[str, frozenset[str]] = {
    "coordinator": frozenset(
        {
            CAP_UNITS_VIEW,
            CAP_PEOPLE_VIEW,
            CAP_HEALTH_VIEW,
            CAP_ROSTER_MANAGE,
            CAP_CHASE,
            CAP_ACCOUNTS_MANAGE,
            CAP_ROLES_MANAGE,
        }
    ),
    ROLE_LEADER: frozenset({CAP_UNITS_VIEW, CAP_PEOPLE_VIEW, CAP_HEALTH_VIEW}),
    ROLE_LIAISON: frozenset(
        {
            CAP_UNITS_VIEW,
            CAP_PEOPLE_VIEW,
            CAP_PEOPLE_UNMASK,
            CAP_HEALTH_VIEW,
            CAP_REPORT,
            CAP_ROSTER_MANAGE,
        }
    ),
    "duty_officer": frozenset({CAP_UNITS_VIEW, CAP_DUTY}),
    "auditor": frozenset({CAP_RELIEF}),
}
# A deputy liaison stands in for the liaison of one unit, with the same capabilities there.
ROLE_CAPS[ROLE_DEPUTY_LIAISON] = ROLE_CAPS[ROLE_LIAISON]
# The roles a unit's roles page lists, highest first.
UNIT_ROLES = (
    "coordinator",
    ROLE_LEADER,
    ROLE_LIAISON,
    ROLE_DEPUTY_LIAISON,
    "duty_officer",
    "auditor",
)
ALL_CAPS = frozenset().union(*ROLE_CAPS.values(), {CAP_AUDIT_VIEW, CAP_USERS_MANAGE})


@dataclass(frozen=True)
class Grant:
    """One role held over the subtree rooted at `unit_id` (None: everywhere)."""

    role: str
    unit_id: int | None
    path: str | None
    unit_name: str = ""
    unit_code: str = ""

    @property
    def caps(self) -> frozenset[str]:
        return ALL_CAPS if self.role == "admin" else ROLE_CAPS.get(self.role, frozenset())


def grants(user) -> tuple[Grant, ...]:
    """All grants of a user, loaded once per user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ()
    cached = getattr(user, "_fk_grants", None)
    if cached is not None:
        return cached
    result = [
        Grant(
            ra.role,
            ra.unit_id,
            ra.unit.path if ra.unit_id else None,
            ra.unit.name if ra.unit_id else "",
            ra.unit.code if ra.unit_id else "",
        )
        for ra in RoleAssignment.objects.filter(user=user).select_related("unit")
    ]
    if user.is_superuser:
        result.append(Grant("admin", None, None))
    # Two indexed lookups joined by UNION: an OR across both relations would scan every unit.
    # Only staff still in post hold the roles their unit names them for.
    mine = (
        Person.objects.filter(user=user)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=clock.today()))
        .values("pk")
    )
    columns = ("id", "path", "name", "code", "role")
    liaison = (
        OrgUnit.objects.filter(liaisons__in=mine).order_by().annotate(role=Value(ROLE_LIAISON))
    )
    leader = (
        OrgUnit.objects.filter(first_responsible__in=mine)
        .order_by()
        .annotate(role=Value(ROLE_LEADER))
    )
    for unit_id, path, name, code, role in liaison.values_list(*columns).union(
        leader.values_list(*columns)
    ):
        result.append(Grant(role, unit_id, path, name, code))
    user._fk_grants = tuple(dict.fromkeys(result))
    return user._fk_grants


def has_global(user, cap: str) -> bool:
    return any(g.unit_id is None and cap in g.caps for g in grants(user))


# --- Named scope questions: callers ask these instead of looping over grants(user). ---


def holds(user, cap: str) -> bool:
    """Whether the user holds `cap` anywhere (over some subtree, or everywhere)."""
    return any(cap in g.caps for g in grants(user))


def caps_of(user) -> frozenset[str]:
    """Every capability the user holds somewhere (what the menu offers)."""
    return frozenset().union(*(g.caps for g in grants(user)))


def granted(user, cap: str) -> list[Grant]:
    """The user's grants carrying `cap`, a global one (unit None) included."""
    return [g for g in grants(user) if cap in g.caps]


def granted_units(user, cap: str | None = None) -> list[Grant]:
    """The user's grants that name a unit and carry `cap` (any capability when None): one per
    unit, in path order. A global grant names no unit and is not among them."""
    found: dict[int, Grant] = {}
    for g in grants(user):
        if g.unit_id and (cap is None or cap in g.caps):
            found.setdefault(g.unit_id, g)
    return sorted(found.values(), key=lambda g: g.path)


def granted_unit_codes(user, cap: str) -> list[str]:
    """Codes of the units whose subtrees the user holds `cap` over; ["*"] for everywhere."""
    if has_global(user, cap):
        return ["*"]
    return sorted({g.unit_code for g in granted_units(user, cap)})


def can(user, cap: str, unit: OrgUnit) -> bool:
    """True when one of the user's grants with `cap` covers `unit` (no query once grants are loaded)."""
    ancestors = None
    for g in grants(user):
        if cap not in g.caps:
            continue
        if g.unit_id is None:
            return True
        if ancestors is None:
            ancestors = set(ancestor_ids(unit.path))
        if g.unit_id in ancestors:
            return True
    return False


def roles_grantable(user, unit: OrgUnit) -> frozenset[str]:
    """The roles `user` may grant and revoke at `unit` (empty: none, and the roles page is 404).

    An administrator: every unit role. A coordinator whose subtree holds the unit: first
    responsible person, liaison, deputy liaison and duty officer there, and coordinator only
    strictly below their own unit, so nobody makes a peer or anyone above themselves; auditor is
    the administrators' (it opens the relief audit, which coordinators do not hold). The unit's
    own liaison: deputy liaison.
    """
    result: set[str] = set()
    ancestors = None
    for g in grants(user):
        if g.role == "admin":
            return frozenset(UNIT_ROLES)
        if g.role == "coordinator":
            if ancestors is None:
                ancestors = set(ancestor_ids(unit.path))
            if g.unit_id in ancestors:
                result |= {ROLE_LEADER, ROLE_LIAISON, ROLE_DEPUTY_LIAISON, "duty_officer"}
                if g.unit_id != unit.pk:
                    result.add("coordinator")
        elif g.role == ROLE_LIAISON and g.unit_id == unit.pk:
            result.add(ROLE_DEPUTY_LIAISON)
    return frozenset(result)


def scope_q(user, cap: str, prefix: str = "") -> Q | None:
    """A filter on `<prefix>path` for every subtree the user holds `cap` over; None means no limit."""
    q = Q(pk__in=[])
    for g in grants(user):
        if cap not in g.caps:
            continue
        if g.unit_id is None:
            return None
        low, high = subtree_bounds(g.path)
        q |= Q(**{f"{prefix}path__gte": low, f"{prefix}path__lt": high})
    return q


def units_for(user, cap: str = CAP_UNITS_VIEW) -> QuerySet[OrgUnit]:
    """Units the user may see with `cap`: the union of their granted subtrees."""
    if not grants(user):
        return OrgUnit.objects.none()
    q = scope_q(user, cap)
    return OrgUnit.objects.all() if q is None else OrgUnit.objects.filter(q)


def own_person(user) -> Person | None:
    """The user's own staff record with its unit, loaded once per user object."""
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(user, "_fk_person"):
        user._fk_person = one_or_none(Person.objects.select_related("unit").filter(user=user))
    return user._fk_person


def scoped_q(user, cap: str, *, unit_field: str = "unit", own_field: str | None = None) -> Q | None:
    """A filter for rows whose unit lies in the user's subtrees with `cap` (None: no limit).

    With `own_field`, rows of the user's own staff record are added when their own unit is outside
    those subtrees. The unit test is an IN over the path-range subquery, so both terms stay indexed.
    """
    q = scope_q(user, cap)
    if q is None:
        return None
    result = Q(**{f"{unit_field}__in": OrgUnit.objects.filter(q).values("pk")})
    own = own_person(user) if own_field else None
    if own is not None and not can(user, cap, own.unit):
        result |= Q(**{own_field: own.pk})
    return result


def people_for(user, cap: str = CAP_PEOPLE_VIEW, *, include_self: bool = True) -> QuerySet[Person]:
    """People the user may see with `cap`; staff always see themselves."""
    if user is None or not user.is_authenticated:
        return Person.objects.none()
    own = "pk" if include_self and cap in {CAP_PEOPLE_VIEW, CAP_HEALTH_VIEW} else None
    q = scoped_q(user, cap, own_field=own)
    return Person.objects.all() if q is None else Person.objects.filter(q)


def family_for(user, cap: str = CAP_PEOPLE_VIEW) -> QuerySet[FamilyMember]:
    return FamilyMember.objects.filter(person__in=people_for(user, cap))


@dataclass
class LeadingGroup:
    """A unit's leading group on one day. `leader_is_default`: no 组长 was named, so the unit's
    first responsible person leads by default."""

    unit_id: int
    day: date
    leader: Person | None = None
    leader_is_default: bool = False
    deputies: list = field(default_factory=list)
    members: list = field(default_factory=list)
    office: object | None = None  # the office contact's seat (person, phone, duty)
    seats: list = field(default_factory=list)

    @property
    def is_set(self) -> bool:
        return bool(self.seats)

    def summary(self) -> str:
        """One line for roll-ups and exports: 组长 X；办公室 Y 电话."""
        parts = []
        if self.leader is not None:
            parts.append(f"组长 {self.leader.name}")
        if self.office is not None:
            contact = f"办公室 {self.office.person.name}"
            parts.append(f"{contact} {self.office.phone}".strip())
        return "；".join(parts)


def leading_groups_on(units: list[OrgUnit], day: date) -> dict[int, LeadingGroup]:
    """The leading group of each unit on `day`, in one query (the default 组长 needs the units'
    `first_responsible` loaded, as the callers' unit queries do)."""
    from fangkong.org.models import GroupRole, LeadingGroupSeat

    groups = {u.pk: LeadingGroup(u.pk, day) for u in units}
    seats = (
        LeadingGroupSeat.objects.on(day)
        .filter(unit_id__in=list(groups))
        .select_related("person")
        .order_by("unit_id", "valid_from", "id")
    )
    for seat in seats:
        g = groups[seat.unit_id]
        g.seats.append(seat)
        if seat.role == GroupRole.LEADER:
            g.leader = seat.person
        elif seat.role == GroupRole.DEPUTY:
            g.deputies.append(seat)
        elif seat.role == GroupRole.MEMBER:
            g.members.append(seat)
        elif seat.role == GroupRole.OFFICE:
            g.office = seat
    for u in units:
        g = groups[u.pk]
        if g.leader is None and u.first_responsible_id:
            g.leader, g.leader_is_default = u.first_responsible, True
    return groups


def leading_group_on(unit: OrgUnit, day: date) -> LeadingGroup:
    return leading_groups_on([unit], day)[unit.pk]


def leading_group_history(unit: OrgUnit) -> QuerySet:
    """Every seat the unit's group ever had, newest first."""
    from fangkong.org.models import LeadingGroupSeat

    return (
        LeadingGroupSeat.objects.filter(unit=unit)
        .select_related("person")
        .order_by("-valid_from", "role", "-id")
    )


def nearest_leading_group(person: Person | None, day: date) -> tuple[OrgUnit, LeadingGroup] | None:
    """The leading group a staff member answers to: that of their own unit, else of the nearest
    unit above it that has named one (a division has none of its own). Two queries."""
    from fangkong.org.models import LeadingGroupSeat

    if person is None:
        return None
    chain = ancestor_ids(person.unit.path)
    with_group = set(
        LeadingGroupSeat.objects.on(day).filter(unit_id__in=chain).values_list("unit_id", flat=True)
    )
    nearest = next((uid for uid in reversed(chain) if uid in with_group), None)
    if nearest is None:
        return None
    unit = OrgUnit.objects.select_related("first_responsible").get(pk=nearest)
    return unit, leading_group_on(unit, day)


def get_household_for(user, person_id: int) -> Person:
    """A staff member whose family list the user may change: themself, or someone they report for.

    404 alike for missing and not-yours, as every lookup here.
    """
    person = one_or_none(Person.objects.select_related("unit").filter(pk=person_id))
    if person is None or not (person.user_id == user.pk or can(user, CAP_REPORT, person.unit)):
        raise Http404("no such household")
    return person


def family_changes(unit: OrgUnit, day) -> QuerySet[FamilyMember]:
    """Family members added or moved out by a household of the unit's subtree on `day`.

    The services date both changes from the day they were recorded (`active_from` is the next
    day, `expected_until` the day itself), so this reads them back without a join on the audit.
    """
    from datetime import timedelta

    low, high = subtree_bounds(unit.path)
    return (
        FamilyMember.objects.filter(person__unit__path__gte=low, person__unit__path__lt=high)
        .filter(Q(active_from=day + timedelta(days=1)) | Q(expected_until=day))
        .select_related("person", "person__unit")
        .order_by("person__unit__path", "person_id", "id")
    )


def reporting_lines_for(user) -> QuerySet[ReportingLine]:
    """Extra reporting lines whose reporting unit or superior the user can see."""
    units = units_for(user)
    return ReportingLine.objects.filter(Q(unit__in=units) | Q(superior__in=units))


def get_unit_for(user, code: str, cap: str = CAP_UNITS_VIEW) -> OrgUnit:
    """The one way to look up a unit: 404 when it does not exist or is not the user's."""
    unit = one_or_none(
        OrgUnit.objects.select_related("level", "parent", "first_responsible").filter(code=code)
    )
    if unit is None or not can(user, cap, unit):
        raise Http404("no such unit")
    return unit


def get_person_for(user, person_id: int, cap: str = CAP_PEOPLE_VIEW) -> Person:
    """The one way to look up a person: 404 when missing or outside the user's scope."""
    person = one_or_none(
        people_for(user, cap).select_related("unit", "rank", "user").filter(pk=person_id)
    )
    if person is None:
        raise Http404("no such person")
    return person


def children_of(user, unit: OrgUnit) -> QuerySet[OrgUnit]:
    return units_for(user).filter(parent=unit).select_related("level", "first_responsible")


def root_units_for(user) -> list[OrgUnit]:
    """The top-most units the user can see (roots of their granted subtrees)."""
    if has_global(user, CAP_UNITS_VIEW):
        return list(OrgUnit.objects.filter(parent__isnull=True).select_related("level"))
    ids = [g.unit_id for g in granted_units(user, CAP_UNITS_VIEW)]
    units = list(OrgUnit.objects.filter(pk__in=ids).select_related("level"))
    # Drop grants nested inside another grant of the same user.
    paths = sorted(u.path for u in units)
    tops = {p for p in paths if not any(p != q and p.startswith(q) for q in paths)}
    return [u for u in sorted(units, key=lambda u: u.path) if u.path in tops]


# --- Role grants at units: the only reads of RoleAssignment (org.services writes them). ---

ROLE_LABELS = {
    "coordinator": N_("协调员"),
    ROLE_LEADER: N_("第一责任人"),
    ROLE_LIAISON: N_("联络员"),
    ROLE_DEPUTY_LIAISON: N_("副联络员"),
    "duty_officer": N_("值班员"),
    "auditor": N_("审计人员"),
    "admin": N_("系统管理员"),
}


@dataclass(frozen=True)
class Holder:
    """One role held at a unit: `holder_id` is a person (first responsible person, liaison) or a
    role assignment (the others), as the revoke form sends it back."""

    role: str
    holder_id: int
    name: str
    username: str
    unit_name: str

    @property
    def label(self) -> str:
        return _(ROLE_LABELS[self.role])


def get_unit_for_roles(user, code: str) -> tuple[OrgUnit, frozenset[str]]:
    """A unit whose roles page the user may open, with the roles they may grant there: 404 when
    they may grant none (or cannot see the unit)."""
    unit = get_unit_for(user, code)
    grantable = roles_grantable(user, unit)
    if not grantable:
        raise Http404("no roles to manage here")
    return unit, grantable


def role_holders(unit: OrgUnit) -> list[Holder]:
    """Everyone holding a role at `unit`, highest role first (three queries)."""
    found: list[Holder] = []
    if unit.first_responsible_id:
        p = Person.objects.select_related("user", "unit").get(pk=unit.first_responsible_id)
        found.append(
            Holder(ROLE_LEADER, p.pk, p.name, p.user.username if p.user else "", p.unit.name)
        )
    for p in unit.liaisons.select_related("user", "unit").order_by("pk"):
        found.append(
            Holder(ROLE_LIAISON, p.pk, p.name, p.user.username if p.user else "", p.unit.name)
        )
    assignments = (
        RoleAssignment.objects.filter(unit=unit).select_related("user__person__unit").order_by("pk")
    )
    for ra in assignments:
        person = getattr(ra.user, "person", None)
        found.append(
            Holder(
                ra.role,
                ra.pk,
                person.name if person else ra.user.username,
                ra.user.username,
                person.unit.name if person else "",
            )
        )
    order = {role: i for i, role in enumerate(UNIT_ROLES)}
    return sorted(found, key=lambda h: order.get(h.role, 99))


def role_candidates(unit: OrgUnit) -> QuerySet[Person]:
    """People a role at `unit` may be given to, offered in the grant form: those in post in the
    unit itself and its direct sub-units."""
    return (
        Person.objects.filter(Q(unit=unit) | Q(unit__parent=unit))
        .filter(in_post_q(clock.today()))
        .select_related("unit", "user")
        .order_by("unit__path", "rank__order", "pk")
    )


def role_held(*, user_id: int, role: str, unit: OrgUnit | None) -> bool:
    """Whether the user already holds `role` at `unit`."""
    return RoleAssignment.objects.filter(user_id=user_id, role=role, unit=unit).exists()


def role_assignment_at(unit: OrgUnit, role: str, assignment_id: int) -> RoleAssignment | None:
    """The assignment `assignment_id` of `role` at `unit`, or None."""
    return one_or_none(
        RoleAssignment.objects.select_related("user", "unit").filter(
            pk=assignment_id, role=role, unit=unit
        )
    )


def coordinators_in(unit: OrgUnit) -> dict[int, int]:
    """user id → unit id of the coordinators of every unit in `unit`'s subtree (one query)."""
    low, high = subtree_bounds(unit.path)
    return dict(
        RoleAssignment.objects.filter(
            role=Role.COORDINATOR, unit__path__gte=low, unit__path__lt=high
        ).values_list("user_id", "unit_id")
    )


def coordinator_contacts() -> list[tuple[int, int, str, str]]:
    """(unit id, user id, email, mobile) of every coordinator, for the reminder ladder."""
    return [
        (unit_id, user_id, email, mobile or "")
        for unit_id, user_id, email, mobile in RoleAssignment.objects.filter(
            role=Role.COORDINATOR
        ).values_list("unit_id", "user_id", "user__email", "user__person__mobile")
    ]


def roles_by_user(user_ids) -> dict[int, list[tuple[str, str]]]:
    """user id → [(role, unit code or "")] of the assigned roles of some users (one query)."""
    found: dict[int, list[tuple[str, str]]] = {}
    for user_id, role, code in RoleAssignment.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "role", "unit__code"
    ):
        found.setdefault(user_id, []).append((role, code or ""))
    return found


def holders_of(role: str):
    """Active users holding `role` somewhere, as a User queryset (e.g. auditors for a team)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        is_active=True,
        pk__in=RoleAssignment.objects.filter(role=role).values("user_id"),
    )

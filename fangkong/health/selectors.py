"""Reads of check-ins and cases, narrowed to who may see an individual's health."""

from datetime import date

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.health.models import CheckIn, Exemption, FollowUpCase
from fangkong.lib.db import one_or_none
from fangkong.org import selectors as org
from fangkong.org.models import FamilyMember, OrgUnit, Person, in_post_q


def checkins_for(user) -> QuerySet[CheckIn]:
    """Check-ins the user may read: their own household's, and those of units they hold health view over."""
    if user is None or not user.is_authenticated:
        return CheckIn.objects.none()
    q = org.scoped_q(user, org.CAP_HEALTH_VIEW, own_field="person")
    return CheckIn.objects.all() if q is None else CheckIn.objects.filter(q)


def cases_for(user) -> QuerySet[FollowUpCase]:
    if user is None or not user.is_authenticated:
        return FollowUpCase.objects.none()
    q = org.scoped_q(user, org.CAP_HEALTH_VIEW, own_field="person")
    return FollowUpCase.objects.all() if q is None else FollowUpCase.objects.filter(q)


def get_case_for(user, case_id: int) -> FollowUpCase:
    case = one_or_none(
        cases_for(user).select_related("person", "family_member", "unit").filter(pk=case_id)
    )
    if case is None:
        raise Http404("no such case")
    return case


def get_checkin_for(user, checkin_id: int) -> CheckIn:
    checkin = one_or_none(
        checkins_for(user)
        .select_related("person", "family_member", "unit", "entered_by")
        .filter(pk=checkin_id)
    )
    if checkin is None:
        raise Http404("no such check-in")
    return checkin


def household_today(person: Person, day: date) -> dict[int | None, CheckIn]:
    """Today's check-ins of a household keyed by family member id (None for the staff member)."""
    return {c.family_member_id: c for c in CheckIn.objects.filter(person=person, day=day)}


def last_city(person: Person, before: date) -> str:
    """A stable fact that may be pre-filled: where the person said they were last time."""
    return (
        CheckIn.objects.filter(person=person, family_member__isnull=True, day__lt=before)
        .order_by("-day")
        .values_list("current_city", flat=True)
        .first()
        or ""
    )


def expected_people(units: QuerySet[OrgUnit], day: date) -> QuerySet[Person]:
    """Staff who should check in on `day`: in the units, joined on or before it, not yet left."""
    return Person.objects.filter(unit__in=units).filter(in_post_q(day))


def unit_day(user, unit: OrgUnit, day: date) -> tuple[list[Person], dict]:
    """Every expected person of a unit's subtree on a day, with their check-in state, in one query.

    Each person carries: checkin_id, checkin_abnormal, checkin_channel, checkin_at,
    checkin_work_mode, exempt,
    family_total, family_done, family_abnormal. Viewing it is recorded in the audit trail.
    """
    units = OrgUnit.objects.subtree_of(unit)
    own = CheckIn.objects.filter(person=OuterRef("pk"), day=day, family_member__isnull=True)
    fam = CheckIn.objects.filter(person=OuterRef("pk"), day=day, family_member__isnull=False)

    def count(qs):
        # A correlated COUNT per person: still one SQL statement, no join fan-out.
        return Coalesce(
            Subquery(
                qs.order_by().values("person").annotate(n=Count("id")).values("n")[:1],
                output_field=IntegerField(),
            ),
            Value(0),
        )

    people = list(
        expected_people(units, day)
        .select_related("unit", "rank")
        .annotate(
            checkin_id=Subquery(own.values("id")[:1]),
            checkin_abnormal=Subquery(own.values("abnormal")[:1]),
            checkin_channel=Subquery(own.values("channel")[:1]),
            checkin_at=Subquery(own.values("submitted_at")[:1]),
            checkin_work_mode=Subquery(own.values("work_mode")[:1]),
            exempt=Exists(
                Exemption.objects.filter(person=OuterRef("pk"), start__lte=day).filter(
                    Q(end__isnull=True) | Q(end__gte=day)
                )
            ),
            family_total=count(FamilyMember.objects.expected_on(day).filter(person=OuterRef("pk"))),
            family_done=count(fam),
            family_abnormal=count(fam.filter(abnormal=True)),
        )
        .order_by("unit__path", "rank__order", "id")
    )
    counts = {
        "expected": sum(1 for p in people if not p.exempt),
        "exempt": sum(1 for p in people if p.exempt),
        "reported": sum(1 for p in people if p.checkin_id and not p.exempt),
        "missing": sum(1 for p in people if not p.checkin_id and not p.exempt),
        "abnormal": sum(1 for p in people if p.checkin_abnormal or p.family_abnormal),
        "family_total": sum(p.family_total for p in people),
        "family_done": sum(p.family_done for p in people),
        "leave": sum(1 for p in people if p.checkin_work_mode == "leave"),
    }
    return people, counts


def record_health_view(
    *, actor, unit: OrgUnit | None = None, person: Person | None = None, what: str
) -> None:
    """Log that someone looked at individuals' health data (PIPL: sensitive personal information)."""
    from django.db import transaction

    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.HEALTH_VIEW, obj=person or unit, detail=what)


def record_export(*, actor, unit: OrgUnit, day: date, rows: int) -> None:
    """Log an export of individuals' health data."""
    from django.db import transaction

    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.HEALTH_EXPORT,
            obj=unit,
            new={"day": day.isoformat(), "rows": rows},
        )

"""The home page: what this user must do today, by role."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render

from fangkong.health.selectors import household_today
from fangkong.lib import clock
from fangkong.org import selectors


@login_required
def home(request):
    user = request.user
    person = getattr(user, "person", None)
    my_grants = selectors.grants(user)
    tasks = []
    scope = selectors.units_for(user, selectors.CAP_PEOPLE_VIEW)
    if my_grants and not scope.query.is_empty():
        open_units = scope.filter(closed_on__isnull=True)
        missing = open_units.filter(
            Q(first_responsible__isnull=True) | Q(liaisons__isnull=True)
        ).distinct()
        count = missing.count()
        if count:
            tasks.append(
                {
                    "kind": "responsibles",
                    "count": count,
                    "units": list(missing.order_by("path")[:10]),
                }
            )
    family_count = person.family.expected_on(clock.today()).count() if person else 0
    checkin = None
    if person is not None:
        done = household_today(person, clock.today())
        checkin = {"done": len(done), "total": family_count + 1}
    report_tasks = _report_tasks(user)
    from fangkong.notices.models import NoticeRecipient

    pending_notices = list(
        NoticeRecipient.objects.filter(user=user)
        .filter(Q(read_at__isnull=True) | Q(notice__requires_ack=True, acked_at__isnull=True))
        .select_related("notice")
        .order_by("-notice__published_at")[:5]
    )
    health_units = selectors.granted_units(user, selectors.CAP_HEALTH_VIEW)
    return render(
        request,
        "home.html",
        {
            "person": person,
            "grants": my_grants,
            "tasks": tasks,
            "family_count": family_count,
            "checkin": checkin,
            "health_units": health_units,
            "report_tasks": report_tasks,
            "pending_notices": pending_notices,
        },
    )


def _report_tasks(user) -> list[dict]:
    """Today's report status for each unit the user reports for, and roll-ups they coordinate."""
    from fangkong.reports import selectors as reports
    from fangkong.reports.schedule import schedule_of

    tasks = []
    today = clock.today()
    forms = list(reports.forms_for(user))
    units = list(selectors.units_for(user, selectors.CAP_REPORT).order_by("path")[:5])
    for form in forms:
        sched = schedule_of(form) if units else None
        for unit in units:
            if sched.due(unit, today).expected:
                day = reports.unit_days(form, unit, today, today, sched)[0]
                tasks.append({"kind": "report", "form": form, "unit": unit, "day": day})
        for g in selectors.granted_units(user, selectors.CAP_CHASE):
            tasks.append({"kind": "rollup", "form": form, "code": g.unit_code, "name": g.unit_name})
    return tasks

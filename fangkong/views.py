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
    family_count = person.family.count() if person else 0
    checkin = None
    if person is not None:
        done = household_today(person, clock.today())
        checkin = {"done": len(done), "total": family_count + 1}
    health_units = [g for g in my_grants if g.unit_id and selectors.CAP_HEALTH_VIEW in g.caps]
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
        },
    )

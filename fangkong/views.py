"""The home page: what this user must do today, by role."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render

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
    return render(
        request,
        "home.html",
        {
            "person": person,
            "grants": my_grants,
            "tasks": tasks,
            "family_count": family_count,
        },
    )

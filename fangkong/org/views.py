"""Org pages: the unit tree, a unit with its people, a person with their family."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fangkong.org import selectors, services
from fangkong.org.models import OrgUnit


def _breadcrumb(user, unit: OrgUnit) -> list[OrgUnit]:
    ids = unit.ancestor_ids()[:-1]
    visible = selectors.units_for(user).filter(pk__in=ids).order_by("path")
    return list(visible)


@login_required
def tree(request):
    roots = selectors.root_units_for(request.user)
    if len(roots) == 1:
        return redirect("org:unit", code=roots[0].code)
    return render(request, "org/tree.html", {"roots": roots})


@login_required
def unit_detail(request, code: str):
    user = request.user
    unit = selectors.get_unit_for(user, code)
    today = timezone.localdate()
    children = (
        selectors.children_of(user, unit)
        .annotate(
            staff=Count("people", filter=Q(people__left_on__isnull=True), distinct=True),
        )
        .order_by("sort_order", "path")
    )
    can_people = selectors.can(user, selectors.CAP_PEOPLE_VIEW, unit)
    people_page = None
    q = request.GET.get("q", "").strip()
    if can_people:
        people = (
            selectors.people_for(user)
            .filter(unit=unit)
            .select_related("rank")
            .order_by("rank__order", "id")
        )
        if q:
            people = people.filter(name__contains=q)
        people_page = Paginator(people, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "org/unit_detail.html",
        {
            "unit": unit,
            "breadcrumb": _breadcrumb(user, unit),
            "children": children,
            "people_page": people_page,
            "q": q,
            "liaisons": unit.liaisons.all(),
            "lines": unit.reporting_lines.select_related("superior"),
            "reporters": unit.extra_reporters.select_related("unit"),
            "is_open": unit.is_open_on(today),
            "can_roster": selectors.can(user, selectors.CAP_ROSTER_MANAGE, unit),
            "can_accounts": selectors.can(user, selectors.CAP_ACCOUNTS_MANAGE, unit),
            "can_roles": bool(selectors.roles_grantable(user, unit)),
        },
    )


@login_required
def person_detail(request, person_id: int):
    user = request.user
    person = selectors.get_person_for(user, person_id)
    return render(
        request,
        "org/person_detail.html",
        {
            "person": person,
            "family": person.family.all(),
            "can_unmask": person.user_id == user.pk
            or selectors.can(user, selectors.CAP_PEOPLE_UNMASK, person.unit),
        },
    )


@login_required
@require_POST
def person_reveal(request, person_id: int, field: str):
    """Show one full identifier after a deliberate click; the reveal is written to the audit trail."""
    user = request.user
    person = selectors.get_person_for(user, person_id)
    allowed = person.user_id == user.pk or selectors.can(
        user, selectors.CAP_PEOPLE_UNMASK, person.unit
    )
    if field not in ("id_number", "mobile") or not allowed:
        raise Http404("not allowed")
    if field == "id_number":
        value = services.person_reveal_id_number(actor=user, person=person)
    else:
        value = services.person_reveal_mobile(actor=user, person=person)
    return render(request, "org/_revealed.html", {"value": value})

"""Org pages: the unit tree, a unit with its people, a person with their family."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.lib import clock
from fangkong.org import selectors, services
from fangkong.org.forms import AppointForm, EndSeatForm, FamilyMemberForm, MoveOutForm
from fangkong.org.models import OrgUnit, Person


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
            "group": selectors.leading_group_on(unit, clock.today()),
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
            "today": clock.today(),
            "can_edit_family": person.user_id == user.pk
            or selectors.can(user, selectors.CAP_REPORT, person.unit),
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


@login_required
def family(request, person_id: int):
    """The household list: add a member (from tomorrow's check-in) or record one moving out."""
    user = request.user
    person = selectors.get_household_for(user, person_id)
    form = FamilyMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.family_member_declare(actor=user, person=person, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("已添加 %(name)s，从 %(day)s 起纳入每日健康打卡。")
                % {"name": member.name, "day": member.active_from.strftime("%Y-%m-%d")},
            )
            return redirect("org:family", person_id=person.pk)
    today = clock.today()
    return render(
        request,
        "org/family.html",
        {
            "person": person,
            "members": person.family.order_by("moved_out_on", "id"),
            "form": form,
            "move_out_form": MoveOutForm(initial={"moved_out_on": today}),
            "today": today,
            "is_self": person.user_id == user.pk,
        },
    )


@login_required
@require_POST
def family_move_out(request, person_id: int, member_id: int):
    user = request.user
    person = selectors.get_household_for(user, person_id)
    member = person.family.filter(pk=member_id).first()
    if member is None:
        raise Http404("no such family member")
    form = MoveOutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写迁出日期。"))
        return redirect("org:family", person_id=person.pk)
    try:
        services.family_member_move_out(
            actor=user, member=member, moved_out_on=form.cleaned_data["moved_out_on"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("已登记 %(name)s 迁出；明日起不再需要为其打卡。") % {"name": member.name}
        )
    return redirect("org:family", person_id=person.pk)


def _group_candidates(unit: OrgUnit):
    """Who may sit in a unit's group: staff in post of the unit and of the units directly below it."""
    today = clock.today()
    return (
        Person.objects.filter(Q(unit=unit) | Q(unit__parent=unit))
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=today))
        .select_related("unit")
        .order_by("unit__path", "rank__order", "id")
    )


@login_required
def leading_group(request, code: str):
    """The unit's leading group on a day (today by default), its dated history, and for its
    liaison or coordinator the forms to appoint and to end a seat."""
    user = request.user
    unit = selectors.get_unit_for(user, code)
    today = clock.today()
    try:
        day = parse_date(request.GET.get("on") or "") or today
    except ValueError:  # well-formed but impossible, e.g. 2020-02-30
        day = today
    can_manage = selectors.can(user, selectors.CAP_ROSTER_MANAGE, unit)
    form = None
    if can_manage:
        form = AppointForm(
            request.POST or None,
            people=_group_candidates(unit),
            initial={"valid_from": today, "role": "leader", "person": unit.first_responsible_id},
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.leading_group_appoint(actor=user, unit=unit, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("领导小组已调整，原记录保留在历史中。"))
                return redirect("org:leading_group", code=unit.code)
    elif request.method == "POST":
        raise Http404("not a manager of this unit")
    return render(
        request,
        "org/leading_group.html",
        {
            "unit": unit,
            "day": day,
            "today": today,
            "group": selectors.leading_group_on(unit, day),
            "history": selectors.leading_group_history(unit),
            "form": form,
            "end_form": EndSeatForm(initial={"valid_to": today}) if can_manage else None,
            "can_manage": can_manage,
        },
    )


@login_required
@require_POST
def leading_group_end(request, code: str, seat_id: int):
    user = request.user
    unit = selectors.get_unit_for(user, code, selectors.CAP_ROSTER_MANAGE)
    seat = unit.leading_group.filter(pk=seat_id).first()
    if seat is None:
        raise Http404("no such seat")
    form = EndSeatForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写截止日期。"))
        return redirect("org:leading_group", code=unit.code)
    try:
        services.leading_group_end(actor=user, seat=seat, valid_to=form.cleaned_data["valid_to"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已结束该任职，记录保留在历史中。"))
    return redirect("org:leading_group", code=unit.code)

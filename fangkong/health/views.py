"""Health pages: the daily check-in, the liaison's day, follow-up cases, corrections, exports."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from fangkong.health import exports, selectors, services
from fangkong.health.forms import (
    AttestForm,
    CaseUpdateForm,
    CorrectionForm,
    ExemptionForm,
    SelfForm,
    SubjectForm,
)
from fangkong.health.models import TRANSITIONS, CaseStatus, Channel
from fangkong.lib import clock, plausible
from fangkong.org import selectors as org


def _subject_forms(person, family, data=None, initial=None):
    initial = initial or {}
    forms = [
        SelfForm(
            data,
            prefix="self",
            subject_name=person.name,
            family_member_id=None,
            initial=initial.get(None),
        )
    ]
    for f in family:
        forms.append(
            SubjectForm(
                data,
                prefix=f"f{f.pk}",
                subject_name=f"{f.name}（{f.get_relation_display()}）",
                family_member_id=f.pk,
                initial=initial.get(f.pk),
            )
        )
    return forms


def _initial_from(checkin) -> dict:
    fields = [
        "temperature",
        "symptoms",
        "symptom_other",
        "contact",
        "quarantine",
        "quarantine_place",
        "quarantine_start",
        "work_mode",
        "current_city",
    ]
    data = {f: getattr(checkin, f) for f in fields}
    data["risk_travel"] = "1" if checkin.risk_travel else "0"
    data["out_of_town"] = "1" if checkin.out_of_town else "0"
    return data


def _checkin_page(request, person, *, proxy: bool):
    day = clock.today()
    family = services.family_of(person, day)
    today = selectors.household_today(person, day)
    locked = services.is_locked(day)
    if request.method == "POST" and not locked:
        forms = _subject_forms(person, family, request.POST)
        attest = AttestForm(request.POST)
        if all(f.is_valid() for f in forms) & attest.is_valid():
            try:
                services.checkin_submit(
                    actor=request.user,
                    person=person,
                    answers=[f.answers(attested=True) for f in forms],
                    channel=Channel.PROXY if proxy else Channel.WEB,
                    idempotency_key=attest.cleaned_data["submission_key"],
                )
            except services.IdempotencyKeyReused:
                # Back, edit, submit again: the page's key was spent on the first answers. Say
                # so and hand out a fresh key, so the next click stores the edited answers.
                data = request.POST.copy()
                data["submission_key"] = AttestForm.new_key()
                attest = AttestForm(data)
                attest.is_valid()
                attest.add_error(None, _(services.ERR_RESUBMITTED))
            except ValidationError as exc:
                attest.add_error(None, exc)
            else:
                messages.success(request, _("打卡已提交，提交时间以服务器时间为准。"))
                return redirect(request.path)
    else:
        initial = {k: _initial_from(c) for k, c in today.items()}
        if None not in initial:
            initial[None] = {"current_city": selectors.last_city(person, day)}
        forms = _subject_forms(person, family, initial=initial)
        attest = AttestForm(initial={"submission_key": AttestForm.new_key()})
    return render(
        request,
        "health/checkin.html",
        {
            "person": person,
            "forms": forms,
            "attest": attest,
            "today": today,
            "day": day,
            "locked": locked,
            "lock_time": services.lock_time(day),
            "proxy": proxy,
            "done": len(today) == 1 + len(family),
        },
    )


@login_required
def checkin(request):
    person = getattr(request.user, "person", None)
    if person is None:
        return render(request, "health/no_person.html", status=404)
    return _checkin_page(request, person, proxy=False)


@login_required
def checkin_proxy(request, person_id: int):
    person = org.get_person_for(request.user, person_id, org.CAP_REPORT)
    return _checkin_page(request, person, proxy=True)


@login_required
def history(request):
    person = getattr(request.user, "person", None)
    if person is None:
        return render(request, "health/no_person.html", status=404)
    checkins = (
        selectors.checkins_for(request.user)
        .filter(person=person)
        .select_related("family_member")
        .order_by("-day", "family_member_id")[:120]
    )
    return render(request, "health/history.html", {"person": person, "checkins": checkins})


def _day_param(request) -> date:
    """?day=, within the viewing window; a bad one shows today and says why."""
    try:
        return plausible.query_day(request.GET.get("day"), clock.today())
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return clock.today()


@login_required
def unit_day(request, code: str):
    unit = org.get_unit_for(request.user, code, org.CAP_HEALTH_VIEW)
    day = _day_param(request)
    people, counts = selectors.unit_day(request.user, unit, day)
    selectors.record_health_view(actor=request.user, unit=unit, what=f"unit day {day}")
    status = request.GET.get("status", "")
    if status == "missing":
        people = [p for p in people if not p.checkin_id and not p.exempt]
    elif status == "abnormal":
        people = [p for p in people if p.checkin_abnormal or p.family_abnormal]
    return render(
        request,
        "health/unit_day.html",
        {
            "unit": unit,
            "day": day,
            "people": people,
            "counts": counts,
            "status": status,
            "is_today": day == clock.today(),
            "can_report": org.can(request.user, org.CAP_REPORT, unit),
            "family_changes": list(org.family_changes(unit, day)),
        },
    )


@login_required
def unit_day_chase(request, code: str):
    unit = org.get_unit_for(request.user, code, org.CAP_HEALTH_VIEW)
    day = _day_param(request)
    people, _counts = selectors.unit_day(request.user, unit, day)
    missing = [p for p in people if not p.checkin_id and not p.exempt]
    selectors.record_health_view(actor=request.user, unit=unit, what=f"chase list {day}")
    return render(
        request,
        "health/chase.html",
        {"unit": unit, "day": day, "missing": missing, "lock_time": services.lock_time(day)},
    )


@login_required
def unit_day_export(request, code: str):
    unit = org.get_unit_for(request.user, code, org.CAP_HEALTH_VIEW)
    try:
        # A file for another day than asked would mislead: refuse instead of falling back.
        day = plausible.query_day(request.GET.get("day"), clock.today())
    except ValidationError as exc:
        return HttpResponseBadRequest(exc.messages[0], content_type="text/plain; charset=utf-8")
    people, counts = selectors.unit_day(request.user, unit, day)
    content = exports.unit_day_xlsx(unit=unit, day=day, people=people, counts=counts)
    selectors.record_export(actor=request.user, unit=unit, day=day, rows=len(people))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"{unit.name}-健康打卡-{day}.xlsx"
    )
    return response


@login_required
def checkin_detail(request, checkin_id: int):
    checkin = selectors.get_checkin_for(request.user, checkin_id)
    if checkin.person.user_id != request.user.pk:
        selectors.record_health_view(
            actor=request.user, person=checkin.person, what=f"check-in {checkin.pk}"
        )
    can_correct = org.can(request.user, org.CAP_REPORT, checkin.unit) and services.is_locked(
        checkin.day
    )
    form = correction = None
    if can_correct:
        person, fam = checkin.person, checkin.family_member
        cls = SubjectForm if fam else SelfForm
        name = fam.name if fam else person.name
        data = request.POST if request.method == "POST" else None
        form = cls(
            data,
            prefix="c",
            subject_name=name,
            family_member_id=checkin.family_member_id,
            initial=_initial_from(checkin),
        )
        correction = CorrectionForm(data)
        if data is not None and form.is_valid() and correction.is_valid():
            try:
                services.checkin_correct(
                    actor=request.user,
                    checkin=checkin,
                    answers=form.answers(attested=True),
                    reason=correction.cleaned_data["reason"],
                )
            except ValidationError as exc:
                correction.add_error(None, exc)
            else:
                messages.success(request, _("已更正，原记录已保留。"))
                return redirect("health:checkin_detail", checkin_id=checkin.pk)
    return render(
        request,
        "health/checkin_detail.html",
        {
            "checkin": checkin,
            "revisions": checkin.revisions.select_related("entered_by"),
            "form": form,
            "correction": correction,
        },
    )


@login_required
def cases(request):
    qs = selectors.cases_for(request.user).select_related("person", "family_member", "unit")
    show = request.GET.get("show", "open")
    if show == "open":
        qs = qs.filter(closed_at__isnull=True)
    cases = list(qs[:500])
    if any(c.person.user_id != request.user.pk for c in cases):
        selectors.record_health_view(actor=request.user, what=f"case list ({len(cases)})")
    return render(request, "health/cases.html", {"cases": cases, "show": show})


@login_required
def case_detail(request, case_id: int):
    case = selectors.get_case_for(request.user, case_id)
    if case.person.user_id != request.user.pk:
        selectors.record_health_view(actor=request.user, person=case.person, what=f"case {case.pk}")
    can_update = case.is_open and org.can(request.user, org.CAP_REPORT, case.unit)
    choices = [(case.status, _("保持") + "：" + case.get_status_display())] + [
        (s.value, s.label) for s in CaseStatus if s in TRANSITIONS.get(case.status, set())
    ]
    form = CaseUpdateForm(request.POST or None, choices=choices) if can_update else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.case_update(actor=request.user, case=case, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("跟踪记录已保存。"))
            return redirect("health:case", case_id=case.pk)
    return render(
        request,
        "health/case_detail.html",
        {
            "case": case,
            "entries": case.entries.select_related("author"),
            "form": form,
        },
    )


@login_required
def exemption_add(request, person_id: int):
    person = org.get_person_for(request.user, person_id, org.CAP_REPORT)
    form = ExemptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exemption_add(actor=request.user, person=person, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已登记免打卡。"))
            return redirect(reverse("health:unit_day", args=[person.unit.code]))
    return render(
        request,
        "health/exemption_form.html",
        {
            "person": person,
            "form": form,
            "exemptions": person.exemptions.order_by("-start"),
        },
    )

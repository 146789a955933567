"""Report pages: the liaison's today, submit/correct, review, the roll-up, history, exports."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.lib import clock, plausible
from fangkong.org import selectors as org
from fangkong.reports import exports, selectors, services
from fangkong.reports.forms import ReportValuesForm, ReviewForm, SignalReviewForm, UnlockForm
from fangkong.reports.models import CurrentReport, ReportKind
from fangkong.reports.schedule import schedule_of


def _date(request, name: str, default: date, *, strict: bool = False) -> date:
    """A day from the query string within the viewing window. A bad one shows `default` with a
    message on pages; `strict` (files) raises ValidationError instead."""
    try:
        return plausible.query_day(request.GET.get(name), default)
    except ValidationError as exc:
        if strict:
            raise
        messages.error(request, exc.messages[0])
        return default


def _path_day(value: str) -> date:
    """The day in an address (/units/<code>/<day>/): an implausible one does not exist."""
    try:
        return plausible.query_day(value, clock.today())
    except ValidationError as exc:
        raise Http404("no such day") from exc


def _bad_request(exc: ValidationError) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(exc.messages[0], content_type="text/plain; charset=utf-8")


MAX_RANGE_DAYS = 92


def _range(
    request, start: str, end: str, default: date | None = None, *, strict: bool = False
) -> tuple[date, date]:
    """A date range from the query string, ending no later than today and at most 92 days long
    (every day of a range is a roll-up of the whole subtree)."""
    today = clock.today()
    last = min(_date(request, end, default or today, strict=strict), today)
    first = _date(request, start, last, strict=strict)
    first = min(max(first, last - timedelta(days=MAX_RANGE_DAYS - 1)), last)
    return first, last


@login_required
def today(request):
    """The liaison's today: every unit they report for, each form, today's status and missing days."""
    user = request.user
    units = [
        u
        for u in org.units_for(user, org.CAP_REPORT)
        .select_related("level", "parent")
        .order_by("path")[:50]
    ]
    today_ = clock.today()
    cards = []
    for form in selectors.forms_for(user):
        sched = schedule_of(form)
        for unit in units:
            if not sched.due(unit, today_).expected:
                continue
            days = selectors.unit_days(form, unit, today_ - timedelta(days=6), today_, sched)
            cards.append(
                {
                    "form": form,
                    "unit": unit,
                    "today": days[0],
                    "missing": [d for d in days[1:] if d["status"] == selectors.MISSING],
                }
            )
    coordinated = org.granted(user, org.CAP_CHASE)
    return render(
        request,
        "reports/today.html",
        {
            "cards": cards,
            "day": today_,
            "forms": selectors.forms_for(user),
            "coordinated": coordinated,
        },
    )


@login_required
def submit(request, form_id: int, code: str, day: str):
    user = request.user
    form = selectors.get_form_for(user, form_id)
    unit = org.get_unit_for(user, code, org.CAP_REPORT)
    the_day = _path_day(day)
    derived = selectors.derived_for_unit(form, unit, the_day)
    current = (
        CurrentReport.objects.select_related("report")
        .filter(form=form, unit=unit, day=the_day)
        .first()
    )
    initial = None
    if current is not None:
        initial = {f"v_{k}": v for k, v in current.report.values.items()}
    values_form = ReportValuesForm(
        request.POST or None, report_form=form, derived=derived, initial=initial
    )
    if request.method == "POST":
        kind = ReportKind.ZERO if request.POST.get("zero") else ReportKind.DAILY
        valid = values_form.is_valid()
        # A zero report ignores the figures, never the text fields.
        text_ok = not any(values_form.has_error(name) for name in ReportValuesForm.TEXT_FIELDS)
        if valid or (kind == ReportKind.ZERO and text_ok):
            data = values_form.cleaned_data
            try:
                services.report_submit(
                    actor=user,
                    form=form,
                    unit=unit,
                    day=the_day,
                    kind=kind,
                    values=values_form.values() if kind == ReportKind.DAILY else None,
                    explanation=data.get("explanation", ""),
                    narrative=data.get("narrative", ""),
                    measures=data.get("measures", ""),
                    correction_reason=data.get("correction_reason", ""),
                )
            except (ValidationError, PermissionDenied) as exc:
                values_form.add_service_error(exc)
            else:
                messages.success(
                    request, _("零报告已报送。") if kind == ReportKind.ZERO else _("日报告已报送。")
                )
                return redirect("reports:today")
    days = selectors.unit_days(form, unit, the_day, the_day)
    return render(
        request,
        "reports/submit.html",
        {
            "form": form,
            "unit": unit,
            "day": the_day,
            "values_form": values_form,
            "current": current,
            "status": days[0],
            "derived": derived,
            "children_missing": selectors.missing_children(form, unit, the_day),
            "unlock": services.active_unlock(form, unit, the_day),
        },
    )


@login_required
def report_detail(request, report_id: int):
    user = request.user
    report = selectors.get_report_for(user, report_id)
    reviewers = services.reviewer_units_for(user, report.unit)
    review_form = ReviewForm(request.POST or None) if reviewers else None
    if review_form is not None and request.method == "POST" and review_form.is_valid():
        try:
            services.report_review(actor=user, report=report, **review_form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            review_form.add_error(None, exc)
        else:
            messages.success(request, _("审核意见已保存。"))
            return redirect(
                reverse("reports:rollup", args=[report.form_id])
                + f"?node={report.unit.parent.code if report.unit.parent_id else ''}"
                f"&day={report.day}"
            )
    history = selectors.unit_days(report.form, report.unit, report.day, report.day)[0]
    is_current = CurrentReport.objects.filter(report=report).exists()
    labels = {f["key"]: f["label"] for f in report.form.fields}
    figures = [(labels.get(k, k), v, report.derived.get(k)) for k, v in report.values.items()]
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "history": history,
            "review_form": review_form if is_current else None,
            "figures": figures,
            "is_current": is_current,
            "missing_children": selectors.missing_children(report.form, report.unit, report.day),
        },
    )


@login_required
def rollup(request, form_id: int):
    user = request.user
    form = selectors.get_form_for(user, form_id)
    code = request.GET.get("node")
    if code:
        node = org.get_unit_for(user, code, org.CAP_HEALTH_VIEW)
    else:
        roots = [
            u
            for u in org.root_units_for(user)
            if u.path.startswith(form.root.path) or form.root.path.startswith(u.path)
        ]
        if not roots:
            raise Http404("no node")
        node = roots[0] if roots[0].path.startswith(form.root.path) else form.root
        if not org.can(user, org.CAP_HEALTH_VIEW, node):
            raise Http404("no node")
    day_from, day = _range(request, "from", "day")
    rows = selectors.rollup(form, node, day_from, day)
    me = rows[node.pk]
    children = selectors.children_rows(rows, node)
    people = selectors.responsibles([node.pk] + [c.id for c in children], day)
    found = selectors.signals(form, rows, node, day)
    trend = selectors.trend(form, node, day - timedelta(days=29), day)
    labels = {f["key"]: f["label"] for f in form.fields}
    chart = {
        "days": [t["day"].strftime("%m-%d") for t in trend],
        "completeness": [
            round(t["completeness"] * 100, 1) if t["completeness"] is not None else None
            for t in trend
        ],
        "timeliness": [
            round(t["timeliness"] * 100, 1) if t["timeliness"] is not None else None for t in trend
        ],
        "children": [c.name for c in children],
        "late": [c.stats.late for c in children],
        "missing": [c.stats.missing for c in children],
    }
    crumbs = list(org.units_for(user).filter(pk__in=node.ancestor_ids()[:-1]).order_by("path"))
    return render(
        request,
        "reports/rollup.html",
        {
            "form": form,
            "node": node,
            "me": me,
            "children": children,
            "people": people,
            "signals": found,
            "day": day,
            "day_from": day_from,
            "labels": labels,
            "field_keys": form.field_keys,
            "chart": chart,
            "chart_labels": {
                "trend": _("近30天完整率与及时率"),
                "children": _("下级迟报与漏报"),
                "completeness": _("完整率"),
                "timeliness": _("及时率"),
                "late": _("迟报"),
                "missing": _("漏报"),
            },
            "crumbs": crumbs,
            "status_labels": selectors.STATUS_LABELS,
            "can_chase": org.can(user, org.CAP_CHASE, node),
            "signal_form": SignalReviewForm(),
        },
    )


@login_required
def unit_history(request, form_id: int, code: str):
    user = request.user
    form = selectors.get_form_for(user, form_id)
    unit = org.get_unit_for(user, code, org.CAP_HEALTH_VIEW)
    end = clock.today()
    days = selectors.unit_days(form, unit, end - timedelta(days=29), end)
    return render(
        request,
        "reports/history.html",
        {
            "form": form,
            "unit": unit,
            "days": days,
            "can_unlock": unit.parent_id and org.can(user, org.CAP_CHASE, unit.parent),
            "can_report": org.can(user, org.CAP_REPORT, unit),
            "unlock_form": UnlockForm(),
        },
    )


@login_required
@require_POST
def unlock(request, form_id: int, code: str, day: str):
    user = request.user
    form = selectors.get_form_for(user, form_id)
    unit = org.get_unit_for(user, code)
    the_day = _path_day(day)
    f = UnlockForm(request.POST)
    if not f.is_valid():
        messages.error(request, _("请填写解锁原因和有效时长。"))
    else:
        try:
            services.unlock_grant(actor=user, form=form, unit=unit, day=the_day, **f.cleaned_data)
        except PermissionDenied as exc:
            raise Http404("not allowed") from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已解锁，填报单位可在有效期内补报或更正。"))
    return redirect("reports:history", form_id=form.pk, code=unit.code)


@login_required
@require_POST
def signal_review(request, form_id: int):
    user = request.user
    form = selectors.get_form_for(user, form_id)
    f = SignalReviewForm(request.POST)
    try:
        day = _date(request, "day", clock.today(), strict=True)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect(reverse("reports:rollup", args=[form.pk]))
    if not f.is_valid():
        messages.error(request, _("请填写核查情况。"))
        return redirect(reverse("reports:rollup", args=[form.pk]))
    unit = org.get_unit_for(user, f.cleaned_data["unit"], org.CAP_CHASE)
    services.signal_mark_reviewed(
        actor=user,
        form=form,
        unit=unit,
        day=day,
        signal=f.cleaned_data["signal"],
        note=f.cleaned_data["note"],
    )
    messages.success(request, _("已记录核查情况。"))
    return redirect(
        reverse("reports:rollup", args=[form.pk]) + f"?node={request.GET.get('node', '')}&day={day}"
    )


def _node_and_range(request, user, form):
    """Node and days of an export; ValidationError when a day is bad (a file for other days
    than asked would mislead)."""
    node = org.get_unit_for(user, request.GET.get("node") or form.root.code, org.CAP_HEALTH_VIEW)
    day = _date(request, "day", clock.today(), strict=True)
    day_from, day_to = _range(request, "from", "to", default=day, strict=True)
    return node, day_from, day_to


@login_required
def ledger(request, form_id: int):
    user = request.user
    form = selectors.get_form_for(user, form_id)
    try:
        node, day_from, day_to = _node_and_range(request, user, form)
    except ValidationError as exc:
        return _bad_request(exc)
    content = exports.ledger_xlsx(form=form, node=node, day_from=day_from, day_to=day_to)
    exports.record(actor=user, kind="ledger", node=node, day_from=day_from, day_to=day_to)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"{node.name}-疫情监测台账-{day_from}至{day_to}.xlsx"
    )
    return response


@login_required
def rollup_pdf(request, form_id: int):
    user = request.user
    form = selectors.get_form_for(user, form_id)
    try:
        node, _from, day = _node_and_range(request, user, form)
    except ValidationError as exc:
        return _bad_request(exc)
    content = exports.rollup_pdf(form=form, node=node, day=day)
    exports.record(actor=user, kind="pdf", node=node, day_from=day, day_to=day)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{node.name}-汇总-{day}.pdf"
    )
    return response


@login_required
def dhis2(request, form_id: int):
    user = request.user
    form = selectors.get_form_for(user, form_id)
    try:
        node, day_from, day_to = _node_and_range(request, user, form)
    except ValidationError as exc:
        return _bad_request(exc)
    payload = exports.dhis2_data_value_sets(form=form, node=node, day_from=day_from, day_to=day_to)
    exports.record(actor=user, kind="dhis2", node=node, day_from=day_from, day_to=day_to)
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


@login_required
def verify(request):
    if not org.has_global(request.user, org.CAP_AUDIT_VIEW):
        raise Http404("not an administrator")
    broken = services.verify_chains()
    return render(request, "reports/verify.html", {"broken": broken})

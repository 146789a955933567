"""Relief-audit pages (catalogue): the tests with their rules and parameters, running them, a run."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.relief import catalogue, selectors, services
from fangkong.relief.models import CatalogueRun, Finding


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


@login_required
def catalogue_index(request, pk):
    """Every test by category: what it looks for, the rule, its parameters (editable), last run."""
    project = selectors.get_project_for(request.user, pk)
    registry = catalogue.load()
    effective = catalogue.effective_params(project, list(registry))
    last = CatalogueRun.objects.filter(project=project).first()
    open_counts = {}
    for test_id, status in (
        Finding.objects.filter(project=project).exclude(test_id="").values_list("test_id", "status")
    ):
        open_counts.setdefault(test_id, {"open": 0, "all": 0})
        open_counts[test_id]["all"] += 1
        open_counts[test_id]["open"] += status == "open"
    groups = []
    for code, label in catalogue.CATEGORIES.items():
        tests = [t for t in registry.values() if t.category == code]
        if not tests:
            continue
        rows = []
        for t in sorted(tests, key=lambda t: t.id):
            params = [
                {
                    "name": p.name,
                    "label": p.label,
                    "value": effective[t.id][p.name],
                    "default": p.default,
                    "changed": effective[t.id][p.name] != p.default,
                }
                for p in t.params
            ]
            rows.append({"test": t, "params": params, "counts": open_counts.get(t.id)})
        groups.append({"label": _(label), "rows": rows})
    return render(
        request,
        "relief/catalogue/index.html",
        {
            "project": project,
            "section": "catalogue_tests",
            "groups": groups,
            "last": last,
            "runs": selectors.with_states(CatalogueRun.objects.filter(project=project)[:10]),
            "total": len(registry),
        },
    )


@login_required
@require_POST
def catalogue_params(request, pk, test_id):
    project = selectors.get_project_for(request.user, pk)
    if test_id not in catalogue.load():
        raise Http404
    values = {k[len("p_") :]: v for k, v in request.POST.items() if k.startswith("p_")}
    try:
        services.catalogue_params_set(
            actor=request.user, project=project, test_id=test_id, values=values
        )
        messages.success(request, _("已保存 {test} 的参数。").format(test=test_id))
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, m)
    return redirect(reverse("relief:catalogue", args=[project.pk]) + f"#t-{test_id}")


@login_required
@require_POST
def catalogue_run(request, pk):
    project = selectors.get_project_for(request.user, pk)
    registry = catalogue.load()
    tests = (
        sorted(registry)
        if request.POST.get("all")
        else [t for t in request.POST.getlist("tests") if t in registry]
    )
    try:
        run = services.catalogue_start(actor=request.user, project=project, tests=tests)
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, m)
        return redirect("relief:catalogue", project.pk)
    return redirect("relief:run", project.pk, run.pk)


@login_required
def run_detail(request, pk, run_id):
    """One run: status (polled while it runs), parameters, data snapshot, findings per test."""
    project = selectors.get_project_for(request.user, pk)
    try:
        run = CatalogueRun.objects.get(project=project, pk=int(run_id))
        selectors.with_states([run])
    except CatalogueRun.DoesNotExist as exc:
        raise Http404 from exc
    registry = catalogue.load()
    new_counts = dict.fromkeys(run.tests, 0)
    for test_id in run.findings.values_list("test_id", flat=True):
        new_counts[test_id] = new_counts.get(test_id, 0) + 1
    rows = [
        {
            "id": t,
            "title": registry[t].title if t in registry else t,
            "hits": run.counts.get(t, 0),
            "new": new_counts.get(t, 0),
            "params": run.parameters.get(t, {}),
            "screen": registry[t].screen if t in registry else False,
        }
        for t in run.tests
    ]
    template = "relief/catalogue/_run_status.html" if request.htmx else "relief/catalogue/run.html"
    return render(
        request,
        template,
        {"project": project, "section": "catalogue_tests", "run": run, "rows": rows},
    )

"""Roster pages (名册导入导出): upload, preview and confirm an import; download the template or an export."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from fangkong.lib.forms import Form
from fangkong.org import roster, selectors, services
from fangkong.org.models import RosterUpload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Room for the multipart envelope around the file itself.
MULTIPART_SLACK = 64 * 1024
EXPORT_UNIT_CHOICES = 500

COUNT_LABELS = [
    ("units_new", gettext_lazy("新增单位")),
    ("units_updated", gettext_lazy("更新单位")),
    ("units_unchanged", gettext_lazy("单位无变化")),
    ("people_new", gettext_lazy("新增人员")),
    ("people_updated", gettext_lazy("更新人员")),
    ("people_unchanged", gettext_lazy("人员无变化")),
    ("family_new", gettext_lazy("新增家庭成员")),
    ("family_unchanged", gettext_lazy("家庭成员已登记（不变）")),
    ("responsibles_updated", gettext_lazy("调整第一责任人或联络员的单位")),
]
KIND_LABELS = {
    roster.UNITS: gettext_lazy("单位"),
    roster.PEOPLE: gettext_lazy("人员"),
    roster.FAMILY: gettext_lazy("家庭成员"),
}


class UploadForm(Form):
    file = forms.FileField(label=gettext_lazy("名册文件（.xlsx、.xls 或 .csv）"))


def _require_roster_role(user) -> None:
    """Only users who manage a roster somewhere see these pages at all."""
    if not selectors.holds(user, selectors.CAP_ROSTER_MANAGE):
        raise Http404("no roster role")


def get_upload_for(user, upload_id: int) -> RosterUpload:
    """The one way to look up an upload: 404 unless this user uploaded it."""
    upload = RosterUpload.objects.filter(pk=upload_id, uploaded_by=user).first()
    if upload is None:
        raise Http404("no such upload")
    return upload


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"  # personal data: never kept by a browser or proxy
    return response


def _too_large_message() -> str:
    return _(roster.ERR_TOO_LARGE).format(limit=roster.max_megabytes())


def _import_page(request, form: UploadForm, *, error: str = "", status: int = 200):
    user = request.user
    units = selectors.units_for(user, selectors.CAP_ROSTER_MANAGE).order_by("path")
    units = list(units.only("code", "name", "depth")[:EXPORT_UNIT_CHOICES])
    top = min((u.depth for u in units), default=1)
    for u in units:
        u.indent = "　" * (u.depth - top)
    uploads = RosterUpload.objects.filter(uploaded_by=user).defer("content")[:10]
    return render(
        request,
        "org/roster_import.html",
        {
            "form": form,
            "error": error,
            "max_mb": roster.max_megabytes(),
            "max_rows": roster.MAX_ROWS,
            "export_units": units,
            "uploads": uploads,
        },
        status=status,
    )


@csrf_exempt
@login_required
def roster_import(request):
    """Turn oversized uploads away before the body is read; everything else goes through CSRF checks."""
    _require_roster_role(request.user)
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.ROSTER_MAX_BYTES + MULTIPART_SLACK:
            services.roster_upload_refuse(actor=request.user, name="", size=length)
            return _import_page(request, UploadForm(), error=_too_large_message(), status=413)
    return _roster_import(request)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _roster_import(request):
    user = request.user
    if request.method == "GET" and request.GET.get("template"):
        return _xlsx_response(roster.build_template(user), _("名册导入模板") + ".xlsx")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        if upload_file.size > settings.ROSTER_MAX_BYTES:
            services.roster_upload_refuse(
                actor=user,
                name=upload_file.name or "",
                size=upload_file.size,
                chunks=upload_file.chunks(),
            )
            form.add_error("file", _too_large_message())
        else:
            upload = services.roster_upload_create(
                actor=user, name=upload_file.name or "", data=upload_file.read()
            )
            return redirect("org:roster_preview", upload_id=upload.pk)
    return _import_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def roster_preview(request, upload_id: int):
    """Show what the file would change and every problem in it; POST confirms the import."""
    user = request.user
    _require_roster_role(user)
    upload = get_upload_for(user, upload_id)
    if request.method == "POST":
        upload, ran = services.roster_import_apply(actor=user, upload=upload)
        if not ran:
            messages.info(request, _("该文件已经处理过，不会重复导入。"))
        elif upload.status == RosterUpload.Status.APPLIED:
            messages.success(request, _("导入完成。"))
        else:
            messages.error(request, _("导入未完成：发现问题，没有导入任何数据，请修改后重新上传。"))
        return redirect("org:roster_preview", upload_id=upload.pk)
    summary = upload.summary or {}
    counts = summary.get("counts", {})
    errors = [roster.problem_from_json(e) for e in summary.get("errors", [])]
    error_count = summary.get("error_count", len(errors))
    return render(
        request,
        "org/roster_preview.html",
        {
            "upload": upload,
            "counts": [(label, counts.get(key, 0)) for key, label in COUNT_LABELS],
            "sheets": [
                {"name": s["name"], "kind": KIND_LABELS.get(s["kind"], ""), "rows": s["rows"]}
                for s in summary.get("sheets", [])
            ],
            "skipped": summary.get("skipped_sheets", []),
            "errors": errors,
            "error_count": error_count,
            "errors_hidden": max(0, error_count - len(errors)),
            "can_confirm": upload.status == RosterUpload.Status.PREVIEWED and not error_count,
        },
    )


@login_required
def roster_export(request):
    """The unit's subtree as .xlsx (IDs and mobiles masked); 404 outside the user's roster scope."""
    user = request.user
    unit = selectors.get_unit_for(user, request.GET.get("unit", ""), selectors.CAP_ROSTER_MANAGE)
    data, counts = roster.build_export(unit)
    services.roster_export_record(actor=user, unit=unit, counts=counts)
    filename = f"{_('名册')}_{unit.code}_{timezone.localdate():%Y%m%d}.xlsx"
    return _xlsx_response(data, filename)

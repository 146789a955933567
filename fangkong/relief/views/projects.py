"""Relief-audit pages: projects and teams, uploads and import previews, the catalogue, the header
dictionary.

Every project lookup goes through `selectors` (non-members get the same 404 as a missing project);
every write is one call to `services`, whose Chinese messages are shown on the page.
"""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, Sum
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from fangkong.audit.services import audit_record
from fangkong.lib.masking import mask_mobile
from fangkong.org import selectors as org_selectors
from fangkong.org.models import Role
from fangkong.relief import selectors, services
from fangkong.relief.forms import (
    ItemForm,
    MemberAddForm,
    MergeForm,
    PartyForm,
    ProjectForm,
    RemapForm,
    SynonymForm,
    UploadForm,
)
from fangkong.relief.ledger import importer, schema, store
from fangkong.relief.models import (
    ColumnSynonym,
    Finding,
    FindingStatus,
    ImportStatus,
    LedgerImport,
    MemberRole,
    PartyName,
    SourceFile,
)

PARTIES_PER_PAGE = 100


def _errors(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc)


def _kind_label(code: str) -> str:
    kind = schema.KINDS.get(code)
    return _(kind.label) if kind else _("未识别")


# --- Projects and teams. ---


@login_required
def projects(request):
    rows = list(selectors.projects_for(request.user))
    ids = [p.pk for p in rows]
    files = dict(
        SourceFile.objects.filter(project__in=ids).values_list("project").annotate(n=Count("id"))
    )
    imported = dict(
        LedgerImport.objects.filter(project__in=ids, status=ImportStatus.DONE)
        .values_list("project")
        .annotate(n=Sum("total_rows"))
    )
    open_findings = dict(
        Finding.objects.filter(project__in=ids, status=FindingStatus.OPEN)
        .values_list("project")
        .annotate(n=Count("id"))
    )
    return render(
        request,
        "relief/projects/list.html",
        {
            "rows": [
                (p, files.get(p.pk, 0), imported.get(p.pk, 0), open_findings.get(p.pk, 0))
                for p in rows
            ],
            "can_create": selectors.can_create_projects(request.user),
        },
    )


@login_required
def project_new(request):
    if not selectors.can_create_projects(request.user):
        raise PermissionDenied(_(services.ERR_NOT_AUDITOR))
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("审计项目已创建，您是项目组长。下一步：上传各单位的台账文件。")
            )
            return redirect("relief:project", pk=project.pk)
    return render(request, "relief/projects/new.html", {"form": form})


def _project_page(request, project, form: UploadForm):
    files = list(
        project.files.select_related("uploaded_by__person").prefetch_related(
            Prefetch("imports", queryset=LedgerImport.objects.order_by("id"))
        )
    )
    for f in files:
        for imp in f.imports.all():
            imp.kind_label = _kind_label(imp.kind) if imp.kind else ""
    imported = LedgerImport.objects.filter(project=project, status=ImportStatus.DONE).aggregate(
        rows=Sum("total_rows"), n=Count("id")
    )
    return render(
        request,
        "relief/projects/project.html",
        {
            "project": project,
            "section": "project",
            "members": project.members.select_related("user__person").order_by("role", "id"),
            "files": files,
            "imported_rows": imported["rows"] or 0,
            "imported_sheets": imported["n"],
            "open_findings": project.findings.filter(status=FindingStatus.OPEN).count(),
            "form": form,
            "is_lead": selectors.is_lead(request.user, project),
        },
    )


@login_required
def project(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    return _project_page(request, project, UploadForm(bodies=project.body_list()))


@login_required
def members(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    lead = selectors.is_lead(request.user, project)
    team = list(project.members.select_related("user__person").order_by("role", "id"))
    candidates = (
        org_selectors.holders_of(Role.AUDITOR)
        .exclude(pk__in=[m.user_id for m in team])
        .select_related("person")
        .distinct()
        .order_by("username")
    )
    form = MemberAddForm(candidates=candidates)
    if request.method == "POST":
        if not lead:
            raise PermissionDenied(_(services.ERR_NOT_LEAD))
        action = request.POST.get("action")
        try:
            if action == "add":
                form = MemberAddForm(request.POST, candidates=candidates)
                if form.is_valid():
                    user = candidates.get(username=form.cleaned_data["username"])
                    services.member_set(
                        actor=request.user,
                        project=project,
                        user=user,
                        role=form.cleaned_data["role"],
                    )
                    messages.success(request, _("已加入项目组：{user}").format(user=user))
                    return redirect("relief:members", pk=project.pk)
            elif action in ("role", "remove"):
                member = next((m for m in team if str(m.user_id) == request.POST.get("user")), None)
                if member is None:
                    raise Http404("not a member of this project")
                if action == "remove":
                    services.member_set(
                        actor=request.user, project=project, user=member.user, role=None
                    )
                    messages.success(request, _("已移出项目组：{user}").format(user=member.user))
                else:
                    role = request.POST.get("role")
                    if role not in MemberRole.values:
                        raise ValidationError(_("请选择角色。"))
                    services.member_set(
                        actor=request.user, project=project, user=member.user, role=role
                    )
                    messages.success(request, _("已调整角色：{user}").format(user=member.user))
                return redirect("relief:members", pk=project.pk)
            else:
                raise ValidationError(_("未知操作。"))
        except ValidationError as exc:
            messages.error(request, _errors(exc))
            return redirect("relief:members", pk=project.pk)
    return render(
        request,
        "relief/projects/members.html",
        {
            "project": project,
            "section": "project",
            "team": team,
            "is_lead": lead,
            "form": form,
            "roles": MemberRole.choices,
        },
    )


# --- Files and imports. ---


@login_required
@require_POST
def upload(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    form = UploadForm(request.POST, request.FILES, bodies=project.body_list())
    if form.is_valid():
        d = form.cleaned_data
        try:
            source = services.file_upload(
                actor=request.user,
                project=project,
                upload=d["file"],
                body=d["body"],
                kind=d["kind"],
            )
        except importer.LedgerFileError as exc:
            form.add_error("file", exc.text())
        except ValidationError as exc:
            form.add_error("file", _errors(exc))
        else:
            imports = list(source.imports.order_by("id"))
            for imp in imports:
                services.schedule_check(imp, sheets=source.sheets_read)
            if len(imports) > 1:
                messages.info(
                    request,
                    _("该工作簿有 {n} 张表，已分别识别；请逐张核对后确认导入。").format(
                        n=len(imports)
                    ),
                )
            return redirect("relief:import", pk=project.pk, import_id=imports[0].pk)
    return _project_page(request, project, form)


def _sheet_title(imp: LedgerImport) -> str:
    """The text above the header (a ledger's title row), read again from small files only."""
    if imp.title:
        return imp.title
    above = imp.header_row - imp.header_rows
    if above <= 0 or imp.source.size > settings.RELIEF_BACKGROUND_BYTES:
        return ""
    try:
        sheets = importer.read_file(Path(imp.source.content.path))
    except (importer.LedgerFileError, OSError):
        return ""
    sheet = next((s for s in sheets if s.name == imp.sheet), sheets[0])
    return " ".join(c.strip() for row in sheet.head(above) for c in row if c)[:200]


def _preview_table(imp: LedgerImport) -> tuple[list[str], list[list[tuple[str, bool]]]]:
    """Field labels in column order and the first parsed rows as (value, has a problem) cells.

    Phone numbers are masked; identity numbers arrive masked from the importer.
    """
    columns = [
        (importer.column_letter(int(c)), f)
        for c, f in sorted(imp.mapping.items(), key=lambda cf: int(cf[0]))
        if f in schema.FIELDS
    ]
    bad = {(str(e.get("row")), e.get("column")) for e in imp.errors if e.get("row")}
    rows = []
    for r in imp.preview:
        row_no = str(r.get("row", ""))
        cells = [(row_no, False)]
        for letter, f in columns:
            value = r.get(f, "")
            cells.append((mask_mobile(value) if f == "phone" else value, (row_no, letter) in bad))
        rows.append(cells)
    return [_(schema.FIELDS[f].label) for _letter, f in columns], rows


def _preview_page(request, imp: LedgerImport, form: RemapForm | None = None):
    project = imp.project
    labels, rows = _preview_table(imp)
    if imp.header_rows > 1:
        header_at = _("第 {a}–{b} 行").format(
            a=imp.header_row - imp.header_rows + 1, b=imp.header_row
        )
    elif imp.header_row:
        header_at = _("第 {a} 行").format(a=imp.header_row)
    else:
        header_at = ""
    editable = imp.status in (ImportStatus.PREVIEW, ImportStatus.FAILED)
    return render(
        request,
        "relief/projects/import.html",
        {
            "project": project,
            "section": "project",
            "imp": imp,
            "kind_label": _kind_label(imp.kind) if imp.kind else "",
            "title_text": _sheet_title(imp) if imp.header_row else "",
            "header_at": header_at,
            "form": form or RemapForm(imp=imp),
            "editable": editable,
            "busy": imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
            "can_accept": imp.status == ImportStatus.PREVIEW
            and not imp.error_count
            and bool(imp.total_rows),
            "errors_hidden": max(imp.error_count - len(imp.errors), 0),
            "preview_labels": labels,
            "preview_rows": rows,
        },
    )


@login_required
def import_preview(request, pk: int, import_id: int):
    imp = _expire_if_stalled(selectors.get_import_for(request.user, pk, import_id))
    return _preview_page(request, imp)


def _expire_if_stalled(imp: LedgerImport) -> LedgerImport:
    """An import whose worker died shows as failed, so it can be checked again or discarded."""
    if services.is_stalled(imp) and services.imports_expire_stale(imp=imp):
        imp.refresh_from_db()
    return imp


@login_required
def import_progress(request, pk: int, import_id: int):
    """The progress bar while the worker checks a large file; when done, the page reloads."""
    imp = _expire_if_stalled(selectors.get_import_for(request.user, pk, import_id))
    if imp.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        if request.htmx:
            return HttpResponseClientRefresh()
        return redirect("relief:import", pk=imp.project_id, import_id=imp.pk)
    return render(request, "relief/projects/_progress.html", {"imp": imp, "project": imp.project})


@login_required
@require_POST
def import_remap(request, pk: int, import_id: int):
    imp = selectors.get_import_for(request.user, pk, import_id)
    form = RemapForm(request.POST, imp=imp)
    if not form.is_valid():
        return _preview_page(request, imp, form)
    try:
        imp = services.import_remap(
            actor=request.user, imp=imp, kind=form.cleaned_data["kind"], mapping=form.mapping()
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        services.schedule_check(imp)
        messages.success(request, _("已按新的台账类型和列对应关系重新检查。"))
    return redirect("relief:import", pk=imp.project_id, import_id=imp.pk)


@login_required
@require_POST
def import_accept(request, pk: int, import_id: int):
    imp = selectors.get_import_for(request.user, pk, import_id)
    try:
        imp = services.import_accept(actor=request.user, imp=imp)
    except ValidationError as exc:
        imp.refresh_from_db()
        if imp.status == ImportStatus.DONE:
            # A second click of the same button: the rows are in, say so without alarm.
            messages.info(request, _("该表已经导入，无需重复确认。"))
            return redirect("relief:project", pk=imp.project_id)
        messages.error(request, _errors(exc))
        return redirect("relief:import", pk=imp.project_id, import_id=imp.pk)
    messages.success(
        request,
        _("已导入「{file}」{sheet}的 {n} 行数据。").format(
            file=imp.source.name,
            sheet=f"（{imp.sheet}）" if imp.sheet else "",
            n=imp.total_rows,
        ),
    )
    return redirect("relief:project", pk=imp.project_id)


@login_required
@require_POST
def import_discard(request, pk: int, import_id: int):
    imp = selectors.get_import_for(request.user, pk, import_id)
    try:
        services.import_discard(actor=request.user, imp=imp)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("relief:import", pk=imp.project_id, import_id=imp.pk)
    messages.success(request, _("已放弃该表的导入；原文件仍保留在项目中，可改正后重新上传。"))
    return redirect("relief:project", pk=imp.project_id)


@login_required
def file_download(request, pk: int, file_id: int):
    """The file exactly as it was uploaded; every download is on the audit log."""
    source = selectors.get_file_for(request.user, pk, file_id)
    try:
        fh = source.content.open("rb")
    except OSError as exc:
        raise Http404("file missing from storage") from exc
    audit_record(
        actor=request.user,
        action="relief.file.download",
        obj=source,
        new={"name": source.name, "sha256": source.sha256},
    )
    content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    return FileResponse(fh, as_attachment=True, filename=source.name, content_type=content_type)


# --- The catalogue: parties and items. ---


def _name_for(project, name_id) -> PartyName:
    try:
        return PartyName.objects.select_related("party").get(project=project, pk=int(name_id))
    except (PartyName.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404("no such spelling in this project") from exc


def _party_name_action(request, name: PartyName) -> None:
    """Confirm a fuzzy match, or split a spelling off into a party of its own."""
    action = request.POST.get("action")
    if action == "confirm":
        if name.confirmed:
            messages.info(request, _("「{raw}」已经确认过。").format(raw=name.raw))
            return
        services.party_confirm(actor=request.user, name=name)
        messages.success(
            request,
            _("已确认「{raw}」就是「{party}」。").format(raw=name.raw, party=name.party.name),
        )
    elif action == "split":
        if not name.party.names.exclude(pk=name.pk).exists():
            messages.info(
                request, _("「{raw}」是该单位唯一的写法，无需拆分。").format(raw=name.raw)
            )
            return
        party = services.party_split(actor=request.user, name=name)
        messages.success(request, _("「{raw}」已拆分为新的单位条目。").format(raw=party.name))
    else:
        messages.error(request, _("未知操作。"))


@login_required
def parties(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    q = request.GET.get("q", "").strip()
    if request.method == "POST":
        name = _name_for(project, request.POST.get("name"))
        party_id = name.party_id
        _party_name_action(request, name)
        if request.POST.get("back") == "party" and project.parties.filter(pk=party_id).exists():
            return redirect("relief:party", pk=project.pk, party_id=party_id)
        back = reverse("relief:parties", args=[project.pk])
        return redirect(f"{back}?{urlencode({'q': q})}" if q else back)
    qs = project.parties.annotate(spellings=Count("names")).order_by("name", "id")
    if q:
        spelt = PartyName.objects.filter(project=project, raw__icontains=q).values("party")
        qs = qs.filter(Q(name__icontains=q) | Q(pk__in=spelt))
    page = Paginator(qs, PARTIES_PER_PAGE).get_page(request.GET.get("page"))
    pending = (
        PartyName.objects.filter(project=project, confirmed=False, score__lt=100)
        .select_related("party")
        .order_by("score", "raw")
    )
    return render(
        request,
        "relief/projects/parties.html",
        {
            "project": project,
            "section": "catalogue",
            "tab": "parties",
            "page": page,
            "q": q,
            "pending": pending,
        },
    )


@login_required
def party(request, pk: int, party_id: int):
    party = selectors.get_party_for(request.user, pk, party_id)
    project = party.project
    others = project.parties.exclude(pk=party.pk)
    form = PartyForm(
        initial={
            "kind": party.kind,
            "designated": party.designated,
            "beds": party.beds,
            "note": party.note,
        }
    )
    merge = MergeForm(others=others)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "update":
            form = PartyForm(request.POST)
            if form.is_valid():
                try:
                    services.party_update(actor=request.user, party=party, **form.cleaned_data)
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, _("已保存。"))
                    return redirect("relief:party", pk=project.pk, party_id=party.pk)
        elif action == "merge":
            merge = MergeForm(request.POST, others=others)
            if merge.is_valid():
                into = others.get(pk=int(merge.cleaned_data["into"]))
                services.party_merge(actor=request.user, party=party, into=into)
                messages.success(
                    request,
                    _("「{a}」已并入「{b}」，它的所有写法都归到「{b}」名下。").format(
                        a=party.name, b=into.name
                    ),
                )
                return redirect("relief:party", pk=project.pk, party_id=into.pk)
        else:
            messages.error(request, _("未知操作。"))
    return render(
        request,
        "relief/projects/party.html",
        {
            "project": project,
            "section": "catalogue",
            "tab": "parties",
            "party": party,
            "names": party.names.order_by("-confirmed", "-score", "raw"),
            "form": form,
            "merge": merge,
        },
    )


def _uoms_without_factor(project_id: int, item_id: int | None = None) -> dict[int, list]:
    """item_id → [(uom, rows)] for ledger rows whose pack unit has no conversion to base units."""
    where = "pieces IS NULL AND quantity IS NOT NULL AND item_id IS NOT NULL"
    params = []
    if item_id is not None:
        where += " AND item_id = ?"
        params.append(item_id)
    out: dict[int, list] = {}
    with store.project_db(project_id) as con:
        for r in store.rows(
            con,
            f"SELECT item_id, uom, count(*) AS n FROM entries WHERE {where} "  # noqa: S608
            "GROUP BY item_id, uom ORDER BY item_id, uom",
            params,
        ):
            out.setdefault(r["item_id"], []).append((r["uom"] or "", r["n"]))
    return out


@login_required
def items(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    missing = _uoms_without_factor(project.pk)
    rows = [
        (item, missing.get(item.pk, []))
        for item in project.items.prefetch_related("conversions").order_by("name", "id")
    ]
    return render(
        request,
        "relief/projects/items.html",
        {
            "project": project,
            "section": "catalogue",
            "tab": "items",
            "rows": rows,
            "needs_factor": sum(1 for _i, m in rows if m),
        },
    )


@login_required
def item(request, pk: int, item_id: int):
    item = selectors.get_item_for(request.user, pk, item_id)
    project = item.project
    conversions = {c.uom: c.factor for c in item.conversions.all()}
    missing = dict(_uoms_without_factor(project.pk, item.pk).get(item.pk, []))
    uoms = sorted(set(conversions) | set(missing))
    initial = {
        "grade": item.grade,
        "standard": item.standard,
        "priority": item.priority,
        "base_uom": item.base_uom,
    } | {f"factor_{i}": conversions.get(u) for i, u in enumerate(uoms)}
    form = ItemForm(request.POST or None, initial=initial, uoms=uoms)
    if request.method == "POST" and form.is_valid():
        try:
            services.item_update(
                actor=request.user, item=item, conversions=form.conversions(), **form.item_fields()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("已保存「{name}」；按新的换算重新计算件数。").format(name=item.name)
            )
            return redirect("relief:items", pk=project.pk)
    return render(
        request,
        "relief/projects/item.html",
        {
            "project": project,
            "section": "catalogue",
            "tab": "items",
            "item": item,
            "form": form,
            "missing": missing,
            "names": item.names.order_by("raw"),
        },
    )


# --- The header dictionary. ---


@login_required
def synonyms(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    form = SynonymForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        header, field = form.cleaned_data["header"].strip(), form.cleaned_data["field"]
        try:
            services.synonym_add(actor=request.user, project=project, header=header, field=field)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "已添加：表头「{header}」对应「{label}」。之后上传的文件按此识别；"
                    "已上传的表请在预览页调整列对应关系后点“重新检查”。"
                ).format(header=header, label=_(schema.FIELDS[field].label)),
            )
            return redirect("relief:synonyms", pk=project.pk)
    own = ColumnSynonym.objects.filter(Q(project=project) | Q(project__isnull=True))
    own = own.select_related("created_by__person").order_by("project_id", "header")
    return render(
        request,
        "relief/projects/synonyms.html",
        {
            "project": project,
            "section": "catalogue",
            "tab": "synonyms",
            "form": form,
            "own": [
                (s, _(schema.FIELDS[s.field].label) if s.field in schema.FIELDS else s.field)
                for s in own
            ],
            "builtin": [(_(f.label), f.synonyms) for f in schema.FIELDS.values()],
        },
    )

"""Relief-audit pages (findings): the list, adding one by hand, reviewing one, the report downloads."""

import hashlib
import re
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as N_
from django.views.decorators.http import require_POST

from fangkong.lib.forms import Form
from fangkong.lib.money import yuan
from fangkong.relief import selectors, services
from fangkong.relief.findings import docx, downloads, report
from fangkong.relief.ledger import rows as ledger_rows
from fangkong.relief.ledger.parsing import (
    OutOfRange,
    ParseError,
    halfwidth,
    parse_fen,
    parse_quantity,
)
from fangkong.relief.models import AuditProject, Finding, FindingStatus, Severity, SourceFile

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 50
EVIDENCE_LINES = 3  # blank evidence lines on a new form; the page can add more
MAX_EVIDENCE_LINES = 30
MAX_ROWS_PER_LINE = 500
EVIDENCE_ON_PAGE = 200  # a test may cite thousands of rows; the workbook lists them all
MANUAL = "manual"  # the test filter's value for findings added by hand

ERR_QUANTITY = N_("数量应为不小于 0 的整数，如 1000 或 1,000。")
ERR_ROWS_FORMAT = N_("行号“{part}”无法识别，请写成 12, 15-18 这样的形式。")
ERR_ROWS_RANGE = N_("行号范围“{part}”的起始行号大于结束行号。")
ERR_ROWS_TOO_MANY = N_("一次最多填写 {n} 个行号，请分成几行证据填写。")
ERR_ROWS_BIG = N_("行号“{part}”超出表格的行数范围（最大 {n}），请核对。")
MAX_ROW_NO = 2**31 - 1  # row numbers are INTEGER in the ledger files
ERR_ROWS_MISSING = N_(
    "「{file}」{sheet}中没有这些已导入的数据行：第 {rows} 行。"
    "请按 Excel 左侧的行号填写（表头、合计行和空行不是数据行）。"
)
ERR_ROWS_NEEDED = N_("已选择文件，请填写行号。")
ERR_FILE_NEEDED = N_("填写了行号，请选择这些行所在的文件。")
ERR_SHEET_NEEDED = N_("「{file}」有多个已导入的工作表（{sheets}），请填写工作表名称。")
ERR_SHEET_UNKNOWN = N_("「{file}」中没有已导入的工作表「{sheet}」；已导入的工作表：{sheets}。")
ERR_NOTE_EMPTY = N_("请填写批注内容。")
ERR_ACTION = N_("请选择确认、排除或重新打开。")


def _spans(numbers: list[int]) -> str:
    """[3, 4, 5, 9] → "3-5、9"."""
    out, run = [], []
    for n in sorted(set(numbers)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return "、".join(out)


def parse_rows(text: str) -> list[int]:
    """ "12, 15-18" (also 12，15～18 or 12、15至18) → [12, 15, 16, 17, 18]."""
    text = halfwidth(text or "")
    text = re.sub(r"\s*[-~—–至到]\s*", "-", text.strip())
    rows: list[int] = []
    for part in re.split(r"[,、;；\s]+", text):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ValidationError(_(ERR_ROWS_FORMAT).format(part=part))
        if any(len(g.lstrip("0")) > 10 for g in m.groups() if g):
            raise ValidationError(_(ERR_ROWS_BIG).format(part=part, n=MAX_ROW_NO))
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        if b > MAX_ROW_NO:
            raise ValidationError(_(ERR_ROWS_BIG).format(part=part, n=MAX_ROW_NO))
        if a > b:
            raise ValidationError(_(ERR_ROWS_RANGE).format(part=part))
        if b - a + len(rows) >= MAX_ROWS_PER_LINE:
            raise ValidationError(_(ERR_ROWS_TOO_MANY).format(n=MAX_ROWS_PER_LINE))
        rows.extend(range(a, b + 1))
    return sorted(set(rows))


class FindingForm(Form):
    """A finding added by hand, with the ledger rows it rests on (file + sheet + row numbers)."""

    title = forms.CharField(
        label=gettext_lazy("问题"),
        max_length=300,
        error_messages={"required": gettext_lazy("请填写问题的标题，一句话说明发现了什么。")},
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("如：定向捐赠资金未按捐赠人意愿拨付")}
        ),
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("严重程度"),
        choices=Severity.choices,
        initial=Severity.MEDIUM,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("写清事实：什么时间、哪个单位、什么款物、与规定有何不符。"),
    )
    amount = forms.CharField(
        label=gettext_lazy("涉及金额（元）"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "1,234.50"}),
        help_text=gettext_lazy("可写 1,234.50、1234.5 或 1.2万；不涉及金额可不填。"),
    )
    quantity = forms.CharField(
        label=gettext_lazy("涉及数量"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=gettext_lazy("物资数量（只、件等基本单位）；不涉及可不填。"),
    )
    rule = forms.CharField(
        label=gettext_lazy("依据"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "所依据的法律法规或文件，如《中华人民共和国慈善法》第五十五条、财政部关于……的通知。"
        ),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, project: AuditProject, lines: int = EVIDENCE_LINES, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.sheets = ledger_rows.imported_sheets(project)
        self.source_files = {
            f.pk: f for f in SourceFile.objects.filter(project=project, pk__in=self.sheets)
        }
        self.lines = max(1, min(lines, MAX_EVIDENCE_LINES))
        choices = [("", _("（选择文件）"))] + [
            (f.pk, f.name) for f in sorted(self.source_files.values(), key=lambda f: f.name)
        ]
        for i in range(self.lines):
            self.fields[f"ev_file_{i}"] = forms.TypedChoiceField(
                label=_("文件"), choices=choices, coerce=int, required=False, empty_value=None
            )
            self.fields[f"ev_sheet_{i}"] = forms.CharField(
                label=_("工作表"), required=False, max_length=100
            )
            self.fields[f"ev_rows_{i}"] = forms.CharField(
                label=_("行号"), required=False, max_length=2000
            )

    def evidence_lines(self):
        """(file, sheet, rows) bound fields per line, for the template."""
        return [
            (self[f"ev_file_{i}"], self[f"ev_sheet_{i}"], self[f"ev_rows_{i}"])
            for i in range(self.lines)
        ]

    def sheet_names(self) -> list[str]:
        return sorted({s for names in self.sheets.values() for s in names if s})

    def clean_amount(self):
        value = self.cleaned_data["amount"].strip()
        if not value:
            return None
        try:
            return parse_fen(value)
        except ParseError as exc:
            raise ValidationError(str(exc)) from exc

    def clean_quantity(self):
        value = self.cleaned_data["quantity"].strip()
        if not value:
            return None
        try:
            number = parse_quantity(value)
        except OutOfRange as exc:
            raise ValidationError(_(str(exc))) from exc
        except ParseError as exc:
            raise ValidationError(_(ERR_QUANTITY)) from exc
        if number < 0 or number != number.to_integral_value():
            raise ValidationError(_(ERR_QUANTITY))
        return int(number)

    def clean(self):
        data = super().clean()
        evidence = []
        for i in range(self.lines):
            evidence.extend(self._clean_line(i, data))
        data["evidence"] = evidence
        return data

    def _clean_line(self, i: int, data: dict) -> list[dict]:
        file_id = data.get(f"ev_file_{i}")
        sheet = (data.get(f"ev_sheet_{i}") or "").strip()
        text = (data.get(f"ev_rows_{i}") or "").strip()
        if f"ev_file_{i}" in self.errors:
            return []
        if file_id is None:
            if text:
                self.add_error(f"ev_file_{i}", _(ERR_FILE_NEEDED))
            return []
        if not text:
            self.add_error(f"ev_rows_{i}", _(ERR_ROWS_NEEDED))
            return []
        try:
            rows = parse_rows(text)
        except ValidationError as exc:
            self.add_error(f"ev_rows_{i}", exc)
            return []
        source = self.source_files[file_id]
        sheets = self.sheets.get(file_id, [])
        shown = "、".join(s or "—" for s in sheets)
        if sheet and sheet not in sheets:
            self.add_error(
                f"ev_sheet_{i}",
                _(ERR_SHEET_UNKNOWN).format(file=source.name, sheet=sheet, sheets=shown),
            )
            return []
        if not sheet:
            if len(sheets) > 1:
                self.add_error(
                    f"ev_sheet_{i}", _(ERR_SHEET_NEEDED).format(file=source.name, sheets=shown)
                )
                return []
            sheet = sheets[0] if sheets else ""
        found = ledger_rows.rows_present(self.project, file_id, sheet, rows)
        missing = [r for r in rows if r not in found]
        if missing:
            self.add_error(
                f"ev_rows_{i}",
                _(ERR_ROWS_MISSING).format(
                    file=source.name,
                    sheet=_("工作表「{sheet}」").format(sheet=sheet) if sheet else "",
                    rows=_spans(missing),
                ),
            )
            return []
        return [
            {"source_id": file_id, "sheet": found[r][0], "row_no": r, "row_id": found[r][1]}
            for r in rows
        ]


def _lines_posted(data) -> int:
    """How many evidence lines the page sent (it may have added some)."""
    indices = [int(m.group(1)) for k in data if (m := re.fullmatch(r"ev_file_(\d+)", k))]
    return max(indices, default=EVIDENCE_LINES - 1) + 1


def _token_fingerprint(token: str) -> str:
    """The form's one-time token as a fingerprint: a second submit finds the first finding."""
    return hashlib.sha256(f"relief.finding_new:{token}".encode()).hexdigest()


@login_required
def findings(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    test = request.GET.get("test", "")
    severity = request.GET.get("severity", "")
    status = request.GET.get("status", "")
    qs = project.findings.all()
    if test in (MANUAL, "手工"):
        test = MANUAL
        qs = qs.filter(test_id="")
    elif test:
        qs = qs.filter(test_id=test)
    if severity in Severity.values:
        qs = qs.filter(severity=severity)
    else:
        severity = ""
    counts = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    if status in FindingStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    rank = Case(
        *[When(severity=s, then=Value(n)) for n, s in enumerate(Severity.values)],
        output_field=IntegerField(),
    )
    qs = qs.annotate(n_evidence=Count("evidence"), rank=rank).order_by("rank", "-created_at", "-id")
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    tests = list(
        project.findings.exclude(test_id="")
        .order_by("test_id")
        .values_list("test_id", flat=True)
        .distinct()
    )
    base = {k: v for k, v in (("test", test), ("severity", severity)) if v}
    tabs = [
        {
            "status": "",
            "label": _("全部"),
            "n": sum(counts.values()),
            "query": _query(base),
            "current": status == "",
        }
    ] + [
        {
            "status": value,
            "label": label,
            "n": counts.get(value, 0),
            "query": _query(base | {"status": value}),
            "current": status == value,
        }
        for value, label in FindingStatus.choices
    ]
    return render(
        request,
        "relief/findings/list.html",
        {
            "project": project,
            "section": "findings",
            "page": page,
            "rows": [(f, yuan(f.amount_fen), ledger_rows.number(f.quantity)) for f in page],
            "tests": tests,
            "has_manual": project.findings.filter(test_id="").exists(),
            "severities": Severity.choices,
            "statuses": FindingStatus.choices,
            "test": test,
            "severity": severity,
            "status": status,
            "tabs": tabs,
            "page_query": _query(base | ({"status": status} if status else {})),
            "total": project.findings.count(),
        },
    )


def _query(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


@login_required
def finding_new(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    if request.method == "POST":
        form = FindingForm(request.POST, project=project, lines=_lines_posted(request.POST))
        if form.is_valid():
            d = form.cleaned_data
            fingerprint = _token_fingerprint(d["token"] or uuid.uuid4().hex)
            try:
                # The form's token keys the write: a double-clicked submit gets the first finding.
                done = services.finding_add(
                    actor=request.user,
                    project=project,
                    title=d["title"],
                    severity=d["severity"],
                    description=d["description"].strip(),
                    amount_fen=d["amount"],
                    quantity=d["quantity"],
                    rule=d["rule"].strip(),
                    evidence=d["evidence"],
                    fingerprint=fingerprint,
                    idempotent=True,
                )
                if not getattr(done, "replayed", False):
                    messages.success(request, _("已新增问题，待复核。"))
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, exc)
            else:
                return redirect("relief:finding", pk=project.pk, finding_id=done.pk)
    else:
        initial = {"token": uuid.uuid4().hex}
        row = _prefill_row(project, request.GET.get("row_id"))
        if row is not None:
            initial |= {"ev_file_0": row.file_id, "ev_sheet_0": row.sheet, "ev_rows_0": row.row_no}
        form = FindingForm(initial=initial, project=project)
    return render(
        request,
        "relief/findings/new.html",
        {"project": project, "section": "findings", "form": form},
    )


def _prefill_row(project: AuditProject, row_id: str | None):
    try:
        return ledger_rows.ledger_row(project, int(row_id)) if row_id else None
    except (TypeError, ValueError):
        return None


def _finding_page(request, project: AuditProject, finding: Finding, *, reason_error: str = ""):
    total = finding.evidence.count()
    evidence = list(finding.evidence.select_related("source")[:EVIDENCE_ON_PAGE])
    rows = ledger_rows.ledger_rows_for(project, evidence)
    lines = []
    for ev in evidence:
        row = rows.get(ev.pk)
        row_id = ev.row_id or (row.row_id if row else None)
        lines.append(
            {
                "ev": ev,
                "row": row,
                "row_url": reverse("relief:row", args=[project.pk, row_id]) if row_id else "",
                "trace_url": _trace_url(project, row.ref) if row and row.ref else "",
            }
        )
    return render(
        request,
        "relief/findings/detail.html",
        {
            "project": project,
            "section": "findings",
            "finding": finding,
            "amount": yuan(finding.amount_fen),
            "quantity": ledger_rows.number(finding.quantity),
            "test": report.test_label(finding.test_id),
            "lines": lines,
            "evidence_total": total,
            "evidence_more": total - len(lines),
            "notes": finding.notes.select_related("author"),
            "reason_error": reason_error,
            "reason": request.POST.get("reason", "") if request.method == "POST" else "",
            "statuses": FindingStatus,
        },
        status=400 if reason_error else 200,
    )


def _trace_url(project: AuditProject, ref: str) -> str:
    try:
        return reverse("relief:trace_donation", args=[project.pk, ref])
    except NoReverseMatch:  # a ref with a slash cannot be a path segment
        return ""


@login_required
def finding(request, pk: int, finding_id: int):
    item = selectors.get_finding_for(request.user, pk, finding_id)
    item = Finding.objects.select_related("created_by", "decided_by", "project").get(pk=item.pk)
    return _finding_page(request, item.project, item)


_ACTIONS = {
    "confirm": (FindingStatus.CONFIRMED, N_("已确认该问题，将列入审计报告。")),
    "dismiss": (FindingStatus.DISMISSED, N_("已排除该问题。")),
    "reopen": (FindingStatus.OPEN, N_("已重新打开该问题，待复核。")),
}


@login_required
@require_POST
def finding_decide(request, pk: int, finding_id: int):
    item = selectors.get_finding_for(request.user, pk, finding_id)
    action = _ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, _(ERR_ACTION))
        return redirect("relief:finding", pk=item.project_id, finding_id=item.pk)
    status, done_message = action
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _finding_page(
            request, item.project, item, reason_error=" ".join(form.errors["reason"])
        )
    reason = form.cleaned_data["reason"]
    try:
        done = services.finding_decide(
            actor=request.user, finding=item, status=status, reason=reason
        )
        repeat = getattr(done, "replayed", False)
    except ValidationError as exc:
        item = Finding.objects.select_related("created_by", "decided_by", "project").get(pk=item.pk)
        return _finding_page(request, item.project, item, reason_error=" ".join(_messages_of(exc)))
    if not repeat:
        messages.success(request, _(done_message))
    return redirect("relief:finding", pk=item.project_id, finding_id=item.pk)


class ReasonForm(Form):
    """The reason given when dismissing a finding (checked like every text field)."""

    reason = forms.CharField(required=False, widget=forms.Textarea)


class NoteForm(Form):
    text = forms.CharField(
        widget=forms.Textarea, error_messages={"required": gettext_lazy(ERR_NOTE_EMPTY)}
    )


def _messages_of(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


@login_required
@require_POST
def finding_note(request, pk: int, finding_id: int):
    item = selectors.get_finding_for(request.user, pk, finding_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        for message in form.errors["text"]:
            messages.error(request, message)
        return redirect("relief:finding", pk=item.project_id, finding_id=item.pk)
    text = form.cleaned_data["text"]
    note = services.finding_annotate(actor=request.user, finding=item, text=text)
    repeat = getattr(note, "replayed", False)
    if not repeat:
        messages.success(request, _("批注已保存。"))
    return redirect(
        reverse("relief:finding", kwargs={"pk": item.project_id, "finding_id": item.pk}) + "#notes"
    )


def _attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def report_docx(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    data = downloads.report_download(actor=request.user, project=project)
    name = _("{title}（征求意见稿）{day}.docx").format(
        title=docx.report_title(project), day=f"{timezone.localdate():%Y%m%d}"
    )
    return _attachment(data, DOCX, name)


@login_required
def findings_xlsx(request, pk: int):
    project = selectors.get_project_for(request.user, pk)
    data = downloads.findings_download(actor=request.user, project=project)
    name = _("{project}问题清单{day}.xlsx").format(
        project=project.name, day=f"{timezone.localdate():%Y%m%d}"
    )
    return _attachment(data, XLSX, name)

"""The findings workbook (.xlsx): one sheet of findings, one of their evidence rows."""

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.relief.findings.report import test_label
from fangkong.relief.ledger.rows import ledger_rows_for
from fangkong.relief.models import (
    AuditProject,
    Evidence,
)

# --- The findings workbook (.xlsx). ---

FINDING_HEADERS = [
    (N_("编号"), 8),
    (N_("测试编号"), 14),
    (N_("问题"), 40),
    (N_("说明"), 50),
    (N_("严重程度"), 9),
    (N_("状态"), 9),
    (N_("涉及金额（元）"), 16),
    (N_("涉及数量"), 12),
    (N_("依据"), 40),
    (N_("排除理由"), 30),
    (N_("证据行数"), 10),
    (N_("确认/排除人"), 12),
    (N_("确认/排除时间"), 17),
]
EVIDENCE_HEADERS = [
    (N_("问题编号"), 9),
    (N_("文件名"), 30),
    (N_("SHA-256"), 66),
    (N_("工作表"), 12),
    (N_("行号"), 7),
    (N_("台账类型"), 16),
    (N_("日期"), 11),
    (N_("关联编号"), 16),
    (N_("单据号"), 16),
    (N_("来源方"), 24),
    (N_("接收方"), 24),
    (N_("物资"), 20),
    (N_("数量"), 16),
    (N_("金额（元）"), 14),
    (N_("人员"), 22),
]


def build_xlsx(project: AuditProject) -> bytes:
    """问题清单 (one row per finding) and 证据 (one row per evidence row, with its key fields)."""
    from fangkong.lib.spreadsheet_out import Workbook

    findings = list(
        project.findings.select_related("decided_by")
        .annotate(n_evidence=Count("evidence"))
        .order_by("id")
    )
    evidence = list(
        Evidence.objects.filter(finding__project=project)
        .select_related("source")
        .order_by("finding_id", "source_id", "sheet", "row_no")
    )
    rows = ledger_rows_for(project, evidence)
    wb = Workbook()
    head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True})
    money = wb.add_format({"num_format": "#,##0.00"})
    count = wb.add_format({"num_format": "#,##0"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    ws = wb.add_worksheet(_("问题清单"))
    for c, (label, width) in enumerate(FINDING_HEADERS):
        ws.write(0, c, _(label), head)
        ws.set_column(c, c, width, wrap if width >= 30 else None)
    for r, f in enumerate(findings, start=1):
        ws.write(r, 0, f.pk)
        ws.write(r, 1, test_label(f.test_id))
        ws.write(r, 2, f.title)
        ws.write(r, 3, f.description)
        ws.write(r, 4, f.get_severity_display())
        ws.write(r, 5, f.get_status_display())
        if f.amount_fen is not None:
            # A spreadsheet number is a double; fen/100 is exact to the cent for any real amount.
            ws.write(r, 6, f.amount_fen / 100, money)
        if f.quantity is not None:
            ws.write(r, 7, f.quantity, count)
        ws.write(r, 8, f.rule)
        ws.write(r, 9, f.reason)
        ws.write(r, 10, f.n_evidence)
        ws.write(r, 11, f.decided_by.get_username() if f.decided_by else "")
        if f.decided_at:
            ws.write(r, 12, f"{timezone.localtime(f.decided_at):%Y-%m-%d %H:%M}")
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(findings), 1), len(FINDING_HEADERS) - 1)

    ws = wb.add_worksheet(_("证据"))
    for c, (label, width) in enumerate(EVIDENCE_HEADERS):
        ws.write(0, c, _(label), head)
        ws.set_column(c, c, width)
    for r, ev in enumerate(evidence, start=1):
        row = rows.get(ev.pk)
        ws.write(r, 0, ev.finding_id)
        ws.write(r, 1, ev.source.name)
        ws.write(r, 2, ev.source.sha256)
        ws.write(r, 3, ev.sheet)
        ws.write(r, 4, ev.row_no)
        if row is None:
            ws.write(r, 5, _("（该行不在已导入的数据中）"))
            continue
        ws.write(r, 5, row.kind_label)
        ws.write(r, 6, f"{row.day:%Y-%m-%d}" if row.day else "")
        ws.write(r, 7, row.ref or "")
        ws.write(r, 8, row.doc_no or "")
        ws.write(r, 9, row.from_party)
        ws.write(r, 10, row.to_party)
        ws.write(r, 11, row.item or "")
        ws.write(r, 12, row.quantity_text)
        if row.amount is not None:
            ws.write(r, 13, row.amount / 100, money)
        ws.write(r, 14, row.person_text)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(evidence), 1), len(EVIDENCE_HEADERS) - 1)
    return wb.close()

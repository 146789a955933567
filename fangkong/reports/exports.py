"""Report exports: the monitoring ledger (台账) in Excel, the roll-up as PDF, DHIS2 dataValueSets."""

from datetime import date, timedelta

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from fangkong.audit.actions import AuditAction
from fangkong.audit.services import audit_record
from fangkong.lib.spreadsheet_out import Workbook
from fangkong.org.models import OrgUnit
from fangkong.reports import selectors
from fangkong.reports.models import CurrentReport, Dhis2Mapping, ReportForm

# The audit action of each kind of export.
EXPORT_ACTIONS = {
    "ledger": AuditAction.REPORT_EXPORT_LEDGER,
    "pdf": AuditAction.REPORT_EXPORT_PDF,
    "dhis2": AuditAction.REPORT_EXPORT_DHIS2,
}


def record(*, actor, kind: str, node: OrgUnit, day_from: date, day_to: date) -> None:
    """Record who exported what (`kind`: a key of EXPORT_ACTIONS) for which subtree and days."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=EXPORT_ACTIONS[kind],
            obj=node,
            new={"from": day_from.isoformat(), "to": day_to.isoformat()},
        )


def _days(day_from: date, day_to: date) -> list[date]:
    return [day_from + timedelta(days=i) for i in range((day_to - day_from).days + 1)]


def ledger_xlsx(*, form: ReportForm, node: OrgUnit, day_from: date, day_to: date) -> bytes:
    """One row per expected unit per day, two merged header rows (staff / family), totals per day."""
    wb = Workbook()
    ws = wb.add_worksheet("疫情监测台账")
    title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = wb.add_format(
        {
            "bold": True,
            "bg_color": "#F2F2F2",
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
        }
    )
    cell = wb.add_format({"border": 1})
    total = wb.add_format({"border": 1, "bold": True, "bg_color": "#FFF2CC"})
    fixed = ["日期", "单位", "第一责任人", "联络员", "领导小组", "报送状态", "报送时间", "类型"]
    groups = [("staff", "职工"), ("family", "家属")]
    fields = form.fields
    width = len(fixed) + len(fields) + 1
    ws.merge_range(
        0,
        0,
        0,
        width - 1,
        f"{node.name} 疫情防控监测台账（{day_from:%Y年%m月%d日}至{day_to:%Y年%m月%d日}）",
        title,
    )
    for col, name in enumerate(fixed):
        ws.merge_range(1, col, 2, col, name, head)
    col = len(fixed)
    for group, group_name in groups:
        members = [f for f in fields if f.get("group") == group]
        if not members:
            continue
        if len(members) > 1:
            ws.merge_range(1, col, 1, col + len(members) - 1, group_name, head)
        else:
            ws.write(1, col, group_name, head)
        for f in members:
            ws.write(2, col, f["label"].removeprefix(group_name), head)
            col += 1
    ws.merge_range(1, col, 2, col, "情况说明", head)
    ordered = [f for g, _n in groups for f in fields if f.get("group") == g]
    row = 3
    for day in _days(day_from, day_to):
        rows = selectors.rollup(form, node, day, day)
        # Per day: the leading group is dated, so each row names the group of its own day.
        people = selectors.responsibles([r.id for r in rows.values() if r.expected], day)
        narratives = dict(
            CurrentReport.objects.filter(
                form=form, day=day, unit_id__in=[r.id for r in rows.values()]
            ).values_list("unit_id", "report__narrative")
        )
        sums = dict.fromkeys([f["key"] for f in ordered], 0)
        for r in sorted(rows.values(), key=lambda r: r.path):
            if not r.expected:
                continue
            cur = r.current
            values = [
                day.isoformat(),
                r.name,
                people.get(r.id, {}).get("first_responsible", ""),
                people.get(r.id, {}).get("liaisons", ""),
                people.get(r.id, {}).get("group", ""),
                str(selectors.STATUS_LABELS[r.status]),
                timezone.localtime(cur["first_submitted_at"]).strftime("%m-%d %H:%M")
                if cur
                else "",
                ("零报告" if cur["kind"] == "zero" else "日报告") if cur else "",
            ]
            for f in ordered:
                v = cur["values"].get(f["key"], 0) if cur else ""
                values.append(v)
            values.append(narratives.get(r.id, "") or "")
            for c, v in enumerate(values):
                ws.write(row, c, v, cell)
            row += 1
        # Totals: the node's own (cumulative) report when it reports, else the sum of its children.
        children = selectors.children_rows(rows, node)
        for f in ordered:
            sums[f["key"]] = sum(
                (c.current or {}).get("values", {}).get(f["key"], 0) for c in children
            )
        ws.write(row, 0, day.isoformat(), total)
        ws.merge_range(row, 1, row, len(fixed) - 1, "下级合计", total)
        for i, f in enumerate(ordered):
            ws.write(row, len(fixed) + i, sums[f["key"]], total)
        ws.write(row, width - 1, "", total)
        row += 1
    ws.set_column(0, 0, 11)
    ws.set_column(1, 1, 22)
    ws.set_column(2, len(fixed) - 1, 11)
    ws.set_column(len(fixed), width - 2, 7)
    ws.set_column(width - 1, width - 1, 30)
    ws.freeze_panes(3, 2)
    return wb.close()


def rollup_pdf(*, form: ReportForm, node: OrgUnit, day: date) -> bytes:
    """The roll-up of a node for printing (WeasyPrint, CJK fonts from fonts-noto-cjk)."""
    from weasyprint import HTML

    rows = selectors.rollup(form, node, day, day)
    children = selectors.children_rows(rows, node)
    people = selectors.responsibles([c.id for c in children], day)
    html = render_to_string(
        "reports/rollup_pdf.html",
        {
            "form": form,
            "node": node,
            "day": day,
            "me": rows[node.pk],
            "children": children,
            "people": people,
            "labels": {f["key"]: f["label"] for f in form.fields},
            "field_keys": form.field_keys,
            "status_labels": selectors.STATUS_LABELS,
            "signals": selectors.signals(form, rows, node, day),
        },
    )
    return HTML(string=html).write_pdf()


def dhis2_data_value_sets(*, form: ReportForm, node: OrgUnit, day_from: date, day_to: date) -> dict:
    """The submitted figures as DHIS2 `dataValueSets` JSON, through the configured code mapping.

    Fields and units without a mapping fall back to the form field key and the unit code.
    """
    mappings = list(Dhis2Mapping.objects.filter(form=form).select_related("unit"))
    elements = {m.field_key: m.dhis2_id for m in mappings if m.field_key}
    org_units = {m.unit_id: m.dhis2_id for m in mappings if m.unit_id}
    values = []
    for day in _days(day_from, day_to):
        rows = selectors.rollup(form, node, day, day)
        for r in sorted(rows.values(), key=lambda r: r.path):
            if not r.current:
                continue
            for key, value in r.current["values"].items():
                values.append(
                    {
                        "dataElement": elements.get(key, key),
                        "period": day.strftime("%Y%m%d"),
                        "orgUnit": org_units.get(r.id, r.code),
                        "value": str(value),
                        "comment": "zero report" if r.current["kind"] == "zero" else "",
                    }
                )
    return {"dataSet": form.code, "completeDate": day_to.isoformat(), "dataValues": values}

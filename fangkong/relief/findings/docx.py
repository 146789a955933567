"""The audit report draft (.docx): totals, the data audited, findings by severity with their
evidence rows, and one audit suggestion per category of confirmed findings."""

import io
import re
from collections import defaultdict
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.lib.money import yuan
from fangkong.relief.findings.report import (
    REPORT_EVIDENCE_ROWS,
    evidence_text,
    imported_files,
    ledger_totals,
    suggestions,
)
from fangkong.relief.ledger.rows import number
from fangkong.relief.models import (
    AuditProject,
    Evidence,
    FindingStatus,
    Severity,
)

# --- The report (.docx). ---

FONT_BODY = "仿宋_GB2312"
FONT_TITLE = "宋体"  # 方正小标宋 is the standard but rarely installed; 宋体 bold reads the same
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_TABLE = "宋体"
FONT_LATIN = "Times New Roman"
FONT_MONO = "Courier New"  # SHA-256 values: fixed width, so a hash fits one line
SEVERITY_HEADINGS = {
    Severity.HIGH: N_("高风险问题"),
    Severity.MEDIUM: N_("中风险问题"),
    Severity.LOW: N_("低风险问题"),
}
CN_NUMBERS = "一二三四五六七八九十"


def report_title(project: AuditProject) -> str:
    """项目名 + 跟踪审计报告, without saying 审计 twice."""
    name = re.sub(r"(跟踪审计|审计)?(项目)?$", "", project.name.strip())
    return _("{name}跟踪审计报告").format(name=name)


def _cn(n: int) -> str:
    return CN_NUMBERS[n - 1] if 1 <= n <= len(CN_NUMBERS) else str(n)


def _set_font(run_or_style, east_asia: str, size=None, bold=None) -> None:
    """A font for Chinese text: Word picks East Asian glyphs from w:eastAsia, not from w:ascii."""
    from docx.oxml.ns import qn

    font = run_or_style.font
    font.name = FONT_LATIN
    if size is not None:
        font.size = size
    if bold is not None:
        font.bold = bold
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east_asia)


class _Doc:
    """A thin writer over python-docx in the layout of a Chinese audit report (GB/T 9704 style)."""

    def __init__(self):
        from docx import Document
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Cm, Pt

        self.Pt = Pt
        self.doc = Document()
        section = self.doc.sections[0]
        section.page_height, section.page_width = Cm(29.7), Cm(21)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
        normal = self.doc.styles["Normal"]
        _set_font(normal, FONT_BODY, size=Pt(16))  # 三号仿宋
        fmt = normal.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(28)
        fmt.space_before = fmt.space_after = Pt(0)
        self._page_number_footer()

    def _page_number_footer(self) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml.ns import qn

        p = self.doc.sections[0].footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for text, kind in (("— ", None), ("PAGE", "field"), (" —", None)):
            run = p.add_run()
            _set_font(run, FONT_TABLE, size=self.Pt(14))
            if kind is None:
                run.text = text
                continue
            for tag, attrs in (
                ("w:fldChar", {"w:fldCharType": "begin"}),
                ("w:instrText", {}),
                ("w:fldChar", {"w:fldCharType": "end"}),
            ):
                el = run.element.makeelement(qn(tag), {qn(k): v for k, v in attrs.items()})
                if tag == "w:instrText":
                    el.text = "PAGE"
                run.element.append(el)

    def title(self, text: str, sub: str = "") -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.line_spacing = self.Pt(36)
        _set_font(p.add_run(text), FONT_TITLE, size=self.Pt(22), bold=True)
        if sub:
            p = self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _set_font(p.add_run(sub), FONT_H2, size=self.Pt(16))
        self.doc.add_paragraph()

    def h1(self, text: str) -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.first_line_indent = self.Pt(32)
        p.paragraph_format.keep_with_next = True  # never a heading alone at a page's foot
        _set_font(p.add_run(text), FONT_H1)

    def h2(self, text: str) -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.first_line_indent = self.Pt(32)
        p.paragraph_format.keep_with_next = True
        _set_font(p.add_run(text), FONT_H2)

    def para(self, text: str, *, bold_lead: str = "", indent: bool = True, size=None, keep=False):
        p = self.doc.add_paragraph()
        p.paragraph_format.keep_with_next = keep
        if indent:
            p.paragraph_format.first_line_indent = self.Pt(32)
        if bold_lead:
            _set_font(p.add_run(bold_lead), FONT_BODY, bold=True, size=size)
        _set_font(p.add_run(text), FONT_BODY, size=size)
        return p

    def right(self, text: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.right_indent = self.Pt(32)
        _set_font(p.add_run(text), FONT_BODY)

    def table(self, header: list[str], rows: list[list[str]], widths_cm: list[float]):
        """A grid table in 五号宋体; a row given as ("wide", text) spans every column."""
        from docx.shared import Cm

        table = self.doc.add_table(rows=0, cols=len(header))
        table.style = "Table Grid"
        table.autofit = False
        for i, width in enumerate(widths_cm):
            table.columns[i].width = Cm(width)  # the grid LibreOffice and WPS lay out by
        for cells in [header, *rows]:
            row = table.add_row()
            if isinstance(cells, tuple) and cells[0] == "wide":
                merged = row.cells[0].merge(row.cells[-1])
                self._cell(merged, cells[1], size=8, font=FONT_MONO)
                continue
            for i, value in enumerate(cells):
                row.cells[i].width = Cm(widths_cm[i])
                self._cell(row.cells[i], str(value), bold=cells is header)
        self.doc.add_paragraph()
        return table

    def _cell(self, cell, text: str, *, size: float = 10.5, bold: bool = False, font=None):
        p = cell.paragraphs[0]
        p.paragraph_format.line_spacing = self.Pt(size + 3.5)
        run = p.add_run(text)
        _set_font(run, FONT_TABLE, size=self.Pt(size), bold=bold or None)
        if font:
            run.font.name = font

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()


def _period(project: AuditProject) -> str:
    d0, d1 = project.period_start, project.period_end
    return _("{y0}年{m0}月{d0}日至{y1}年{m1}月{d1}日").format(
        y0=d0.year, m0=d0.month, d0=d0.day, y1=d1.year, m1=d1.month, d1=d1.day
    )


def _cn_date(day: date) -> str:
    return _("{y}年{m}月{d}日").format(y=day.year, m=day.month, d=day.day)


def build_docx(project: AuditProject, *, today: date | None = None) -> bytes:
    """审计报告（征求意见稿）: only confirmed findings are in the body; open ones are counted."""
    today = today or timezone.localdate()
    findings = list(project.findings.select_related("decided_by").order_by("created_at", "id"))
    confirmed = [f for f in findings if f.status == FindingStatus.CONFIRMED]
    open_count = sum(f.status == FindingStatus.OPEN for f in findings)
    dismissed_count = sum(f.status == FindingStatus.DISMISSED for f in findings)
    evidence = defaultdict(list)
    for ev in (
        Evidence.objects.filter(finding__in=[f.pk for f in confirmed])
        .select_related("source")
        .order_by("finding_id", "source_id", "sheet", "row_no")
    ):
        evidence[ev.finding_id].append(ev)

    d = _Doc()
    d.title(report_title(project), _("（征求意见稿）"))
    bodies = project.body_list()
    d.para(
        _(
            "按照审计工作安排，审计组对{bodies}{period}新冠肺炎疫情防控资金和捐赠款物的筹集、"
            "分配、管理和使用情况进行了跟踪审计。审计组以被审计单位提供的财务和仓储台账为基础，"
            "逐笔核对资金和物资从接收、入库、分配、出库到签收、支付和公示的全过程。"
            "现将审计情况报告如下。"
        ).format(bodies="、".join(bodies) if bodies else "", period=_period(project))
    )

    # 一、基本情况
    d.h1(_("一、基本情况"))
    d.h2(_("（一）审计范围和期间"))
    d.para(
        _("审计范围：{scope}。审计期间：{period}。").format(
            scope=(project.scope or _("疫情防控资金和捐赠款物")).rstrip("。"),
            period=_period(project),
        )
    )
    d.h2(_("（二）参与单位"))
    d.para("、".join(bodies) + "。" if bodies else _("（未填写）"))
    d.h2(_("（三）审计数据"))
    files = imported_files(project)
    totals = ledger_totals(project)
    d.para(
        _(
            "审计组共取得并导入台账文件 {files} 个、数据 {rows} 行。每个文件均记录其 SHA-256 "
            "校验值，可据以核对文件在审计过程中未被改动。"
        ).format(files=len(files), rows=f"{totals.rows:,}")
    )
    file_rows: list = []
    for n, f in enumerate(files, start=1):
        sheets = "；".join(
            _("{sheet} / {kind} / {rows} 行").format(
                sheet=s["sheet"] or "—", kind=s["kind"], rows=f"{s['rows']:,}"
            )
            for s in f["sheets"]
        )
        file_rows.append([str(n), f["name"], f["body"] or "—", sheets])
        file_rows.append(("wide", f"SHA-256: {f['sha256']}"))
    d.table(
        [_("序号"), _("文件名"), _("提供单位"), _("工作表 / 台账类型 / 行数")],
        file_rows,
        [1.4, 5.8, 2.8, 5.6],
    )
    # A ledger that records both directions (stock in and out, bank in and out) has no
    # meaningful single sum; its directions are stated under (四).
    d.table(
        [_("台账类型"), _("行数"), _("金额合计（元）"), _("数量合计（基本单位）")],
        [
            [
                k["label"],
                f"{k['rows']:,}",
                yuan(k["amount"]) if len(k["steps"]) == 1 else "—",
                number(k["pieces"]) if len(k["steps"]) == 1 else "—",
            ]
            for k in totals.kinds
        ],
        [5.6, 2.4, 4.0, 3.6],
    )
    d.h2(_("（四）资金和物资总体情况"))
    if totals.money:
        d.para(
            "；".join(
                _("{label} {amount} 元").format(label=label, amount=yuan(fen))
                for label, fen in totals.money
            )
            + "。",
            bold_lead=_("资金："),
        )
    if totals.goods:
        d.para(
            "；".join(
                _("{label} {qty}").format(label=label, qty=number(qty))
                for label, qty in totals.goods
            )
            + "。",
            bold_lead=_("物资（按只、件等基本单位计）："),
        )
        if totals.unconverted:
            d.para(
                _("另有 {n} 行物资以包装单位记录、尚未折算为基本单位，未计入上述物资数量。").format(
                    n=totals.unconverted
                )
            )
    if not totals.money and not totals.goods:
        d.para(_("尚未导入台账数据。"))

    # 二、审计发现的主要问题
    d.h1(_("二、审计发现的主要问题"))
    if not confirmed:
        d.para(_("截至本报告日，审计组尚未确认问题。"))
    group_no = 0
    for severity in (Severity.HIGH, Severity.MEDIUM, Severity.LOW):
        group = [f for f in confirmed if f.severity == severity]
        if not group:
            continue
        group_no += 1
        d.h2(f"（{_cn(group_no)}）{_(SEVERITY_HEADINGS[severity])}")
        for n, f in enumerate(group, start=1):
            d.para("", bold_lead=f"{n}. {f.title}", keep=True)
            if f.description:
                d.para(f.description)
            facts = []
            if f.amount_fen is not None:
                facts.append(_("涉及金额 {amount} 元").format(amount=yuan(f.amount_fen)))
            if f.quantity is not None:
                facts.append(_("涉及数量 {qty}").format(qty=number(f.quantity)))
            if facts:
                d.para("，".join(facts) + "。")
            if f.rule:
                d.para(f.rule, bold_lead=_("依据："))
            rows = evidence.get(f.pk, [])
            if rows:
                d.para(_("证据（共 {n} 行）：").format(n=len(rows)), keep=True)
                for ev in rows[:REPORT_EVIDENCE_ROWS]:
                    d.para(evidence_text(ev), size=d.Pt(14))
                if len(rows) > REPORT_EVIDENCE_ROWS:
                    d.para(
                        _("其余 {n} 行见问题清单（findings.xlsx）“证据”工作表。").format(
                            n=len(rows) - REPORT_EVIDENCE_ROWS
                        ),
                        size=d.Pt(14),
                    )

    # 三、审计建议
    d.h1(_("三、审计建议"))
    advice = suggestions(confirmed)
    if not advice:
        d.para(_("待问题确认后提出。"))
    for n, s in enumerate(advice, start=1):
        named = "、".join(f"“{t}”" for t in s.names[:3]) + (_("等") if len(s.names) > 3 else "")
        lead = f"{n}. " + (_("{label}方面。").format(label=s.label) if s.label else "")
        d.para(_("针对{named}问题，建议{text}").format(named=named, text=s.text), bold_lead=lead)

    # 四、其他事项
    d.h1(_("四、其他事项"))
    d.para(
        _(
            "截至本报告日，另有 {open} 个疑点尚在复核中、{dismissed} 个疑点经核实已排除，"
            "均未列入本报告。审计组将继续核实，必要时在正式报告中补充。"
        ).format(open=open_count, dismissed=dismissed_count)
    )
    d.para(
        _(
            "本报告为征求意见稿，请被审计单位自收到之日起十日内提出书面意见；逾期未提出的，视同无异议。"
        )
    )
    d.doc.add_paragraph()
    d.right(_("审计组"))
    d.right(_cn_date(today))
    return d.bytes()

"""The audit report draft (.docx), the findings workbook (.xlsx) and the ledger rows behind findings.

Evidence is stored as file / sheet / row; the fields an auditor recognises a row by (day, parties,
item, quantity, amount) are read back from the project's ledger store, so the report, the
workbook and the finding page all show the same row the same way.
"""

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pyarrow as pa
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.audit.services import audit_record
from fangkong.relief.ledger import schema, store
from fangkong.relief.models import (
    AuditProject,
    Evidence,
    Finding,
    FindingStatus,
    ImportStatus,
    Severity,
)

MANUAL = N_("手工")
# A report lists at most this many evidence rows per finding; the workbook lists them all.
REPORT_EVIDENCE_ROWS = 30


def yuan(fen: int | None) -> str:
    """Integer fen → "1,234.50"; None → ""."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def number(value) -> str:
    """A quantity without float noise: 1200 → "1,200", Decimal("2.500") → "2.5"."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def test_label(test_id: str) -> str:
    return test_id or _(MANUAL)


# --- The ledger rows behind findings. ---

_ROW_COLUMNS = """
    e.row_id, e.file_id, e.sheet, e.row_no, e.kind, e.step, e.day, e.ref, e.doc_no,
    coalesce(e.source_name, e.source) AS source,
    coalesce(e.target_name, e.target) AS target,
    coalesce(e.counterparty_name, e.counterparty) AS counterparty,
    coalesce(e.directed_to_name, e.directed_to) AS directed_to,
    coalesce(e.warehouse_name, e.warehouse) AS warehouse,
    coalesce(e.item_name, e.item) AS item, e.quantity, e.uom, e.pieces, e.base_uom,
    e.amount, e.person, e.id_masked
"""


@dataclass
class LedgerRow:
    """One imported ledger row as a finding shows it."""

    row_id: int
    file_id: int
    sheet: str
    row_no: int
    kind: str
    step: str
    day: date | None
    ref: str | None
    doc_no: str | None
    source: str | None
    target: str | None
    counterparty: str | None
    directed_to: str | None
    warehouse: str | None
    item: str | None
    quantity: Decimal | None
    uom: str | None
    pieces: Decimal | None
    base_uom: str | None
    amount: int | None
    person: str | None
    id_masked: str | None

    @property
    def kind_label(self) -> str:
        k = schema.KINDS.get(self.kind)
        return _(k.label) if k else self.kind

    @property
    def from_party(self) -> str:
        return self.source or self.counterparty or self.warehouse or ""

    @property
    def to_party(self) -> str:
        return self.target or ""

    @property
    def quantity_text(self) -> str:
        if self.quantity is None:
            return ""
        text = f"{number(self.quantity)}{self.uom or ''}"
        if self.pieces is not None and self.pieces != self.quantity:
            text += f"（{number(self.pieces)}{self.base_uom or ''}）"
        return text

    @property
    def amount_text(self) -> str:
        return yuan(self.amount)

    @property
    def person_text(self) -> str:
        return " ".join(p for p in (self.person, self.id_masked) if p)

    def summary(self) -> str:
        """One line: 2020-02-03 · 捐赠资金登记 · 甲 → 乙 · 口罩 200箱 · 1,234.50 元."""
        parts = [f"{self.day:%Y-%m-%d}" if self.day else "", self.kind_label]
        if self.from_party or self.to_party:
            parts.append(" → ".join(p for p in (self.from_party, self.to_party) if p))
        if self.directed_to:
            parts.append(_("定向：{name}").format(name=self.directed_to))
        if self.item:
            parts.append(f"{self.item} {self.quantity_text}".strip())
        if self.person_text:
            parts.append(self.person_text)
        if self.amount is not None:
            parts.append(_("{amount} 元").format(amount=self.amount_text))
        return " · ".join(p for p in parts if p)


def _fetch(con, sql: str) -> list[tuple[int, LedgerRow]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [(r[0], LedgerRow(**dict(zip(names[1:], r[1:], strict=True)))) for r in cur.fetchall()]


def ledger_rows_for(project: AuditProject, evidence: list[Evidence]) -> dict[int, LedgerRow]:
    """Evidence pk → its ledger row in the store (missing rows are simply absent)."""
    if not evidence:
        return {}
    by_id = [ev for ev in evidence if ev.row_id is not None]
    by_place = [ev for ev in evidence if ev.row_id is None]
    out: dict[int, LedgerRow] = {}
    with store.project_db(project.pk) as con:
        if by_id:
            con.register(
                "wanted_ids",
                pa.table(
                    {
                        "k": pa.array([ev.pk for ev in by_id], pa.int64()),
                        "row_id": pa.array([ev.row_id for ev in by_id], pa.int64()),
                    }
                ),
            )
            out.update(
                _fetch(
                    con,
                    f"SELECT w.k, {_ROW_COLUMNS} FROM wanted_ids w "  # noqa: S608 - constants
                    "JOIN entries e ON e.row_id = w.row_id",
                )
            )
        if by_place:
            con.register(
                "wanted_rows",
                pa.table(
                    {
                        "k": pa.array([ev.pk for ev in by_place], pa.int64()),
                        "file_id": pa.array([ev.source_id for ev in by_place], pa.int64()),
                        "sheet": pa.array([ev.sheet for ev in by_place], pa.string()),
                        "row_no": pa.array([ev.row_no for ev in by_place], pa.int64()),
                    }
                ),
            )
            out.update(
                _fetch(
                    con,
                    f"SELECT w.k, {_ROW_COLUMNS} FROM wanted_rows w "  # noqa: S608 - constants
                    "JOIN entries e ON e.file_id = w.file_id AND e.row_no = w.row_no "
                    "AND (w.sheet = '' OR e.sheet = w.sheet)",
                )
            )
    return out


def ledger_row(project: AuditProject, row_id: int) -> LedgerRow | None:
    """One row by its store id (the "add a finding about this row" link)."""
    with store.project_db(project.pk) as con:
        found = _fetch(
            con,
            f"SELECT 0, {_ROW_COLUMNS} FROM entries e WHERE e.row_id = {int(row_id)}",  # noqa: S608
        )
    return found[0][1] if found else None


def rows_present(
    project: AuditProject, file_id: int, sheet: str | None, row_nos: list[int]
) -> dict[int, tuple[str, int]]:
    """Which of these Excel row numbers of a file (and sheet) are imported: row_no → (sheet, row_id)."""
    if not row_nos:
        return {}
    with store.project_db(project.pk) as con:
        con.register("wanted_nos", pa.table({"row_no": pa.array(row_nos, pa.int64())}))
        sql = (
            "SELECT r.row_no, r.sheet, r.row_id FROM raw_entries r "
            "JOIN wanted_nos w ON w.row_no = r.row_no WHERE r.file_id = ?"
        )
        params: list = [int(file_id)]
        if sheet is not None:
            sql += " AND r.sheet = ?"
            params.append(sheet)
        found = con.execute(sql, params).fetchall()
    return {row_no: (sh, row_id) for row_no, sh, row_id in found}


def imported_sheets(project: AuditProject) -> dict[int, list[str]]:
    """SourceFile pk → the names of its sheets that are imported, in upload order."""
    out: dict[int, list[str]] = defaultdict(list)
    for file_id, sheet in (
        project.imports.filter(status=ImportStatus.DONE)
        .order_by("id")
        .values_list("source_id", "sheet")
    ):
        if sheet not in out[file_id]:
            out[file_id].append(sheet)
    return dict(out)


# --- What the report says about the data. ---


@dataclass
class Totals:
    """Rows per ledger kind and the sums a report's 基本情况 states."""

    kinds: list[dict] = field(default_factory=list)  # {kind, label, rows, amount, pieces}
    money: list[tuple[str, int]] = field(default_factory=list)  # (label, fen)
    goods: list[tuple[str, Decimal]] = field(default_factory=list)  # (label, pieces)
    unconverted: int = 0  # rows with a pack unit that has no conversion: not in goods totals
    rows: int = 0


# (label, kind, step or None, "amount" / "pieces"): money received and paid, goods in and out.
_TOTAL_LINES = [
    (N_("登记受赠资金"), "cash_donation", None, "amount"),
    (N_("财政拨付资金"), "appropriation", None, "amount"),
    (N_("捐赠账户收入（银行流水）"), "bank", "received", "amount"),
    (N_("资金支付"), "payment", None, "amount"),
    (N_("捐赠账户支出（银行流水）"), "bank", "paid", "amount"),
    (N_("登记受赠物资"), "goods_donation", None, "pieces"),
    (N_("物资入库"), "stock", "stored", "pieces"),
    (N_("物资出库"), "stock", "issued", "pieces"),
    (N_("受赠（领用）签收"), "receipt", None, "pieces"),
]


def ledger_totals(project: AuditProject) -> Totals:
    with store.project_db(project.pk) as con:
        found = con.execute(
            "SELECT kind, step, count(*), sum(amount), sum(pieces), "
            "count(*) FILTER (WHERE quantity IS NOT NULL AND pieces IS NULL) "
            "FROM entries GROUP BY kind, step"
        ).fetchall()
    totals = Totals()
    per_kind: dict[str, dict] = {}
    for kind, step, n, amount, pieces, unconverted in found:
        k = per_kind.setdefault(
            kind, {"kind": kind, "rows": 0, "amount": None, "pieces": None, "steps": {}}
        )
        k["rows"] += n
        if amount is not None:
            k["amount"] = (k["amount"] or 0) + int(amount)
        if pieces is not None:
            k["pieces"] = (k["pieces"] or 0) + pieces
        k["steps"][step] = (int(amount or 0), pieces or 0, n)
        totals.unconverted += unconverted
        totals.rows += n
    order = list(schema.KINDS)
    for kind in sorted(per_kind, key=lambda c: order.index(c) if c in order else len(order)):
        k = per_kind[kind]
        known = schema.KINDS.get(kind)
        k["label"] = _(known.label) if known else kind
        totals.kinds.append(k)
    for label, kind, step, what in _TOTAL_LINES:
        k = per_kind.get(kind)
        if not k:
            continue
        picked = [v for s, v in k["steps"].items() if step is None or s == step]
        if not picked or not sum(v[2] for v in picked):
            continue
        if what == "amount":
            totals.money.append((_(label), sum(v[0] for v in picked)))
        else:
            totals.goods.append((_(label), sum((v[1] for v in picked), Decimal(0))))
    return totals


def imported_files(project: AuditProject) -> list[dict]:
    """Each source file with an accepted sheet: name, body, SHA-256 and its sheets with row counts."""
    out: dict[int, dict] = {}
    for imp in (
        project.imports.filter(status=ImportStatus.DONE).select_related("source").order_by("id")
    ):
        f = out.setdefault(
            imp.source_id,
            {"name": imp.source.name, "body": imp.source.body, "sha256": imp.source.sha256},
        )
        kind = schema.KINDS.get(imp.kind)
        f.setdefault("sheets", []).append(
            {
                "sheet": imp.sheet,
                "kind": _(kind.label) if kind else imp.kind,
                "rows": imp.total_rows,  # data rows: total rows are not counted
            }
        )
    return list(out.values())


def evidence_text(ev: Evidence) -> str:
    """文件名 / 工作表 / 第N行, as the report cites a row."""
    return _("{file} / {sheet} / 第{row}行").format(
        file=ev.source.name, sheet=ev.sheet or "—", row=ev.row_no
    )


# --- Audit suggestions, one per category of confirmed findings. ---

ADVICE_DIRECTED = N_(
    "严格尊重捐赠人意愿，定向捐赠款物应按捐赠人指定的对象和用途及时拨付或分配；"
    "确需调整的，应事先征得捐赠人同意并留存书面记录。"
)
ADVICE_DISCLOSURE = N_(
    "及时、完整地向社会公开捐赠款物的接收、分配和使用情况，"
    "公示内容应与财务和仓储台账一致，并接受社会监督。"
)
ADVICE_SUBSIDY = N_(
    "严格按照规定的范围和标准核定补助，发放前核对人员身份、岗位和在岗天数，"
    "杜绝重复、超标准发放；对已多发的资金，应查明原因并及时追回。"
)
ADVICE_PROCUREMENT = N_(
    "规范应急采购程序，采用单一来源等非竞争方式采购的，应充分说明理由并履行审批手续；"
    "加强对供应商资质、产品标准和采购价格的审核，完整保存采购档案。"
)
ADVICE_STOCK = N_(
    "加强仓储管理，入库、出库手续应完备，做到账实相符；定期盘点库存，"
    "及时调剂近效期物资，防止积压、过期造成浪费。"
)
ADVICE_RECEIPT = N_(
    "健全款物交接和签收制度，受赠单位应及时出具签收凭证，确保每一笔捐赠款物的去向可追踪、可核查。"
)
ADVICE_FUNDS = N_(
    "加快资金拨付和使用进度，防止资金滞留闲置；"
    "对已拨付资金跟踪使用情况，确保专款专用、及时用于疫情防控。"
)
ADVICE_GRADE = N_(
    "按照物资的执行标准和防护等级分配使用，医用防护物资优先保障定点救治医院和一线医务人员，"
    "不得以民用物资替代医用物资。"
)
# For findings outside the catalogue: the first advice whose words appear in the titles.
_SUGGESTIONS = [
    (("定向", "指定用途", "捐赠人意愿"), ADVICE_DIRECTED),
    (("公示", "公开", "信息披露"), ADVICE_DISCLOSURE),
    (("补助", "补贴", "慰问", "身份证", "重复发放"), ADVICE_SUBSIDY),
    (("采购", "合同", "单一来源", "供应商", "单价", "价格"), ADVICE_PROCUREMENT),
    (("库存", "入库", "出库", "盘点", "积压", "过期", "效期", "账实"), ADVICE_STOCK),
    (("签收", "去向", "未到", "断链", "追踪", "交接"), ADVICE_RECEIPT),
    (("拨付", "滞留", "闲置", "结存"), ADVICE_FUNDS),
    (("口罩", "防护", "等级", "N95", "KN95", "标准", "医用"), ADVICE_GRADE),
]
_FALLBACK = N_(
    "深入分析问题产生的原因，制定整改措施，明确整改责任人和时限，"
    "并在规定期限内将整改结果书面报送审计组。"
)


# The catalogue's categories (fangkong/relief/catalogue) → what an auditor usually recommends.
_CATEGORY_SUGGESTIONS = {
    "money_in": N_(
        "规范捐赠资金的接收和登记，做到银行流水、捐赠登记和捐赠票据一一对应，"
        "及时、足额入账，不得账外存放。"
    ),
    "payments": N_(
        "严格资金支付审核，确保专款专用；加快资金拨付和使用进度，防止资金滞留闲置，"
        "对已拨付资金跟踪使用情况。"
    ),
    "goods": ADVICE_STOCK,
    "allocation": N_(
        "严格按照捐赠人意愿和疫情防控需要分配物资，定向捐赠按指定对象分配；"
        "医用防护物资优先保障定点救治医院和一线医务人员，并及时取得签收凭证。"
    ),
    "procurement": ADVICE_PROCUREMENT,
    "subsidies": ADVICE_SUBSIDY,
    "disclosure": ADVICE_DISCLOSURE,
    "screens": N_("对统计筛查提示的异常数据，逐笔核对原始凭证，查明原因；确属问题的，按规定整改。"),
}


def suggestion_for(text: str, default: str | None = None) -> str:
    """The advice for problems described by `text` (their titles), by the words in it."""
    text = text.upper()
    for words, suggestion in _SUGGESTIONS:
        if any(w.upper() in text for w in words):
            return _(suggestion)
    return _(default or _FALLBACK)


def _registry() -> tuple[dict, dict]:
    """The catalogue's tests and category names (empty while the catalogue is not installed)."""
    try:
        from fangkong.relief import catalogue
    except ImportError:
        return {}, {}
    return catalogue.load(), catalogue.CATEGORIES


@dataclass
class Suggestion:
    """One paragraph of 审计建议: a category, the problems it covers, what to do."""

    label: str
    names: list[str]
    text: str = ""


def suggestions(confirmed: list[Finding]) -> list[Suggestion]:
    """One suggestion per category of confirmed findings (catalogue category, else test, else
    each finding added by hand)."""
    registry, categories = _registry()
    groups: dict[str, tuple[str, Suggestion]] = {}
    for f in confirmed:
        test = registry.get(f.test_id)
        if test is not None:
            key, code = f"category:{test.category}", test.category
            label, name = categories.get(test.category, test.category), test.title
        else:
            key = f"test:{f.test_id}" if f.test_id else f"manual:{f.pk}"
            code, label, name = "", "", f.title
        _code, s = groups.setdefault(key, (code, Suggestion(label=label, names=[])))
        if name not in s.names:
            s.names.append(name)
    out = []
    for code, s in groups.values():
        # The problems' own words first (资金滞留 is about payments even in 资金收入), then
        # the category's usual advice, then the general one.
        s.text = suggestion_for(" ".join(s.names), default=_CATEGORY_SUGGESTIONS.get(code))
        out.append(s)
    return out


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


def report_download(*, actor, project: AuditProject) -> bytes:
    """The report draft, with the download on record (who took which findings out, when)."""
    data = build_docx(project)
    audit_record(
        actor=actor,
        action="relief.report.download",
        obj=project,
        new={
            "confirmed": project.findings.filter(status=FindingStatus.CONFIRMED).count(),
            "open": project.findings.filter(status=FindingStatus.OPEN).count(),
        },
    )
    return data


def findings_download(*, actor, project: AuditProject) -> bytes:
    data = build_xlsx(project)
    audit_record(
        actor=actor,
        action="relief.findings.download",
        obj=project,
        new={"findings": project.findings.count()},
    )
    return data

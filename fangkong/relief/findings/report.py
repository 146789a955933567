"""What the report says: totals of the data audited, the files imported, evidence in words and the
audit suggestions; the documents themselves are built in docx.py and xlsx.py.

Evidence is stored as file / sheet / row; the fields an auditor recognises a row by (day, parties,
item, quantity, amount) are read back from the project's ledger store, so the report, the
workbook and the finding page all show the same row the same way.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.relief.ledger import schema, store
from fangkong.relief.models import (
    AuditProject,
    Evidence,
    Finding,
    ImportStatus,
)

MANUAL = N_("手工")
# A report lists at most this many evidence rows per finding; the workbook lists them all.
REPORT_EVIDENCE_ROWS = 30


def test_label(test_id: str) -> str:
    return test_id or _(MANUAL)


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

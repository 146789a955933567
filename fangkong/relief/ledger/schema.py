"""The ledger kinds relief bodies keep, their canonical fields, and the header synonyms that find them.

This is the contract between the importer (which maps a file's Chinese headers onto these
fields), the DuckDB store (one wide `entries` table with a column per field) and the trace and
tests that read it. Synonyms here are the built-in dictionary; auditors add more per project
(`ColumnSynonym`), which take precedence.
"""

from dataclasses import dataclass

# Field types and how the importer parses them.
TEXT, MONEY, QTY, DATE, PARTY, IDNO, INT = "text", "money", "qty", "date", "party", "idno", "int"


@dataclass(frozen=True)
class Field:
    """A canonical column: its name in the store, its type and the headers that mean it."""

    name: str
    label: str
    type: str
    synonyms: tuple[str, ...]


F = Field
FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        F(
            "day",
            "日期",
            DATE,
            (
                "日期",
                "交易日期",
                "记账日期",
                "捐赠日期",
                "接收日期",
                "到账日期",
                "拨付日期",
                "支付日期",
                "付款日期",
                "签收日期",
                "分配日期",
                "申请日期",
                "签订日期",
                "到货日期",
                "验收日期",
                "发放日期",
                "值班日期",
                "公示日期",
                "盘点日期",
                "出入库日期",
                "业务日期",
                "价格日期",
            ),
        ),
        F(
            "ref",
            "关联编号",
            TEXT,
            (
                "捐赠编号",
                "来源编号",
                "来源单号",
                "资金来源编号",
                "对应捐赠编号",
                "物资来源编号",
                "捐赠登记号",
                "关联单号",
                "单号",
                "批次号",
            ),
        ),
        F(
            "doc_no",
            "单据号",
            TEXT,
            (
                "收据编号",
                "票据号",
                "收据号",
                "捐赠票据号",
                "凭证号",
                "记账凭证号",
                "凭证编号",
                "流水号",
                "交易流水号",
                "文号",
                "拨款文号",
                "调拨单号",
                "分配文号",
                "出库单号",
                "入库单号",
                "签收单号",
                "申请编号",
                "合同编号",
                "合同号",
                "验收单号",
                "公示编号",
            ),
        ),
        F("invoice_no", "发票号", TEXT, ("发票号", "发票号码", "发票编号")),
        F(
            "source",
            "来源方",
            PARTY,
            (
                "捐赠方",
                "捐赠单位或个人",
                "捐赠人",
                "捐赠单位",
                "付款单位",
                "付款方",
                "拨款单位",
                "供应商",
                "供货单位",
                "中标供应商",
                "发放单位",
                "支付单位",
            ),
        ),
        F(
            "target",
            "接收方",
            PARTY,
            (
                "收款单位",
                "收款方",
                "收款人",
                "受赠单位",
                "接收单位",
                "受援单位",
                "分配对象",
                "领用单位",
                "签收单位",
                "申请单位",
                "需求单位",
                "采购单位",
                "受益单位",
                "受赠方",
                "接收方",
                "工作单位",
                "所在医院",
            ),
        ),
        F("counterparty", "对方户名", PARTY, ("对方户名", "对方账户名称", "对方名称", "对方单位")),
        F(
            "directed_to",
            "定向受赠方",
            PARTY,
            ("定向用途", "指定受赠方", "定向受赠单位", "指定用途", "定向单位"),
        ),
        F(
            "warehouse",
            "仓库",
            PARTY,
            ("仓库", "存放仓库", "发货仓库", "收货仓库", "仓库名称", "存放地点"),
        ),
        F(
            "amount",
            "金额",
            MONEY,
            (
                "金额",
                "金额（元）",
                "捐赠金额",
                "拨付金额",
                "支付金额",
                "付款金额",
                "发放金额",
                "合同金额",
                "价值",
                "折合金额",
                "折价金额",
                "补助金额",
                "公示金额",
                "金额(元)",
            ),
        ),
        F(
            "amount_in",
            "收入金额",
            MONEY,
            ("贷方金额", "收入金额", "收入", "贷方发生额", "入账金额"),
        ),
        F("amount_out", "支出金额", MONEY, ("借方金额", "支出金额", "支出", "借方发生额")),
        F("balance", "余额", MONEY, ("余额", "账户余额")),
        F(
            "unit_price",
            "单价",
            MONEY,
            ("单价", "单价（元）", "采购单价", "参考单价", "参考价", "单价(元)"),
        ),
        F("rate", "补助标准", MONEY, ("补助标准", "标准（元/天）", "日标准", "发放标准")),
        F(
            "item",
            "物资名称",
            TEXT,
            ("物资名称", "品名", "物资", "名称", "物品名称", "货物名称", "需求物资"),
        ),
        F("spec", "规格型号", TEXT, ("规格型号", "规格", "型号")),
        F("standard", "执行标准", TEXT, ("执行标准", "产品标准", "标准号")),
        F("grade", "等级", TEXT, ("等级", "防护等级", "类别", "物资类别", "公示等级")),
        F("uom", "计量单位", TEXT, ("计量单位", "单位名称", "单位（计量）", "计量")),
        F(
            "quantity",
            "数量",
            QTY,
            (
                "数量",
                "捐赠数量",
                "分配数量",
                "发放数量",
                "签收数量",
                "申请数量",
                "需求数量",
                "采购数量",
                "到货数量",
                "公示数量",
                "实收数量",
            ),
        ),
        F("qty_in", "入库数量", QTY, ("入库数量", "入库数", "收入数量")),
        F("qty_out", "出库数量", QTY, ("出库数量", "出库数", "发出数量")),
        F("day_in", "入库日期", DATE, ("入库日期", "入库时间")),
        F("day_out", "出库日期", DATE, ("出库日期", "出库时间")),
        F(
            "direction",
            "出入库类型",
            TEXT,
            ("出入库类型", "业务类型", "收支类型", "类型", "借贷方向"),
        ),
        F("book_qty", "账面数量", QTY, ("账面数量", "账存数量", "账面数")),
        F("counted_qty", "实盘数量", QTY, ("实盘数量", "实存数量", "盘点数量", "实盘数")),
        F("lot", "批号", TEXT, ("批号", "生产批号", "批次")),
        F("expiry", "有效期至", DATE, ("有效期至", "失效日期", "有效期", "过期日期")),
        F("account", "账号", TEXT, ("收款账号", "账号", "银行账号", "本方账号", "收款人账号")),
        F("counter_account", "对方账号", TEXT, ("对方账号", "对方账户")),
        F(
            "economic_code",
            "经济分类",
            TEXT,
            ("经济分类", "经济分类科目", "支出经济分类", "科目", "会计科目", "预算科目"),
        ),
        F("purpose", "用途摘要", TEXT, ("用途", "摘要", "资金用途", "事由", "备注", "申请理由")),
        F("method", "采购方式", TEXT, ("采购方式", "采购形式")),
        F(
            "justification",
            "采购理由",
            TEXT,
            ("单一来源理由", "采购理由", "情况说明", "紧急采购说明"),
        ),
        F("person", "姓名", TEXT, ("姓名", "人员姓名", "领取人", "值班人员", "签收人", "经办人")),
        F("id_number", "身份证号", IDNO, ("身份证号", "身份证号码", "公民身份号码", "证件号码")),
        F("phone", "联系电话", TEXT, ("联系电话", "电话", "手机号", "手机号码")),
        F("address", "地址", TEXT, ("地址", "注册地址", "联系地址", "住址")),
        F("post", "岗位", TEXT, ("岗位", "值班岗位", "工作岗位", "科室", "所在单位")),
        F("tier", "补助档次", TEXT, ("补助档次", "档次", "补助类别", "人员类别")),
        F("days", "天数", INT, ("天数", "工作天数", "补助天数", "值班天数")),
        F("region", "地区", TEXT, ("地区", "区域", "所在地区", "县市区")),
        F("beds", "床位数", INT, ("床位数", "编制床位", "实际开放床位")),
        F("registered_on", "成立日期", DATE, ("成立日期", "注册日期", "登记日期")),
        F(
            "left_on",
            "离岗日期",
            DATE,
            ("离岗日期", "离职日期", "死亡日期", "调离日期", "停发日期"),
        ),
        F(
            "consent",
            "变更依据",
            TEXT,
            ("变更依据", "捐赠人同意书", "捐赠方同意", "变更说明", "调整依据"),
        ),
    ]
}


@dataclass(frozen=True)
class Kind:
    """A ledger kind: what it is called, words that identify it, fields it needs and may have."""

    code: str
    label: str
    keywords: tuple[str, ...]  # in a file name or title row
    required: tuple[str, ...]
    optional: tuple[str, ...]
    goods: bool = False  # quantities of items, not money


KINDS: dict[str, Kind] = {
    k.code: k
    for k in [
        Kind(
            "appropriation",
            "财政专项资金拨付",
            ("拨付", "拨款", "财政", "专项资金"),
            ("day", "target", "amount"),
            ("doc_no", "ref", "source", "purpose", "economic_code"),
        ),
        Kind(
            "payment",
            "资金支付明细",
            ("支付", "付款", "支出明细", "资金使用"),
            ("day", "target", "amount"),
            (
                "doc_no",
                "ref",
                "source",
                "invoice_no",
                "economic_code",
                "purpose",
                "account",
                "directed_to",
                "phone",
                "address",
            ),
        ),
        Kind(
            "bank",
            "捐赠账户银行流水",
            ("银行", "流水", "对账单", "交易明细"),
            ("day", "counterparty"),
            (
                "doc_no",
                "amount_in",
                "amount_out",
                "balance",
                "counter_account",
                "purpose",
                "account",
            ),
        ),
        Kind(
            "cash_donation",
            "捐赠资金登记",
            ("捐赠资金", "捐款", "现金捐赠", "资金登记"),
            ("day", "source", "amount"),
            ("doc_no", "ref", "target", "directed_to", "purpose", "phone", "address"),
        ),
        Kind(
            "goods_donation",
            "捐赠物资登记",
            ("捐赠物资", "物资捐赠", "物资登记", "受赠物资"),
            ("day", "source", "item", "quantity"),
            (
                "doc_no",
                "ref",
                "target",
                "warehouse",
                "directed_to",
                "spec",
                "standard",
                "grade",
                "uom",
                "amount",
                "unit_price",
                "lot",
                "expiry",
            ),
        ),
        Kind(
            "stock",
            "仓库出入库台账",
            ("出入库", "入库", "出库", "库存台账", "仓库"),
            ("item",),
            (
                "doc_no",
                "ref",
                "warehouse",
                "day",
                "day_in",
                "qty_in",
                "day_out",
                "qty_out",
                "direction",
                "quantity",
                "target",
                "source",
                "lot",
                "expiry",
                "uom",
                "spec",
                "standard",
                "grade",
            ),
        ),
        Kind(
            "stock_count",
            "库存盘点表",
            ("盘点",),
            ("day", "item", "counted_qty"),
            ("warehouse", "lot", "book_qty", "uom", "expiry"),
        ),
        Kind(
            "allocation",
            "物资分配（调拨）决定",
            ("分配", "调拨", "调配"),
            ("day", "target", "item", "quantity"),
            ("doc_no", "ref", "warehouse", "uom", "purpose", "directed_to", "grade"),
        ),
        Kind(
            "request",
            "物资需求申请",
            ("需求", "申请", "请领"),
            ("day", "target", "item", "quantity"),
            ("doc_no", "uom", "purpose", "beds"),
        ),
        Kind(
            "receipt",
            "受赠（领用）签收单",
            ("签收", "接收确认", "收货确认"),
            ("day", "target", "item", "quantity"),
            ("doc_no", "ref", "warehouse", "person", "uom", "lot"),
        ),
        Kind(
            "contract",
            "采购合同",
            ("合同", "采购"),
            ("day", "source", "item", "quantity", "unit_price"),
            (
                "doc_no",
                "amount",
                "uom",
                "method",
                "justification",
                "target",
                "spec",
                "standard",
                "phone",
                "address",
                "account",
                "registered_on",
            ),
        ),
        Kind(
            "delivery",
            "采购到货验收",
            ("到货", "验收", "交货"),
            ("day", "source", "item", "quantity"),
            ("doc_no", "ref", "warehouse", "target", "uom", "lot", "expiry"),
        ),
        Kind(
            "subsidy",
            "一线人员补助发放",
            ("补助", "补贴", "慰问金"),
            ("person", "id_number", "amount"),
            ("day", "post", "tier", "days", "rate", "region", "source", "account", "phone"),
        ),
        Kind(
            "roster",
            "值班排班表",
            ("排班", "值班", "考勤"),
            ("day", "person"),
            ("id_number", "post", "region", "days"),
        ),
        Kind(
            "disclosure",
            "捐赠信息公示",
            ("公示", "公开"),
            ("day", "source"),
            (
                "doc_no",
                "ref",
                "target",
                "item",
                "quantity",
                "amount",
                "grade",
                "uom",
                "directed_to",
            ),
        ),
        Kind(
            "staff",
            "人员名册",
            ("花名册", "名册", "人员名单", "管理人员"),
            ("person", "id_number"),
            ("target", "post", "phone", "address", "account", "left_on", "tier", "region"),
        ),
        Kind(
            "price_list",
            "物资参考价格",
            ("参考价", "参考价格", "基准价", "价格"),
            ("item", "unit_price"),
            ("day", "uom", "spec", "standard"),
        ),
    ]
}

# The step each ledger kind records in a donation's life, in trace order.
STEPS = {
    "received": "到账/接收",
    "booked": "登记入账",
    "stored": "入库",
    "allocated": "分配",
    "issued": "出库",
    "signed": "签收",
    "paid": "支付",
    "disclosed": "公示",
}
STEP_ORDER = {s: n for n, s in enumerate(STEPS)}
# Which ledger kind provides which step; stock and bank rows choose by direction.
KIND_STEP = {
    "bank": "received",
    "appropriation": "received",
    "cash_donation": "booked",
    "goods_donation": "booked",
    "stock": "stored",
    "allocation": "allocated",
    "receipt": "signed",
    "payment": "paid",
    "disclosure": "disclosed",
}

TOTAL_MARKERS = ("合计", "总计", "小计", "本页合计", "累计")


def all_synonyms() -> dict[str, str]:
    """Built-in header → field; the first kind-independent meaning wins."""
    out: dict[str, str] = {}
    for f in FIELDS.values():
        for s in (f.label, *f.synonyms):
            out.setdefault(header_key(s), f.name)
    return out


def header_key(text: str) -> str:
    """Headers compared without width, spaces, brackets or units in brackets: 金额（元） ~ 金额."""
    import re
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text or "")).strip()
    t = re.sub(r"\s+", "", t)
    t = re.sub(r"[(\[（【][^)\]）】]*[)\]）】]", "", t)  # (元), （万元）, [必填]
    t = t.replace("*", "").replace("：", "").replace(":", "")
    return t

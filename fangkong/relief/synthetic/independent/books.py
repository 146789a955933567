"""The collected folder: every body's ledgers, each office in its own layout and words."""

from __future__ import annotations

import zlib
from datetime import date, timedelta

import fangkong.relief.synthetic.independent.build as B

from .model import CashDonation, GoodsDonation, Hospital, World
from .output import Book, Col, Sheet, Style, table
from .plant import receipt_text

FIN = "财政局"
RCD = "红十字会"
CFD = "慈善总会"
CMD = "市疫情防控指挥部物资保障组"
HC = "卫健委"
HOSP = "医院"


class Shelf:
    """Collects books and gives each file its own seeded style stream."""

    def __init__(self, w: World):
        self.w = w
        self.books: list[Book] = []
        self.s = B.Streams(w.seed)

    def rng(self, path: str):
        return self.s(f"style/{path}")

    def add(self, path: str, fmt: str, body: str, kind: str, sheets: list[Sheet]) -> Book:
        book = Book(path, fmt, sheets, body, kind)
        self.books.append(book)
        return book


def name_of(x) -> str:
    return getattr(x, "name", "") if x is not None else ""


def month_sheets(records, day_of, label="{m}月"):
    by: dict[int, list] = {}
    for r in records:
        by.setdefault(day_of(r).month, []).append(r)
    return [(label.format(m=m), by[m]) for m in sorted(by)]


def item_name(w, rec) -> str:
    key = getattr(rec, "item_written", "")
    return w.items[key].name if key else rec.item.name


def item_std(w, rec) -> str:
    key = getattr(rec, "item_written", "")
    return w.items[key].standard if key else rec.item.standard


# ================================================================== finance bureau


def finance(sh: Shelf) -> None:
    w = sh.w
    path = f"{FIN}/2020年疫情防控资金到账登记表.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    s = Sheet("到账登记")
    table(
        s,
        [
            Col("date", rng.choice(("到账日期", "入账日期", "日期")), "date", lambda u: u.day),
            Col("doc", "文件文号", get=lambda u: u.doc, width=22),
            Col("name", "资金名称", get=lambda u: u.name, width=30),
            Col("amount", "到账金额", "amount", lambda u: u.amount, width=16),
            Col("note", "备注", get=lambda u: ""),
        ],
        sorted(w.upper, key=lambda u: (u.day, u.ref)),
        st,
        rng,
        title="楚江市财政局疫情防控资金到账登记表",
        unit="单位：元",
        totals=("amount",),
        notes=("说明：本表登记上级下达及本级安排的疫情防控资金，按到账日期排列。",),
    )
    sh.add(path, "xlsx", FIN, "upper_funds", [s])

    path = f"{FIN}/疫情防控专项资金拨付台账.{'xls' if w.scale.split_files else 'xlsx'}"
    rng = sh.rng(path)
    st = Style.pick(rng)
    st.date = "dot"
    sheets = []
    for name, recs in month_sheets(
        sorted(w.appropriations, key=lambda a: (a.day, a.ref)), lambda a: a.day, "2020年{m}月"
    ):
        s = Sheet(name)
        table(
            s,
            [
                Col(
                    "date",
                    rng.choice(("拨款日期", "下达日期", "拨付日期")),
                    "date",
                    lambda a: a.day,
                ),
                Col("no", "指标文号", get=lambda a: a.no, width=20),
                Col(
                    "recipient",
                    rng.choice(("用款单位", "受援单位", "收款单位")),
                    get=lambda a: name_of(a.recipient),
                    width=24,
                ),
                Col("purpose", "项目名称", get=lambda a: a.purpose, width=28),
                Col("codes", "允许支出经济分类", get=lambda a: a.codes, width=40),
                Col("amount", "拨付金额（元）", "amount", lambda a: a.amount, width=16),
            ],
            recs,
            st,
            rng,
            title=f"楚江市疫情防控专项资金拨付台账（{name}）",
            unit="单位：元",
            totals=("amount",),
            notes=("注：专项资金须专款专用，支出经济分类以拨款文件核定的科目为限。",),
        )
        sheets.append(s)
    sh.add(path, path.rsplit(".", 1)[1], FIN, "appropriations", sheets)

    path = f"{FIN}/国库集中支付明细表.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    pays = sorted([p for p in w.payments if p.payer == "财政局"], key=lambda p: (p.day, p.voucher))
    s = Sheet("支付明细")
    table(
        s,
        [
            Col("date", ("支付信息", "支付日期"), "date", lambda p: p.day),
            Col("voucher", ("支付信息", "支付凭证号"), get=lambda p: p.voucher, width=14),
            Col("payee", ("收款人信息", "收款人全称"), get=lambda p: p.payee, width=30),
            Col("account", ("收款人信息", "收款人账号"), get=lambda p: p.account, width=24),
            Col("bank", ("收款人信息", "开户银行"), get=lambda p: p.bank, width=24),
            Col("amount", "支付金额", "amount", lambda p: p.amount, width=16),
            Col("summary", "用途", get=lambda p: p.summary, width=30),
            Col("code", "经济分类科目", get=lambda p: p.code),
            Col("invoice", "发票号", get=lambda p: p.invoice),
            Col("contract", "合同编号", get=lambda p: p.contract.no if p.contract else ""),
        ],
        pays,
        st,
        rng,
        title="楚江市财政局国库集中支付明细表（疫情防控专项资金）",
        unit="金额单位：元",
        totals=("amount",),
    )
    sh.add(path, "xlsx", FIN, "treasury_payments", [s])

    path = f"{FIN}/支出经济分类科目表.xlsx"
    rng = sh.rng(path)
    codes = (
        ("30102", "津贴补贴"),
        ("30201", "办公费"),
        ("30213", "维修（护）费"),
        ("30217", "公务接待费"),
        ("30218", "专用材料费"),
        ("30226", "劳务费"),
        ("30227", "委托业务费"),
        ("30239", "其他交通费用"),
        ("30299", "其他商品和服务支出"),
        ("30305", "生活补助"),
        ("30399", "其他对个人和家庭的补助"),
        ("31002", "办公设备购置"),
        ("31003", "专用设备购置"),
        ("31006", "大型修缮"),
        ("31013", "公务用车购置"),
        ("31019", "其他交通工具购置"),
    )

    class R:
        def __init__(self, k, c, n):
            self.ref, self.code, self.name = f"code{k}", c, n

    s = Sheet("科目")
    table(
        s,
        [
            Col("code", "科目编码", get=lambda r: r.code),
            Col("name", "科目名称", get=lambda r: r.name, width=24),
        ],
        [R(k, c, n) for k, (c, n) in enumerate(codes)],
        Style(),
        rng,
        title="部门预算支出经济分类科目（摘录）",
        serial=None,
    )
    sh.add(path, "xlsx", FIN, "code_table", [s])


# ================================================================== charities


def _directed_text(g) -> str:
    if g.directed is None:
        return ""
    return getattr(g, "directed_written", "") or g.directed.name


def red_cross(sh: Shelf) -> None:
    w = sh.w
    gifts = sorted(
        [g for g in w.cash if g.charity == B.RC and g.in_register],
        key=lambda g: (g.registered, g.receipt_seq or 10**9, g.ref),
    )
    path = f"{RCD}/捐赠款/2020年接收社会捐赠资金登记表.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    sheets = []
    for name, recs in month_sheets(gifts, lambda g: g.registered):
        s = Sheet(name)
        table(
            s,
            [
                Col(
                    "date",
                    rng.choice(("到账日期", "入账日期", "收款日期")),
                    "date",
                    lambda g: g.received,
                ),
                Col("no", "捐赠编号", get=lambda g: "" if g.void else g.no, width=16),
                Col("receipt", "票据号码", get=lambda g: receipt_text(w, g), width=14),
                Col(
                    "donor",
                    "捐赠单位（个人）",
                    get=lambda g: "" if g.void else g.donor.name,
                    width=30,
                ),
                Col(
                    "amount",
                    "捐赠金额（元）",
                    "amount",
                    lambda g: None if g.void else g.amount,
                    width=16,
                ),
                Col(
                    "directed",
                    rng.choice(("定向受赠单位", "指定受援单位", "定向单位")),
                    get=_directed_text,
                    width=24,
                ),
                Col("consent", "变更依据", get=lambda g: g.consent, width=24),
                Col(
                    "note",
                    "备注",
                    get=lambda g: (
                        "作废"
                        if g.void
                        else ("网络募捐平台汇总" if g.donor.kind == "platform" else "")
                    ),
                ),
            ],
            recs,
            st,
            rng,
            title=f"楚江市红十字会接收新冠肺炎疫情防控社会捐赠资金登记表（2020年{name}）",
            unit="单位：元",
            totals=("amount",),
            blank_rate=0.004,
            notes=(
                "制表：财务部　　复核：",
                "注：定向捐赠按捐赠人意愿拨付，变更须取得捐赠人书面同意。",
            ),
        )
        sheets.append(s)
    sh.add(path, "xlsx", RCD, "cash_register", sheets)

    _bank_rc(sh)
    _goods_register(sh, B.RC)
    _disbursements(sh, B.RC)
    _disclosures(sh, B.RC)
    _managers(sh, B.RC)
    _warehouse(sh, B.WH_RC, f"{RCD}/物资仓库", "红十字会物资仓库")


def _bank_rc(sh: Shelf) -> None:
    w = sh.w
    lines = [b for b in w.bank if b.charity == B.RC]
    bal = 0
    balances = {}
    for b in lines:
        bal += b.credit - b.debit
        balances[b.ref] = bal
    groups = month_sheets(lines, lambda b: b.day) if w.scale.split_files else [("all", lines)]
    for name, recs in groups:
        path = (
            f"{RCD}/银行对账单/工行捐赠专户对账单_2020年{name.replace('月', '').zfill(2)}月.csv"
            if name != "all"
            else f"{RCD}/银行对账单/工行捐赠专户对账单_2020.csv"
        )
        rng = sh.rng(path)
        st = Style.pick(rng, csv_file=True)
        st.date, st.amount = "compact", "plain"
        s = Sheet("对账单")
        table(
            s,
            [
                Col("date", "交易日期", "date", lambda b: b.day),
                Col(
                    "time",
                    "交易时间",
                    get=lambda b: (
                        f"{9 + zlib.crc32(b.ref.encode()) % 8:02d}:{zlib.crc32(b.ref.encode()[::-1]) % 60:02d}:{b.seq * 7 % 60:02d}"
                    ),
                ),
                Col("summary", "摘要", get=lambda b: b.summary, width=30),
                Col("counterparty", "对方户名", get=lambda b: b.counterparty),
                Col("account", "对方账号", get=lambda b: b.account),
                Col("bank", "对方开户行", get=lambda b: b.bank),
                Col("debit", "借方发生额", "amount", lambda b: b.debit or None),
                Col("credit", "贷方发生额", "amount", lambda b: b.credit or None),
                Col("balance", "余额", "amount", lambda b: balances[b.ref]),
            ],
            recs,
            st,
            rng,
            subtitle="账号：1812 0210 0900 0456 789　户名：楚江市红十字会　币种：人民币",
            serial=None,
        )
        sh.add(path, "csv-gbk", RCD, "bank_statement", [s])


def _goods_register(sh: Shelf, charity: str) -> None:
    w = sh.w
    goods = sorted([g for g in w.goods if g.charity == charity], key=lambda g: (g.received, g.ref))
    if charity == B.RC:
        path = f"{RCD}/捐赠物资/接收捐赠物资登记表.xlsx"
        rng = sh.rng(path)
        st = Style.pick(rng)
        in_cases = {g.ref for g in goods if rng.random() < 0.4}
        s = Sheet("物资登记")
        table(
            s,
            [
                Col("date", "接收日期", "date", lambda g: g.received),
                Col("no", "捐赠编号", get=lambda g: g.no),
                Col("donor", "捐赠方", get=lambda g: g.donor.name, width=28),
                Col("item", "物资名称", get=lambda g: g.item.name, width=20),
                Col("spec", "规格型号", get=lambda g: g.item.spec, width=20),
                Col("standard", "执行标准", get=lambda g: g.item.standard),
                Col("unit", "单位", get=lambda g: "箱" if g.ref in in_cases else g.item.unit),
                Col(
                    "qty",
                    "数量",
                    "qty",
                    lambda g: g.qty // g.item.per_case if g.ref in in_cases else g.qty,
                ),
                Col("batch", "批号", get=lambda g: g.batch),
                Col("expiry", "有效期至", "date", lambda g: g.expiry),
                Col("value", "估值（元）", "amount", lambda g: g.value),
                Col(
                    "warehouse",
                    "存放地点",
                    get=lambda g: g.warehouse or f"直送{g.direct_to.name}",
                    width=24,
                ),
                Col("directed", "定向受赠单位", get=_directed_text, width=24),
                Col("consent", "变更依据", get=lambda g: g.consent),
            ],
            goods,
            st,
            rng,
            title="楚江市红十字会接收捐赠物资登记表",
            totals=("value",),
            notes=("注：数量以“单位”栏为准，按箱登记的见规格折算。",),
        )
        sh.add(path, "xlsx", RCD, "goods_register", [s])
    else:
        path = f"{CFD}/物资捐赠台账.csv"
        rng = sh.rng(path)
        st = Style.pick(rng, csv_file=True)
        s = Sheet("台账")
        table(
            s,
            [
                Col("date", "日期", "date", lambda g: g.received),
                Col("no", "编号", get=lambda g: g.no),
                Col("donor", "捐赠单位", get=lambda g: g.donor.name),
                Col("item", "品名", get=lambda g: g.item.name),
                Col(
                    "spec",
                    "规格",
                    get=lambda g: (
                        f"{g.item.box}{g.item.unit}/{g.item.box_unit}"
                        if g.item.box > 1
                        else g.item.spec
                    ),
                ),
                Col("standard", "标准", get=lambda g: g.item.standard),
                Col("qty", "数量", "qty", lambda g: g.qty),
                Col("unit", "单位", get=lambda g: g.item.unit),
                Col("batch", "批号", get=lambda g: g.batch),
                Col("expiry", "有效期", "date", lambda g: g.expiry),
                Col(
                    "warehouse",
                    "去向",
                    get=lambda g: f"入{g.warehouse}" if g.warehouse else f"直送{g.direct_to.name}",
                ),
                Col("directed", "定向", get=_directed_text),
                Col("consent", "捐赠方意见", get=lambda g: g.consent),
            ],
            goods,
            st,
            rng,
            title="楚江市慈善总会疫情防控捐赠物资台账",
        )
        sh.add(path, "csv-gb18030", CFD, "goods_register", [s])


def _disbursements(sh: Shelf, charity: str) -> None:
    w = sh.w
    rows = sorted(
        [x for x in w.disbursements if x.charity == charity], key=lambda x: (x.day, x.voucher)
    )
    folder = RCD if charity == B.RC else CFD
    path = f"{folder}/捐赠资金拨付明细表.xlsx" if charity == B.RC else f"{folder}/善款拨付登记.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    s = Sheet("拨付明细" if charity == B.RC else "Sheet1")
    table(
        s,
        [
            Col("date", rng.choice(("拨付日期", "付款日期", "日期")), "date", lambda x: x.day),
            Col("voucher", "凭证号", get=lambda x: x.voucher),
            Col(
                "payee",
                rng.choice(("受援单位", "接收单位", "收款单位")),
                get=lambda x: x.payee,
                width=28,
            ),
            Col("account", "收款账号", get=lambda x: x.account, width=24),
            Col("bank", "开户行", get=lambda x: x.bank, width=24),
            Col("amount", "拨付金额", "amount", lambda x: x.amount, width=16),
            Col("purpose", "资金用途", get=lambda x: x.purpose, width=30),
            Col("donation_no", "对应捐赠编号", get=lambda x: x.donation.no if x.donation else ""),
            Col(
                "directed",
                "定向单位",
                get=lambda x: _directed_text(x.donation) if x.donation else "",
            ),
            Col("consent", "变更依据", get=lambda x: x.consent),
        ],
        rows,
        st,
        rng,
        title=f"{B.CHARITY_NAMES[charity]}疫情防控捐赠资金拨付明细表",
        unit="单位：元",
        totals=("amount",),
    )
    sh.add(path, "xlsx", folder, "disbursements", [s])


def _disclosures(sh: Shelf, charity: str) -> None:
    w = sh.w
    folder = RCD if charity == B.RC else CFD
    batches = [b for b in w.batches_disclosed if b.charity == charity]
    rows_by: dict = {}
    for r in w.disclosures:
        if r.batch.charity == charity:
            rows_by.setdefault(r.batch.no, []).append(r)
    win_note = (
        "注：根据市疫情防控指挥部要求，接收的捐赠款物自接收之日起7日内公示（4月1日起为15日内）。"
    )

    def what(r):
        g = r.donation
        if isinstance(g, CashDonation):
            return "资金"
        return r.item_name

    def qty(r):
        g = r.donation
        if isinstance(g, GoodsDonation):
            return g.qty // g.item.per_case if getattr(g, "disclosed_in_cases", False) else r.qty
        return None

    def unit(r):
        g = r.donation
        if isinstance(g, GoodsDonation):
            return "箱" if getattr(g, "disclosed_in_cases", False) else g.item.unit
        return "元"

    cols_rc = lambda rng: [  # noqa: E731
        Col(
            "donor",
            rng.choice(("捐赠单位（个人）", "捐赠方", "捐赠人")),
            get=lambda r: r.donation.donor.name,
            width=30,
        ),
        Col("date", rng.choice(("捐赠时间", "接收日期", "日期")), "date", lambda r: r.received),
        Col("item", "捐赠物资/资金", get=what, width=20),
        Col("amount", "金额（元）", "amount", lambda r: r.amount),
        Col("qty", "数量", "qty", qty),
        Col("unit", "单位", get=unit),
    ]
    cols_cf = lambda rng, with_no: [  # noqa: E731
        *([Col("no", "编号", get=lambda r: r.donation.no)] if with_no else []),
        # The website export writes half-width parentheses: 楚江市(个体)… for 楚江市（个体）…
        Col(
            "donor",
            "捐赠人",
            get=lambda r: r.donation.donor.name.replace("（", "(").replace("）", ")"),
        ),
        Col("date", "接收时间", "date", lambda r: r.received),
        Col("item", "款物", get=what),
        Col("amount", "金额", "amount", lambda r: r.amount),
        Col("qty", "数量", "qty", qty),
        Col("unit", "计量单位", get=unit),
    ]
    if w.scale.split_files:
        for b in batches:
            recs = rows_by.get(b.no, [])
            if not recs:
                continue
            if charity == B.RC:
                path = f"{folder}/信息公示/第{b.no}期社会捐赠款物公示.xlsx"
                rng = sh.rng(path)
                s = Sheet(f"第{b.no}期")
                table(
                    s,
                    cols_rc(rng),
                    recs,
                    Style.pick(rng),
                    rng,
                    title=f"楚江市红十字会接收新冠肺炎疫情防控社会捐赠款物公示（第{b.no}期）",
                    subtitle=f"公示日期：{b.day.year}年{b.day.month}月{b.day.day}日",
                    notes=(win_note,),
                )
                sh.add(path, "xlsx", folder, "disclosure", [s])
            else:
                path = f"{folder}/信息公示/捐赠公示第{b.no}批.csv"
                rng = sh.rng(path)
                s = Sheet("公示")
                table(
                    s,
                    cols_cf(rng, b.day < B.D(2, 20)),
                    recs,
                    Style.pick(rng, csv_file=True),
                    rng,
                    title=f"楚江市慈善总会疫情防控捐赠款物公示（第{b.no}批，{b.day:%Y-%m-%d}公示）",
                    notes=(win_note,),
                )
                sh.add(path, "csv-utf8bom", folder, "disclosure", [s])
    else:
        path = f"{folder}/信息公示/捐赠款物公示汇总.xlsx"
        rng = sh.rng(path)
        sheets = []
        for b in batches:
            recs = rows_by.get(b.no, [])
            if not recs:
                continue
            s = Sheet(f"第{b.no}期")
            cols = cols_rc(rng) if charity == B.RC else cols_cf(rng, False)
            table(
                s,
                cols,
                recs,
                Style.pick(rng),
                rng,
                title=f"{B.CHARITY_NAMES[charity]}社会捐赠款物公示（第{b.no}期）",
                subtitle=f"公示日期：{b.day.year}年{b.day.month}月{b.day.day}日",
                notes=(win_note,),
            )
            sheets.append(s)
        sh.add(path, "xlsx", folder, "disclosure", sheets)


def _managers(sh: Shelf, charity: str) -> None:
    w = sh.w
    folder = RCD if charity == B.RC else CFD
    path = f"{folder}/机关工作人员名单.xlsx"
    rng = sh.rng(path)
    s = Sheet("名单")
    table(
        s,
        [
            Col("name", "姓名", get=lambda m: m.name),
            Col("post", "职务", get=lambda m: m.post),
            Col("phone", "联系电话", get=lambda m: m.phone),
            Col("address", "家庭住址", get=lambda m: m.address, width=40),
            Col("card", "工资卡号", get=lambda m: m.card, width=22),
        ],
        [m for m in w.managers if m.charity == charity],
        Style(),
        rng,
        title=f"{B.CHARITY_NAMES[charity]}机关工作人员名单",
    )
    sh.add(path, "xlsx", folder, "staff_list", [s])


def charity_fed(sh: Shelf) -> None:
    w = sh.w
    gifts = sorted(
        [g for g in w.cash if g.charity == B.CF and g.in_register],
        key=lambda g: (g.registered, g.receipt_seq or 10**9, g.ref),
    )
    path = f"{CFD}/捐赠收入明细账.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    st.amount, st.date = "comma", "cn"
    s = Sheet("捐赠收入")
    table(
        s,
        [
            Col("date", "日期", "date", lambda g: g.registered),
            Col("receipt", "收据号", get=lambda g: receipt_text(w, g)),
            Col("donor", "捐赠人", get=lambda g: "（作废）" if g.void else g.donor.name, width=30),
            Col("amount", "金额(元)", "amount", lambda g: None if g.void else g.amount),
            Col(
                "directed",
                "用途/定向",
                get=lambda g: _directed_text(g) or ("" if g.void else "非定向"),
            ),
            Col("no", "登记编号", get=lambda g: "" if g.void else g.no),
            Col("consent", "变更说明", get=lambda g: g.consent),
            Col("clerk", "经办人", get=lambda g: "张丽"),
        ],
        gifts,
        st,
        rng,
        title="楚江市慈善总会疫情防控捐赠收入明细账",
        serial=None,
        totals=("amount",),
        subtotal_by=lambda g: f"{g.registered.month}月",
    )
    sh.add(path, "xlsx", CFD, "cash_register", [s])

    lines = [b for b in w.bank if b.charity == B.CF]
    bal = 0
    balances = {}
    for b in lines:
        bal += b.credit - b.debit
        balances[b.ref] = bal
    path = f"{CFD}/建行募捐专户流水2020.{'xls' if w.scale.split_files else 'xlsx'}"
    rng = sh.rng(path)
    st = Style.pick(rng)
    s = Sheet("交易明细")
    table(
        s,
        [
            Col("date", "记账日期", "date", lambda b: b.day),
            Col("summary", "摘要", get=lambda b: b.summary, width=28),
            Col("credit", "收入金额", "amount", lambda b: b.credit or None),
            Col("debit", "支出金额", "amount", lambda b: b.debit or None),
            Col("balance", "账户余额", "amount", lambda b: balances[b.ref]),
            Col("counterparty", "对方户名", get=lambda b: b.counterparty, width=30),
            Col("account", "对方账号", get=lambda b: b.account, width=24),
        ],
        lines,
        st,
        rng,
        title="中国建设银行单位账户交易明细",
        subtitle="账户名称：楚江市慈善总会　账号：42050 16888 0000 0612",
        serial=None,
    )
    sh.add(path, path.rsplit(".", 1)[1], CFD, "bank_statement", [s])

    _goods_register(sh, B.CF)
    _disbursements(sh, B.CF)
    _disclosures(sh, B.CF)
    _managers(sh, B.CF)


# ================================================================== warehouses


def _warehouse(sh: Shelf, warehouse: str, folder: str, label: str) -> None:
    w = sh.w
    batches = sorted(
        [b for b in w.batches if b.warehouse == warehouse],
        key=lambda b: (b.intake_day, b.intake_no),
    )
    issues = sorted([i for i in w.issues if i.warehouse == warehouse], key=lambda i: (i.day, i.no))
    path = f"{folder}/入库单汇总.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    boxed = {
        b.ref for b in batches if rng.random() < 0.3 and b.qty % b.item.box == 0 and b.item.box > 1
    }
    sheets = []
    for name, recs in month_sheets(batches, lambda b: b.intake_day):
        s = Sheet(name)
        table(
            s,
            [
                Col("date", "入库日期", "date", lambda b: b.intake_day),
                Col("no", "入库单号", get=lambda b: b.intake_no),
                Col("item", "物资名称", get=lambda b: b.item.name, width=22),
                Col("spec", "规格型号", get=lambda b: b.item.spec, width=20),
                Col("standard", "执行标准", get=lambda b: b.item.standard),
                Col(
                    "unit", "单位", get=lambda b: b.item.box_unit if b.ref in boxed else b.item.unit
                ),
                Col(
                    "qty", "数量", "qty", lambda b: b.qty // b.item.box if b.ref in boxed else b.qty
                ),
                Col("batch", "批号", get=lambda b: b.batch_no),
                Col("expiry", "有效期至", "date", lambda b: b.expiry),
                Col(
                    "source",
                    "来源",
                    get=lambda b: (
                        {"捐赠": "社会捐赠", "采购": "政府采购", "调拨": "上级调拨"}[b.source]
                        + ("（储备）" if b.reserve else "")
                    ),
                ),
                Col(
                    "source_no",
                    rng.choice(("来源单号", "捐赠/合同编号", "关联单号")),
                    get=lambda b: b.source_no,
                    width=20,
                ),
                Col("party", "送货单位", get=lambda b: b.party, width=28),
            ],
            recs,
            st,
            rng,
            title=f"{label}物资入库单汇总（2020年{name}）",
            notes=("仓库保管员：　　　复核：",),
        )
        sheets.append(s)
    sh.add(path, "xlsx", folder, "intake", sheets)

    path = f"{folder}/出库单汇总.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    sheets = []
    for name, recs in month_sheets(issues, lambda i: i.day):
        s = Sheet(name)
        table(
            s,
            [
                Col("date", "出库日期", "date", lambda i: i.day),
                Col("no", "出库单号", get=lambda i: i.no),
                Col("plan", "调拨单号", get=lambda i: i.alloc.plan.no if i.alloc else ""),
                Col(
                    "recipient",
                    rng.choice(("领用单位", "接收单位", "受援单位")),
                    get=lambda i: i.recipient.name,
                    width=26,
                ),
                Col("item", "物资名称", get=lambda i: item_name(w, i), width=22),
                Col("standard", "标准", get=lambda i: item_std(w, i)),
                Col("unit", "单位", get=lambda i: i.batch.item.unit),
                Col("qty", "数量", "qty", lambda i: i.qty),
                Col("batch", "批号", get=lambda i: i.batch.batch_no),
                Col("expiry", "有效期", "date", lambda i: i.batch.expiry),
            ],
            recs,
            st,
            rng,
            title=f"{label}物资出库单汇总（2020年{name}）",
        )
        sheets.append(s)
    sh.add(path, "xlsx", folder, "issue", sheets)

    # Stock cards: a sheet per item with a running balance.
    path = f"{folder}/库存物资明细账.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    sheets = []

    class Mv:
        __slots__ = ("ref", "day", "doc", "summary", "batch", "inq", "outq")

        def __init__(self, ref, day, doc, summary, batch, inq, outq):
            self.ref, self.day, self.doc, self.summary, self.batch, self.inq, self.outq = (
                ref,
                day,
                doc,
                summary,
                batch,
                inq,
                outq,
            )

    for item in w.items.values():
        moves = [
            Mv(
                f"card.{b.ref}",
                b.intake_day,
                b.intake_no,
                f"{b.source}入库 {b.source_no}",
                b.batch_no,
                b.qty,
                None,
            )
            for b in batches
            if b.item is item
        ]
        moves += [
            Mv(f"card.{i.ref}", i.day, i.no, f"发{i.recipient.name}", i.batch.batch_no, None, i.qty)
            for i in issues
            if i.batch.item is item
        ]
        if not moves:
            continue
        moves.sort(key=lambda m: (m.day, m.outq is not None, m.doc))
        s = Sheet(item.name[:28].replace("/", "-"))
        table(
            s,
            [
                Col("date", "日期", "date", lambda m: m.day),
                Col("doc", "凭证号", get=lambda m: m.doc),
                Col("summary", "摘要", get=lambda m: m.summary, width=30),
                Col("batch", "批号", get=lambda m: m.batch),
                Col("in", ("收入", "数量"), "qty", lambda m: m.inq),
                Col("out", ("发出", "数量"), "qty", lambda m: m.outq),
                Col("balance", ("结存", "数量"), "qty", None),
            ],
            moves,
            st,
            rng,
            title=f"{label}库存物资明细账",
            subtitle=f"品名：{item.name}　规格：{item.spec}　计量单位：{item.unit}",
            serial=None,
            running=("balance", lambda m, bal: bal + (m.inq or 0) - (m.outq or 0)),
        )
        sheets.append(s)
    sh.add(path, "xlsx", folder, "stock_card", sheets)

    path = f"{folder}/库存盘点表.xlsx"
    rng = sh.rng(path)
    sheets = []
    for day in sorted({c.day for c in w.counts if c.warehouse == warehouse}):
        recs = [c for c in w.counts if c.warehouse == warehouse and c.day == day]
        s = Sheet(f"{day.month}月{day.day}日盘点")

        def q(c, v):
            return v // c.batch.item.box if c.in_boxes else v

        table(
            s,
            [
                Col("item", "物资名称", get=lambda c: c.batch.item.name, width=22),
                Col("spec", "规格", get=lambda c: c.batch.item.spec, width=20),
                Col("batch", "批号", get=lambda c: c.batch.batch_no),
                Col(
                    "unit",
                    "单位",
                    get=lambda c: c.batch.item.box_unit if c.in_boxes else c.batch.item.unit,
                ),
                Col("book", "账面数量", "qty", lambda c: q(c, getattr(c, "book_written", c.book))),
                Col("actual", "实盘数量", "qty", lambda c: q(c, c.actual)),
                Col(
                    "diff",
                    "盘盈(+)盘亏(-)",
                    "qty",
                    lambda c: q(c, c.actual - getattr(c, "book_written", c.book)) or None,
                ),
                Col("note", "备注", get=lambda c: c.note),
            ],
            recs,
            Style(qty="num"),
            rng,
            title=f"{label}库存物资盘点表",
            subtitle=f"盘点日期：{day.year}年{day.month}月{day.day}日",
            notes=("盘点人：　　　监盘人：　　　仓库负责人：",),
        )
        sheets.append(s)
    if sheets:
        sh.add(path, "xlsx", folder, "stock_count", sheets)


def command(sh: Shelf) -> None:
    w = sh.w
    _warehouse(sh, B.WH_CITY, f"{CMD}/市应急物资储备库", "市应急物资储备库")
    allocs = sorted(w.allocs, key=lambda a: (a.plan.day, a.plan.no, a.ref))
    by_month: dict = {}
    for a in allocs:
        by_month.setdefault(a.plan.day.month, {}).setdefault(a.plan.no, []).append(a)
    for m, plans in sorted(by_month.items()):
        path = f"{CMD}/分配方案/2020年{m}月物资分配方案.xlsx"
        rng = sh.rng(path)
        st = Style.pick(rng)
        sheets = []
        for no, recs in plans.items():
            plan = recs[0].plan
            s = Sheet(no.replace("FP2020-", "第").replace("HFP2020-", "红会第") + "批")
            table(
                s,
                [
                    Col("plan", "调拨单号", get=lambda a: a.plan.no),
                    Col(
                        "recipient",
                        rng.choice(("受援单位", "接收单位", "分配单位")),
                        get=lambda a: a.recipient.name,
                        width=26,
                    ),
                    Col("item", "物资名称", get=lambda a: item_name(w, a), width=22),
                    Col("spec", "规格", get=lambda a: a.item.spec, width=20),
                    Col("unit", "单位", get=lambda a: a.item.unit),
                    Col("qty", "分配数量", "qty", lambda a: a.qty),
                    Col(
                        "warehouse",
                        "发货仓库",
                        get=lambda a: a.warehouse or f"由{a.from_hospital.name}调出",
                    ),
                    Col("mode", "发货方式", get=lambda a: a.mode),
                    Col("source_no", "来源编号", get=lambda a: a.source_no),
                    Col(
                        "note",
                        "备注",
                        get=lambda a: (
                            ("定向捐赠" if a.directed else "")
                            + (f"；{a.consent}" if a.consent else "")
                        ),
                    ),
                ],
                recs,
                st,
                rng,
                title=f"楚江市疫情防控指挥部物资分配方案（{s.name}）",
                subtitle=f"日期：{plan.day.year}年{plan.day.month}月{plan.day.day}日",
                notes=("物资保障组（签章）",),
            )
            sheets.append(s)
        sh.add(path, "xlsx", CMD, "allocation_plan", sheets)
    signs = [x for x in w.signs if not isinstance(x.recipient, Hospital)]
    path = f"{CMD}/非医疗机构物资领用签收汇总.xlsx"
    rng = sh.rng(path)
    s = Sheet("签收")
    table(
        s,
        [
            Col("date", "签收日期", "date", lambda x: x.day),
            Col("recipient", "领用单位", get=lambda x: x.recipient.name, width=26),
            Col("doc_no", "出库单号", get=lambda x: x.doc_no),
            Col("item", "物资名称", get=lambda x: item_name(w, x)),
            Col("unit", "单位", get=lambda x: x.item.unit),
            Col("qty", "数量", "qty", lambda x: x.qty),
            Col("batch", "批号", get=lambda x: x.batch_no),
            Col("signer", "签收人", get=lambda x: "见原件"),
        ],
        signs,
        Style.pick(rng),
        rng,
        title="非医疗机构防疫物资领用签收汇总表",
    )
    sh.add(path, "xlsx", CMD, "sign_for", [s])


# ================================================================== health commission


def health(sh: Shelf) -> None:
    w = sh.w
    path = f"{HC}/医疗机构名录.xlsx"
    rng = sh.rng(path)
    s = Sheet("名录")
    table(
        s,
        [
            Col("name", "机构名称", get=lambda h: h.name, width=26),
            Col("alias", "简称/别名", get=lambda h: h.alias),
            Col("code", "统一社会信用代码", get=lambda h: h.code, width=22),
            Col("kind", "类别", get=lambda h: h.kind),
            Col("level", "等级", get=lambda h: h.level),
            Col("beds", "编制床位", "int", lambda h: h.beds),
            Col("designated", "是否定点救治医院", get=lambda h: "是" if h.designated else "否"),
            Col(
                "period",
                "运行时间",
                get=lambda h: f"{h.opened:%Y.%m.%d}-{h.closed:%Y.%m.%d}" if h.opened else "",
            ),
            Col("address", "地址", get=lambda h: h.address, width=30),
            Col("phone", "联系电话", get=lambda h: h.phone),
            Col("bank", "开户银行", get=lambda h: h.bank, width=24),
            Col("account", "账号", get=lambda h: h.account, width=22),
        ],
        w.hospitals,
        Style(),
        rng,
        title="楚江市医疗机构名录（疫情防控期间）",
        notes=("注：定点救治医院以市疫情防控指挥部公布名单为准。",),
    )
    sh.add(path, "xlsx-openpyxl", HC, "hospital_registry", [s])

    path = f"{HC}/一线医务人员花名册.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    s = Sheet("花名册")
    table(
        s,
        [
            Col("name", "姓名", get=lambda p: p.name),
            Col("sex", "性别", get=lambda p: p.sex),
            Col("id", "身份证号码", get=lambda p: p.id_no, width=22),
            Col("hospital", "工作单位", get=lambda p: p.hospital.name, width=24),
            Col("dept", "科室", get=lambda p: p.dept),
            Col("post", "岗位", get=lambda p: p.post),
            Col("tier", "补助类别", get=lambda p: p.tier),
            Col("phone", "手机号码", get=lambda p: p.phone),
            Col("address", "家庭住址", get=lambda p: p.address, width=36),
            Col("card", "银行卡号", get=lambda p: p.card, width=22),
            Col("start", "上岗日期", "date", lambda p: p.start),
            Col("separated", "离岗日期", "date", lambda p: p.separated),
            Col("reason", "离岗原因", get=lambda p: p.reason),
        ],
        w.staff,
        st,
        rng,
        title="楚江市新冠肺炎疫情防控一线医务人员花名册",
        unit="截至2020年6月30日",
    )
    sh.add(path, "xlsx", HC, "frontline_roster", [s])

    path = f"{HC}/临时性工作补助标准.xlsx"
    rng = sh.rng(path)

    class Rate:
        def __init__(self, ref, tier, rate):
            self.ref, self.tier, self.rate = ref, tier, rate

    s = Sheet("标准")
    table(
        s,
        [
            Col("tier", "类别", get=lambda r: r.tier),
            Col("rate", "日补助标准（元/人·天）", "amount", lambda r: r.rate),
            Col("from", "执行日期", "date", lambda r: B.D(1, 1)),
            Col("basis", "依据", get=lambda r: "人社部发〔2020〕8号", width=24),
            Col(
                "scope",
                "适用范围",
                get=lambda r: (
                    "直接接触待排查病例或确诊病例，诊查、治疗、护理、检验等"
                    if r.tier == "一类"
                    else "参加疫情防控的其他一线人员"
                ),
                width=44,
            ),
        ],
        [Rate("rate1", "一类", B.RATES["一类"]), Rate("rate2", "二类", B.RATES["二类"])],
        Style(),
        rng,
        title="一线医务人员临时性工作补助标准",
        serial=None,
    )
    sh.add(path, "xlsx-openpyxl", HC, "subsidy_rates", [s])

    path = f"{HC}/防疫物资疫情前参考价格.xlsx"
    rng = sh.rng(path)

    class PR:
        def __init__(self, item):
            self.ref, self.item = f"pr.{item.key}", item

    s = Sheet("参考价")
    table(
        s,
        [
            Col("item", "物资名称", get=lambda r: r.item.name, width=24),
            Col("spec", "规格", get=lambda r: r.item.spec, width=20),
            Col("unit", "计价单位", get=lambda r: r.item.unit),
            Col("price", "参考单价（元）", "amount", lambda r: r.item.ref_price),
            Col(
                "source",
                "价格来源",
                get=lambda r: (
                    "2019年省医用耗材集中采购中标价"
                    if r.item.priority
                    else "2019年第四季度市场询价"
                ),
            ),
        ],
        [PR(i) for i in w.items.values() if i.ref_price],
        Style(),
        rng,
        title="常用防疫物资疫情前（2019年）参考价格",
    )
    sh.add(path, "xlsx", HC, "price_reference", [s])

    path = f"{HC}/供应商名录.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    s = Sheet("供应商")
    table(
        s,
        [
            Col("name", rng.choice(("供应商名称", "企业名称")), get=lambda x: x.name, width=30),
            Col("code", "统一社会信用代码", get=lambda x: x.code, width=22),
            Col("founded", "成立日期", "date", lambda x: x.founded),
            Col("legal_rep", "法定代表人", get=lambda x: x.legal_rep),
            Col("address", "注册地址", get=lambda x: x.address, width=36),
            Col("phone", "联系电话", get=lambda x: x.phone),
            Col("bank", "开户银行", get=lambda x: x.bank, width=24),
            Col("account", "银行账号", get=lambda x: x.account, width=22),
            Col("scope", "经营范围", get=lambda x: x.scope, width=30),
            Col("note", "备注", get=lambda x: getattr(x, "note", "")),
        ],
        w.suppliers,
        st,
        rng,
        title="楚江市疫情防控物资供应商名录",
    )
    sh.add(path, "xlsx-openpyxl", HC, "supplier_registry", [s])

    path = f"{HC}/疫情防控物资采购合同台账.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    s = Sheet("合同台账")
    table(
        s,
        [
            Col("no", "合同编号", get=lambda c: c.no),
            Col("signed", "签订日期", "date", lambda c: c.signed),
            Col(
                "supplier",
                rng.choice(("中标单位", "供应商名称", "供货单位")),
                get=lambda c: c.supplier.name,
                width=30,
            ),
            Col("item", "物资名称", get=lambda c: c.item.name, width=22),
            Col("spec", "规格型号", get=lambda c: c.item.spec, width=20),
            Col("unit", "单位", get=lambda c: c.price_unit),
            Col("qty", "数量", "qty", lambda c: c.written_qty),
            Col("price", "单价（元）", "amount", lambda c: c.price),
            Col("amount", "合同金额（元）", "amount", lambda c: c.amount, width=16),
            Col("method", "采购方式", get=lambda c: c.method),
            Col("reason", "单一来源理由", get=lambda c: c.reason, width=40),
            Col("account", "收款账号", get=lambda c: c.payee_account, width=22),
            Col("bank", "开户行", get=lambda c: c.payee_bank, width=24),
        ],
        sorted(w.contracts, key=lambda c: c.no),
        st,
        rng,
        title="楚江市疫情防控物资采购合同台账",
        unit="金额单位：元",
        totals=("amount",),
    )
    sh.add(path, "xlsx", HC, "contracts", [s])

    path = f"{HC}/物资到货验收记录.xlsx"
    rng = sh.rng(path)
    st = Style.pick(rng)
    boxed = {dv.ref for dv in w.deliveries if rng.random() < 0.4 and dv.contract.item.per_case > 1}
    s = Sheet("验收记录")
    table(
        s,
        [
            Col("date", "验收日期", "date", lambda dv: dv.day),
            Col("contract", "合同编号", get=lambda dv: dv.contract.no),
            Col("supplier", "供应商", get=lambda dv: dv.contract.supplier.name, width=30),
            Col("item", "物资名称", get=lambda dv: dv.contract.item.name, width=22),
            Col("spec", "规格", get=lambda dv: dv.contract.item.spec, width=20),
            Col("unit", "单位", get=lambda dv: "箱" if dv.ref in boxed else dv.contract.item.unit),
            Col(
                "qty",
                "验收数量",
                "qty",
                lambda dv: dv.qty // dv.contract.item.per_case if dv.ref in boxed else dv.qty,
            ),
            Col("batch", "批号", get=lambda dv: dv.batch),
            Col("expiry", "有效期至", "date", lambda dv: dv.expiry),
            Col("place", "存放地点", get=lambda dv: dv.place, width=24),
            Col("inspector", "验收人", get=lambda dv: dv.inspector),
        ],
        sorted(w.deliveries, key=lambda dv: (dv.day, dv.ref)),
        st,
        rng,
        title="疫情防控采购物资到货验收记录",
    )
    sh.add(path, "xlsx", HC, "deliveries", [s])


# ================================================================== hospitals


def hospitals(sh: Shelf) -> None:
    w = sh.w
    for n, h in enumerate(w.hospitals):
        folder = f"{HOSP}/{h.folder}"
        _hospital_ledger(sh, h, folder, n)
        _hospital_signs(sh, h, folder, n)
        reqs = [r for r in w.requests if r.hospital is h]
        if reqs:
            path = f"{folder}/物资申请汇总.xlsx"
            rng = sh.rng(path)
            s = Sheet("申请")
            table(
                s,
                [
                    Col("date", "申请日期", "date", lambda r: r.day),
                    Col("no", "申请单号", get=lambda r: r.no),
                    Col("item", "物资名称", get=lambda r: r.item.name),
                    Col("qty", "申请数量", "qty", lambda r: r.qty),
                    Col("unit", "单位", get=lambda r: r.item.unit),
                    Col("reason", "申请事由", get=lambda r: r.reason, width=30),
                ],
                reqs,
                Style.pick(rng),
                rng,
                title=f"{h.name}向市疫情防控指挥部申请防护物资汇总",
            )
            sh.add(path, "xlsx", f"{HOSP}/{h.folder}", "request", [s])
        if w.scale.bed_reports and (h.designated or n % 5 == 0):
            _beds(sh, h, folder)
        if h.frontline:
            _duty(sh, h, folder, n)


def _hospital_ledger(sh: Shelf, h: Hospital, folder: str, n: int) -> None:
    w = sh.w
    lines = sorted(
        [p for p in w.payments if p.payer == h.ref],
        key=lambda p: (p.day, int(p.voucher.lstrip("记-") or 0), p.ref),
    )
    fmt = "xls" if n % 6 == 5 and w.scale.split_files else "xlsx"
    path = f"{folder}/疫情防控专项资金收支明细账.{fmt}"
    rng = sh.rng(path)
    st = Style.pick(rng)
    with_code = h.ref in w.invoice_code_hospitals

    def source(p):
        src = p.source
        if src is None:
            return ""
        return (
            getattr(src, "no", "")
            if hasattr(src, "codes")
            else B.CHARITY_NAMES.get(getattr(src, "charity", ""), "")
        )

    cols = [
        Col("date", "日期", "date", lambda p: p.day),
        Col("voucher", "凭证号", get=lambda p: p.voucher),
        Col("summary", "摘要", get=lambda p: p.summary, width=34),
        Col("source_doc", "资金来源（指标文号）", get=source, width=20),
        Col(
            "payee",
            rng.choice(("收款单位", "对方单位", "往来单位")),
            get=lambda p: "" if p.income else p.payee,
            width=28,
        ),
        Col("account", "收款账号", get=lambda p: p.account, width=22),
        Col("code", "经济分类", get=lambda p: p.code),
        *([Col("invoice_code", "发票代码", get=lambda p: p.invoice_code)] if with_code else []),
        Col("invoice", "发票号码", get=lambda p: p.invoice),
        Col("income", ("金额", "收入"), "amount", lambda p: p.amount if p.income else None),
        Col("expense", ("金额", "支出"), "amount", lambda p: None if p.income else p.amount),
        Col("balance", ("金额", "余额"), "amount", None),
    ]

    def run(p, bal):
        return bal + (p.amount if p.income else -p.amount)

    sheets = []
    if h.ref in w.monthly_vouchers or rng.random() < 0.3:
        bal = 0
        for name, recs in month_sheets(lines, lambda p: p.day):
            s = Sheet(name)
            start_bal = bal
            table(
                s,
                cols,
                recs,
                st,
                rng,
                title=f"{h.name}疫情防控专项资金收支明细账",
                subtitle=f"2020年{name}　上月结余：{start_bal / 100:.2f}元",
                serial=None,
                totals=("income", "expense"),
                running=("balance", run),
                running_start=start_bal,
            )
            bal = start_bal + sum(p.amount if p.income else -p.amount for p in recs)
            sheets.append(s)
    else:
        s = Sheet("明细账")
        table(
            s,
            cols,
            lines,
            st,
            rng,
            title=f"{h.name}疫情防控专项资金收支明细账",
            unit="单位：元",
            serial=None,
            totals=("income", "expense"),
            running=("balance", run),
            blank_rate=0.003,
            notes=("会计主管：　　　记账：　　　出纳：",),
        )
        sheets.append(s)
    sh.add(path, fmt, folder, "hospital_ledger", sheets).hospital = h.ref


def _hospital_signs(sh: Shelf, h: Hospital, folder: str, n: int) -> None:
    w = sh.w
    signs = [x for x in w.signs if x.recipient is h]
    if not signs:
        return
    csv_file = n % 4 == 3
    path = f"{folder}/防疫物资签收登记.{'csv' if csv_file else 'xlsx'}"
    rng = sh.rng(path)
    st = Style.pick(rng, csv_file=csv_file)
    boxed = {
        x.ref for x in signs if rng.random() < 0.35 and x.qty % x.item.box == 0 and x.item.box > 1
    }
    s = Sheet("签收")
    table(
        s,
        [
            Col("date", "签收日期", "date", lambda x: x.day),
            Col(
                "doc_no",
                rng.choice(("出库单号/调拨单号", "单据号", "来货单号")),
                get=lambda x: x.doc_no,
            ),
            Col("item", "物资名称", get=lambda x: item_name(w, x), width=22),
            Col("standard", "标准", get=lambda x: item_std(w, x)),
            Col("spec", "规格", get=lambda x: x.item.spec, width=20),
            Col("unit", "单位", get=lambda x: x.item.box_unit if x.ref in boxed else x.item.unit),
            Col(
                "qty", "实收数量", "qty", lambda x: x.qty // x.item.box if x.ref in boxed else x.qty
            ),
            Col("batch", "批号", get=lambda x: x.batch_no),
            Col("source_no", "捐赠/合同编号", get=lambda x: x.source_no),
            Col("signer", "签收人", get=lambda x: "物资科"),
        ],
        signs,
        st,
        rng,
        title=f"{h.name}防疫物资签收登记表",
    )
    sh.add(path, "csv-gbk" if csv_file else "xlsx", folder, "sign_for", [s])


def _beds(sh: Shelf, h: Hospital, folder: str) -> None:
    path = f"{folder}/床位使用日报.xlsx"
    rng = sh.rng(path)
    first = h.opened or B.D(1, 24)
    last = h.closed or B.CUTOFF

    class Day:
        __slots__ = ("ref", "day", "open", "inpatients", "admitted", "discharged")

    days = []
    x = first
    load = 0.2
    step = 1 if h.designated else 7
    while x <= last:
        r = Day()
        r.ref, r.day = f"bed.{h.ref}.{x}", x
        peak = 1.0 if B.D(2, 5) <= x <= B.D(3, 5) else 0.6 if x <= B.D(3, 31) else 0.2
        load = min(0.98, max(0.05, load * 0.8 + peak * 0.2 + rng.uniform(-0.03, 0.03)))
        r.open = h.beds if h.designated else h.beds * 9 // 10
        r.inpatients = int(r.open * load)
        r.admitted = rng.randrange(0, max(2, r.open // 30))
        r.discharged = rng.randrange(0, max(2, r.open // 30))
        days.append(r)
        x += timedelta(days=step)
    s = Sheet("日报")
    table(
        s,
        [
            Col("date", "日期", "date", lambda r: r.day),
            Col("beds", "核定床位", "int", lambda r: h.beds),
            Col("open", "开放床位", "int", lambda r: r.open),
            Col("inpatients", "在院患者", "int", lambda r: r.inpatients),
            Col("admitted", "当日收治", "int", lambda r: r.admitted),
            Col("discharged", "当日出院", "int", lambda r: r.discharged),
        ],
        days,
        Style.pick(rng),
        rng,
        title=f"{h.name}床位使用情况{'日' if h.designated else '周'}报",
        serial=None,
    )
    sh.add(path, "xlsx", folder, "bed_report", [s])


def _duty(sh: Shelf, h: Hospital, folder: str, n: int) -> None:
    w = sh.w
    att = [a for a in w.attendance if a.hospital is h]
    if att:
        path = f"{folder}/一线人员值班考勤表.xlsx"
        rng = sh.rng(path)
        marks = rng.choice((("√", "半"), ("√", "0.5"), ("1", "0.5"), ("○", "△")))
        sheets = []
        for m in sorted({a.month for a in att}):
            recs = [a for a in att if a.month == m]
            days = (B.month_end(m) - date(2020, m, 1)).days + 1
            cols = [
                Col("name", "姓名", get=lambda a: a.person.name, width=8),
                Col("id", "身份证号", get=lambda a: a.person.id_no, width=20),
                Col("dept", "科室", get=lambda a: a.person.dept),
            ]
            for dd in range(1, days + 1):
                cols.append(
                    Col(
                        f"d{dd}",
                        (f"{m}月", str(dd)),
                        get=lambda a, dd=dd: {1.0: marks[0], 0.5: marks[1]}.get(a.days.get(dd)),
                        width=4,
                    )
                )
            cols.append(Col("total", "合计天数", "qty", lambda a: a.total, width=8))
            s = Sheet(f"{m}月")
            table(
                s,
                cols,
                recs,
                Style(qty="num"),
                rng,
                title=f"{h.name}新冠肺炎救治一线人员值班考勤表（2020年{m}月）",
                notes=(f"说明：{marks[0]}为全天班，{marks[1]}为半天班（计0.5天），空白为休息。",),
            )
            sheets.append(s)
        sh.add(path, "xlsx", folder, "duty_attendance", sheets)
    subs = [b for b in w.subsidies if b.hospital is h]
    if subs:
        path = f"{folder}/临时性工作补助发放表.xlsx"
        rng = sh.rng(path)
        st = Style.pick(rng)
        sheets = []
        for m in sorted({b.month for b in subs}):
            recs = [b for b in subs if b.month == m]
            s = Sheet(f"{m}月")
            table(
                s,
                [
                    Col("name", "姓名", get=lambda b: b.person.name),
                    Col("id", "身份证号码", get=lambda b: b.id_written or b.person.id_no, width=22),
                    Col("dept", "科室", get=lambda b: b.person.dept),
                    Col("tier", "类别", get=lambda b: b.person.tier),
                    Col(
                        "days",
                        rng.choice(("工作天数", "补助天数", "天数")),
                        "qty",
                        lambda b: b.days,
                    ),
                    Col("rate", "补助标准（元/天）", "amount", lambda b: b.rate),
                    Col("amount", "补助金额（元）", "amount", lambda b: b.amount),
                    Col("paid_on", "发放日期", "date", lambda b: b.paid_on),
                    Col("sign", "领取人签字", get=lambda b: ""),
                ],
                recs,
                st,
                rng,
                title=f"{h.name}2020年{m}月一线医务人员临时性工作补助发放表",
                unit="单位：元",
                totals=("amount",),
                notes=("经办人：　　　科室负责人：　　　分管院领导：",),
            )
            sheets.append(s)
        sh.add(path, "xlsx", folder, "subsidy_sheet", sheets)


def write_all(w: World) -> list[Book]:
    sh = Shelf(w)
    finance(sh)
    red_cross(sh)
    charity_fed(sh)
    command(sh)
    health(sh)
    hospitals(sh)
    return sh.books

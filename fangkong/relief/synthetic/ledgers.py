"""Write a synthetic world as the ledgers the bodies really keep, in their varied layouts.

Each body writes differently, and the importer must read all of them: .xlsx files with a merged
title row above the header and a 合计 row below; CSV in GBK, GB18030 or UTF-8 with BOM; headers
spanning two merged rows (入库/出库 over 日期/数量); amounts as "1,234.50", "1234.5元", "1.2万" or
numeric cells; dates as 2020-02-03, 2020/2/3, 2020年2月3日, 20200203 or real Excel dates; some
quantities in 盒/箱 beside a 计量单位 column. Headers are schema synonyms, and different bodies
choose different ones for the same field. Each file holds exactly the rows of one body's ledger
of one kind (`World.ledger(kind, body)`), in that order, so tests can compare cell by cell.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from fangkong.lib.money import yuan
from fangkong.relief.ledger import schema
from fangkong.relief.synthetic.world import World

QTY_FIELDS = ("quantity", "qty_in", "qty_out", "book_qty", "counted_qty")


def plain(fen: int, scale: int = 100) -> str:
    """1234.5 / 120 — no thousands separator, no trailing zeros, never an exponent."""
    return format((Decimal(fen) / scale).normalize(), "f")


@dataclass(frozen=True)
class Col:
    """One column: the header as written, the record field it shows, and how it is written.

    Styles — dates: iso 2020-02-03, slash 2020/2/3, cn 2020年2月3日, compact 20200203, excel (a
    date cell); money: num (a number cell), comma 1,234.50, yuan 1234.5元, wan 1.2万 (only for
    whole hundreds of yuan, else comma), plain 1234.5; quantities: num, comma 1,200.
    """

    header: str
    field: str
    style: str = ""
    group: str = ""  # a merged top cell over this and the adjacent columns of the same group


@dataclass(frozen=True)
class Ledger:
    """One file: whose ledger of which kind, and its layout."""

    name: str
    body: str
    kind: str
    cols: tuple[Col, ...]
    encoding: str = ""  # CSV only: gbk / gb18030 / utf-8-sig
    title: str = ""  # a title row above the header (merged in .xlsx)
    total: bool = False  # a 合计 row below the data
    packs: bool = False  # every other row counts in 盒/箱 where the quantity is whole packs
    sheet: str = "Sheet1"

    @property
    def xlsx(self) -> bool:
        return self.name.endswith(".xlsx")

    @property
    def header_rows(self) -> int:
        return 2 if any(c.group for c in self.cols) else 1


def _date(d: date, style: str, xlsx: bool):
    if style == "excel":
        return d if xlsx else d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "compact":
        return f"{d:%Y%m%d}"
    return d.isoformat()


def _money(fen: int, style: str, xlsx: bool):
    if style == "comma":
        return yuan(fen)
    if style == "yuan":
        return f"{plain(fen)}元"
    if style == "wan":
        return f"{plain(fen, 1_000_000)}万" if fen % 10_000 == 0 else yuan(fen)
    if style == "plain" or not xlsx:
        return plain(fen)
    return fen / 100  # a number cell; parse_fen tolerates the float's rounding noise


def _number(n: int, style: str, xlsx: bool):
    if style == "comma":
        return f"{n:,}"
    return n if xlsx else str(n)


def render(col: Col, value, xlsx: bool):
    """A record value as the cell this column writes ("" for no value)."""
    if value is None or value == "":
        return ""
    kind = schema.FIELDS[col.field].type
    if kind == schema.DATE:
        return _date(value, col.style, xlsx)
    if kind == schema.MONEY:
        return _money(value, col.style, xlsx)
    if kind in (schema.QTY, schema.INT):
        return _number(value, col.style, xlsx)
    return str(value)


def table(world: World, ledger: Ledger) -> tuple[list[list], list | None]:
    """The data rows and the total row (or None) of one file, as cell values."""
    records = world.ledger(ledger.kind, ledger.body)
    items = {i.name: i for i in world.items.values()}
    qty_cols = [c for c in ledger.cols if c.field in QTY_FIELDS]
    rows = []
    for n, r in enumerate(records):
        item = items.get(r.get("item", ""))
        # Packs only where exact, so the pieces are always recoverable from 计量单位.
        packed = (
            ledger.packs
            and n % 2 == 0
            and item is not None
            and all((r.get(c.field) or 0) % item.per_pack == 0 for c in qty_cols)
        )
        row = []
        for c in ledger.cols:
            value = r.get(c.field)
            if packed and c.field in QTY_FIELDS and value:
                value //= item.per_pack
            elif packed and c.field == "uom":
                value = item.pack_unit
            row.append(render(c, value, ledger.xlsx))
        rows.append(row)
    if not ledger.total:
        return rows, None
    total = []
    for n, c in enumerate(ledger.cols):
        kind = schema.FIELDS[c.field].type
        # Sums of amounts and (when all rows count pieces) of quantities; rates are not summed.
        summed = (kind == schema.MONEY and c.field not in ("unit_price", "rate", "balance")) or (
            kind == schema.QTY and not ledger.packs
        )
        if n == 0:
            total.append("合计")
        elif summed:
            total.append(render(c, sum(r.get(c.field) or 0 for r in records), ledger.xlsx))
        else:
            total.append("")
    return rows, total


def header_cells(ledger: Ledger) -> list[list[str]]:
    """The header row(s) as cells: a group's name stands in its first column only."""
    if ledger.header_rows == 1:
        return [[c.header for c in ledger.cols]]
    top, bottom = [], []
    for n, c in enumerate(ledger.cols):
        if c.group:
            first = n == 0 or ledger.cols[n - 1].group != c.group
            top.append(c.group if first else "")
            bottom.append(c.header)
        else:
            top.append(c.header)
            bottom.append("")
    return [top, bottom]


def _write_xlsx(path: Path, ledger: Ledger, rows: list[list], total: list | None) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(ledger.sheet)
    bold = wb.add_format({"bold": True, "align": "center", "valign": "vcenter"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    width = len(ledger.cols)
    r = 0
    if ledger.title:
        ws.merge_range(0, 0, 0, width - 1, ledger.title, bold)
        r = 1
    if ledger.header_rows == 1:
        for c, h in enumerate(ledger.cols):
            ws.write_string(r, c, h.header, bold)
    else:
        c = 0
        while c < width:
            group = ledger.cols[c].group
            if not group:
                ws.merge_range(r, c, r + 1, c, ledger.cols[c].header, bold)
                c += 1
                continue
            last = c
            while last + 1 < width and ledger.cols[last + 1].group == group:
                last += 1
            if last > c:
                ws.merge_range(r, c, r, last, group, bold)
            else:
                ws.write_string(r, c, group, bold)
            for k in range(c, last + 1):
                ws.write_string(r + 1, k, ledger.cols[k].header, bold)
            c = last + 1
    r += ledger.header_rows
    for values in [*rows, *([total] if total else [])]:
        for c, v in enumerate(values):
            if isinstance(v, str):
                if v:
                    ws.write_string(r, c, v)
            elif isinstance(v, date):
                ws.write_datetime(r, c, v, day)
            else:
                ws.write_number(r, c, v)
        r += 1
    wb.close()


def _write_csv(path: Path, ledger: Ledger, rows: list[list], total: list | None) -> None:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    if ledger.title:
        out.writerow([ledger.title])
    out.writerows(header_cells(ledger))
    out.writerows(rows)
    if total:
        out.writerow(total)
    # Strict encoding: a name GBK cannot hold must not silently become "?".
    path.write_bytes(buf.getvalue().encode(ledger.encoding))


def write(world: World, ledger: Ledger, folder: Path) -> int:
    """One ledger file into `folder`; returns the data rows written."""
    rows, total = table(world, ledger)
    (_write_xlsx if ledger.xlsx else _write_csv)(folder / ledger.name, ledger, rows, total)
    # Where each record landed (file, sheet as the importer names it, Excel row number), so the
    # harness can compare a finding's evidence with the planted truth cell by cell.
    first = 1 + (1 if ledger.title else 0) + ledger.header_rows
    sheet = ledger.sheet if ledger.xlsx else ""
    for n, record in enumerate(world.ledger(ledger.kind, ledger.body)):
        record["_at"] = (ledger.name, sheet, first + n)
    return len(rows)


def plan(world: World) -> list[Ledger]:
    """Every file write_all writes: one per (body, ledger kind), each in its own layout."""
    C = Col
    name = {code: p.name for code, p in world.parties.items()}
    ledgers = [
        Ledger(
            "财政专项资金拨付.xlsx",
            "FIN",
            "appropriation",
            (
                C("拨款文号", "doc_no"),
                C("关联单号", "ref"),
                C("拨付日期", "day", "cn"),
                C("拨款单位", "source"),
                C("收款单位", "target"),
                C("拨付金额", "amount", "wan"),
                C("资金用途", "purpose"),
            ),
            title="黄冈市新冠肺炎疫情防控专项资金拨付明细表",
            total=True,
        ),
        Ledger(
            "国库集中支付明细表.xlsx",
            "FIN",
            "payment",
            (
                C("支付日期", "day", "excel"),
                C("凭证号", "doc_no"),
                C("付款单位", "source"),
                C("收款单位", "target"),
                C("收款账号", "account"),
                C("支付金额", "amount", "num"),
                C("资金来源编号", "ref"),
                C("发票号码", "invoice_no"),
                C("经济分类科目", "economic_code"),
                C("摘要", "purpose"),
            ),
            sheet="支付明细",
        ),
        Ledger(
            "红十字会捐赠资金登记表.xlsx",
            "RC",
            "cash_donation",
            (
                C("收据编号", "doc_no"),
                C("捐赠编号", "ref"),
                C("捐赠日期", "day", "iso"),
                C("捐赠方", "source"),
                C("金额（元）", "amount", "comma"),
                C("定向用途", "directed_to"),
                C("备注", "purpose"),
            ),
            title="黄冈市红十字会新冠肺炎疫情防控捐赠资金登记表",
            total=True,
        ),
        Ledger(
            "慈善总会捐款登记.csv",
            "CF",
            "cash_donation",
            (
                C("票据号", "doc_no"),
                C("捐赠登记号", "ref"),
                C("日期", "day", "slash"),
                C("捐赠单位或个人", "source"),
                C("捐赠金额", "amount", "yuan"),
                C("指定受赠方", "directed_to"),
                C("用途", "purpose"),
            ),
            encoding="gbk",
        ),
        Ledger(
            "红十字会捐赠物资登记表.xlsx",
            "RC",
            "goods_donation",
            (
                C("捐赠票据号", "doc_no"),
                C("捐赠编号", "ref"),
                C("接收日期", "day", "excel"),
                C("捐赠单位", "source"),
                C("物资名称", "item"),
                C("规格型号", "spec"),
                C("执行标准", "standard"),
                C("数量", "quantity", "num"),
                C("计量单位", "uom"),
                C("生产批号", "lot"),
                C("有效期至", "expiry", "iso"),
                C("存放仓库", "warehouse"),
                C("价值（元）", "amount", "comma"),
                C("定向单位", "directed_to"),
            ),
            title="黄冈市红十字会接收社会捐赠物资登记表",
            total=True,
        ),
        Ledger(
            "慈善总会受赠物资登记.csv",
            "CF",
            "goods_donation",
            (
                C("收据号", "doc_no"),
                C("物资来源编号", "ref"),
                C("捐赠日期", "day", "cn"),
                C("捐赠人", "source"),
                C("物品名称", "item"),
                C("规格", "spec"),
                C("捐赠数量", "quantity", "comma"),
                C("计量单位", "uom"),
                C("批号", "lot"),
                C("失效日期", "expiry", "compact"),
                C("仓库", "warehouse"),
                C("指定用途", "directed_to"),
            ),
            encoding="utf-8-sig",
            packs=True,
        ),
        Ledger(
            "红十字会物资仓库出入库台账.xlsx",
            "WH1",
            "stock",
            (
                C("业务日期", "day", "compact"),
                C("出入库类型", "direction"),
                C("凭证号", "doc_no"),
                C("来源单号", "ref"),
                C("物资名称", "item"),
                C("规格型号", "spec"),
                C("批号", "lot"),
                C("有效期至", "expiry", "slash"),
                C("数量", "quantity", "num"),
                C("计量单位", "uom"),
                C("捐赠单位", "source"),
                C("领用单位", "target"),
                C("仓库名称", "warehouse"),
            ),
            title="黄冈市红十字会物资仓库出入库明细账",
        ),
        Ledger(
            "应急物资储备库出入库台账.xlsx",
            "WH2",
            "stock",
            (
                C("凭证编号", "doc_no"),
                C("单号", "ref"),
                C("物资名称", "item"),
                C("仓库", "warehouse"),
                C("日期", "day_in", "excel", group="入库"),
                C("数量", "qty_in", "num", group="入库"),
                C("日期", "day_out", "excel", group="出库"),
                C("数量", "qty_out", "num", group="出库"),
                C("领用单位", "target"),
                C("供货单位", "source"),
                C("批号", "lot"),
                C("有效期至", "expiry", "iso"),
            ),
            sheet="台账",
        ),
        Ledger(
            "红十字会物资仓库库存盘点表.csv",
            "WH1",
            "stock_count",
            (
                C("盘点日期", "day", "slash"),
                C("仓库名称", "warehouse"),
                C("物资名称", "item"),
                C("批次", "lot"),
                C("有效期", "expiry", "iso"),
                C("账面数量", "book_qty"),
                C("实盘数量", "counted_qty"),
                C("计量单位", "uom"),
            ),
            encoding="gb18030",
        ),
        Ledger(
            "应急物资储备库库存盘点表.xlsx",
            "WH2",
            "stock_count",
            (
                C("盘点日期", "day", "excel"),
                C("存放地点", "warehouse"),
                C("品名", "item"),
                C("生产批号", "lot"),
                C("失效日期", "expiry", "cn"),
                C("计量单位", "uom"),
                C("账存数量", "book_qty", "num"),
                C("实存数量", "counted_qty", "num"),
            ),
            title="黄冈市应急物资储备库期末库存盘点表",
            packs=True,
        ),
        Ledger(
            "红十字会物资分配表.xlsx",
            "RC",
            "allocation",
            (
                C("分配文号", "doc_no"),
                C("捐赠编号", "ref"),
                C("分配日期", "day", "iso"),
                C("发货仓库", "warehouse"),
                C("分配对象", "target"),
                C("物资名称", "item"),
                C("分配数量", "quantity", "num"),
                C("计量单位", "uom"),
                C("定向用途", "directed_to"),
                C("用途", "purpose"),
            ),
            title="黄冈市红十字会疫情防控物资分配表",
            total=True,
        ),
        Ledger(
            "疫情防控指挥部物资调拨单.csv",
            "CMD",
            "allocation",
            (
                C("调拨单号", "doc_no"),
                C("来源编号", "ref"),
                C("日期", "day", "compact"),
                C("仓库", "warehouse"),
                C("受援单位", "target"),
                C("物资", "item"),
                C("数量", "quantity"),
                C("计量单位", "uom"),
                C("事由", "purpose"),
                C("指定受赠方", "directed_to"),
            ),
            encoding="gbk",
            packs=True,
        ),
        Ledger(
            "疫情防控指挥部物资需求申请汇总.xlsx",
            "CMD",
            "request",
            (
                C("申请编号", "doc_no"),
                C("申请日期", "day", "excel"),
                C("申请单位", "target"),
                C("床位数", "beds", "num"),
                C("需求物资", "item"),
                C("需求数量", "quantity", "num"),
                C("计量单位", "uom"),
                C("申请理由", "purpose"),
            ),
            title="黄冈市疫情防控指挥部医疗物资需求申请汇总表",
        ),
        Ledger(
            "卫健委疫情防控物资采购合同台账.xlsx",
            "HC",
            "contract",
            (
                C("编号", "doc_no", group="合同"),
                C("金额", "amount", "comma", group="合同"),
                C("签订日期", "day", "cn"),
                C("中标供应商", "source"),
                C("采购单位", "target"),
                C("物资名称", "item"),
                C("规格型号", "spec"),
                C("执行标准", "standard"),
                C("方式", "method", group="采购"),
                C("数量", "quantity", "num", group="采购"),
                C("单价", "unit_price", "num", group="采购"),
                C("计量单位", "uom"),
                C("单一来源理由", "justification"),
                C("联系电话", "phone"),
                C("注册地址", "address"),
                C("成立日期", "registered_on", "iso"),
            ),
            title="黄冈市卫生健康委员会疫情防控物资采购合同台账",
            total=True,
        ),
        Ledger(
            "应急物资储备库采购到货验收记录.csv",
            "WH2",
            "delivery",
            (
                C("到货日期", "day", "iso"),
                C("验收单号", "doc_no"),
                C("关联单号", "ref"),
                C("供应商", "source"),
                C("采购单位", "target"),
                C("收货仓库", "warehouse"),
                C("货物名称", "item"),
                C("到货数量", "quantity"),
                C("计量单位", "uom"),
                C("批号", "lot"),
                C("有效期至", "expiry", "compact"),
            ),
            encoding="gbk",
        ),
        Ledger(
            "红十字会资金支付明细.xlsx",
            "RC",
            "payment",
            (
                C("支付日期", "day", "excel"),
                C("凭证编号", "doc_no"),
                C("资金来源编号", "ref"),
                C("支付单位", "source"),
                C("收款单位", "target"),
                C("收款账号", "account"),
                C("支付金额", "amount", "comma"),
                C("指定受赠方", "directed_to"),
                C("资金用途", "purpose"),
                C("变更依据", "consent"),
            ),
            title="黄冈市红十字会疫情防控款项支付明细",
            total=True,
        ),
        Ledger(
            "慈善总会资金支付明细.csv",
            "CF",
            "payment",
            (
                C("付款日期", "day", "cn"),
                C("记账凭证号", "doc_no"),
                C("对应捐赠编号", "ref"),
                C("付款方", "source"),
                C("收款方", "target"),
                C("账号", "account"),
                C("付款金额", "amount", "yuan"),
                C("定向受赠单位", "directed_to"),
                C("摘要", "purpose"),
                C("捐赠人同意书", "consent"),
            ),
            encoding="utf-8-sig",
        ),
        Ledger(
            "红十字会捐赠账户银行流水.xlsx",
            "RC",
            "bank",
            (
                C("交易日期", "day", "excel"),
                C("交易流水号", "doc_no"),
                C("对方户名", "counterparty"),
                C("对方账号", "counter_account"),
                C("借方金额", "amount_out", "num"),
                C("贷方金额", "amount_in", "num"),
                C("余额", "balance", "num"),
                C("摘要", "purpose"),
                C("本方账号", "account"),
            ),
            title="单位客户账户交易明细（黄冈市红十字会）",
        ),
        Ledger(
            "慈善总会银行流水.csv",
            "CF",
            "bank",
            (
                C("记账日期", "day", "compact"),
                C("流水号", "doc_no"),
                C("对方账户名称", "counterparty"),
                C("对方账户", "counter_account"),
                C("收入", "amount_in", "plain"),
                C("支出", "amount_out", "plain"),
                C("账户余额", "balance", "plain"),
                C("用途", "purpose"),
            ),
            encoding="gb18030",
            title=f"账户名称：黄冈市慈善总会  账号：{world.parties['CF'].account}",
        ),
        Ledger(
            "一线医务人员临时性工作补助发放表.xlsx",
            "HC",
            "subsidy",
            (
                C("姓名", "person"),
                C("身份证号", "id_number"),
                C("发放单位", "source"),
                C("岗位", "post"),
                C("档次", "tier", group="补助"),
                C("天数", "days", "num", group="补助"),
                C("标准", "rate", "num", group="补助"),
                C("金额", "amount", "comma", group="补助"),
                C("发放日期", "day", "iso"),
            ),
            title="黄冈市一线医务人员临时性工作补助发放表",
            total=True,
        ),
        Ledger(
            "红十字会捐赠信息公示.xlsx",
            "RC",
            "disclosure",
            (
                C("公示日期", "day", "cn"),
                C("公示编号", "doc_no"),
                C("捐赠编号", "ref"),
                C("捐赠方", "source"),
                C("物资名称", "item"),
                C("数量", "quantity", "num"),
                C("计量单位", "uom"),
                C("金额（元）", "amount", "wan"),
                C("受赠方", "target"),
                C("定向用途", "directed_to"),
            ),
            title="黄冈市红十字会接受新冠肺炎疫情防控社会捐赠信息公示",
        ),
        Ledger(
            "慈善总会捐赠公示.csv",
            "CF",
            "disclosure",
            (
                C("公示日期", "day", "iso"),
                C("公示编号", "doc_no"),
                C("来源编号", "ref"),
                C("捐赠单位", "source"),
                C("物资", "item"),
                C("公示数量", "quantity", "comma"),
                C("计量单位", "uom"),
                C("公示金额", "amount", "comma"),
                C("受赠单位", "target"),
                C("指定用途", "directed_to"),
            ),
            encoding="utf-8-sig",
            packs=True,
        ),
    ]
    ledgers += [
        Ledger(
            "一线医务人员花名册.xlsx",
            "HC",
            "staff",
            (
                C("姓名", "person"),
                C("身份证号码", "id_number"),
                C("工作单位", "target"),
                C("岗位", "post"),
                C("人员类别", "tier"),
                C("联系电话", "phone"),
                C("住址", "address"),
                C("银行账号", "account"),
                C("离岗日期", "left_on", "iso"),
            ),
            title="黄冈市新冠肺炎疫情防控一线医务人员花名册",
        ),
        Ledger(
            "红十字会管理人员名单.csv",
            "RC",
            "staff",
            (
                C("姓名", "person"),
                C("公民身份号码", "id_number"),
                C("工作单位", "target"),
                C("岗位", "post"),
                C("手机号码", "phone"),
                C("联系地址", "address"),
                C("银行账号", "account"),
            ),
            encoding="gbk",
        ),
        Ledger(
            "慈善总会管理人员名单.csv",
            "CF",
            "staff",
            (
                C("姓名", "person"),
                C("身份证号", "id_number"),
                C("工作单位", "target"),
                C("岗位", "post"),
                C("联系电话", "phone"),
                C("地址", "address"),
                C("账号", "account"),
            ),
            encoding="utf-8-sig",
        ),
        Ledger(
            "疫情前防护物资参考价格.xlsx",
            "HC",
            "price_list",
            (
                C("物资名称", "item"),
                C("规格型号", "spec"),
                C("执行标准", "standard"),
                C("计量单位", "uom"),
                C("参考单价（元）", "unit_price", "comma"),
                C("价格日期", "day", "iso"),
            ),
            title="2019年第四季度医用防护物资参考价格",
        ),
    ]
    # Each hospital signs for what it receives and keeps a duty roster, in a layout of its own.
    receipts = [
        dict(
            cols=(
                C("签收单号", "doc_no"),
                C("签收日期", "day", "iso"),
                C("签收单位", "target"),
                C("物资名称", "item"),
                C("签收数量", "quantity", "num"),
                C("计量单位", "uom"),
                C("批号", "lot"),
                C("发货仓库", "warehouse"),
                C("来源单号", "ref"),
                C("签收人", "person"),
            ),
            ext=".xlsx",
            title="{name}疫情防控物资签收登记",
        ),
        dict(
            cols=(
                C("日期", "day", "slash"),
                C("签收单号", "doc_no"),
                C("接收单位", "target"),
                C("品名", "item"),
                C("实收数量", "quantity"),
                C("单位名称", "uom"),
                C("批次", "lot"),
                C("仓库", "warehouse"),
                C("关联单号", "ref"),
                C("经办人", "person"),
            ),
            ext=".csv",
            encoding="utf-8-sig",
        ),
        dict(
            cols=(
                C("签收单号", "doc_no"),
                C("物资来源编号", "ref"),
                C("签收日期", "day", "compact"),
                C("签收单位", "target"),
                C("物品名称", "item"),
                C("数量", "quantity"),
                C("计量单位", "uom"),
                C("签收人", "person"),
            ),
            ext=".csv",
            encoding="gbk",
            packs=True,
        ),
    ]
    rosters = [
        dict(
            cols=(
                C("值班日期", "day", "iso"),
                C("值班人员", "person"),
                C("公民身份号码", "id_number"),
                C("值班岗位", "post"),
            ),
            ext=".csv",
            encoding="gb18030",
        ),
        dict(
            cols=(
                C("值班日期", "day", "excel"),
                C("人员姓名", "person"),
                C("证件号码", "id_number"),
                C("工作岗位", "post"),
            ),
            ext=".xlsx",
            title="{name}一线医务人员值班排班表",
        ),
        dict(
            cols=(
                C("日期", "day", "slash"),
                C("姓名", "person"),
                C("身份证号码", "id_number"),
                C("科室", "post"),
            ),
            ext=".csv",
            encoding="utf-8-sig",
        ),
    ]
    for kind, suffix, variants in (
        ("receipt", "物资签收单", receipts),
        ("roster", "值班排班表", rosters),
    ):
        for n, body in enumerate(world.bodies(kind)):
            v = variants[n % len(variants)]
            ledgers.append(
                Ledger(
                    f"{name[body]}{suffix}{v['ext']}",
                    body,
                    kind,
                    v["cols"],
                    encoding=v.get("encoding", ""),
                    title=v.get("title", "").format(name=name[body]),
                    packs=v.get("packs", False),
                )
            )
    return ledgers


def write_all(world: World, folder: Path) -> dict[str, int]:
    """Every ledger of the world into `folder`; returns data rows written per file name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {ledger.name: write(world, ledger, folder) for ledger in plan(world)}

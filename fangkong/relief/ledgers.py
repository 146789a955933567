"""Write a synthetic world as the ledgers the bodies really keep, in their varied layouts.

Each body writes differently, and the importer must read all of them: the Red Cross keeps an
.xlsx with a title row above the header and a total row below, amounts like "1,234.50"; the
charity federation a GBK CSV with amounts like "1234.5元"; the warehouse an .xlsx whose header
spans two merged rows (入库/出库 over 日期/数量); the finance bureau amounts in 万元 and dates
written 2020年2月3日.
"""

import csv
import io
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from fangkong.relief.world import World


def yuan(fen: int) -> str:
    """1,234.50 — the finance style."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def plain(fen: int, scale: int = 100) -> str:
    """1234.5 / 120 — no thousands separator, no trailing zeros, never an exponent."""
    return format((Decimal(fen) / scale).normalize(), "f")


def _xlsx(path: Path, title: str, header: list[str], rows: list[list], total: list | None) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    bold = wb.add_format({"bold": True})
    ws.merge_range(0, 0, 0, len(header) - 1, title, bold)
    for c, h in enumerate(header):
        ws.write(1, c, h, bold)
    for r, row in enumerate(rows, start=2):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    if total:
        for c, v in enumerate(total):
            ws.write(len(rows) + 2, c, v, bold)
    wb.close()


def write_cash_register(world: World, path: Path) -> int:
    """Red Cross cash-donation register: title row, header, rows, total row; amounts 1,234.50."""
    flows = [f for f in world.of_kind("donate_cash") if f.target == "RC"]
    rows = [
        [
            f.ref,
            f"{f.day:%Y-%m-%d}",
            world.parties[f.source].name,
            yuan(f.amount_fen),
            world.parties[f.directed_to].name if f.directed_to else "非定向",
        ]
        for f in flows
    ]
    total = ["合计", "", "", yuan(sum(f.amount_fen for f in flows)), ""]
    _xlsx(
        path,
        "黄冈市红十字会新冠肺炎疫情防控捐赠资金登记表",
        ["收据编号", "捐赠日期", "捐赠方", "金额（元）", "定向用途"],
        rows,
        total,
    )
    return len(rows)


def write_charity_csv(world: World, path: Path) -> int:
    """Charity federation register as a GBK CSV; amounts written 1234.5元, dates 2020/2/3."""
    flows = [f for f in world.of_kind("donate_cash") if f.target == "CF"]
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["票据号", "日期", "捐赠单位或个人", "捐赠金额", "指定受赠方"])
    for f in flows:
        amount = f"{plain(f.amount_fen)}元"
        out.writerow(
            [
                f.ref,
                f"{f.day.year}/{f.day.month}/{f.day.day}",
                world.parties[f.source].name,
                amount,
                world.parties[f.directed_to].name if f.directed_to else "",
            ]
        )
    path.write_bytes(buf.getvalue().encode("gbk"))
    return len(flows)


def write_warehouse_ledger(world: World, path: Path) -> int:
    """Warehouse stock ledger with a two-row merged header: 入库 / 出库 over 日期 and 数量."""
    rows = []
    for f in world.flows:
        if f.kind == "stock_in":
            rows.append(
                [
                    f.ref,
                    world.items[f.item].name,
                    world.parties[f.target].name,
                    f"{f.day:%Y-%m-%d}",
                    f.quantity,
                    "",
                    "",
                    "",
                ]
            )
        elif f.kind == "issue":
            rows.append(
                [
                    f.ref,
                    world.items[f.item].name,
                    world.parties[f.source].name,
                    "",
                    "",
                    f"{f.day:%Y-%m-%d}",
                    f.quantity,
                    world.parties[f.target].name,
                ]
            )
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    bold = wb.add_format({"bold": True, "align": "center"})
    for c, h in enumerate(["单号", "物资名称", "仓库"]):
        ws.merge_range(0, c, 1, c, h, bold)
    ws.merge_range(0, 3, 0, 4, "入库", bold)
    ws.merge_range(0, 5, 0, 7, "出库", bold)
    for c, h in enumerate(["日期", "数量", "日期", "数量", "领用单位"], start=3):
        ws.write(1, c, h, bold)
    for r, row in enumerate(rows, start=2):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    wb.close()
    return len(rows)


def write_appropriations(world: World, path: Path) -> int:
    """Finance bureau appropriations: amounts in 万元, dates written 2020年2月3日."""
    flows = world.of_kind("appropriate")
    rows = [
        [
            f.ref,
            f"{f.day.year}年{f.day.month}月{f.day.day}日",
            world.parties[f.target].name,
            f"{plain(f.amount_fen, 1_000_000)}万",
        ]
        for f in flows
    ]
    _xlsx(path, "疫情防控专项资金拨付明细", ["文号", "拨付日期", "收款单位", "金额"], rows, None)
    return len(rows)


def write_all(world: World, folder: Path) -> dict[str, int]:
    """Every ledger of the world into `folder`; returns rows written per file."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "红十字会捐赠资金登记表.xlsx": write_cash_register(
            world, folder / "红十字会捐赠资金登记表.xlsx"
        ),
        "慈善总会捐款登记.csv": write_charity_csv(world, folder / "慈善总会捐款登记.csv"),
        "物资出入库台账.xlsx": write_warehouse_ledger(world, folder / "物资出入库台账.xlsx"),
        "财政专项资金拨付.xlsx": write_appropriations(world, folder / "财政专项资金拨付.xlsx"),
    }

"""The synthetic world's ledgers read back, through the cell parsers, to the world's own numbers."""

import csv
import io

from python_calamine import CalamineWorkbook

from fangkong.relief.ledgers import write_all
from fangkong.relief.parsing import parse_date, parse_fen, parse_quantity
from fangkong.relief.world import generate


def sheet(path):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def test_ledgers_round_trip_to_the_worlds_totals(tmp_path):
    w = generate(2020)
    written = write_all(w, tmp_path)
    assert all(n > 0 for n in written.values())

    red_cross = sheet(tmp_path / "红十字会捐赠资金登记表.xlsx")
    assert red_cross[0][0].startswith("黄冈市红十字会") and red_cross[1][0] == "收据编号"
    body, total = red_cross[2:-1], red_cross[-1]
    assert total[0] == "合计"
    assert (
        sum(parse_fen(r[3]) for r in body)
        == parse_fen(total[3])
        == sum(f.amount_fen for f in w.of_kind("donate_cash") if f.target == "RC")
    )

    text = (tmp_path / "慈善总会捐款登记.csv").read_bytes().decode("gbk")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert sum(parse_fen(r[3]) for r in rows) == sum(
        f.amount_fen for f in w.of_kind("donate_cash") if f.target == "CF"
    )
    assert all(parse_date(r[1]) >= w.flows[0].day for r in rows)

    stock = sheet(tmp_path / "物资出入库台账.xlsx")
    assert stock[0][3] == "入库" and stock[1][3:5] == ["日期", "数量"]
    stocked = sum(parse_quantity(r[4]) for r in stock[2:] if r[4] != "")
    issued = sum(parse_quantity(r[6]) for r in stock[2:] if r[6] != "")
    assert stocked == sum(f.quantity for f in w.of_kind("stock_in"))
    assert issued == sum(f.quantity for f in w.of_kind("issue"))

    finance = sheet(tmp_path / "财政专项资金拨付.xlsx")[2:]
    assert sum(parse_fen(r[3]) for r in finance) == sum(
        f.amount_fen for f in w.of_kind("appropriate")
    )
    assert parse_date(finance[0][1]) == w.of_kind("appropriate")[0].day

"""The one sheet reader (lib/sheets.py) and the one date and money grammar (lib/cells.py)."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from fangkong.lib import cells, sheets


# --- Dates: one case per form of the grammar. ---
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2020-02-03", date(2020, 2, 3)),
        ("2020/2/3", date(2020, 2, 3)),
        ("2020.2.3", date(2020, 2, 3)),
        ("2020年2月3日", date(2020, 2, 3)),
        ("2020年2月3", date(2020, 2, 3)),
        ("2020 - 02 - 03", date(2020, 2, 3)),
        ("2020-02-03 10:30", date(2020, 2, 3)),
        ("2020-02-03T10:30:00", date(2020, 2, 3)),
        ("２０２０－０２－０３", date(2020, 2, 3)),  # full-width
        ("20200203", date(2020, 2, 3)),
        (20200203, date(2020, 2, 3)),
        (20200203.0, date(2020, 2, 3)),
        (43864, date(2020, 2, 3)),  # an Excel serial day number
        (43864.75, date(2020, 2, 3)),  # with a time of day
        ("43864", date(2020, 2, 3)),
        (datetime(2020, 2, 3, 9, 0), date(2020, 2, 3)),
        (date(2020, 2, 3), date(2020, 2, 3)),
        ("", None),
        (None, None),
    ],
)
def test_each_date_form_reads(cell, expected):
    assert cells.parse_date(cell) == expected


@pytest.mark.parametrize("cell", ["2.3", "2月3日", "2-3", "2/3"])
def test_month_day_forms_need_the_year(cell):
    with pytest.raises(cells.CellError):
        cells.parse_date(cell)
    assert cells.parse_date(cell, year=2020) == date(2020, 2, 3)


@pytest.mark.parametrize(
    "cell",
    ["03/02/2020", "2020-02-30", "2020-13-01", "yesterday", 5, 19999, 73051, "1.5e4", True, 1.5],
)
def test_what_is_ambiguous_or_impossible_is_refused(cell):
    with pytest.raises(cells.CellError):
        cells.parse_date(cell)


# --- Money. ---
@pytest.mark.parametrize(
    ("cell", "yuan"),
    [
        ("1234.5", Decimal("1234.5")),
        ("1,234.50", Decimal("1234.50")),
        ("¥1234", Decimal("1234")),
        ("￥ 1,234", Decimal("1234")),
        ("RMB1234", Decimal("1234")),
        ("人民币1234元", Decimal("1234")),
        ("1234.5元", Decimal("1234.5")),
        ("1.2万", Decimal("12000")),
        ("1.2万元", Decimal("12000")),
        ("3亿", Decimal("300000000")),
        ("(1,234.50)", Decimal("-1234.50")),
        ("-5", Decimal("-5")),
        (1234.5, Decimal("1234.5")),
        (12, Decimal("12")),
    ],
)
def test_each_money_form_reads(cell, yuan):
    assert cells.parse_money(cell) == yuan


@pytest.mark.parametrize("cell", ["", None, "一千元", "12元5角", "1.2.3", True, "USD 5"])
def test_unreadable_money_is_refused(cell):
    with pytest.raises(cells.CellError):
        cells.parse_money(cell)


# --- Reading files. ---
def test_text_in_every_encoding_reads_the_same():
    # Without a BOM, UTF-16 is told by the zero bytes of digits and separators, as tables have.
    text = "姓名,单位,手机\n张三,黄州区审计局,13800000001\n"
    for data in (
        text.encode("utf-8"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),
        text.encode("gbk"),
        text.encode("gb18030"),
        text.encode("utf-16"),  # with BOM
        text.encode("utf-16-le"),
        text.encode("utf-16-be"),
    ):
        [sheet] = sheets.read_sheets(data)
        assert sheet.rows == [["姓名", "单位", "手机"], ["张三", "黄州区审计局", "13800000001"]]


def test_the_delimiter_is_guessed_below_a_title_line():
    data = "2020年捐赠登记表\n日期\t捐赠方\t金额\n2020-02-03\t甲公司\t1,000.00\n".encode()
    [sheet] = sheets.read_sheets(data)
    assert sheet.delimiter == "\t"
    assert sheet.rows[2] == ["2020-02-03", "甲公司", "1,000.00"]


def test_a_workbook_is_read_by_its_content_from_bytes_or_a_path(tmp_path):
    wb = Workbook()
    wb.active.title = "人员"
    wb.active.append(["姓名", "单位"])
    wb.active.append(["张三", "黄州区审计局"])
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "roster.csv"  # the name says CSV; the content is a workbook
    path.write_bytes(buf.getvalue())
    for source in (buf.getvalue(), path):
        [sheet] = sheets.read_sheets(source)
        assert sheet.name == "人员" and sheet.rows == [["姓名", "单位"], ["张三", "黄州区审计局"]]


def test_a_zip_bomb_is_refused_before_inflating(settings):
    settings.SHEET_MAX_UNPACKED_BYTES = 1024 * 1024
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<x/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (2 * 1024 * 1024))
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_sheets(buf.getvalue())
    assert err.value.code == sheets.UNPACKED_TOO_LARGE and err.value.params == {"limit_mb": 1}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"   \n", sheets.EMPTY),
        (b"\x00\x01\x02binary\x00\xff" * 3, sheets.GARBAGE),
        (b"PK\x03\x04 not really a zip", sheets.GARBAGE),
        (bytes([0xB0, 0xA1, 0xFF, 0xFF, 0x80]) * 3, sheets.ENCODING),
    ],
)
def test_unreadable_files_say_why(data, code):
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_sheets(data)
    assert err.value.code == code


def test_limits_of_rows_and_columns_are_the_callers():
    data = "\n".join(",".join(["x"] * 5) for _ in range(20)).encode()
    assert len(sheets.read_sheets(data)[0].rows) == 20
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_sheets(data, max_rows=10)
    assert err.value.code == sheets.TOO_MANY_ROWS
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_sheets(data, max_columns=4)
    assert err.value.code == sheets.TOO_WIDE

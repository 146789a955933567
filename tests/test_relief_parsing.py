"""The ledger cell parsers: money to integer fen, quantities, dates, party names."""

from datetime import date
from decimal import Decimal

import pytest

from fangkong.relief.ledger.parsing import (
    ERR_AMOUNT,
    ERR_DATE,
    ERR_FEN,
    ERR_NEGATIVE,
    ParseError,
    normalise_party,
    parse_date,
    parse_fen,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("cell", "fen"),
    [
        ("1,234.50", 123450),
        ("1234.5元", 123450),
        ("1.2万", 1_200_000),
        ("1.2万元", 1_200_000),
        ("￥8,000", 800000),
        ("１，２３４．５０", 123450),
        (1234.5, 123450),
        (Decimal("0.01"), 1),
        (3, 300),
        (1234.5000000000002, 123450),
        ("0.5亿", 5_000_000_000),
        (" 100 元 ", 10000),
    ],
)
def test_amounts_as_ledgers_write_them(cell, fen):
    assert parse_fen(cell) == fen


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("一千元", ERR_AMOUNT),
        ("", ERR_AMOUNT),
        (None, ERR_AMOUNT),
        ("12.345", ERR_FEN),
        ("-5", ERR_NEGATIVE),
        ("(5)", ERR_NEGATIVE),
        ("1.2.3", ERR_AMOUNT),
    ],
)
def test_bad_amounts_say_what_is_wrong(cell, message):
    with pytest.raises(ParseError) as exc:
        parse_fen(cell)
    assert str(exc.value).startswith(message.split("{")[0])


def test_refunds_may_be_negative_when_allowed():
    assert parse_fen("(1,000.00)", allow_negative=True) == -100000


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2020-02-03", date(2020, 2, 3)),
        ("2020/2/3", date(2020, 2, 3)),
        ("2020年2月3日", date(2020, 2, 3)),
        ("20200203", date(2020, 2, 3)),
        ("2020.2.3", date(2020, 2, 3)),
        ("２０２０年２月３日", date(2020, 2, 3)),
        (43864, date(2020, 2, 3)),
        ("2020-02-03 14:30:00", date(2020, 2, 3)),
    ],
)
def test_dates_as_ledgers_write_them(cell, expected):
    assert parse_date(cell) == expected


def test_month_day_needs_the_year_of_the_ledger():
    assert parse_date("2月3日", year=2020) == date(2020, 2, 3)
    assert parse_date("2.3", year=2020) == date(2020, 2, 3)
    for cell in ["2月3日", "2020-02-30", "next week", ""]:
        with pytest.raises(ParseError) as exc:
            parse_date(cell)
        assert str(exc.value).startswith(ERR_DATE.split("{")[0])


def test_quantities():
    assert parse_quantity("1,000只") == 1000
    assert parse_quantity("2.5万") == 25000
    assert parse_quantity(12) == 12
    with pytest.raises(ParseError):
        parse_quantity("若干")


def test_party_names_match_across_spellings():
    variants = [
        "湖北某某医疗器械有限公司",
        "湖北 某某医疗器械（有限）公司",
        "湖北某某医疗器械有限责任公司",
        "湖北某某医疗器械(有限)公司",
        "湖北某某醫療器械有限公司".replace("醫療", "医疗"),
    ]
    assert len({normalise_party(v) for v in variants}) == 1
    assert normalise_party("黄冈市中心医院") != normalise_party("黄冈市中医医院")

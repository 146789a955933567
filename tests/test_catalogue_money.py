"""Catalogue tests for money in, payments and the screens, each on a tiny hand-made set of ledgers
imported through the real importer: what must be found (with its amount or quantity and evidence
rows) and the look-alikes that must not."""

import csv
import io
import math
from datetime import date, timedelta

import pytest

from fangkong.accounts.models import User
from fangkong.org import services as org_services
from fangkong.org.models import Role
from fangkong.relief import catalogue, services
from fangkong.relief.catalogue.screens import conformity
from fangkong.relief.ledger import store
from fangkong.relief.ledger.links import words
from fangkong.relief.synthetic.injectors.money import fifo_late
from tests.relief_fixtures import import_folder

pytestmark = pytest.mark.django_db

CASH = ["收据编号", "捐赠编号", "捐赠日期", "捐赠方", "金额（元）", "定向用途"]
BANK = ["交易日期", "交易流水号", "对方户名", "对方账号", "借方金额", "贷方金额", "余额", "摘要"]
PAYOUT = ["支付日期", "凭证编号", "资金来源编号", "支付单位", "收款单位", "收款账号", "支付金额"]
PAYOUT += ["指定受赠方", "变更依据"]
FISCAL = ["支付日期", "凭证号", "付款单位", "收款单位", "收款账号", "支付金额", "资金来源编号"]
FISCAL += ["发票号码", "经济分类科目", "摘要"]
GRANT = ["拨款文号", "关联单号", "拨付日期", "拨款单位", "收款单位", "拨付金额", "资金用途"]
CONTRACT = ["合同编号", "签订日期", "中标供应商", "采购单位", "物资名称", "数量", "计量单位"]
CONTRACT += ["单价", "金额", "联系电话", "注册地址"]

RC, FIN = "黄冈市红十字会", "黄冈市财政局"
H1, H2 = "黄冈市中心医院", "大别山区域医疗中心"
SUP_A, SUP_B = "湖北甲医疗器械有限公司", "湖北乙医疗器械有限公司"
REGISTER = "红十字会捐赠资金登记表.csv"
STATEMENT = "红十字会捐赠账户银行流水.csv"
PAYOUTS = "红十字会资金支付明细.csv"
TREASURY = "国库集中支付明细表.csv"
GRANTS = "财政专项资金拨付.csv"
CONTRACTS = "卫健委疫情防控物资采购合同台账.csv"
D0 = date(2020, 1, 23)


@pytest.fixture
def audit(tmp_path, settings):
    """load(files) → a project with those ledgers; files = {name: (header, rows)}."""
    settings.MEDIA_ROOT = tmp_path / "media"
    user = User.objects.create_user("money-auditor")
    org_services.role_assign(actor=None, user=user, role=Role.AUDITOR)

    def load(files: dict) -> Audit:
        project = services.project_create(
            actor=user, name="资金测试", period_start=D0, period_end=date(2020, 3, 22)
        )
        folder = tmp_path / f"ledgers{project.pk}"
        folder.mkdir()
        for name, (header, rows) in files.items():
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
            (folder / name).write_bytes(buf.getvalue().encode("utf-8-sig"))
        import_folder(user, project, folder)
        return Audit(project)

    return load


class Audit:
    """Run tests on an imported project; evidence as [(file name, row number)] in hit order."""

    def __init__(self, project):
        self.project = project
        self.files = dict(project.files.values_list("id", "name"))

    def run(self, test_id: str, **params) -> list:
        with store.project_db(self.project.pk) as con:
            hits = catalogue.evaluate(con, [test_id], {test_id: params})[test_id]
            where = {
                r: (self.files[f], n)
                for r, f, n in con.execute(
                    "SELECT row_id, file_id, row_no FROM raw_entries"
                ).fetchall()
            }
        for h in hits:
            h.cells = [where[r] for r in h.row_ids]
        return hits


def day(n: int) -> str:
    return (D0 + timedelta(days=n)).isoformat()


def statement(rows):
    """Bank rows (day, counterparty, yuan out, yuan in, memo) with serials and running balance."""
    out, balance = [], 0
    for n, (d, party, yuan_out, yuan_in, memo) in enumerate(rows, 1):
        balance += yuan_in - yuan_out
        out.append(
            [
                day(d),
                f"{n:08d}",
                party,
                f"6222{n:012d}",
                f"{yuan_out:.2f}" if yuan_out else "",
                f"{yuan_in:.2f}" if yuan_in else "",
                f"{balance:.2f}",
                memo,
            ]
        )
    return out


# --- money in: bank against registers ---


def test_bank_and_register_are_matched_one_to_one(audit):
    register = [
        ["HZ0001", "JZ01", day(1), "湖北长江实业集团有限公司", "10,000.00", ""],  # row 2
        ["HZ0002", "JZ02", day(2), "黄冈市工商联", "50,000.00", ""],  # 3: paid by a proxy
        ["HZ0003", "JZ03", day(4), "黄冈市商会", "20,000.00", ""],  # 4: never arrived
        ["HZ0004", "JZ04", day(13), "湖北长江实业集团有限公司", "10,000.00", ""],  # 5: again
        ["HZ0005", "JZ05", day(6), "李明", "3,000.00", ""],  # 6
    ]
    bank = statement(
        [
            (1, "湖北长江实业集团", 0, 10_000, "捐款"),  # row 2: name without 有限公司
            (2, "张三", 0, 50_000, "代黄冈市工商联捐款 JZ02"),  # 3: the memo names the gift
            (7, "李明", 0, 3_000, "捐款"),  # 4: one day later than the register
            (9, "黄冈市鑫源商贸有限公司", 0, 80_000, "捐款"),  # 5: off the books
            (10, "中国银行", 0, 12.34, "结息"),  # 6: interest, not a gift
            (13, "湖北长江实业集团", 0, 10_000, "捐款"),  # 7: the second gift
            (20, H1, 60_000, 0, "拨付"),
        ]
    )
    # A charity whose statement was not handed over: nothing can be said about its register.
    other = [["CS0001", "JZ90", day(3), "王五", "8,000.00", ""]]
    a = audit(
        {
            REGISTER: (CASH, register),
            STATEMENT: (BANK, bank),
            "慈善总会捐款登记.csv": (CASH, other),
        }
    )
    [unbooked] = a.run("BANK-UNBOOKED")
    assert unbooked.cells == [(STATEMENT, 5)] and unbooked.amount_fen == 8_000_000
    assert "黄冈市鑫源商贸有限公司" in unbooked.detail and "80,000.00" in unbooked.detail
    [missing] = a.run("REG-NO-BANK")
    assert missing.cells == [(REGISTER, 4)] and missing.amount_fen == 2_000_000
    assert "JZ03" in missing.detail
    # Dates further apart than allowed do not pair: the proxy's memo still does.
    assert {h.cells[0] for h in a.run("BANK-UNBOOKED", days=0)} == {(STATEMENT, 4), (STATEMENT, 5)}


# --- number series ---


def test_series_gap_and_reuse(audit):
    rows = []
    for n, (number, d, payer) in enumerate(
        [
            (1, 1, RC),
            (2, 1, RC),
            (3, 2, RC),
            (4, 3, RC),  # row 5; 5 and 6 are missing
            (7, 4, RC),  # row 6
            (8, 5, RC),
            (9, 6, RC),  # row 8 …
            (9, 9, RC),  # row 9: … and the same number on another day
            (10, 10, RC),
            (11, 11, RC),  # rows 11 and 12: one voucher, two lines: not reuse
            (11, 11, RC),
            (12, 12, RC),
            (100, 20, RC),  # a new number range, not a gap of 87
        ],
        1,
    ):
        rows.append(
            [day(d), f"HZF2020-{number:04d}", f"JZ{n:02d}", payer, H1, "6222", f"{1000 + n}.00"]
            + ["", ""]
        )
    a = audit({PAYOUTS: (PAYOUT, rows)})
    [gap] = a.run("SERIES-GAP")
    assert gap.cells == [(PAYOUTS, 5), (PAYOUTS, 6)] and gap.quantity == 2
    assert "HZF2020-0005至HZF2020-0006" in gap.detail
    assert a.run("SERIES-GAP", max_missing=100)[-1].quantity == 87
    assert a.run("SERIES-GAP", kinds="cash_donation") == []
    [reuse] = a.run("SERIES-REUSE")
    assert reuse.cells == [(PAYOUTS, 8), (PAYOUTS, 9)] and reuse.amount_fen == 100_800
    assert "HZF2020-0009" in reuse.detail


# --- payout speed ---


def test_payout_slow_charity_and_hospital(audit):
    bank = statement(
        [
            (0, "甲", 0, 100_000, "捐款"),  # row 2: paid on day 2
            (1, "乙", 0, 200_000, "捐款"),  # 3: paid on day 28
            (2, H1, 100_000, 0, "拨付"),
            (9, "丙", 0, 300_000, "捐款"),  # 5: paid on day 28
            (28, H2, 500_000, 0, "拨付"),
            (45, "丁", 0, 1_000, "捐款"),  # within 15 days of the end: not judged
            (46, H2, 1_000, 0, "拨付"),
        ]
    )
    grants = [
        ["黄财社〔2020〕1号", "CZ01", day(0), FIN, H1, "1,000,000.00", "物资采购"],  # row 2
        ["黄财社〔2020〕2号", "CZ02", day(0), FIN, H2, "400,000.00", "物资采购"],  # row 3
    ]
    treasury = [
        [day(25), "GK01", H1, SUP_A, "6222", "1,000,000.00", "CZ01", "FP01", "30218", "货款"],
        [day(5), "GK02", H2, SUP_B, "6222", "400,000.00", "CZ02", "FP02", "30218", "货款"],
        [day(46), "GK03", H2, SUP_B, "6222", "1.00", "", "FP03", "30218", "货款"],
    ]
    a = audit({STATEMENT: (BANK, bank), GRANTS: (GRANT, grants), TREASURY: (FISCAL, treasury)})
    charity, hospital = a.run("PAYOUT-SLOW")
    assert charity.cells == [(STATEMENT, 3), (STATEMENT, 5)] and charity.amount_fen == 50_000_000
    assert "仅占 17%" in charity.detail and "最长滞留 27 天" in charity.detail
    assert hospital.cells == [(GRANTS, 2)] and hospital.amount_fen == 100_000_000
    assert H1 in hospital.detail
    assert a.run("PAYOUT-SLOW", days=30) == []  # everything was paid within 30 days
    assert len(a.run("PAYOUT-SLOW", min_yuan=600_000)) == 1  # only the hospital's million


def test_fifo_late_mirrors_the_test():
    d = D0
    late, judged = fifo_late(
        [(d, 100, "a"), (d + timedelta(days=1), 200, "b")],
        [(d + timedelta(days=2), 100), (d + timedelta(days=28), 200)],
        15,
        d + timedelta(days=40),
    )
    assert late == [("b", 200)] and judged == 300


# --- payments ---


def test_payee_fuzzy(audit):
    treasury = [
        [day(1), "GK01", H1, SUP_A, "4210 0000 0000 0011 11", "10,000.00", "CZ1", "F1", "", ""],
        [day(2), "GK02", H1, SUP_A, "421000000000001111", "12,000.00", "CZ1", "F2", "", ""],
        [day(3), "GK03", H2, SUP_B, "421000000000002222", "9,000.00", "CZ2", "F3", "", ""],
        [day(4), "GK04", H2, "湖北丙商贸有限公司", "421000000000001111", "7,500.00", "CZ2", "F4"]
        + ["", ""],  # row 5: paid into A's account
    ]
    contracts = [
        ["HT01", day(0), SUP_A, H1, "医用外科口罩", 100, "只", "1.00", "100.00"]
        + ["0713-8000001", "湖北省黄冈市黄州区东门路1号"],
        ["HT02", day(0), "湖北甲医疗器材有限公司", H1, "医用外科口罩", 100, "只", "1.00", "100.00"]
        + ["0713 8000001", "湖北省黄冈市黄州区新港路5号"],  # row 3: a look-alike, A's phone
        ["HT03", day(0), SUP_B, H2, "医用外科口罩", 100, "只", "1.00", "100.00"]
        + ["0713-8000002", "湖北省黄冈市黄州区赤壁大道8号"],
        ["HT04", day(0), "黄冈市丁建材有限公司", H2, "医用外科口罩", 100, "只", "1.00", "100.00"]
        + ["0713-8000004", "湖北省黄冈市黄州区赤壁大道8号"],  # same building, unrelated name
    ]
    a = audit({TREASURY: (FISCAL, treasury), CONTRACTS: (CONTRACT, contracts)})
    account, phone = a.run("PAYEE-FUZZY")
    assert account.cells == [(TREASURY, 5), (TREASURY, 2), (TREASURY, 3)]
    assert account.amount_fen == 750_000 and "4210**********1111" in account.detail
    assert "湖北丙商贸有限公司" in account.detail
    assert phone.cells[0] == (CONTRACTS, 3) and (CONTRACTS, 2) in phone.cells
    assert phone.amount_fen is None and "电话0713***0001" in phone.detail
    # Demanding near-identical names leaves only the shared account.
    assert [h.cells[0] for h in a.run("PAYEE-FUZZY", min_similarity=95)] == [(TREASURY, 5)]


def test_earmark(audit):
    treasury = [
        [day(1), "GK01", H1, SUP_A, "6222", "10,000.00", "CZ1", "F1", "30218 专用材料费", "货款"],
        [day(2), "GK02", H1, SUP_A, "6222", "8,800.00", "CZ1", "F2", "30217 公务接待费", "接待"],
        [day(3), "GK03", H1, SUP_B, "6222", "50,000.00", "CZ1", "F3", "30299", "办公楼装修工程款"],
        [day(4), "GK04", H2, SUP_B, "6222", "600,000.00", "CZ2", "F4", "31003 专用设备购置"]
        + ["购置负压救护车辆（转运专用）"],  # a vehicle for the epidemic: allowed
        [day(5), "GK05", H2, SUP_B, "6222", "3,000.00", "CZ2", "F5", "30305 生活补助", "生活补助"],
    ]
    a = audit({TREASURY: (FISCAL, treasury)})
    hits = a.run("EARMARK")
    assert [h.cells for h in hits] == [[(TREASURY, 3)], [(TREASURY, 4)]]
    assert [h.amount_fen for h in hits] == [880_000, 5_000_000]
    assert "30217" in hits[0].detail and "装修" in hits[1].detail
    assert len(a.run("EARMARK", codes="302,303,31003")) == 1  # 30217 allowed; 装修 still not
    assert len(a.run("EARMARK", except_words="")) == 3  # without exceptions, 车辆 counts


def test_split_purchase(audit):
    treasury = [
        [day(1), "GK01", H1, SUP_A, "6222", "45,000.00", "CZ1", "F1", "30218", "货款"],  # row 2
        [day(2), "GK02", H1, SUP_A, "6222", "48,000.00", "CZ1", "F2", "30218", "货款"],
        [day(3), "GK03", H1, SUP_A, "6222", "47,500.00", "CZ1", "F3", "30218", "货款"],
        [day(1), "GK04", H1, SUP_B, "6222", "45,000.00", "CZ1", "F4", "30218", "货款"],
        [day(10), "GK05", H1, SUP_B, "6222", "46,000.00", "CZ1", "F5", "30218", "货款"],  # 9 days
        [day(1), "GK06", H2, SUP_A, "6222", "20,000.00", "CZ2", "F6", "30218", "货款"],  # small
        [day(2), "GK07", H2, SUP_A, "6222", "45,000.00", "CZ2", "F7", "30218", "货款"],
    ]
    payouts = [  # a charity passing three gifts on to one hospital: not purchases
        [day(d), f"HZF{d}", f"JZ{d}", RC, H1, "6222", "45,000.00", "", ""] for d in (1, 2, 3)
    ]
    a = audit({TREASURY: (FISCAL, treasury), PAYOUTS: (PAYOUT, payouts)})
    [split] = a.run("SPLIT-PURCHASE")
    assert split.cells == [(TREASURY, 2), (TREASURY, 3), (TREASURY, 4)]
    assert split.amount_fen == 14_050_000 and "50,000 元限额" in split.detail
    assert len(a.run("SPLIT-PURCHASE", days=10)) == 2  # the 9-day pair joins
    assert a.run("SPLIT-PURCHASE", limits="200000") == []


def test_directed_not_honoured(audit):
    register = [
        ["HZ01", "JZ01", day(1), "甲", "10,000.00", H1],  # row 2: paid to H2, no consent
        ["HZ02", "JZ02", day(1), "乙", "20,000.00", H1],  # 3: paid to H2 with consent
        ["HZ03", "JZ03", day(1), "丙", "30,000.00", H1],  # 4: paid as directed
        ["HZ04", "JZ04", day(1), "丁", "40,000.00", ""],  # 5: not directed
        ["HZ05", "JZ05", day(1), "戊", "50,000.00", H2],  # 6: "无" is no consent
    ]
    payouts = [
        [day(3), "HZF01", "JZ01", RC, H2, "6222", "10,000.00", H1, ""],  # row 2
        [day(3), "HZF02", "JZ02", RC, H2, "6222", "20,000.00", H1]
        + ["捐赠人书面同意变更（2020-02-10 函）"],
        [day(3), "HZF03", "JZ03", RC, "黄冈市 中心医院", "6222", "30,000.00", H1, ""],
        [day(3), "HZF04", "JZ04", RC, H2, "6222", "40,000.00", "", ""],
        [day(3), "HZF05", "JZ05", RC, H1, "6222", "50,000.00", "", "无"],  # row 6
    ]
    a = audit({REGISTER: (CASH, register), PAYOUTS: (PAYOUT, payouts)})
    first, second = a.run("DIRECTED-NOT-HONOURED")
    assert first.cells == [(PAYOUTS, 2), (REGISTER, 2)] and first.amount_fen == 1_000_000
    assert H1 in first.detail and H2 in first.detail
    assert second.cells == [(PAYOUTS, 6), (REGISTER, 6)] and second.amount_fen == 5_000_000


# --- screens ---


def test_benford_and_round_screens(audit):
    n = 900
    # Log-uniform amounts follow Benford's law; amounts that all start with 5 do not.
    natural = [
        [day(i % 50), f"GK{i:04d}", H1, SUP_A, "6222", f"{10 ** (1 + 3 * (i + 0.5) / n):.2f}"]
        + [f"CZ{i}", f"F{i}", "30218", "货款"]
        for i in range(n)
    ]
    fives = [
        [day(i % 50), f"HZF{i:04d}", f"JZ{i}", RC, H1, "6222", f"{5_000 + 7 * i}.00", "", ""]
        for i in range(120)
    ]
    a = audit({TREASURY: (FISCAL, natural), PAYOUTS: (PAYOUT, fives)})
    [one] = a.run("BENFORD-1", min_n=100, max_rows=10)
    mad = 2 * (1 - math.log10(1 + 1 / 5)) / 9
    assert f"MAD={mad:.4f}" in one.detail and "不符合" in one.detail
    assert len(one.cells) == 10 and {f for f, _r in one.cells} == {PAYOUTS}
    assert one.cells[0] == (PAYOUTS, 121)  # the largest amount first
    assert a.run("BENFORD-1") == []  # fewer than 300 amounts: not tested by default
    [two] = a.run("BENFORD-2", min_n=100)
    assert "前两位" in two.detail and {f for f, _r in two.cells} == {PAYOUTS}
    # Whole yuan: every one of the charity's payouts, about 1% of the treasury's.
    rounds = a.run("ROUND-EXCESS", unit_yuan=1)
    assert [h.cells[0][0] for h in rounds] == [PAYOUTS] and "占 100%" in rounds[0].detail


def test_conformity_bands_and_word_lists():
    assert [conformity(m, 1) for m in (0.005, 0.01, 0.014, 0.02)] == [
        "高度符合",
        "可接受",
        "勉强符合",
        "不符合",
    ]
    assert conformity(0.0019, 2) == "勉强符合" and conformity(0.0023, 2) == "不符合"
    assert words("车辆, 装修、办公家具；旅游") == ["车辆", "装修", "办公家具", "旅游"]

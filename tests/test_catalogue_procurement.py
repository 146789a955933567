"""Catalogue tests for procurement, related beneficiaries, subsidies and disclosure, each on a tiny
hand-made set of ledgers imported through the real importer: what must be found (with its amount,
quantity and evidence rows) and the look-alikes that must not."""

import csv
import io
from datetime import date, timedelta

import pytest

from fangkong.accounts.models import User
from fangkong.lib import idcard
from fangkong.org import services as org_services
from fangkong.org.models import Role
from fangkong.relief import catalogue, services
from fangkong.relief.catalogue import procurement
from fangkong.relief.catalogue.disclosure import deadline_table
from fangkong.relief.catalogue.subsidies import rate_table
from fangkong.relief.ledger import store
from tests.relief_fixtures import import_folder

pytestmark = pytest.mark.django_db

CONTRACT = ["合同编号", "签订日期", "中标供应商", "采购单位", "物资名称", "规格型号", "采购方式"]
CONTRACT += ["数量", "计量单位", "单价", "金额", "单一来源理由", "联系电话", "注册地址", "成立日期"]
DELIVERY = ["到货日期", "验收单号", "关联单号", "供应商", "采购单位", "收货仓库", "货物名称"]
DELIVERY += ["到货数量", "计量单位"]
PRICES = ["物资名称", "计量单位", "参考单价（元）", "价格日期"]
FISCAL = ["支付日期", "凭证号", "付款单位", "收款单位", "收款账号", "支付金额", "资金来源编号"]
FISCAL += ["发票号码", "摘要"]
STAFF = ["姓名", "身份证号码", "工作单位", "岗位", "人员类别", "联系电话", "住址", "银行账号"]
STAFF += ["离岗日期"]
MANAGERS = ["姓名", "公民身份号码", "工作单位", "岗位", "手机号码", "联系地址", "银行账号"]
CASH = ["收据编号", "捐赠编号", "捐赠日期", "捐赠方", "金额（元）", "定向用途"]
GOODS = ["捐赠票据号", "捐赠编号", "接收日期", "捐赠单位", "物资名称", "数量", "计量单位"]
GOODS += ["价值（元）"]
BANK = ["交易日期", "交易流水号", "对方户名", "对方账号", "借方金额", "贷方金额", "余额", "摘要"]
PAYOUT = ["支付日期", "凭证编号", "资金来源编号", "支付单位", "收款单位", "收款账号", "支付金额"]
DISCLOSE = ["公示日期", "公示编号", "捐赠编号", "捐赠方", "物资名称", "数量", "计量单位"]
DISCLOSE += ["金额（元）", "受赠方"]
SUBSIDY = ["姓名", "身份证号", "发放单位", "岗位", "档次", "天数", "补助标准", "金额", "发放日期"]
ROSTER = ["值班日期", "值班人员", "公民身份号码", "值班岗位"]

H1, H2 = "黄冈市中心医院", "大别山区域医疗中心"
RC = "黄冈市红十字会"
SUP_A, SUP_B = "湖北甲医疗器械有限公司", "湖北乙医疗器械有限公司"
SURG = "医用外科口罩"
CONTRACTS = "卫健委疫情防控物资采购合同台账.csv"
DELIVERIES = "应急物资储备库采购到货验收记录.csv"
PAYMENTS = "国库集中支付明细表.csv"
SUBSIDIES = "一线医务人员临时性工作补助发放表.csv"
CASH_BOOK = "红十字会捐赠资金登记表.csv"
GOODS_BOOK = "红十字会捐赠物资登记表.csv"
NOTICES = "红十字会捐赠信息公示.csv"


@pytest.fixture
def audit(tmp_path, settings):
    """import(files) → a project with those ledgers; files = {name: (header, rows)}."""
    settings.MEDIA_ROOT = tmp_path / "media"
    user = User.objects.create_user("catalogue-auditor")
    org_services.role_assign(actor=None, user=user, role=Role.AUDITOR)

    def load(files: dict) -> Audit:
        project = services.project_create(
            actor=user,
            name="采购补助公示测试",
            period_start=date(2020, 1, 23),
            period_end=date(2020, 3, 22),
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
    """Run tests on an imported project; evidence as {(file name, row number)}."""

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
            h.cells = {where[r] for r in h.row_ids}
        return hits


def contract(
    no, day, supplier, qty, price, *, item=SURG, spec="", method="竞争性谈判", why="", uom="只"
):
    phone = {SUP_A: "0713-8000001", SUP_B: "0713-8000002"}.get(supplier, "0713-8000009")
    address = {SUP_A: "湖北省黄冈市黄州区东门路1号", SUP_B: "湖北省黄冈市黄州区东门路2号"}.get(
        supplier, "湖北省黄冈市黄州区新港路9号"
    )
    amount = f"{qty * price:.2f}"
    return [
        no,
        day,
        supplier,
        H1,
        item,
        spec,
        method,
        qty,
        uom,
        f"{price:.2f}",
        amount,
        why,
        phone,
        address,
        "2010-05-01",
    ]


def delivery(day, no, ref, supplier, qty):
    return [day, no, ref, supplier, H1, "黄冈市应急物资储备库", SURG, qty, "只"]


def fiscal(day, no, supplier, amount, purpose, account="421000001111222233"):
    return [day, no, H1, supplier, account, f"{amount:.2f}", "CZ0201", f"0{no[-4:]}", purpose]


# --- procurement ---


def test_price_outliers_against_the_week_and_the_reference(audit, monkeypatch):
    a = audit(
        {
            CONTRACTS: (
                CONTRACT,
                [
                    contract(
                        "HT001", "2020-02-03", SUP_A, 1000, 3.00
                    ),  # 3.3× the week, 3.75× before
                    contract("HT002", "2020-02-04", SUP_B, 1000, 0.90),
                    # 20 boxes of 50 at 45.00 a box: 0.90 a piece once the spec gives the pack size.
                    contract("HT003", "2020-02-05", SUP_B, 20, 45.00, spec="50只/盒", uom="盒"),
                    contract("HT004", "2020-02-12", SUP_A, 500, 2.00),  # alone in its week; 2.5×
                ],
            ),
            "疫情前防护物资参考价格.csv": (PRICES, [[SURG, "只", "0.80", "2019-12-31"]]),
        }
    )
    [week] = a.run("PRICE-OUTLIER-WEEK")
    assert week.amount_fen == 210_000 and week.quantity == 1000  # (3.00 − 0.90) × 1000
    assert week.cells == {(CONTRACTS, 2), (CONTRACTS, 3), (CONTRACTS, 4)}
    assert "3.3 倍" in week.detail and "中位价 0.90 元" in week.detail
    # A busy week is compared with its median, not contract by contract: the same finding.
    monkeypatch.setattr(procurement, "LEAVE_ONE_OUT", 2)
    [busy] = a.run("PRICE-OUTLIER-WEEK")
    assert (busy.amount_fen, busy.cells) == (week.amount_fen, week.cells)
    monkeypatch.undo()
    [bench] = a.run("PRICE-OUTLIER-BENCHMARK")
    assert bench.amount_fen == 220_000 and bench.quantity == 1000  # (3.00 − 0.80) × 1000
    assert bench.cells == {(CONTRACTS, 2), ("疫情前防护物资参考价格.csv", 2)}
    assert [h.amount_fen for h in a.run("PRICE-OUTLIER-BENCHMARK", factor=2)] == [220_000, 60_000]
    assert a.run("PRICE-OUTLIER-WEEK", factor=4) == []


def test_contract_signed_after_the_goods_arrived(audit):
    a = audit(
        {
            CONTRACTS: (
                CONTRACT,
                [
                    contract("HT010", "2020-02-10", SUP_A, 1000, 1.00),
                    contract("HT011", "2020-02-10", SUP_B, 1000, 1.00),
                ],
            ),
            DELIVERIES: (
                DELIVERY,
                [
                    delivery("2020-02-08", "YS1", "HT010", SUP_A, 400),
                    delivery("2020-02-12", "YS2", "HT010", SUP_A, 600),
                    delivery("2020-02-10", "YS3", "HT011", SUP_B, 1000),  # same day: in order
                ],
            ),
        }
    )
    [hit] = a.run("CONTRACT-AFTER-DELIVERY")
    assert hit.amount_fen == 100_000 and "晚 2 天" in hit.detail
    assert hit.cells == {(CONTRACTS, 2), (DELIVERIES, 2)}
    assert a.run("CONTRACT-AFTER-DELIVERY", grace_days=2) == []


def test_single_source_needs_a_written_reason(audit):
    a = audit(
        {
            CONTRACTS: (
                CONTRACT,
                [
                    contract("HT020", "2020-02-03", SUP_A, 100, 1.00, method="单一来源"),
                    contract(
                        "HT021",
                        "2020-02-03",
                        SUP_B,
                        100,
                        1.00,
                        method="单一来源",
                        why="详见单一来源采购情况说明（黄卫采〔2020〕11号）",
                    ),
                    contract(
                        "HT022", "2020-02-03", SUP_B, 200, 1.00, method="单一来源采购", why="无"
                    ),
                    contract(
                        "HT023", "2020-02-03", SUP_A, 100, 1.00
                    ),  # negotiated: no reason needed
                ],
            )
        }
    )
    hits = a.run("SOLE-SOURCE-UNJUSTIFIED")
    assert [(h.cells, h.amount_fen) for h in hits] == [
        ({(CONTRACTS, 2)}, 10_000),
        ({(CONTRACTS, 4)}, 20_000),
    ]


def test_new_suppliers(audit):
    new = contract("HT030", "2020-02-15", "黄冈市安康医疗科技有限公司", 100, 1.00)
    new[-1] = "2020-02-01"  # set up after the emergency began
    later = contract("HT031", "2020-02-20", "黄冈市安康医疗科技有限公司", 100, 2.00)
    later[-1] = "2020-02-01"
    recent = contract("HT032", "2020-02-01", "黄冈市众诚商贸有限公司", 100, 1.00)
    recent[-1] = "2019-12-01"  # 62 days before its first contract
    a = audit(
        {
            CONTRACTS: (
                CONTRACT,
                [new, contract("HT033", "2020-02-01", SUP_A, 1, 1.0), later, recent],
            )
        }
    )
    hits = a.run("SUPPLIER-NEW")
    assert [(h.cells, h.amount_fen) for h in hits] == [
        ({(CONTRACTS, 5)}, 10_000),
        ({(CONTRACTS, 2), (CONTRACTS, 4)}, 30_000),
    ]
    assert "首份合同前 62 天" in hits[0].detail
    assert len(a.run("SUPPLIER-NEW", days=30)) == 1


def test_supplier_shares_phone_address_or_account_with_staff(audit):
    def person(name, phone="", address="", account=""):
        number = idcard.make("421102", date(1985, 1, 1), ord(name[0]) % 1000)
        return [name, number, H1, "发热门诊", "一类", phone, address, account, ""]

    staff = "一线医务人员花名册.csv"
    a = audit(
        {
            CONTRACTS: (
                CONTRACT,
                [
                    contract("HT040", "2020-02-03", SUP_A, 100, 1.00),
                    contract("HT041", "2020-02-03", SUP_B, 100, 1.00),
                ],
            ),
            PAYMENTS: (
                FISCAL,
                [
                    fiscal(
                        "2020-02-06",
                        "GK0041",
                        SUP_B,
                        100,
                        "支付HT041合同货款",
                        "4210 0000 1111 2222",
                    )
                ],
            ),
            staff: (
                STAFF,
                [
                    person("张三", phone="(0713)8000001"),
                    person("李四", account="4210000011112222"),
                    person("王五", address="黄冈市黄州区东门路2号"),
                    person("赵六", phone="0713-8000003", address="湖北省黄冈市黄州区东门路12号"),
                ],
            ),
        }
    )
    hits = a.run("SUPPLIER-STAFF-LINK")
    assert sorted((h.detail, sorted(h.cells)) for h in hits) == sorted(
        [
            (f"供应商{SUP_A}与{H1}人员张三的电话相同", [(staff, 2), (CONTRACTS, 2)]),
            (f"供应商{SUP_B}与{H1}人员李四的银行账号相同", [(staff, 3), (PAYMENTS, 2)]),
            (f"供应商{SUP_B}与{H1}人员王五的地址相同", [(staff, 4), (CONTRACTS, 3)]),
        ]
    )


def test_paid_for_goods_that_did_not_arrive(audit):
    a = audit(
        {
            CONTRACTS: (
                CONTRACT,
                [
                    contract("HT050", "2020-02-03", SUP_A, 1000, 0.90),  # 600 of 1000 arrived
                    contract("HT051", "2020-02-03", SUP_A, 1000, 2.00),  # all arrived, paid twice
                    contract("HT052", "2020-02-03", SUP_B, 1000, 1.00),  # nothing arrived
                    contract("HT053", "2020-02-03", SUP_B, 1000, 0.90),  # 600 arrived, 540 paid
                    contract("HT0531", "2020-02-03", SUP_B, 500, 1.00),  # not HT053's payment
                ],
            ),
            DELIVERIES: (
                DELIVERY,
                [
                    delivery("2020-02-05", "YS1", "HT050", SUP_A, 600),
                    delivery("2020-02-05", "YS2", "HT051", SUP_A, 1000),
                    delivery("2020-02-05", "YS3", "HT053", SUP_B, 600),
                    delivery("2020-02-05", "YS4", "HT0531", SUP_B, 500),
                ],
            ),
            PAYMENTS: (
                FISCAL,
                [
                    fiscal("2020-02-06", "GK0001", SUP_A, 900, "支付HT050合同货款"),
                    fiscal("2020-02-06", "GK0002", SUP_A, 2000, "支付HT051合同货款"),
                    fiscal("2020-03-06", "GK0003", SUP_A, 2000, "支付HT051合同货款"),
                    fiscal("2020-02-06", "GK0004", SUP_B, 1000, "支付HT052合同货款"),
                    fiscal("2020-02-06", "GK0005", SUP_B, 540, "支付HT053合同货款"),
                    fiscal("2020-02-06", "GK0006", SUP_B, 500, "支付HT0531合同货款"),
                ],
            ),
        }
    )
    hits = a.run("PAID-NOT-RECEIVED")
    assert [(h.amount_fen, h.quantity) for h in hits] == [(36_000, 400), (100_000, 1000)]
    assert hits[0].cells == {(PAYMENTS, 2), (CONTRACTS, 2), (DELIVERIES, 2)}
    assert hits[1].cells == {(PAYMENTS, 5), (CONTRACTS, 4)}


def test_payout_into_the_donors_or_a_managers_account(audit):
    donor_account, manager_account = "622200001111000100", "621700009999000100"
    a = audit(
        {
            CASH_BOOK: (
                CASH,
                [
                    ["HZ1", "JZ1", "2020-02-01", "黄冈某某商贸有限公司", "10,000.00", ""],
                    ["HZ2", "JZ2", "2020-02-01", "黄冈市工商联", "20,000.00", ""],
                    ["HZ3", "JZ3", "2020-02-01", "香港同乡会", "30,000.00", ""],
                ],
            ),
            "红十字会捐赠账户银行流水.csv": (
                BANK,
                [
                    [
                        "2020-02-01",
                        "B1",
                        "黄冈某某商贸有限公司",
                        donor_account,
                        "",
                        "10000.00",
                        "10000.00",
                        "捐款 JZ1",
                    ],
                    [
                        "2020-02-01",
                        "B2",
                        "黄冈市工商联",
                        "622200001111000200",
                        "",
                        "20000.00",
                        "30000.00",
                        "捐款 JZ2",
                    ],
                    [
                        "2020-02-01",
                        "B3",
                        "香港同乡会",
                        "622200001111000300",
                        "",
                        "30000.00",
                        "60000.00",
                        "捐款 JZ3",
                    ],
                ],
            ),
            "红十字会资金支付明细.csv": (
                PAYOUT,
                [
                    ["2020-02-03", "HZF1", "JZ1", RC, H1, donor_account, "10,000.00"],
                    ["2020-02-03", "HZF2", "JZ2", RC, H2, manager_account, "20,000.00"],
                    ["2020-02-03", "HZF3", "JZ3", RC, H1, "421000001111222233", "30,000.00"],
                ],
            ),
            "红十字会管理人员名单.csv": (
                MANAGERS,
                [
                    [
                        "钱七",
                        idcard.make("421102", date(1970, 5, 5), 7),
                        RC,
                        "秘书长",
                        "13800000001",
                        "黄州区华安小区1栋",
                        manager_account,
                    ],
                    [
                        "孙八",
                        idcard.make("421102", date(1971, 5, 5), 8),
                        RC,
                        "会长",
                        "13800000002",
                        "黄州区华安小区2栋",
                        "621700009999000200",
                    ],
                ],
            ),
        }
    )
    hits = a.run("RELATED-BENEFICIARY")
    assert [(h.amount_fen, sorted(h.cells)) for h in hits] == [
        (1_000_000, [("红十字会捐赠账户银行流水.csv", 2), ("红十字会资金支付明细.csv", 2)]),
        (2_000_000, [("红十字会管理人员名单.csv", 2), ("红十字会资金支付明细.csv", 3)]),
    ]
    assert "捐赠人黄冈某某商贸有限公司" in hits[0].detail and "管理人员钱七" in hits[1].detail


# --- subsidies ---

IDS = {
    name: idcard.make("421102", date(1980, 1, n), n) for n, name in enumerate("甲乙丙丁戊己庚辛", 1)
}


def paid(name, days, day, *, tier="一类", rate=300, amount=None, payer=H1, number=None):
    total = days * rate if amount is None else amount
    return [name, number or IDS[name], payer, "发热门诊", tier, days, rate, f"{total:.2f}", day]


def on_duty(name, first: date, days: int, number=None):
    return [
        [(first + timedelta(days=n)).isoformat(), name, number or IDS[name], "发热门诊"]
        for n in range(days)
    ]


def test_subsidy_rate_and_sum(audit):
    a = audit(
        {
            SUBSIDIES: (
                SUBSIDY,
                [
                    paid("甲", 10, "2020-03-05"),
                    paid("乙", 5, "2020-03-05", tier="二类", rate=300),  # 二类 is 200 a day
                    paid("丙", 4, "2020-03-05", amount=1300),  # 4 × 300 is 1,200
                    paid("丁", 5, "2020-03-05", tier="二类", rate=200),
                ],
            )
        }
    )
    hits = a.run("SUB-RATE")
    assert [(h.cells, h.amount_fen) for h in hits] == [
        ({(SUBSIDIES, 3)}, 50_000),
        ({(SUBSIDIES, 4)}, 10_000),
    ]
    assert "二类应为 200.00 元" in hits[0].detail and "应为 1,200.00 元" in hits[1].detail
    doubled = a.run("SUB-RATE", rates="2020-01-01 一类=300 二类=200; 2020-03-01 一类=600 二类=400")
    assert len(doubled) == 4
    local = a.run("SUB-RATE", rates="2020-01-01 一类=300 二类=200; 2020-03-01 湖北 一类=600")
    assert len(local) == 2  # no 地区 column: the regional line never applies


def test_rate_and_deadline_tables_say_what_is_wrong():
    assert rate_table("2020-01-01 一类=300 二类=200.5") == [
        (date(2020, 1, 1), None, "一类", 30_000),
        (date(2020, 1, 1), None, "二类", 20_050),
    ]
    assert rate_table("2020-01-01 湖北 一类 = 600元") == [
        (date(2020, 1, 1), "湖北", "一类", 60_000)
    ]
    with pytest.raises(ValueError, match="缺少“档次=元/天”"):
        rate_table("2020-01-01 湖北")
    with pytest.raises(ValueError, match="应为日期"):
        rate_table("一类=300")
    assert deadline_table("2020-03-01=3天；2020-01-01=7") == [
        (date(1900, 1, 1), 7),
        (date(2020, 3, 1), 3),
    ]
    with pytest.raises(ValueError, match="起始日期=天数"):
        deadline_table("七天")


def test_more_days_paid_than_on_the_roster(audit):
    a = audit(
        {
            SUBSIDIES: (
                SUBSIDY,
                [
                    paid("甲", 12, "2020-03-05"),  # February: 10 days on duty
                    paid("乙", 5, "2020-03-05"),
                    paid("丙", 3, "2020-03-22"),  # paid at the period end for March
                ],
            ),
            "黄冈市中心医院值班排班表.csv": (
                ROSTER,
                on_duty("甲", date(2020, 2, 10), 10)
                + on_duty("乙", date(2020, 2, 1), 5)
                + on_duty("丙", date(2020, 3, 1), 3),
            ),
        }
    )
    [hit] = a.run("SUB-DAYS")
    assert hit.cells == {(SUBSIDIES, 2)} and (hit.quantity, hit.amount_fen) == (2, 60_000)
    assert "2020年02月补助 12 天，当月排班仅 10 天" in hit.detail
    # Read as paid for the month it was paid in, the March payments find no March duty.
    assert len(a.run("SUB-DAYS", settle_day=0)) == 2


def test_paid_but_on_no_roster(audit):
    a = audit(
        {
            SUBSIDIES: (SUBSIDY, [paid("甲", 5, "2020-03-05"), paid("乙", 4, "2020-03-05")]),
            "黄冈市中心医院值班排班表.csv": (ROSTER, on_duty("甲", date(2020, 2, 1), 5)),
        }
    )
    [hit] = a.run("SUB-NOT-ON-ROSTER")
    assert hit.cells == {(SUBSIDIES, 3)} and hit.amount_fen == 120_000
    assert IDS["乙"] not in hit.detail  # the number is masked


def test_paid_after_leaving(audit):
    def person(name, left=""):
        return [name, IDS[name], H1, "发热门诊", "一类", "", "", "", left]

    staff = "一线医务人员花名册.csv"
    a = audit(
        {
            staff: (STAFF, [person("甲", "2020-02-10"), person("乙")]),
            SUBSIDIES: (
                SUBSIDY,
                [
                    paid("甲", 10, "2020-03-05"),  # February: 6 days up to 10 Feb, then 4 more
                    paid("甲", 3, "2020-03-22"),  # March: all after leaving
                    paid("乙", 10, "2020-03-05"),
                ],
            ),
            "黄冈市中心医院值班排班表.csv": (
                ROSTER,
                on_duty("甲", date(2020, 2, 5), 10)
                + on_duty("甲", date(2020, 3, 1), 3)
                + on_duty("乙", date(2020, 2, 5), 10),
            ),
        }
    )
    [hit] = a.run("SUB-AFTER-SEPARATION")
    assert hit.cells == {(staff, 2), (SUBSIDIES, 2), (SUBSIDIES, 3)}
    assert (hit.quantity, hit.amount_fen) == (7, 210_000)
    assert a.run("SUB-DAYS") == []  # the roster carried on, so the days themselves match


def test_identity_number_fails_the_check_digit(audit):
    good = IDS["甲"]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    a = audit(
        {
            SUBSIDIES: (
                SUBSIDY,
                [
                    paid("甲", 5, "2020-03-05", number=bad),
                    paid("甲", 2, "2020-03-22", number=bad),
                    paid("乙", 5, "2020-03-05"),
                ],
            )
        }
    )
    [hit] = a.run("SUB-ID-INVALID")
    assert hit.cells == {(SUBSIDIES, 2), (SUBSIDIES, 3)} and hit.amount_fen == 210_000


def test_two_hospitals_pay_the_same_days_but_not_a_nurse_who_moved(audit):
    a = audit(
        {
            SUBSIDIES: (
                SUBSIDY,
                [
                    paid("甲", 10, "2020-03-05"),
                    paid("甲", 10, "2020-03-06", payer=H2),  # the same February days again
                    paid("乙", 5, "2020-03-05"),  # moved on 6 Feb: each pays its own days
                    paid("乙", 7, "2020-03-06", payer=H2),
                ],
            ),
            "黄冈市中心医院值班排班表.csv": (
                ROSTER,
                on_duty("甲", date(2020, 2, 1), 10) + on_duty("乙", date(2020, 2, 1), 5),
            ),
            "大别山区域医疗中心值班排班表.csv": (ROSTER, on_duty("乙", date(2020, 2, 6), 7)),
        }
    )
    [hit] = a.run("SUB-TWO-PAYERS")
    assert hit.cells == {(SUBSIDIES, 2), (SUBSIDIES, 3)}
    assert (hit.quantity, hit.amount_fen) == (10, 300_000)
    assert a.run("SUB-DAYS") == []


# --- disclosure ---


def test_donation_never_disclosed(audit):
    a = audit(
        {
            CASH_BOOK: (
                CASH,
                [
                    ["HZ1", "JZ1", "2020-02-01", "黄冈市工商联", "10,000.00", ""],
                    ["HZ2", "JZ2", "2020-02-25", "香港同乡会", "20,000.00", ""],
                    ["HZ3", "JZ3", "2020-02-27", "黄冈市商会", "30,000.00", ""],  # still in time
                ],
            ),
            GOODS_BOOK: (
                GOODS,
                [["HWJ1", "WZ1", "2020-02-02", "某某科技股份有限公司", SURG, 2000, "只", ""]],
            ),
            NOTICES: (
                DISCLOSE,
                [["2020-03-01", "HHGS-0301", "JZ2", "香港同乡会", "", "", "", "20000.00", RC]],
            ),
        }
    )
    hits = a.run("DISC-MISSING")
    assert [(h.cells, h.amount_fen, h.quantity) for h in hits] == [
        ({(CASH_BOOK, 2)}, 1_000_000, None),
        ({(GOODS_BOOK, 2)}, None, 2000),
    ]
    assert "至2020-03-01未公示" in hits[0].detail
    assert a.run("DISC-MISSING", deadlines="2020-01-01=30") == []


def test_disclosure_differs_from_the_register(audit):
    a = audit(
        {
            CASH_BOOK: (
                CASH,
                [
                    ["HZ1", "JZ1", "2020-02-01", "黄冈市工商联", "10,000.00", ""],
                    ["HZ2", "JZ2", "2020-02-01", "香港同乡会", "12,000.00", ""],
                ],
            ),
            GOODS_BOOK: (
                GOODS,
                [
                    [
                        "HWJ1",
                        "WZ1",
                        "2020-02-02",
                        "某某科技股份有限公司",
                        "KN95口罩（民用）",
                        500,
                        "只",
                        "",
                    ],
                    ["HWJ2", "WZ2", "2020-02-02", "黄冈市商会", SURG, 1000, "只", ""],
                    ["HWJ3", "WZ3", "2020-02-02", "黄冈市商会", SURG, 2000, "只", ""],
                    ["HWJ4", "WZ4", "2020-02-02", "黄冈市商会", SURG, 500, "只", ""],
                    # Valued at a round catalogue figure and published at it: nothing wrong.
                    [
                        "HWJ5",
                        "WZ5",
                        "2020-02-02",
                        "湖北长江实业集团有限公司",
                        "医用防护服",
                        800,
                        "套",
                        "100,000.00",
                    ],
                ],
            ),
            NOTICES: (
                DISCLOSE,
                [
                    ["2020-02-03", "G1", "JZ1", "黄冈市工商联", "", "", "", "8000", RC],
                    ["2020-02-03", "G1", "JZ2", "香港同乡会", "", "", "", "1.2万", RC],
                    [
                        "2020-02-03",
                        "G1",
                        "WZ1",
                        "某某科技股份有限公司",
                        "医用防护口罩",
                        500,
                        "只",
                        "",
                        RC,
                    ],
                    # Boxes of 50 (no conversion on file: inferred from WZ2 and WZ4).
                    ["2020-02-03", "G1", "WZ2", "黄冈市商会", SURG, 20, "盒", "", RC],
                    ["2020-02-03", "G1", "WZ3", "黄冈市商会", SURG, 30, "盒", "", RC],
                    ["2020-02-03", "G1", "WZ4", "黄冈市商会", SURG, 10, "盒", "", RC],
                    [
                        "2020-02-03",
                        "G1",
                        "WZ5",
                        "湖北长江实业集团有限公司",
                        "医用防护服",
                        800,
                        "套",
                        "10万",
                        RC,
                    ],
                ],
            ),
        }
    )
    hits = a.run("DISC-WRONG")
    assert [(h.cells, h.amount_fen, h.quantity) for h in hits] == [
        ({(CASH_BOOK, 2), (NOTICES, 2)}, 200_000, None),
        ({(GOODS_BOOK, 2), (NOTICES, 4)}, None, None),
        ({(GOODS_BOOK, 4), (NOTICES, 6)}, None, 500),
    ]
    assert "民用" in hits[1].detail and "医用防护" in hits[1].detail
    assert "数量登记 2,000、公示 1,500" in hits[2].detail


def test_disclosed_late(audit):
    a = audit(
        {
            CASH_BOOK: (
                CASH,
                [
                    ["HZ1", "JZ1", "2020-02-01", "黄冈市工商联", "10,000.00", ""],
                    ["HZ2", "JZ2", "2020-02-01", "香港同乡会", "20,000.00", ""],
                ],
            ),
            GOODS_BOOK: (
                GOODS,
                [["HWJ1", "WZ1", "2020-02-03", "黄冈市商会", SURG, 1000, "只", ""]],
            ),
            NOTICES: (
                DISCLOSE,
                [
                    ["2020-02-12", "G1", "JZ1", "黄冈市工商联", "", "", "", "10000", RC],
                    ["2020-02-08", "G2", "JZ2", "香港同乡会", "", "", "", "20000", RC],  # day 7
                    ["2020-02-15", "G3", "WZ1", "黄冈市商会", SURG, 1000, "只", "", RC],
                ],
            ),
        }
    )
    hits = a.run("DISC-LATE")
    assert [(h.cells, h.amount_fen, h.quantity) for h in hits] == [
        ({(CASH_BOOK, 2), (NOTICES, 2)}, 1_000_000, None),
        ({(GOODS_BOOK, 2), (NOTICES, 4)}, None, 1000),
    ]
    assert "用时 11 天（时限 7 天）" in hits[0].detail
    assert len(a.run("DISC-LATE", deadlines="2020-01-01=7; 2020-02-01=3")) == 3

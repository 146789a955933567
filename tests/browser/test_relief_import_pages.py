"""An auditor creates a project, uploads ledgers, fixes nothing in a good file and accepts it,
sees a bad file refused row by row, then confirms a similar name in the party catalogue."""

from pathlib import Path

import xlsxwriter
from playwright.sync_api import expect

from tests.browser.conftest import shot


def red_cross_register(path: Path) -> Path:
    """As the Red Cross keeps it: a merged title row, the header, three rows and a 合计 row."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("登记表")
    bold = wb.add_format({"bold": True})
    ws.merge_range(0, 0, 0, 4, "麻城市红十字会新冠肺炎疫情防控捐赠资金登记表", bold)
    ws.write_row(1, 0, ["收据编号", "捐赠日期", "捐赠方", "金额（元）", "定向用途"], bold)
    ws.write_row(2, 0, ["HS0201", "2020-02-01", "黄冈市九州通医药有限公司", "50,000.00", "非定向"])
    ws.write_row(3, 0, ["HS0202", "2020-02-02", "麻城市个体协会", "12,345.60", "麻城市人民医院"])
    ws.write_row(4, 0, ["HS0203", "2020-02-03", "张某某", "800.00", ""])
    ws.write_row(5, 0, ["合计", "", "", "63,145.60", ""], bold)
    wb.close()
    return path


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def upload(page, path: Path, body: str = "") -> None:
    page.set_input_files("input[name=file]", str(path))
    if body:
        page.fill("input[name=body]", body)
    page.click("button:has-text('上传并识别')")


def test_auditor_imports_ledgers_and_confirms_a_similar_name(page_for, brelief, tmp_path):
    page = page_for("auditor")
    page.click("nav >> text=审计项目")
    expect(page.locator("#projects")).to_contain_text("黄冈市疫情防控资金物资跟踪审计")

    page.click("#project-new")
    page.fill("input[name=name]", "麻城市疫情防控捐赠款物审计")
    page.fill("input[name=period_start]", "2020-01-23")
    page.fill("input[name=period_end]", "2020-04-30")
    page.fill("textarea[name=scope]", "捐赠资金和物资的接收、分配、使用和公示")
    page.fill("textarea[name=bodies]", "麻城市红十字会\n麻城市慈善总会")
    page.click("button:has-text('创建项目')")
    expect(page.locator("h1")).to_have_text("麻城市疫情防控捐赠款物审计")
    expect(page.locator("#team")).to_contain_text("组长")

    page.click("text=管理项目组成员")
    page.select_option("select[name=username]", "auditor2")
    page.click("button:has-text('加入项目组')")
    expect(page.locator("#members")).to_contain_text("auditor2")
    shot(page, "relief-members")
    page.click(".subnav >> text=概况与数据导入")

    # A good workbook: kind, title, header row and mapping recognised; the 合计 row skipped.
    upload(page, red_cross_register(tmp_path / "红十字会捐赠资金登记表.xlsx"), "麻城市红十字会")
    expect(page.locator("#kind-label")).to_have_text("捐赠资金登记")
    expect(page.locator("#title-text")).to_contain_text("捐赠资金登记表")
    expect(page.locator("#header-at")).to_have_text("第 2 行")
    expect(page.locator("#mapping")).to_contain_text("金额（元）")
    expect(page.locator("#mapping select[name=col_3]")).to_have_value("amount")
    expect(page.locator("#n-rows")).to_have_text("3")
    expect(page.locator("#n-skipped")).to_have_text("1")
    expect(page.locator("#preview-rows")).to_contain_text("麻城市个体协会")
    expect(page.locator("#accept-button")).to_be_enabled()
    shot(page, "relief-import-ok")
    page.click("#accept-button")
    expect(page.locator(".messages")).to_contain_text("3 行数据")
    expect(page.locator("#files")).to_contain_text("红十字会捐赠资金登记表.xlsx")
    expect(page.locator("#files")).to_contain_text("已导入")
    expect(page.locator("#imported-total")).to_contain_text("共 3 行")

    # A register with an unreadable amount: listed by row and column, nothing can be imported.
    rows = [["收据编号", "日期", "捐赠方", "金额"]]
    rows += [[f"CS{i}", f"2020/2/{i}", "麻城市慈善总会会员单位", f"{i}00"] for i in range(1, 9)]
    rows[6][3] = "一万二"
    upload(page, write_csv(tmp_path / "慈善总会捐款登记.csv", rows), "麻城市慈善总会")
    expect(page.locator("#import-errors")).to_contain_text(
        "第7行 D列「金额」：金额无法识别：一万二"
    )
    expect(page.locator("#accept-button")).to_be_disabled()
    expect(page.locator("#not-ready")).to_contain_text("改正之前不会导入任何数据")
    shot(page, "relief-import-errors")
    page.once("dialog", lambda d: d.accept())
    page.click("button:has-text('放弃')")
    expect(page.locator(".messages")).to_contain_text("已放弃该表的导入")
    shot(page, "relief-project")

    # Goods from a donor spelt differently in this ledger ("市" left out), counted in boxes.
    goods = [
        ["日期", "捐赠方", "物资名称", "数量", "计量单位"],
        ["2020-02-05", "黄冈九州通医药有限公司", "医用外科口罩", "10", "箱"],
        ["2020-02-06", "黄冈九州通医药有限公司", "医用防护服", "200", "套"],
    ]
    upload(page, write_csv(tmp_path / "捐赠物资登记.csv", goods))
    expect(page.locator("#kind-label")).to_have_text("捐赠物资登记")
    page.click("#accept-button")
    expect(page.locator("#imported-total")).to_contain_text("共 5 行")

    page.click(".subnav >> text=单位与物资")
    expect(page.locator("#pending-names")).to_contain_text("黄冈九州通医药有限公司")
    expect(page.locator("#pending-names")).to_contain_text("黄冈市九州通医药有限公司")
    shot(page, "relief-parties")
    page.click("#pending-names button:has-text('确认为同一单位')")
    expect(page.locator(".messages")).to_contain_text("已确认「黄冈九州通医药有限公司」")
    expect(page.locator("#pending")).to_contain_text("没有待确认的相似名称")

    page.click("#parties >> text=黄冈市九州通医药有限公司")
    expect(page.locator("#spellings")).to_contain_text("黄冈九州通医药有限公司")
    shot(page, "relief-party")

    page.click(".tabs >> text=物资目录")
    expect(page.locator("#items")).to_contain_text("需设置换算")
    shot(page, "relief-items")
    page.click("#items tr:has-text('医用外科口罩') a:text-is('设置')")
    shot(page, "relief-item")
    page.fill("#conversions input[name=factor_0]", "50")
    page.click("button:has-text('保存')")
    expect(page.locator("#items")).to_contain_text("1箱=50只")
    expect(page.locator("#items")).not_to_contain_text("需设置换算")

    page.click(".tabs >> text=表头词典")
    page.fill("input[name=header]", "受捐单位")
    page.select_option("select[name=field]", "target")
    page.click("button:has-text('添加')")
    expect(page.locator("#own-synonyms")).to_contain_text("受捐单位")
    shot(page, "relief-synonyms")

    page.click(".subnav >> text=审计项目")
    expect(page.locator("#projects")).to_contain_text("麻城市疫情防控捐赠款物审计")
    shot(page, "relief-projects-list")

    phone = page_for("auditor", mobile=True)
    phone.goto(page.base + "/relief/")
    phone.click("#projects >> text=麻城市疫情防控捐赠款物审计")
    phone.click("#files >> text=查看 >> nth=0")
    expect(phone.locator("#preview-rows")).to_be_visible()
    shot(phone, "relief-import-mobile")

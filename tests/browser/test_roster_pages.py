"""Roster import in the browser: a GBK CSV with a mistake is refused by row and column, the fixed file imports."""

from playwright.sync_api import expect

from tests.browser.conftest import shot

HEADER = ["姓名", "单位", "职务", "职级", "手机号码", "身份证号"]


def csv(rows, encoding="gbk") -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode(encoding)


def test_city_coordinator_imports_a_gbk_roster(page_for, bworld, tmp_path):
    from datetime import date

    from fangkong.lib import idcard
    from fangkong.org.models import Person

    good = idcard.make("421102", date(1990, 5, 6), 501)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    page = page_for("city_coord")
    page.click("nav >> text=名册导入导出")
    expect(page.locator("h1")).to_contain_text("名册")
    shot(page, "roster-import")
    wrong = tmp_path / "花名册.csv"
    wrong.write_bytes(csv([["吴芳", "黄州区审计局", "科员", "科员及以下", "13900001111", bad]]))
    page.set_input_files("input[type=file]", str(wrong))
    page.click("button:has-text('上传并校验')")
    expect(page.locator("#roster-errors")).to_contain_text("身份证号")
    expect(page.locator("#roster-errors")).to_contain_text("2")
    expect(page.locator("button:has-text('确认导入')")).to_have_count(0)
    shot(page, "roster-preview-errors")
    assert not Person.objects.filter(name="吴芳").exists()

    page.click("nav >> text=名册导入导出")
    right = tmp_path / "花名册2.csv"
    right.write_bytes(csv([["吴芳", "黄州区审计局", "科员", "科员及以下", "13900001111", good]]))
    page.set_input_files("input[type=file]", str(right))
    page.click("button:has-text('上传并校验')")
    expect(page.locator("button:has-text('确认导入')")).to_be_visible()
    shot(page, "roster-preview-ok")
    page.click("button:has-text('确认导入')")
    expect(page.locator(".messages")).to_be_visible()
    shot(page, "roster-imported")
    assert Person.objects.get(name="吴芳").unit.code == "HG-HZ"

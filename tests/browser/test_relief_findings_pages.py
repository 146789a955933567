"""An auditor adds a finding with evidence rows, finds it in the list, confirms it and downloads the
report draft; screenshots of the list, the form with an error, and the finding (wide and phone)."""

from playwright.sync_api import expect

from tests.browser.conftest import shot


def donation_rows(rw) -> dict:
    """Three rows of the cash-donation register: its file, sheet and Excel row numbers."""
    from fangkong.relief.ledger import store

    with store.project_db(rw.project.pk) as con:
        found = store.rows(
            con,
            "SELECT file_id, sheet, row_no, row_id, ref FROM entries "
            "WHERE kind = 'cash_donation' ORDER BY file_id, row_no LIMIT 3",
        )
    return {
        "file_id": found[0]["file_id"],
        "rows": [r for r in found if r["file_id"] == found[0]["file_id"]],
    }


def test_add_review_and_report_a_finding(brelief, page_for):
    from docx import Document

    from fangkong.relief.models import Finding

    rw = brelief
    picked = donation_rows(rw)
    first = picked["rows"][0]["row_no"]
    page = page_for("auditor")
    page.goto(f"{page.base}/relief/p/{rw.project.pk}/findings/")
    expect(page.locator("#findings")).to_contain_text("还没有问题")
    page.click("#finding-new")

    # A first try with a word for the amount and a header row as evidence: both are explained.
    page.fill("input[name=title]", "定向捐赠资金未拨付给指定的定点医院")
    page.check("input[name=severity][value=high]")
    page.fill("textarea[name=description]", "捐赠人指定用于定点医院的资金，拨付给了非定点单位。")
    page.fill("input[name=amount]", "一千元")
    page.fill("textarea[name=rule]", "《中华人民共和国慈善法》第五十五条")
    page.select_option("select[name=ev_file_0]", str(picked["file_id"]))
    page.fill("input[name=ev_rows_0]", f"1, {first}")
    page.click("button:has-text('保存问题')")
    expect(page.locator("#field-amount .errorlist")).to_contain_text("金额无法识别")
    expect(page.locator(".evidence-line .errorlist")).to_contain_text("第 1 行")
    shot(page, "relief-finding-new-error")
    assert not Finding.objects.exists()

    page.fill("input[name=amount]", "1,234.50")
    rows = ", ".join(str(r["row_no"]) for r in picked["rows"])
    page.fill("input[name=ev_rows_0]", rows)
    page.click("button:has-text('保存问题')")
    expect(page.locator("h1")).to_contain_text("定向捐赠资金未拨付给指定的定点医院")
    finding = Finding.objects.get()
    assert finding.evidence.count() == len(picked["rows"])

    # The list, filtered by severity.
    page.click(".breadcrumb a")
    page.select_option("select[name=severity]", "high")
    page.click("#finding-filters button")
    expect(page.locator("#findings")).to_contain_text("定向捐赠资金未拨付给指定的定点医院")
    expect(page.locator("#findings")).to_contain_text("1,234.50")
    shot(page, "relief-findings-list")
    page.select_option("select[name=severity]", "low")
    page.click("#finding-filters button")
    expect(page.locator("#findings")).to_contain_text("没有符合筛选条件的问题")

    page.goto(f"{page.base}/relief/p/{rw.project.pk}/findings/{finding.pk}/")
    expect(page.locator("#finding-amount")).to_have_text("1,234.50 元")
    expect(page.locator(".evidence-table tbody tr")).to_have_count(len(picked["rows"]))
    shot(page, "relief-finding-detail")

    # The evidence links to the ledger row's page (built with the trace pages).
    link = page.locator(".row-link").first
    href = link.get_attribute("href")
    assert href == f"/relief/p/{rw.project.pk}/rows/{picked['rows'][0]['row_id']}/"
    response = page.request.get(page.base + href)
    if response.status == 200:
        link.click()
        expect(page.locator("body")).to_contain_text(str(first))
        page.go_back()

    page.click("#confirm-form button")
    expect(page.locator("#finding-status")).to_have_text("已确认")
    page.fill("#id_note", "已与红十字会财务核对原始凭证。")
    page.click("#note-form button")
    expect(page.locator("#notes")).to_contain_text("已与红十字会财务核对原始凭证")

    phone = page_for("auditor2", mobile=True)
    phone.goto(f"{phone.base}/relief/p/{rw.project.pk}/findings/{finding.pk}/")
    expect(phone.locator("#finding-status")).to_have_text("已确认")
    shot(phone, "relief-finding-detail-mobile")
    phone.click(".breadcrumb a")
    expect(phone.locator("#findings")).to_contain_text("1,234.50")
    shot(phone, "relief-findings-list-mobile")

    page.click(".breadcrumb a")
    with page.expect_download() as info:
        page.click("#download-docx")
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    paragraphs = [p.text for p in Document(download.path()).paragraphs]
    two = "\n".join(
        paragraphs[paragraphs.index("二、审计发现的主要问题") : paragraphs.index("三、审计建议")]
    )
    assert "定向捐赠资金未拨付给指定的定点医院" in two
    assert "1,234.50" in two
    assert f"第{first}行" in two

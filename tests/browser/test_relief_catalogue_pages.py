"""The audit test catalogue in the browser, on the demo project (synthetic ledgers with planted
anomalies): run it, filter the findings by test and severity, open one, follow its evidence to
the trace, confirm it and find it in the audit report draft."""

from playwright.sync_api import expect

from tests.browser.conftest import shot


def test_run_catalogue_review_a_finding_and_report_it(brelief, page_for):
    from docx import Document

    from fangkong.relief.models import Finding
    from fangkong.relief.synthetic import demo

    project, created = demo.load("auditor")
    assert created
    page = page_for("auditor")
    page.set_default_timeout(60_000)
    page.goto(f"{page.base}/relief/p/{project.pk}/catalogue/")
    expect(page.locator("h1")).to_contain_text("审计测试目录")
    expect(page.locator("#t-PAY-DUP-INVOICE")).to_contain_text("同一发票重复支付")
    shot(page, "relief-catalogue")
    page.click("#run-all")
    expect(page.locator("#run-status")).to_contain_text("已完成")
    expect(page.locator("#run-results")).to_contain_text("PAY-DUP-INVOICE")
    shot(page, "relief-catalogue-run")
    assert Finding.objects.filter(project=project, test_id="PAY-DUP-INVOICE").count() >= 1

    # Filter by test and severity.
    page.goto(f"{page.base}/relief/p/{project.pk}/findings/")
    page.select_option("select[name=test]", "PAY-DUP-INVOICE")
    page.select_option("select[name=severity]", "high")
    page.click("#finding-filters button")
    expect(page.locator("#findings")).to_contain_text("同一发票重复支付")
    shot(page, "relief-findings-filtered")
    page.select_option("select[name=severity]", "low")
    page.click("#finding-filters button")
    expect(page.locator("#findings")).to_contain_text("没有符合筛选条件的问题")

    finding = Finding.objects.filter(project=project, test_id="PAY-DUP-INVOICE").first()
    page.goto(f"{page.base}/relief/p/{project.pk}/findings/{finding.pk}/")
    expect(page.locator("h1")).to_contain_text("同一发票重复支付")
    rows = finding.evidence.count()
    expect(page.locator(".evidence-table tbody tr")).to_have_count(rows)

    # Follow the evidence to the trace of the money it belongs to, and back.
    trace = page.locator(".trace-link").first
    expect(trace).to_be_visible()
    trace.click()
    expect(page.locator("#steps")).to_be_visible()
    expect(page.locator("#step-paid")).to_be_visible()
    shot(page, "relief-finding-evidence-trace")
    page.go_back()

    page.click("#confirm-form button")
    expect(page.locator("#finding-status")).to_have_text("已确认")
    page.click(".breadcrumb a")
    with page.expect_download() as info:
        page.click("#download-docx")
    paragraphs = [p.text for p in Document(info.value.path()).paragraphs]
    two = "\n".join(
        paragraphs[paragraphs.index("二、审计发现的主要问题") : paragraphs.index("三、审计建议")]
    )
    assert "同一发票重复支付" in two
    row = finding.evidence.first()
    assert f"第{row.row_no}行" in two

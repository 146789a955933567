"""An auditor follows a donation through the ledgers: the trace index with the project's flow and
balances, a search, one donation's steps and Sankey, one ledger row, and a hospital's reverse trace;
screenshots of each (wide, and the donation on a phone)."""

from playwright.sync_api import expect

from tests.browser.conftest import shot

# Counts the canvas pixels ECharts drew on (any not fully transparent).
DRAWN_PIXELS = """(sel) => {
    const c = document.querySelector(sel + ' canvas');
    if (!c || !c.width || !c.height) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
    return n;
}"""


def split_donation(rw) -> str:
    """A goods donation the world issued to at least two hospitals."""
    for f in rw.truth.of_kind("donate_goods"):
        if len({g.target for g in rw.truth.trace(f.ref) if g.kind == "issue"}) >= 2:
            return f.ref
    raise AssertionError("the world has no split goods donation")


def set_conversions(rw) -> None:
    """As the auditor does on the items page: pieces per 盒/箱, so packed rows are counted."""
    from fangkong.relief import services
    from fangkong.relief.ledger.parsing import halfwidth
    from fangkong.relief.models import Item

    for item in Item.objects.filter(project=rw.project):
        known = next(
            i for i in rw.truth.items.values() if halfwidth(i.name) == halfwidth(item.name)
        )
        services.item_update(
            actor=rw.users["auditor"], item=item, conversions={known.pack_unit: known.per_pack}
        )


def expect_drawn(page, selector: str) -> None:
    page.wait_for_selector(f"{selector} canvas")
    page.wait_for_function(f"({DRAWN_PIXELS})({selector!r}) > 500")
    box = page.locator(f"{selector} canvas").bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200


def test_follow_a_donation_to_a_row_and_back_from_a_hospital(brelief, page_for):
    rw = brelief
    set_conversions(rw)
    ref = split_donation(rw)
    page = page_for("auditor")
    page.goto(f"{page.base}/relief/p/{rw.project.pk}/")
    page.click("nav.subnav >> text=款物追踪")
    expect(page.locator("h1")).to_have_text("款物追踪")
    expect(page.locator("#money-holders")).to_contain_text("黄冈市红十字会")
    expect(page.locator("#goods-lines")).to_contain_text("黄冈市应急物资储备库")
    expect(page.locator("#donation-list")).to_contain_text(ref)
    expect_drawn(page, "#sankey-all")
    shot(page, "relief-trace-index")
    # The goods flow replaces the money flow in the same chart.
    page.click("#flow button[data-measure=goods]")
    expect(page.locator("#flow button[data-measure=goods]")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect_drawn(page, "#sankey-all")
    shot(page, "relief-trace-index-goods")

    # Searching the donor lists the donation; searching its exact ref opens its trace.
    donor = rw.truth.parties[rw.truth.trace(ref)[0].source].name
    page.fill("#q", donor[:4])
    page.click("#trace-search button[type=submit]")
    expect(page.locator("#donation-list")).to_contain_text(ref)
    page.fill("#q", ref)
    page.click("#trace-search button[type=submit]")
    expect(page.locator("h1")).to_contain_text(ref)
    for step in ("booked", "stored", "issued", "signed"):
        expect(page.locator(f"#step-{step} .trace-rows tbody tr").first).to_be_visible()
    expect(page.locator("#gaps")).to_contain_text("相符")
    expect(page.locator("#recipient-lines tbody tr")).to_have_count(
        len({g.target for g in rw.truth.trace(ref) if g.kind == "issue"})
    )
    expect_drawn(page, "#sankey-one")
    shot(page, "relief-trace-donation")

    # A row of the issue step opens the row page: file, sheet and row number as the ledger has it.
    link = page.locator("#step-issued .row-link").first
    row_text = link.inner_text()
    link.click()
    expect(page.locator("h1")).to_contain_text(row_text)
    expect(page.locator("#file-link")).to_contain_text("出入库台账")
    expect(page.locator("#row-no")).to_contain_text(row_text)
    expect(page.locator("#sheet")).not_to_be_empty()
    expect(page.locator("#source")).to_contain_text("出库")
    expect(page.locator("h2", has_text="同一编号的其他行")).to_be_visible()
    expect(page.locator(".trace-rows")).to_contain_text("签收")
    shot(page, "relief-trace-row")

    # Back to the donation, then to the first hospital it reached: the reverse trace.
    page.click(f".breadcrumb >> text={ref}")
    hospital = page.locator("#recipient-lines tbody tr a").first
    name = hospital.inner_text()
    hospital.click()
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("#source-list")).to_contain_text(ref)
    expect(page.locator("#recipient-totals")).to_contain_text("医用")
    shot(page, "relief-trace-recipient")

    phone = page_for("auditor2", mobile=True)
    phone.goto(f"{phone.base}/relief/p/{rw.project.pk}/trace/donation/{ref}/")
    expect(phone.locator("#step-issued")).to_be_visible()
    expect_drawn(phone, "#sankey-one")
    shot(phone, "relief-trace-donation-mobile")
    phone.click(".breadcrumb >> text=款物追踪")
    expect_drawn(phone, "#sankey-all")
    shot(phone, "relief-trace-index-mobile")


def test_a_broken_donation_says_what_is_wrong(brelief, page_for, tmp_path):
    from fangkong.relief import trace
    from tests.test_relief_trace import build_broken_world

    set_conversions(brelief)
    broken, breaks = build_broken_world(brelief, tmp_path / "broken")
    pid = broken.project.pk
    page = page_for("auditor")
    page.goto(f"{page.base}/relief/p/{pid}/trace/?gaps=1")
    expect(page.locator("#donation-list tbody tr")).to_have_count(len(breaks))
    expect(page.locator("#goods-lines")).to_contain_text("盘亏")
    expect_drawn(page, "#sankey-all")
    shot(page, "relief-trace-index-gaps")
    ref, hospital, qty = breaks["missing_issue"]
    page.click(f"#donation-list >> text={ref}")
    expect(page.locator("#gaps")).to_contain_text(f"分配决定为{qty:,}")
    expect(page.locator("#recipient-lines tr.row-abnormal")).to_contain_text(hospital)
    shot(page, "relief-trace-donation-gaps")
    page.goto(page.base + trace.donation_url(pid, breaks["directed"][0]))
    expect(page.locator("#gaps")).to_contain_text("定向捐赠指定给")
    shot(page, "relief-trace-donation-directed")

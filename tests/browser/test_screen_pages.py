"""The big screen (电子大屏) at 1920×1080 through a display link, and the posts and links pages."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

D = date(2020, 2, 3)
TZ = ZoneInfo("Asia/Shanghai")
UNITS = ["HB", "HG", "HG-HZ", "HG-MC", "XG", "XG-XN"]

# Series colours of the two charts (screen.js) and how many pixels of each must be painted.
PIXELS_JS = """
([selector, colours]) => {
  const canvas = document.querySelector(selector + " canvas");
  if (!canvas || !canvas.width || !canvas.height) return null;
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const out = {painted: 0, width: canvas.width, height: canvas.height};
  colours.forEach((c) => (out[c.join(",")] = 0));
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    out.painted++;
    if (data[i + 3] < 200) continue;
    for (const c of colours) {
      if (Math.abs(data[i] - c[0]) < 40 && Math.abs(data[i + 1] - c[1]) < 40 &&
          Math.abs(data[i + 2] - c[2]) < 40) {
        out[c.join(",")]++;
      }
    }
  }
  out.blank = canvas.toDataURL() === (() => {
    const b = document.createElement("canvas");
    b.width = canvas.width; b.height = canvas.height;
    return b.toDataURL();
  })();
  return out;
}
"""
COMPLETENESS, TIMELINESS = (54, 207, 255), (91, 228, 155)
LATE, MISSING = (255, 183, 77), (255, 92, 92)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


@pytest.fixture
def month(bworld):
    """A daily form with 30 days of reports (some late, some missing) and today's at 11:00."""
    from fangkong.health import services as health
    from fangkong.lib import clock
    from fangkong.org import services as org_services
    from fangkong.reports import services as reports
    from fangkong.screen import services as screen

    admin = bworld.users["admin"]
    form = reports.form_create(
        actor=admin,
        code="daily",
        name="疫情防控日报告",
        root=bworld.units["HB"],
        level_codes=["province", "city", "county"],
        active_from=date(2020, 1, 1),
    )
    for i in range(29, 0, -1):
        d = D - timedelta(days=i)
        fate = {code: (i * 7 + j * 3) % 10 for j, code in enumerate(UNITS)}
        for hour, chosen in [(9, lambda r: r < 6), (11, lambda r: 6 <= r < 8)]:
            clock.freeze(at(d, hour))
            for code in UNITS:
                if chosen(fate[code]):
                    reports.report_submit(
                        actor=admin, form=form, unit=bworld.units[code], day=d, kind="zero"
                    )
    clock.freeze(at(D, 8))
    staff = bworld.people["staff"]
    health.checkin_submit(
        actor=bworld.users["staff"],
        person=staff,
        channel="web",
        answers=[
            health.Answers(temperature=Decimal("38.4"), work_mode="on_site", attested=True),
            *[
                health.Answers(temperature=Decimal("36.6"), family_member_id=f.pk, attested=True)
                for f in staff.family.all()
            ],
        ],
    )
    clock.freeze(at(D, 9))
    values = dict.fromkeys(form.field_keys, 0)
    reports.report_submit(
        actor=admin,
        form=form,
        unit=bworld.units["HG-HZ"],
        day=D,
        kind="daily",
        values=values | {"staff_fever": 1, "staff_suspected": 1, "family_quarantine": 2},
        explanation="含借调人员",
    )
    reports.report_submit(actor=admin, form=form, unit=bworld.units["XG-XN"], day=D, kind="zero")
    clock.freeze(at(D, 10, 40))
    # Three people of HG-MC away: its clerk and two family members are on the roster (a figure
    # may not exceed the people the unit has).
    for name in ("周一", "周二"):
        org_services.family_member_add(
            actor=admin, person=bworld.people["mc_clerk"], name=name, relation="child"
        )
    reports.report_submit(
        actor=admin,
        form=form,
        unit=bworld.units["HG-MC"],
        day=D,
        kind="daily",
        values=values | {"staff_out_of_town": 3, "staff_home_post": 2},
        explanation="出差人员未打卡",
    )
    reports.report_submit(
        actor=admin,
        form=form,
        unit=bworld.units["HG"],
        day=D,
        kind="daily",
        values=values
        | {
            "staff_fever": 1,
            "staff_suspected": 1,
            "family_quarantine": 2,
            "staff_out_of_town": 3,
            "staff_home_post": 2,
        },
        explanation="含借调和出差人员",
    )
    clock.freeze(at(D, 8))
    screen.post_create(
        actor=admin,
        title="科学佩戴口罩",
        body=(
            "在人员密集的封闭场所、乘坐公共交通工具时应佩戴医用外科口罩或以上防护级别的口罩。"
            "口罩弄湿或弄脏后及时更换，摘口罩时不要接触口罩外面，摘下后立即洗手。"
        ),
        source="国家卫生健康委",
    )
    screen.post_create(
        actor=bworld.users["prov_coord"],
        title="勤洗手、常通风",
        body="用流动水和肥皂或洗手液洗手，每次不少于20秒。办公室每日开窗通风不少于3次，每次20至30分钟。",
        source="湖北省疾控中心",
        unit=bworld.units["HB"],
    )
    clock.freeze(at(D, 7))
    screen.post_create(
        actor=admin,
        title="居家健康监测要点",
        body=(
            "每日早晚各测量一次体温并如实打卡，出现发热、干咳、乏力、咽痛、嗅味觉减退、腹泻等症状时，"
            "应立即报告所在单位联络员，做好个人防护，避免乘坐公共交通工具，及时到就近的发热门诊就诊。"
            "家庭成员应分餐、分室居住，保持室内通风，经常开窗换气，对门把手、桌面、手机等常接触物品"
            "表面进行清洁消毒。减少走亲访友和聚餐聚会，不到人员密集、通风不良的场所，确需外出时全程"
            "佩戴口罩，与他人保持一米以上社交距离。咳嗽、打喷嚏时用纸巾或肘部遮挡口鼻，用过的纸巾"
            "放入有盖垃圾桶，随后用流动水洗手。老人、孕妇和患有慢性病的家庭成员更要做好防护。"
            "如有疑问，可拨打当地疫情防控咨询热线，或向所在单位联络员咨询。请大家相互提醒。"
        )[:300],
        source="国家卫生健康委",
    )
    clock.freeze(at(D, 11))
    yield form
    clock.freeze(None)


@pytest.fixture
def display(browser, live_server):
    contexts = []

    def make():
        ctx = browser.new_context(
            viewport={"width": 1920, "height": 1080},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            device_scale_factor=1,
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def painted(page, selector, colours):
    return page.evaluate(PIXELS_JS, [selector, [list(c) for c in colours]])


def wait_for_charts(page, bars=(LATE, MISSING)):
    """Wait until both charts have finished drawing (animation included) and show their series."""
    page.wait_for_function(
        "() => ['trend', 'children'].every("
        "(c) => (document.getElementById('screen').dataset.drawn || '').split(' ').includes(c))"
    )
    need = " && ".join(f'b["{",".join(map(str, c))}"] > 200' for c in bars)
    page.wait_for_function(
        f"""() => {{
          const f = {PIXELS_JS};
          const t = f(["#chart-trend", [[54, 207, 255], [91, 228, 155]]]);
          const b = f(["#chart-children", [[255, 183, 77], [255, 92, 92]]]);
          return !!(t && b && t["54,207,255"] > 300 && t["91,228,155"] > 300 && {need});
        }}"""
    )


def test_big_screen_through_a_display_link(display, live_server, bworld, month):
    from fangkong.lib import clock
    from fangkong.org.models import FamilyMember, Person
    from fangkong.reports import services as reports
    from fangkong.screen import services as screen
    from fangkong.screen.models import DisplayLink

    link, raw = screen.display_link_create(
        actor=bworld.users["prov_coord"], node=bworld.units["HB"], form=month, name="3楼大厅屏幕"
    )
    page = display()
    page.goto(f"{live_server.url}/screen/d/{raw}/")
    expect(page.locator("h1")).to_have_text("湖北省审计厅")
    # Today at 11:00: 6 expected, HG-HZ and XG-XN on time, HG-MC and HG late; HB and XG missing.
    expect(page.locator("#k-expected")).to_have_text("6")
    expect(page.locator("#k-received")).to_have_text("4")
    expect(page.locator("#k-zero")).to_have_text("1")
    expect(page.locator("#k-late")).to_have_text("2")
    expect(page.locator("#k-missing")).to_have_text("2")
    expect(page.locator("#k-completeness")).to_have_text("66.7%")
    expect(page.locator("#k-timeliness")).to_have_text("33.3%")
    expect(page.locator("#sc-date")).to_contain_text("2020年2月3日")
    expect(page.locator("#sc-time")).to_contain_text("11:00")
    expect(page.locator("#overdue-list li")).to_have_count(4)
    expect(page.locator("#overdue-list li.st-missing")).to_have_count(2)
    expect(page.locator("#overdue-list li", has_text="麻城市审计局")).to_contain_text("迟报")
    # The figures are the sum of the children's reports (HG's; XG has not reported).
    expect(page.locator("#figures .fig[data-key=staff_out_of_town] .fig-value")).to_have_text("3")
    expect(page.locator("#figures .fig[data-key=staff_fever] .fig-derived")).to_contain_text("1")
    expect(page.locator("#c-units")).to_have_text("1")
    expect(page.locator("#figures .fig")).to_have_count(len(month.fields))
    expect(page.locator("#c-staff")).to_have_text("1")
    expect(page.locator("#c-family")).to_have_text("2")
    expect(page.locator("#posts .post.on h3")).to_have_count(1)

    wait_for_charts(page)
    trend = painted(page, "#chart-trend", [COMPLETENESS, TIMELINESS])
    bars = painted(page, "#chart-children", [LATE, MISSING])
    for chart in (trend, bars):
        assert chart is not None and not chart["blank"]
        assert chart["width"] >= 500 and chart["height"] >= 250, chart
        assert chart["painted"] > 5000, chart
    assert trend["54,207,255"] > 300 and trend["91,228,155"] > 300, trend
    assert bars["255,183,77"] > 200 and bars["255,92,92"] > 200, bars
    # The layout fits the display: nothing scrolls.
    size = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size == [1920, 1080], size
    page.wait_for_timeout(900)  # let the post's fade-in (CSS) finish before the picture
    shot(page, "screen-display-1920x1080")

    # Totals only: no person's name anywhere on the screen.
    text = page.content()
    for name in [*Person.objects.values_list("name", flat=True)] + [
        *FamilyMember.objects.values_list("name", flat=True)
    ]:
        assert name not in text, name

    # Every post fits its panel, the 300-character one included.
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('#posts .post')]"
        ".filter((a) => a.scrollHeight > a.clientHeight + 1).length"
    )
    assert overflow == 0
    expect(page.locator("#posts .post")).to_have_count(3)
    # The posts rotate.
    first = page.locator("#posts .post.on h3").inner_text()
    page.evaluate("window.fangkongScreen.rotate()")
    expect(page.locator("#posts .post.on h3")).not_to_have_text(first)
    page.evaluate("window.fangkongScreen.rotate()")
    expect(page.locator("#posts .post.on h3")).to_have_text("居家健康监测要点")
    page.wait_for_timeout(900)
    shot(page, "screen-display-long-post")

    # A new report arrives: the next refresh updates the numbers without a reload.
    link.refresh_from_db()
    seen = link.last_seen_at
    reports.report_submit(
        actor=bworld.users["admin"], form=month, unit=bworld.units["XG"], day=D, kind="zero"
    )
    clock.advance(timedelta(minutes=1))
    page.evaluate("window.__marker = 1")
    page.evaluate("window.fangkongScreen.refresh()")
    expect(page.locator("#k-received")).to_have_text("5")
    expect(page.locator("#k-late")).to_have_text("3")
    expect(page.locator("#k-missing")).to_have_text("1")
    expect(page.locator("#c-units")).to_have_text("2")
    expect(page.locator("#sc-time")).to_contain_text("11:01")
    assert page.evaluate("window.__marker") == 1  # same page, not reloaded
    assert DisplayLink.objects.get(pk=link.pk).last_seen_at > seen

    # Revoked: the next refresh says so, and the link answers 404.
    screen.display_link_revoke(actor=bworld.users["prov_coord"], link=link)
    page.evaluate("window.fangkongScreen.refresh()")
    expect(page.locator("#sc-gone")).to_be_visible()
    expect(page.locator("#sc-gone")).to_contain_text("已停用")
    assert page.request.get(f"{live_server.url}/screen/d/{raw}/").status == 404


def test_posts_and_links_pages(page_for, display, live_server, bworld, month):
    coord = page_for("city_coord")
    coord.goto(f"{coord.base}/screen/posts/")
    expect(coord.locator("h1")).to_have_text("防疫宣教")
    coord.fill("#id_title", "出现症状及时就医")
    coord.fill(
        "#id_body",
        "如出现发热、干咳、乏力等症状，应做好防护及时到就近的发热门诊就诊，并如实告知旅行史和接触史。",
    )
    coord.fill("#id_source", "黄冈市卫生健康委")
    coord.select_option("#id_unit", "HG")
    coord.click("#post-form button[type=submit]")
    expect(coord.locator(".messages")).to_contain_text("宣教内容已发布")
    row = coord.locator("#posts tbody tr", has_text="出现症状及时就医")
    expect(row).to_contain_text("展示中")
    expect(row).to_contain_text("黄冈市审计局")
    # The province's post is not the city's to manage.
    expect(coord.locator("#posts")).not_to_contain_text("勤洗手")
    shot(coord, "screen-posts")

    coord.goto(f"{coord.base}/screen/links/")
    coord.fill("#id_name", "3楼大厅屏幕")
    coord.select_option("#id_unit", "HG")
    coord.click("#link-form button[type=submit]")
    url = coord.locator("#new-link").inner_text()
    assert url.startswith(f"{live_server.url}/screen/d/")
    expect(coord.locator("#links tbody tr", has_text="3楼大厅屏幕")).to_contain_text("有效")
    shot(coord, "screen-links")

    screen_page = display()
    screen_page.goto(url)
    expect(screen_page.locator("h1")).to_have_text("黄冈市审计局")
    wait_for_charts(screen_page, bars=(LATE,))  # HG-MC was late; no county is missing
    expect(screen_page.locator("#posts")).to_contain_text("出现症状及时就医")
    screen_page.wait_for_timeout(900)
    shot(screen_page, "screen-display-city")

    coord.reload()
    expect(coord.locator("#links tbody tr", has_text="3楼大厅屏幕")).not_to_contain_text("—")
    coord.once("dialog", lambda d: d.accept())
    coord.locator("#links tbody tr", has_text="3楼大厅屏幕").locator("button").click()
    expect(coord.locator(".messages")).to_contain_text("显示链接已停用")
    expect(coord.locator("#links tbody tr", has_text="3楼大厅屏幕")).to_contain_text("已停用")
    assert screen_page.request.get(url).status == 404

    # The coordinator's own screen of the city, signed in.
    coord.goto(f"{coord.base}/screen/u/HG/")
    expect(coord.locator("h1")).to_have_text("黄冈市审计局")
    coord.wait_for_function("document.querySelector('#chart-trend canvas') !== null")

"""Hostile names in every field, every page opened in Chromium: nothing runs, nothing breaks.

The world of tests/hostile_world.py puts `</script><script>alert(1)</script>`,
`<img src=x onerror=alert(1)>`, `"'><svg onload=alert(1)>`, `{{7*7}}`, U+202E and quotes into
every text field a user can set; tests/hostile_walk.py opens every page as its persona. A page
fails on any dialog, uncaught error, console error (CSP violations are console errors), inline
script or element the payloads would create; every chart shows the tooltip of a hostile name and
the tooltip must hold it as text.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.hostile import IMG, SCRIPT, SVG
from tests.hostile_walk import PAGES, ROLLUP_QUERY, Ctx, quoted
from tests.hostile_world import NOW, build_hostile_world
from tests.world import PASSWORD

# Recorded before any page script runs (an init script is not subject to the page's policy).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""

LIVE = """() => ({
  live: [...document.querySelectorAll('img[src="x"], svg, [onerror], [onload], [onclick]')]
    .filter((el) => !(el.tagName.toLowerCase() === "svg" && !el.hasAttribute("onload")))
    .map((el) => el.outerHTML.slice(0, 120)),
  inline: [...document.querySelectorAll("script")]
    .filter((s) => !s.src && s.type !== "application/json").map((s) => s.outerHTML.slice(0, 120)),
  violations: window.__violations || [],
})"""

# For every ECharts chart: show the tooltip of the first hostile category, node or link.
TOOLTIPS = """async () => {
  const out = [];
  if (!window.echarts) return out;
  for (const el of document.querySelectorAll("[_echarts_instance_]")) {
    const chart = echarts.getInstanceByDom(el);
    if (!chart) continue;
    const opt = chart.getOption();
    const bad = (v) => String(v && typeof v === "object" ? (v.name ?? v.value ?? "") : v).includes("<");
    const tries = [];
    for (const axis of [...(opt.xAxis || []), ...(opt.yAxis || [])]) {
      const i = (axis.data || []).findIndex(bad);
      if (i >= 0) tries.push({type: "showTip", seriesIndex: 0, dataIndex: i});
    }
    (opt.series || []).forEach((s, k) => {
      const i = (s.data || []).findIndex(bad);
      if (i >= 0) tries.push({type: "showTip", seriesIndex: k, dataIndex: i});
      const j = (s.links || []).findIndex((l) => bad(l.source) || bad(l.target));
      if (j >= 0) tries.push({type: "showTip", seriesIndex: k, dataIndex: j, dataType: "edge"});
    });
    for (const action of tries) {
      chart.dispatchAction(action);
      await new Promise((r) => setTimeout(r, 150));
      const tip = [...el.querySelectorAll("div")].map((d) => d.innerText).find((t) => t && t.trim());
      out.push({chart: el.id, action: action.dataType || "item", tip: tip || ""});
    }
  }
  return out;
}"""

# Pages with no user-set text on them: every other page must show some hostile value as text.
NO_USER_TEXT = {"accounts:login", "api:openapi-view", "reports:verify", "relief:project_new"}
# The username from the address is in the activation form's input, not in the page's text.
NO_USER_TEXT |= {"accounts:activate"}

SHOTS = {
    ("reports:rollup", "city_coord"): "hostile-rollup",
    ("org:unit", "county_liaison"): "hostile-unit",
    ("org:person", "county_liaison"): "hostile-person",
    ("notices:detail", "staff"): "hostile-notice",
    ("health:case", "county_liaison"): "hostile-case",
    ("audit:events", "admin"): "hostile-audit",
    ("screen:display", ""): "hostile-screen",
    ("relief:trace_donation", "auditor"): "hostile-sankey",
    ("relief:finding", "auditor"): "hostile-finding",
    ("relief:parties", "auditor"): "hostile-parties",
    ("reports:submit", "county_liaison"): "hostile-report-submit",
    ("accounts:batch", "city_coord"): "hostile-account-batch",
    ("accounts:unit_accounts", "city_coord"): "hostile-unit-accounts",
    ("accounts:unit_roles", "city_coord"): "hostile-unit-roles",
    ("accounts:activate", ""): "hostile-activate",
    ("org:leading_group", "city_coord"): "hostile-leading-group",
    ("org:family", "staff"): "hostile-family",
    ("sso:confirm", ""): "hostile-sso-confirm",
    ("sso:adoption", "admin"): "hostile-sso-adoption",
}


@pytest.fixture
def hostile(bworld, brelief, tmp_path, platforms):
    from fangkong.lib import clock

    clock.freeze(NOW)
    h = build_hostile_world(bworld, brelief, tmp_path, platforms)
    yield Ctx(w=bworld, rw=brelief, h=h, platform_url=platforms.url)
    clock.freeze(None)


class Watch:
    """One signed-in page per persona, with everything that went wrong on it."""

    def __init__(self, browser, base):
        self.browser, self.base, self.pages, self.problems = browser, base, {}, []

    def page(self, persona: str):
        if persona in self.pages:
            return self.pages[persona]
        ctx = self.browser.new_context(
            viewport={"width": 1366, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        ctx.add_init_script(WATCH)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        page.current = ""
        page.on(
            "dialog",
            lambda d: (self.problems.append(f"{page.current}: dialog {d.message}"), d.dismiss()),
        )
        page.on("pageerror", lambda e: self.problems.append(f"{page.current}: error {e}"))
        page.on("console", lambda m: self._console(page, m))
        if persona:
            page.goto(f"{self.base}/accounts/login/")
            page.fill("#id_username", persona)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{self.base}/**")
        self.pages[persona] = page
        return page

    def _console(self, page, message):
        # Every error counts, a 404 for /favicon.ico too (base.html links the site's icon).
        if message.type == "error":
            self.problems.append(f"{page.current}: console {message.text}")

    def close(self):
        for page in self.pages.values():
            page.context.close()


def test_hostile_names_walk(browser, live_server, hostile):
    watch = Watch(browser, live_server.url)
    tooltips = []
    plain = []
    try:
        for spec in PAGES:
            page = watch.page(spec.persona)
            path = quoted(spec.path(hostile))
            page.current = f"{spec.name} as {spec.persona or 'anonymous'} ({path})"
            if spec.via:  # e.g. through the local WeCom to a pending confirmation
                page.goto(f"{live_server.url}{spec.via(hostile)}")
            response = page.goto(f"{live_server.url}{path}")
            if response.status != 200:
                watch.problems.append(f"{page.current}: HTTP {response.status}")
                continue
            if page.locator("[data-sankey], #screen, #swagger-ui").count():
                page.wait_for_load_state("networkidle")  # these fetch their data after loading
            found = page.evaluate(LIVE)
            if not any(x in page.inner_text("body") for x in (SCRIPT, IMG, SVG)):
                plain.append(spec.name)
            for kind in ("live", "inline", "violations"):
                watch.problems += [f"{page.current}: {kind} {x}" for x in found[kind]]
            for t in page.evaluate(TOOLTIPS):
                tooltips.append((spec.name, t))
                if not any(p in t["tip"] for p in ("<img", "</script>", "<svg")):
                    watch.problems.append(f"{page.current}: tooltip without the name: {t}")
            watch.problems += [
                f"{page.current}: after tooltips {x}" for x in page.evaluate(LIVE)["live"]
            ]
            if (spec.name, spec.persona) in SHOTS:
                shot(page, SHOTS[spec.name, spec.persona])
        # htmx under the policy: the liaison reveals a mobile number in place.
        page = watch.page("county_liaison")
        page.current = "org:person_reveal (htmx)"
        page.goto(f"{live_server.url}/org/people/{hostile.h.person.pk}/")
        page.locator("#mobile button").click()
        expect(page.locator("#mobile .revealed")).to_have_text("13900005678")
    finally:
        watch.close()
    assert not watch.problems, "\n".join(watch.problems)
    assert set(plain) <= NO_USER_TEXT, f"pages that showed none of the hostile text: {plain}"
    charts = {name for name, _t in tooltips}
    assert {"reports:rollup", "screen:display", "relief:trace_donation"} <= charts, tooltips


def test_rollup_chart_with_a_hostile_unit_name(page_for, hostile):
    """Regression (issue 11): a child unit named `</script><script>…` in the coordinator's roll-up."""
    page = page_for("city_coord")
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{page.base}/reports/{hostile.h.form.pk}/rollup/{ROLLUP_QUERY}")
    page.wait_for_function("document.querySelector('#chart-children canvas') !== null")
    names = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-children')).getOption().xAxis[0].data"
    )
    hostile_names = [n for n in names if SCRIPT in n or IMG in n]
    assert hostile_names, names
    row = page.locator("#children tr", has_text="</script>")
    expect(row.first).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == [] and errors == []

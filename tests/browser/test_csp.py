"""The Content-Security-Policy in a real browser: sent on every page, refuses injected inline
script, handlers and eval, and leaves our own pages (htmx, ECharts, Swagger UI) working."""

from playwright.sync_api import expect

from tests.browser.conftest import shot

INJECT = """() => new Promise((resolve) => {
  const seen = [];
  document.addEventListener("securitypolicyviolation", (e) => seen.push(e.violatedDirective));
  window.__ran = [];
  const s = document.createElement("script");
  s.textContent = "window.__ran.push('script')";
  document.body.appendChild(s);
  const box = document.createElement("div");
  box.innerHTML = '<img src="data:," onerror="window.__ran.push(\\'handler\\')">';
  document.body.appendChild(box);
  setTimeout(() => resolve({seen, ran: window.__ran}), 300);
})"""


def test_the_policy_is_sent_and_refuses_injected_script(page_for):
    page = page_for("staff")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = page.goto(f"{page.base}/")
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in directives.get("style-src", [])
    assert errors == []

    result = page.evaluate(INJECT)
    assert result["ran"] == []
    assert "script-src-elem" in result["seen"]
    assert "script-src-attr" in result["seen"]
    assert any("Content Security Policy" in e for e in errors), errors


def test_api_docs_work_offline_under_the_policy(page_for, live_server):
    """Swagger UI from django-ninja's own static files: nothing is fetched from elsewhere."""
    page = page_for("staff")
    outside = []

    def offline(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", offline)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{page.base}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Fangkong API")
    page.locator(".opblock-summary-path[data-path='/api/v1/me']").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tbody .response-col_status").first).to_have_text(
        "200"
    )
    expect(page.locator(".live-responses-table")).to_contain_text('"username": "staff"')
    shot(page, "api-docs")
    assert outside == []
    assert problems == []


def test_shared_behaviours_work_without_inline_handlers(page_for, bworld, tmp_path):
    """js/app.js: data-confirm asks (Cancel keeps the page), data-submit-once disables the
    buttons after sending, data-autosubmit switches the language."""
    from fangkong.accounts.models import User

    page = page_for("admin")
    page.goto(f"{page.base}/accounts/users/?q=staff")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("button:has-text('重置密码')")
    page.wait_for_timeout(300)
    assert asked == ["确定要重置该账号的密码吗？"]
    assert page.url.endswith("/accounts/users/?q=staff")
    assert not User.objects.get(username="staff").must_change_password
    page.once("dialog", lambda d: d.accept())
    page.click("button:has-text('重置密码')")
    expect(page.locator("#temporary-password")).to_be_visible()

    page.goto(f"{page.base}/org/roster/import/")
    roster = tmp_path / "名册.csv"
    roster.write_text("姓名,单位\n", encoding="utf-8")
    page.set_input_files("input[type=file]", str(roster))
    # Keep the page (a listener on window runs after app.js's on document) and look at the button.
    page.evaluate("window.addEventListener('submit', (e) => e.preventDefault())")
    page.click("button:has-text('上传并校验')")
    expect(page.locator("button:has-text('上传并校验')")).to_be_disabled()

    page.select_option("select[name=language]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

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

"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Outside CI the tests skip when /usr/bin/chromium is missing; in CI (CI=true) they must run.
Screenshots land in test-artifacts/screenshots/ so a person can look at every page.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test body
# are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: apt-get install chromium fonts-noto-cjk")
        pytest.skip("Chromium not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def bworld(transactional_db):
    from tests.world import build_world

    return build_world()


@pytest.fixture
def page_for(browser, live_server, bworld):
    """page_for("staff", mobile=True) → a Playwright page signed in as that persona."""
    contexts = []

    def make(persona: str, *, mobile: bool = False, locale: str = "zh-CN"):
        viewport = {"width": 390, "height": 844} if mobile else {"width": 1366, "height": 900}
        ctx = browser.new_context(
            viewport=viewport,
            locale=locale,
            timezone_id="Asia/Shanghai",
            device_scale_factor=1,
            is_mobile=mobile,
            has_touch=mobile,
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/accounts/login/")
        from tests.world import PASSWORD

        page.fill("#id_username", persona)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/**")
        page.base = live_server.url
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot for review."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def brelief(bworld, settings, tmp_path):
    """The relief-audit project of tests/relief_fixtures.py, for browser tests (auditor, auditor2)."""
    from tests.relief_fixtures import build_relief_world

    settings.MEDIA_ROOT = tmp_path / "media"
    return build_relief_world(bworld, tmp_path)

"""Debian's headless Chromium, driven by Playwright (executable_path: Playwright's own browser download is
never used), and pages logged in as the demo users."""

import os
import shutil
from pathlib import Path

import pytest
from app_process import USER_PASSWORD
from demo_process import start_demo
from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("DAY2OPS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# No background traffic: this machine's network is closed, and a test must not wait on it.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _a_4xx(text: str) -> bool:
    return text.startswith("Failed to load resource: the server responded with a status of 4")


SHOTS = Path(__file__).resolve().parents[1] / "output" / "browser"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium (make system)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """new_page(app, user[, password]) -> a Page logged in through the login form, at laptop width. Every
    page's console errors fail the test that opened it."""
    contexts, errors = [], []

    def open_page(app, username: str | None, password: str = USER_PASSWORD) -> Page:
        context = browser.new_context(viewport={"width": 1366, "height": 860}, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        # Console errors, but not the browser's note on each 4xx answer: the UI shows those itself.
        page.on(
            "console", lambda m: errors.append(m.text) if m.type == "error" and not _a_4xx(m.text) else None
        )
        if username:
            page.goto(f"{app.url}/ui/login")
            page.get_by_label("User name").fill(username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{app.url}/ui/")
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], errors


def screenshot(page: Page, name: str) -> Path:
    """A test artifact: tests/output/browser/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# A real `day2ops demo` for each module that asks for one (test_demo_flows, test_demo_releases).
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    demo = start_demo(tmp_path_factory.mktemp("demo"))
    yield demo
    code = demo.stop()
    assert code == 0 and "Traceback" not in demo.output(), demo.output()[-3000:]


@pytest.fixture
def as_user(new_page, demo):
    """as_user(name) -> a Page logged in as that demo user with their own password."""
    return lambda username: new_page(demo, username, demo.users[username])

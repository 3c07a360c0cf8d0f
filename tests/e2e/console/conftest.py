"""The staff console in a real browser: Debian's chromium driven by Playwright, against the live test server.

The browser shares the session's event loop with the server (Playwright's async API), so a page's requests are
served while a test awaits it. Screenshots go to test-output/console/ at the repository's root.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from tests.admin.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[3]
DIST = ROOT / "console" / "dist" / "index.html"
SHOTS = ROOT / "test-output" / "console"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Headless, and nothing that reaches past loopback: no updates, sync, QUIC probes or first-run pages.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
VIEWPORT = {"width": 1366, "height": 768}  # the office screen the console is made for


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if not DIST.exists():
        return "the console is not built (make console)"
    return None


@pytest_asyncio.fixture(scope="session")
async def browser():
    """One headless chromium for the session (a missing browser or build fails under CI, skips elsewhere)."""
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    pw = await async_playwright().start()
    chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    yield chromium
    await chromium.close()
    await pw.stop()


@pytest_asyncio.fixture
async def new_page(browser, live):
    """A factory of fresh pages (each its own context: its own session storage, as another person's browser)."""
    contexts = []

    async def make():
        context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                            base_url=live.base_url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = await context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("console", lambda m: "Content Security Policy" in m.text and outside.append(m.text))
        # A government intranet has no internet: any request off this machine is refused and remembered.
        await context.route(_off_this_machine, _refuse(outside))
        return page

    outside: list[str] = []  # requests off this machine, and anything the page's policy refused
    yield make
    for context in contexts:
        await context.close()
    assert not outside, f"the console asked for something outside this machine: {outside}"


def _off_this_machine(url: str) -> bool:
    # The browser's own chrome:// and chrome-extension:// pages (its PDF viewer) never leave the machine.
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK


def _refuse(outside: list[str]):
    async def handler(route):
        outside.append(route.request.url)
        await route.abort()
    return handler


@pytest_asyncio.fixture
async def page(new_page):
    """One fresh page."""
    return await new_page()


async def login(page, username: str, password: str = PASSWORD) -> None:
    """Logs in through the console's login page and waits for the shell."""
    await page.goto("/console/")
    await page.fill("[data-test=username]", username)
    await page.fill("[data-test=password]", password)
    await page.click("[data-test=login]")
    await page.wait_for_selector("[data-test=menu]")


async def shoot(page, name: str) -> Path:
    """Saves a screenshot of the page as test-output/console/NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


async def timed(page, action, selector: str) -> float:
    """Seconds from `action()` until `selector` is visible."""
    start = time.perf_counter()
    await action()
    await page.wait_for_selector(selector, state="visible")
    return time.perf_counter() - start

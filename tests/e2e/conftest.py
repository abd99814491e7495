import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.support.browser import (
    WIDTHS,
)

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "var" / "screenshots"


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser(chromium_path):
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
    # test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url, accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sized_page(browser, live_server):
    """Pages at a given viewport width with axe-core injected into every document."""
    contexts = []

    def make(width):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": WIDTHS.get(width, 800)}, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        context.add_init_script(path=str(AXE))  # through the DevTools protocol: no CSP exception needed
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()

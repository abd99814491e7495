import os

import pytest
from playwright.sync_api import sync_playwright

from ..factories import totp_code

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


def log_in(page, email, password, totp_secret=None):
    """Log in through the real pages, answering the second-factor prompt when there is one."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    if totp_secret:
        page.get_by_label("Code").fill(totp_code(totp_secret))
        page.get_by_role("button", name="Sign In").click()


def confirm_password_if_asked(page, password):
    """allauth asks for the password again before security changes (adding a second factor)."""
    if page.get_by_role("heading", name="Confirm Access").is_visible():
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Confirm").click()

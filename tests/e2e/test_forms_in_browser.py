"""Forms and pages that only a real browser exercises: the token page's posts carry the Origin
the CSRF check needs (its Referrer-Policy keeps the Referer from other origins without making
Chromium send `Origin: null`), and the API docs start under the portal's Content-Security-Policy."""

import pytest

from accessgate.accounts.models import ApiToken
from tests.support.browser import log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def console_problems(page):
    """Console errors (a CSP violation is one), uncaught exceptions and failed responses, as text."""
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    return problems


def test_a_researcher_creates_and_revokes_a_token(new_page, researcher):
    page = new_page()
    log_in(page, researcher.email, factories.PASSWORD)
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.header_value("origin")))

    response = page.goto("/accounts/tokens/")
    assert response.headers["referrer-policy"] == "same-origin"
    page.get_by_label("Name").fill("cluster")
    page.get_by_role("button", name="Create token").click()
    assert page.get_by_role("heading", name="Copy your new token now").is_visible()
    secret = page.locator("#new-token").inner_text().strip()
    token = ApiToken.objects.get(user=researcher, name="cluster")
    assert secret.startswith(token.prefix) and token.revoked_at is None

    page.get_by_role("row").filter(has_text="cluster").get_by_role("link", name="Revoke…").click()
    page.get_by_role("button", name="Revoke token").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("row").filter(has_text="cluster").get_by_text("Revoked").is_visible()
    token.refresh_from_db()
    assert token.revoked_at is not None
    origin = page.evaluate("location.origin")
    assert posts == [origin, origin]  # the real origin, never "null"


def test_swagger_ui_shows_the_operations_under_the_csp(new_page):
    page = new_page()
    problems = console_problems(page)
    response = page.goto("/api/v1/docs/")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert page.get_by_text("/api/v1/models/", exact=True).first.is_visible()
    assert not problems, "\n".join(problems)


def test_redoc_shows_the_api_title_under_the_csp(new_page):
    page = new_page()
    problems = console_problems(page)
    response = page.goto("/api/v1/redoc/")
    script_src = [d for d in response.headers["content-security-policy"].split(";") if "script-src" in d]
    assert script_src and all("'unsafe-inline'" not in d for d in script_src)
    page.get_by_role("heading", name="accessgate API").first.wait_for()
    assert page.get_by_role("heading", name="catalog").first.is_visible()
    assert not page.get_by_text("Something went wrong").is_visible()
    assert not problems, "\n".join(problems)

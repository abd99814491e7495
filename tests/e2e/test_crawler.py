"""Every page, every role, every form, in Chromium.

As each role (anonymous, researcher, reviewer, publisher, auditor, admin) the crawler visits
every route the URLconf yields, with its URL filled from the permission matrix's seeded world
(tests/test_permissions.py, whose rows are checked against the URLconf) plus allauth's routes
that take no argument. A route whose GET does not answer HTML is not a page and is skipped
(the run prints which, and why). On each page it submits every form once, filled by
`crawl.FILL_FORM`. It fails on:
- a 500 anywhere (a page, a form's answer, a request the page's scripts make);
- a 403 that is a CSRF failure;
- a console error or uncaught exception (a CSP violation is a console error);
- a page wider than its viewport at 1280 or 390 px.
docs/browser-tests.md describes the run and how to read a failure. Budget: one browser, one
context per role; about 2 minutes on two cores.
"""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError

from accessgate.access import services
from tests.support.applications import application
from tests.support.browser import log_in
from tests.support.permissions import urls

from .. import factories
from .crawl import (
    FILL_FORM,
    FORM_SHAPE,
    PAGE_WIDTH,
    SUBMIT_FORM,
    Findings,
    allauth_routes,
    loopback_only_lookups,
    path_of,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CRAWL_ROLES = ["anonymous", "researcher", "reviewer", "publisher", "auditor", "admin"]
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
HTTP_4XX_LOG = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d ")
NAVIGATION_WAIT_MS = 2_000  # a form whose script keeps the page (an upload without files) is not waited on longer


# Values as long as real ones, where they widen pages: e-mails, names, affiliations, targets.
LONG_EMAIL = "grace.holder-with-a-rather-long-address@research-institute-of-example.org"
LONG_NAME = "Grace Brewster Murray Hopper-Wexler"
LONG_AFFILIATION = "Institute for Advanced Computational Safety Research of the Extended Consortium"


def long_values(seeded):
    """An applicant with a long e-mail, name and affiliation, with a request assigned to a
    reviewer with a long e-mail: the queue, the trail and the console show them."""
    model = seeded["model"]
    applicant = factories.UserFactory(
        email=LONG_EMAIL, profile__full_name=LONG_NAME, profile__affiliation=LONG_AFFILIATION
    )
    request = services.access_request_submit(actor=applicant, **application(model, typed_name=LONG_NAME))
    long_reviewer = factories.UserFactory(role="reviewer", email="second.reviewer-" + LONG_EMAIL)
    model.reviewers.add(long_reviewer)
    with transaction.atomic():
        services.access_request_assign(
            actor=seeded["users"]["reviewer"], access_request=request, assignee=long_reviewer
        )


class RoleCrawl:
    def __init__(self, browser, base_url, role, findings):
        self.role, self.findings = role, findings
        self.context = browser.new_context(base_url=base_url, viewport=DESKTOP)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.responses = []
        self.rendered = set()  # final paths (or error statuses) this role has seen in the browser
        self.forms = set()  # (method, action, field names) this role has submitted
        self.page.on("dialog", lambda dialog: dialog.accept())  # "Are you sure?" confirmations
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: findings.fail("JS error", f"{role} {self._where()}: {error}"))
        self.page.on("response", lambda response: self.responses.append(response))

    def _where(self):
        return path_of(self.page.url)

    def _console(self, message):
        # Chromium logs every 4xx answer as "Failed to load resource"; statuses are checked on
        # the responses themselves (a refusal is often the right answer for a role).
        if message.type == "error" and not HTTP_4XX_LOG.match(message.text):
            self.findings.fail("console error (CSP or script)", f"{self.role} {self._where()}: {message.text[:300]}")

    def _check_responses(self, what):
        for response in self.responses:
            status = response.status
            if status >= 500:
                self.findings.fail("500", f"{self.role} {what}: {response.request.method} {path_of(response.url)}")
            elif status == 403 and response.request.resource_type == "document":
                try:
                    body = response.text()
                except PlaywrightError:
                    body = ""
                if "CSRF" in body:
                    self.findings.fail("403 CSRF", f"{self.role} {what}: {path_of(response.url)}")
        self.responses.clear()

    def _measure(self, name):
        where = self._where()
        for viewport in (DESKTOP, PHONE):
            self.page.set_viewport_size(viewport)
            scroll_width, inner_width = self.page.evaluate(PAGE_WIDTH)
            if scroll_width > inner_width:
                self.findings.fail(
                    "wider than the viewport",
                    f"{self.role} {name} ({where}): {scroll_width}px in {inner_width}px",
                )
        self.page.set_viewport_size(DESKTOP)

    def probe(self, name, url):
        """GET it as this role (the context's cookies, no rendering). Returns what the browser
        should render: None for no page (an answer that is not HTML) or for one this role has
        rendered already (the same final path, or the same error status)."""
        answer = self.context.request.get(url)
        self.findings.probes += 1
        if answer.status >= 500:
            self.findings.fail("500", f"{self.role} {name}: GET {url}")
        if answer.status == 405:
            self.findings.skip("no GET: answers 405", name)
            return None
        kind = answer.headers.get("content-type", "").split(";")[0]
        if kind != "text/html":
            self.findings.skip(f"not a page: answers {kind or 'no content type'}", name)
            return None
        seen = urlsplit(answer.url).path if answer.ok else f"status {answer.status}"
        if seen in self.rendered:
            return None
        self.rendered.add(seen)
        return url

    def visit(self, name, url, logout_url):
        if not self.probe(name, url):
            return
        self.page.goto(url)
        self.findings.visits += 1
        self._check_responses(f"{name} GET")
        self._measure(name)
        landed = self.page.url
        fresh = True
        for index in range(self.page.locator("form").count()):
            if not fresh:
                self.page.goto(landed)
                self.responses.clear()
            form = self.page.locator("form").nth(index)
            shape = form.evaluate(FORM_SHAPE)
            if shape["action"] == logout_url or str(shape) in self.forms:
                continue
            if not form.evaluate(FILL_FORM, factories.PASSWORD):
                continue
            self.forms.add(str(shape))
            self.submit(form, f"{name} form #{index + 1} → {shape['action']}")
            fresh = False

    def submit(self, form, what):
        self.findings.submits += 1
        try:
            with self.page.expect_navigation(timeout=NAVIGATION_WAIT_MS):
                form.evaluate(SUBMIT_FORM)
        except PlaywrightError:
            pass  # the page's script handled it (or the browser's validation refused): nothing was sent
        self.page.wait_for_load_state("load")
        self._check_responses(what)

    def close(self):
        self.context.close()


def test_every_page_and_form_works_for_every_role(browser, live_server, world, monkeypatch, capsys):  # noqa: F811
    loopback_only_lookups(monkeypatch)
    long_values(world)
    started = time.monotonic()
    findings = Findings()
    portal = sorted(urls(world).items())
    accounts, needs_key = allauth_routes()
    for name in needs_key:
        findings.skip("needs a one-time key from an e-mail", name)
    logout_url = reverse("account_logout")
    for role in CRAWL_ROLES:
        crawl = RoleCrawl(browser, live_server.url, role, findings)
        user = world["users"][role]
        if user is not None:
            log_in(crawl.page, user.email, factories.PASSWORD, getattr(user, "totp_secret", None))
            crawl.page.wait_for_load_state("load")
            crawl._check_responses("log-in")
        # allauth's pages come last: they change the session (e-mail, second factor).
        for name, (url, _) in portal:
            crawl.visit(name, url, logout_url)
        for name, url in accounts:
            crawl.visit(name, url, logout_url)
        if user is not None:  # and signing out works
            crawl.page.goto(logout_url)
            logout = crawl.page.locator(f'form[action="{logout_url}"]')
            if logout.count():
                crawl.submit(logout.first, "log-out")
        crawl.close()
    with capsys.disabled():
        print(f"\n{findings.summary()}\ncrawl took {time.monotonic() - started:.0f}s")
    assert not findings.failures, findings.report()

"""Shared test helpers (plain functions and values, not fixtures)."""

import json
from pathlib import Path

import pytest

from tests.factories import totp_code

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "var" / "screenshots"


WIDTHS = {1280: 800, 390: 844}  # desktop and phone viewports (width: height)


needs_axe = pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (make node)")


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map(n => n.target.join(" "))}));
}"""


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


class Inspector:
    """Collects, per page, whether it is wider than its viewport and axe-core's serious or
    critical violations, and saves a full-page screenshot as var/screenshots/<name>-<width>.png."""

    def __init__(self, width):
        self.width = width
        self.widths = {}
        self.problems = []

    def check(self, page, name):
        page.wait_for_load_state("load")
        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        self.widths[name] = scroll_width
        if scroll_width > inner_width:
            self.problems.append(f"{name} @{self.width}: page is {scroll_width}px wide in a {inner_width}px viewport")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{self.width}.png"), full_page=True)
        for violation in page.evaluate(AXE_RUN):
            self.problems.append(
                f"{name} @{self.width}: axe {violation['impact']} {violation['id']}: "
                f"{violation['help']} {violation['nodes']}"
            )

    def save_widths(self, label):
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / f"{label}-{self.width}.json").write_text(json.dumps(self.widths, indent=1))


def open_menu_item(page, width, name):
    """At phone width the main menu is behind a Menu button; open it, then follow the link."""
    if width < 768:
        toggle = page.get_by_role("button", name="Menu")
        assert toggle.is_visible() and not page.get_by_role("link", name=name).is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
    page.get_by_role("link", name=name).click()

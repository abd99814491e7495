"""Each persona's main flow at a desktop and a phone width: no page is wider than its
viewport, axe-core finds no serious or critical violation, a failed submit moves focus to the
error summary, and the menu collapses behind a button on the phone. Screenshots and widths
land in var/screenshots/ (gitignored) for a person to look at."""

import pytest

from accessgate.access import services
from accessgate.access.models import AccessRequest
from tests.support.applications import application, make_policy
from tests.support.browser import WIDTHS, Inspector, log_in, needs_axe, open_menu_item

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@needs_axe
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_persona_at_desktop_and_phone_width(sized_page, width, model, reviewer, auditor, licence):
    holder = factories.UserFactory(email="holder@example.org", profile__full_name="Grace Holder")
    granted = services.access_request_submit(actor=holder, **application(model, typed_name="Grace Holder"))
    services.access_request_approve(actor=reviewer, access_request=granted)
    other = factories.ModelFactory(reviewers=[reviewer], display_name="Second Demo 3B")
    make_policy(other, licence)
    factories.make_release(other)
    inspector = Inspector(width)

    # The researcher: catalog, a model they hold, its download page, a new application that
    # fails once (focus moves to the error summary), My access, tokens, profile.
    page = sized_page(width)
    page.goto("/models/")
    inspector.check(page, "anonymous-catalog")
    log_in(page, holder.email, factories.PASSWORD)
    page.goto("/models/")
    inspector.check(page, "researcher-catalog")
    page.get_by_role("link", name=model.display_name).click()
    inspector.check(page, "researcher-model")
    page.get_by_role("button", name="Download 1.0").click()
    inspector.check(page, "researcher-download")
    copy = page.get_by_role("button", name="Copy").first
    copy.focus()
    assert page.evaluate("document.activeElement.textContent") == "Copy"
    page.goto(f"/models/{other.full_name}/apply/")
    inspector.check(page, "researcher-apply")
    page.get_by_role("button", name="Sign and submit").click()
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    described = page.get_by_label("Intended use").get_attribute("aria-describedby")
    assert described and all(page.locator(f"#{i}").count() == 1 for i in described.split())
    inspector.check(page, "researcher-apply-errors")
    page.get_by_label("Intended use").fill("Measuring refusal robustness for a safety paper at our lab.")
    for statement in other.policy.statements.all():
        page.get_by_label(statement.text).check()
    page.get_by_label("Type your full name to sign").fill("Grace Holder")
    page.get_by_role("button", name="Sign and submit").click()
    assert page.get_by_text("Your request is submitted").is_visible()
    inspector.check(page, "researcher-request")
    open_menu_item(page, width, "My access")
    inspector.check(page, "researcher-my-access")
    page.goto("/accounts/tokens/")
    inspector.check(page, "researcher-tokens")
    page.goto("/accounts/profile/")
    inspector.check(page, "researcher-profile")
    page.goto("/access/downloads/")
    inspector.check(page, "researcher-downloads")

    # The reviewer: queue, the new request (signed statements open), approve, grants, revoke.
    staff = sized_page(width)
    log_in(staff, reviewer.email, factories.PASSWORD, reviewer.totp_secret)
    open_menu_item(staff, width, "Review queue")
    inspector.check(staff, "reviewer-queue")
    pending = AccessRequest.objects.get(model=other)
    staff.goto(f"/review/requests/{pending.pk}/")
    assert staff.locator("details[open]").filter(has_text="Agreement signed").count() == 1
    inspector.check(staff, "reviewer-request")
    staff.get_by_role("button", name="Approve").click()
    assert staff.get_by_text("Approved; the applicant has access now.").is_visible()
    staff.goto("/review/grants/")
    inspector.check(staff, "reviewer-grants")
    staff.get_by_role("link", name="Revoke…").first.click()
    inspector.check(staff, "reviewer-revoke")
    staff.goto("/review/dashboard/")
    assert staff.locator("svg[role=img]").count() == 3
    inspector.check(staff, "reviewer-dashboard")

    # The auditor: the trail, everything about the researcher, one event, exports.
    audit = sized_page(width)
    log_in(audit, auditor.email, factories.PASSWORD, auditor.totp_secret)
    open_menu_item(audit, width, "Audit trail")
    inspector.check(audit, "auditor-trail")
    audit.goto(f"/audit/?person={holder.email}")
    assert audit.locator("table.log tbody tr").count() >= 5
    inspector.check(audit, "auditor-person")
    audit.locator("table.log tbody tr a").first.click()
    inspector.check(audit, "auditor-event")
    audit.goto("/audit/exports/")
    inspector.check(audit, "auditor-exports")
    open_menu_item(audit, width, "Dashboard")
    inspector.check(audit, "auditor-dashboard")

    inspector.save_widths("widths")
    assert not inspector.problems, "\n".join(inspector.problems)

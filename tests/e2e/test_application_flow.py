"""A researcher applies in a real browser, a reviewer approves, the researcher sees the grant."""

import pytest

from accessgate.access.models import Grant
from accessgate.audit.models import AuditEvent
from tests.support.browser import log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_apply_review_approve(new_page, model, reviewer):
    researcher = factories.UserFactory(email="rosalind@example.org", profile=None)

    page = new_page()
    log_in(page, researcher.email, factories.PASSWORD)
    page.goto(f"/models/{model.full_name}/")
    page.get_by_role("button", name="Apply for access").click()

    # First application: the profile comes first, then back to the form.
    page.get_by_label("Full name").fill("Rosalind Franklin")
    page.get_by_label("Institution or company").fill("King's College London")
    page.get_by_label("Position").fill("Research associate")
    page.get_by_label("Country").select_option("GB")
    page.get_by_role("button", name="Save profile").click()
    assert page.get_by_role("heading", name="Apply for access").is_visible()

    page.get_by_label("Intended use").fill("Measuring refusal robustness for a safety paper at King's.")
    for statement in model.policy.statements.all():
        page.get_by_label(statement.text).check()
    page.get_by_label("Type your full name to sign").fill("Someone Else")
    page.get_by_role("button", name="Sign and submit").click()
    assert page.get_by_text("Type your full name exactly as in your profile").is_visible()
    for statement in model.policy.statements.all():
        page.get_by_label(statement.text).check()
    page.get_by_label("Type your full name to sign").fill("rosalind franklin")
    page.get_by_role("button", name="Sign and submit").click()
    assert page.get_by_text("Your request is submitted").is_visible()
    assert page.get_by_text("Awaiting review").first.is_visible()

    staff = new_page()
    log_in(staff, reviewer.email, factories.PASSWORD, reviewer.totp_secret)
    staff.get_by_role("link", name="Review queue").click()
    staff.locator("table a").first.click()
    assert staff.get_by_text("King's College London").is_visible()
    staff.get_by_role("button", name="Approve").click()
    assert staff.get_by_text("Approved; the applicant has access now.").is_visible()

    page.get_by_role("link", name="My access").click()
    grant = Grant.objects.get(user__email="rosalind@example.org")
    assert page.get_by_text(grant.expires_at.strftime("%Y-%m-%d %H:%M")).is_visible()
    assert page.locator(".badge-active").is_visible()

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    for expected in [
        "account.logged_in",
        "account.profile.updated",
        "access.request.submitted",
        "access.request.approved",
        "grant.created",
    ]:
        assert expected in actions

"""A researcher renews a grant in a real browser, a reviewer approves the renewal, then the
researcher ends their access and files the close-out attestation."""

import pytest

from accessgate.access import services
from accessgate.access.models import Closeout, Grant, GrantStatus
from accessgate.audit.models import AuditEvent
from tests.support.applications import application, make_policy
from tests.support.browser import log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_renew_then_end_and_close_out(new_page, model, reviewer, researcher):
    make_policy(model, model.policy.license, require_closeout=True)
    request = services.access_request_submit(actor=researcher, **application(model))
    grant = services.access_request_approve(actor=reviewer, access_request=request)
    first_expiry = grant.expires_at

    page = new_page()
    log_in(page, researcher.email, factories.PASSWORD)
    page.goto("/access/")
    page.get_by_role("link", name="History, renew or end").click()
    page.get_by_role("button", name="Renew", exact=True).click()
    page.get_by_label("Progress report").fill("A preprint on refusal robustness; the next study starts in June.")
    for statement in model.policy.statements.all():
        page.get_by_label(statement.text).check()
    page.get_by_label("Type your full name to sign").fill("Rosalind Franklin")
    page.get_by_role("button", name="Sign and renew").click()
    assert page.get_by_text("Your renewal is submitted").is_visible()

    staff = new_page()
    log_in(staff, reviewer.email, factories.PASSWORD, reviewer.totp_secret)
    staff.get_by_role("link", name="Review queue").click()
    staff.locator("table a").first.click()
    assert staff.get_by_role("heading", name=f"Renewal of grant #{grant.pk}").is_visible()
    assert staff.get_by_text("A preprint on refusal robustness").is_visible()
    staff.get_by_role("button", name="Approve").click()
    assert staff.get_by_text("Approved; the applicant has access now.").is_visible()

    grant.refresh_from_db()
    assert grant.expires_at > first_expiry
    page.reload()
    assert page.get_by_role("cell", name="Renewal", exact=True).is_visible()
    assert page.get_by_text(grant.expires_at.strftime("%Y-%m-%d %H:%M")).first.is_visible()

    page.get_by_role("link", name="End my access…").click()
    page.get_by_role("button", name="Yes, end my access").click()
    assert page.get_by_role("heading", name=f"Close-out: {model.full_name}").is_visible()
    page.get_by_label("Every system the weights or derived copies were on").fill("lab-gpu-01\nbackup tape 7")
    page.get_by_label("Deleted from every system listed").check()
    page.get_by_label("Type your full name to sign").fill("Rosalind Franklin")
    page.get_by_role("button", name="Sign and file").click()
    assert page.get_by_text("Thank you; your close-out is filed.").is_visible()

    grant.refresh_from_db()
    assert grant.status == GrantStatus.ENDED
    closeout = Closeout.objects.get(grant=grant)
    assert (closeout.status, closeout.systems) == ("filed", "lab-gpu-01\nbackup tape 7")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    for expected in [
        "access.renewal.submitted",
        "grant.renewed",
        "grant.ended",
        "access.closeout.opened",
        "access.closeout.filed",
    ]:
        assert expected in actions
    assert Grant.objects.filter(user=researcher).count() == 1

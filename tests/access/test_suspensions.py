"""Suspending and reinstating a grant by hand, with a reason the researcher sees."""

import pytest
from django.urls import reverse

from accessgate.access import services
from accessgate.access.models import AccessPolicy, GrantStatus
from accessgate.access.rules.downloads import download_check
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition, ValidationFailed
from tests.support.applications import application

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def grant(model):
    return factories.GrantFactory(model=model)


def test_suspend_refuses_downloads_with_the_reason_and_reinstate_restores(grant, reviewer, events):
    release = grant.model.releases.get()
    services.grant_suspend(actor=reviewer, grant=grant, reason="Investigating a leak report.")
    grant.refresh_from_db()
    assert (grant.status, grant.suspended_reason) == (GrantStatus.SUSPENDED, "by_hand")
    assert events() == ["grant.suspended"]
    assert AuditEvent.objects.get(action="grant.suspended").details == {
        "user": grant.user.email,
        "model": grant.model.full_name,
        "reason": "by_hand",
        "message": "Investigating a leak report.",
    }
    with pytest.raises(AccessDenied) as error:
        download_check(grant.user, release)
    assert error.value.message == f"Your access to {grant.model.full_name} is suspended: Investigating a leak report."
    with pytest.raises(Conflict, match="is suspended: Investigating a leak report."):
        services.access_request_submit(
            actor=grant.user, **application(grant.model, typed_name=grant.user.profile.full_name)
        )

    services.grant_reinstate(actor=reviewer, grant=grant, reason="Cleared.")
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE and grant.suspension_message == ""
    assert events() == ["grant.suspended", "grant.reinstated"]
    assert AuditEvent.objects.get(action="grant.reinstated").details["reason"] == "Cleared."
    assert download_check(grant.user, release) == grant


def test_refusals(grant, reviewer, events):
    outsider = factories.UserFactory(role="reviewer")
    start = len(events())
    with pytest.raises(ValidationFailed, match="Give a reason for the suspension"):
        services.grant_suspend(actor=reviewer, grant=grant, reason=" ")
    with pytest.raises(InvalidTransition, match="This grant is already active."):
        services.grant_reinstate(actor=reviewer, grant=grant, reason="x")
    with pytest.raises(AccessDenied, match="You are not a reviewer of"):
        services.grant_suspend(actor=outsider, grant=grant, reason="x")
    services.grant_revoke(actor=reviewer, grant=grant, reason="Ended.")
    with pytest.raises(InvalidTransition, match="This grant is already revoked."):
        services.grant_suspend(actor=reviewer, grant=grant, reason="x")
    assert events()[start:] == ["grant.revoked"]


def test_identity_suspension_is_not_lifted_by_hand(grant, reviewer):
    AccessPolicy.objects.filter(model=grant.model).update(require_identity=True)
    services.grants_suspend_for_identity(user=grant.user)
    with pytest.raises(InvalidTransition, match="until its holder verifies their identity again"):
        services.grant_reinstate(actor=reviewer, grant=grant, reason="x")


def test_my_access_and_the_review_list_show_it(client, grant, reviewer):
    services.grant_suspend(actor=reviewer, grant=grant, reason="Investigating.")
    client.force_login(grant.user)
    assert "Reason: Investigating." in client.get(reverse("access:my_access")).content.decode()
    client.force_login(reviewer)
    page = client.get(reverse("review:grants")).content.decode()
    assert reverse("review:grant_reinstate", args=[grant.pk]) in page


def test_the_pages_suspend_and_reinstate(client, grant, reviewer, events):
    client.force_login(reviewer)
    url = reverse("review:grant_suspend", args=[grant.pk])
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": "Leak."}).status_code == 302
    assert client.post(reverse("review:grant_reinstate", args=[grant.pk]), {"reason": "Ok."}).status_code == 302
    assert [e for e in events() if e != "account.logged_in"] == ["grant.suspended", "grant.reinstated"]

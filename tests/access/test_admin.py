import pytest
from django.urls import reverse

from accessgate.access.models import AccessPolicy
from accessgate.audit.models import AuditEvent

from .. import factories

pytestmark = pytest.mark.django_db


def test_admin_edits_a_policy_through_the_audited_service(client, admin_user, licence):
    model = factories.ModelFactory()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:access_accesspolicy_add"),
        {
            "model": model.pk,
            "gating": "auto",
            "license": licence.pk,
            "min_intended_use_chars": 40,
            "grant_days": 30,
            "url_ttl_seconds": 120,
            "max_downloads_per_file": 3,
            "require_identity": "on",
            "require_mfa": "on",
            "institutional_domains_text": "ox.ac.uk, cam.ac.uk",
            "denied_email_domains_text": "gmail.com\nqq.com",
            "blocked_countries_text": "kp, ir",
            "statements_text": "I will behave.\nI will not share.",
            "requirements_timing": "after",
            "approvals_required": 2,
            "conflict_blocks": "on",
            "reapply_cooldown_days": 30,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = AccessPolicy.objects.get(model=model)
    assert (policy.require_identity, policy.require_mfa, policy.require_orcid) == (True, True, False)
    assert policy.institutional_domains == ["cam.ac.uk", "ox.ac.uk"]
    assert policy.denied_email_domains == ["gmail.com", "qq.com"]
    assert policy.blocked_countries == ["IR", "KP"]
    assert [s.text for s in policy.statements.all()] == ["I will behave.", "I will not share."]
    event = AuditEvent.objects.get(action="access.policy.created")
    assert event.actor == admin_user and event.details["requirements"] == ["require_identity", "require_mfa"]
    assert (policy.requirements_timing, policy.approvals_required, policy.conflict_blocks) == ("after", 2, True)
    assert policy.reapply_cooldown_days == 30
    assert (event.details["approvals_required"], event.details["reapply_cooldown_days"]) == (2, 30)


def test_admin_sets_the_access_over_time_options(client, admin_user, licence):
    model = factories.ModelFactory()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:access_accesspolicy_add"),
        {
            "model": model.pk,
            "gating": "manual",
            "license": licence.pk,
            "min_intended_use_chars": 40,
            "grant_days": 365,
            "url_ttl_seconds": 120,
            "reminder_days_text": "14, 60, 2",
            "renewal_window_days": 45,
            "renewal_auto": "on",
            "renewal_grace_days": 21,
            "require_closeout": "on",
            "closeout_days": 10,
            "closeout_blocks_requests": "on",
            "statements_text": "I will behave.",
            "requirements_timing": "before",
            "approvals_required": 1,
            "reapply_cooldown_days": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = AccessPolicy.objects.get(model=model)
    assert policy.reminder_days == [60, 14, 2]
    assert (policy.renewal_window_days, policy.renewal_grace_days, policy.closeout_days) == (45, 21, 10)
    assert (policy.renewal_auto, policy.renewal_requires_progress_report) == (True, False)
    assert (policy.require_closeout, policy.closeout_blocks_requests) == (True, True)
    event = AuditEvent.objects.get(action="access.policy.created")
    assert event.details["reminder_days"] == [60, 14, 2] and event.details["renewal_grace_days"] == 21

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
    event = AuditEvent.objects.get(action="access.policy.updated")
    assert event.actor == admin_user and event.details["requirements"] == ["require_identity", "require_mfa"]
    assert (policy.requirements_timing, policy.approvals_required, policy.conflict_blocks) == ("after", 2, True)
    assert policy.reapply_cooldown_days == 30
    assert (event.details["approvals_required"], event.details["reapply_cooldown_days"]) == (2, 30)

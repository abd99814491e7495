from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services as access_services
from accessgate.access.models import Grant, GrantStatus
from accessgate.audit.models import AuditEvent
from accessgate.identity.checks import identity_settings
from accessgate.identity.models import IdentityVerification, VerificationStatus
from accessgate.identity.services import verification_expire_due
from accessgate.identity.tasks import expire_verifications
from tests.support.applications import application, make_policy
from tests.support.identity import verify

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder_with_grants(licence, reviewer):
    holder = factories.UserFactory(profile__full_name="Grace Holder")
    verify(holder)
    needs_identity = factories.ModelFactory(reviewers=[reviewer])
    make_policy(needs_identity, licence, require_identity=True)
    factories.make_release(needs_identity)
    plain = factories.ModelFactory(reviewers=[reviewer])
    make_policy(plain, licence)
    grants = {model: factories.GrantFactory(user=holder, model=model) for model in (needs_identity, plain)}
    return holder, grants[needs_identity], grants[plain]


def test_expiry_suspends_only_grants_that_need_identity_and_tells_the_user(
    holder_with_grants, django_capture_on_commit_callbacks
):
    holder, identity_grant, plain_grant = holder_with_grants
    later = timezone.now() + timedelta(days=366)
    with django_capture_on_commit_callbacks(execute=True):
        assert verification_expire_due(now=later) == 1
    identity_grant.refresh_from_db()
    plain_grant.refresh_from_db()
    assert (identity_grant.status, identity_grant.suspended_reason) == (GrantStatus.SUSPENDED, "identity_expired")
    assert plain_grant.status == GrantStatus.ACTIVE
    assert IdentityVerification.objects.get(user=holder).status == VerificationStatus.EXPIRED
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))[-2:]
    assert actions == ["identity.verification.expired", "grant.suspended"]
    assert mail.outbox[-1].to == [holder.email]
    assert identity_grant.model.full_name in mail.outbox[-1].body and "suspended" in mail.outbox[-1].body
    assert verification_expire_due(now=later) == 0


def test_verifying_again_restores_suspended_grants(holder_with_grants):
    holder, identity_grant, _ = holder_with_grants
    verification_expire_due(now=timezone.now() + timedelta(days=366))
    IdentityVerification.objects.filter(user=holder).update(expires_at=timezone.now() - timedelta(days=1))
    verify(holder)
    identity_grant.refresh_from_db()
    assert identity_grant.status == GrantStatus.ACTIVE and identity_grant.suspended_reason == ""
    assert AuditEvent.objects.filter(action="grant.restored", target_id=str(identity_grant.pk)).count() == 1


def test_a_suspension_that_outlived_the_grant_ends_it(holder_with_grants):
    holder, identity_grant, _ = holder_with_grants
    verification_expire_due(now=timezone.now() + timedelta(days=366))
    Grant.objects.filter(pk=identity_grant.pk).update(
        granted_at=timezone.now() - timedelta(days=60), expires_at=timezone.now() - timedelta(days=1)
    )
    verify(holder)
    identity_grant.refresh_from_db()
    assert identity_grant.status == GrantStatus.EXPIRED


def test_suspended_researcher_cannot_reapply_and_is_told_why(holder_with_grants, client):
    holder, identity_grant, _ = holder_with_grants
    verification_expire_due(now=timezone.now() + timedelta(days=366))
    model = identity_grant.model
    with pytest.raises(Exception, match="suspended until you verify"):
        access_services.access_request_submit(actor=holder, **application(model, typed_name="Grace Holder"))
    client.force_login(holder)
    release = model.releases.get()
    response = client.get(
        reverse("downloads:resolve", args=[model.namespace, model.name, release.version, "config.json"])
    )
    assert response.status_code == 403 and "suspended until you verify" in response.content.decode()


class TestDevProvider:
    def test_dev_flow(self, client, settings):
        settings.DEBUG = True
        settings.ACCESSGATE_IDENTITY_PROVIDER = "dev"
        user = factories.UserFactory(profile__full_name="Ada Lovelace", profile__country="GB")
        client.force_login(user)
        response = client.post(reverse("identity:start"))
        verification = IdentityVerification.objects.get(user=user)
        assert response["Location"] == reverse("identity:dev_session", args=[verification.session_id])
        assert "Simulate verified" in client.get(response["Location"]).content.decode()
        client.post(response["Location"], {"outcome": "failed"})
        verification.refresh_from_db()
        assert verification.status == VerificationStatus.REQUIRES_INPUT
        client.post(response["Location"], {"outcome": "verified"})
        verification.refresh_from_db()
        assert (verification.status, verification.verified_name, verification.document_country) == (
            VerificationStatus.VERIFIED,
            "Ada Lovelace",
            "GB",
        )

    def test_dev_provider_is_refused_with_debug_off(self, client, settings):
        settings.DEBUG = False
        settings.ACCESSGATE_IDENTITY_PROVIDER = "dev"

        assert [e.id for e in identity_settings(None)] == ["accessgate.E021"]
        user = factories.UserFactory()
        verification = IdentityVerification.objects.create(user=user, provider="dev", session_id="dev_x")
        client.force_login(user)
        assert client.post(reverse("identity:dev_session", args=["dev_x"]), {"outcome": "verified"}).status_code == 404
        verification.refresh_from_db()
        assert verification.status == VerificationStatus.PENDING

    def test_other_users_session_is_not_yours(self, client, settings):
        settings.DEBUG = True
        settings.ACCESSGATE_IDENTITY_PROVIDER = "dev"
        owner, other = factories.UserFactory(), factories.UserFactory()
        IdentityVerification.objects.create(user=owner, provider="dev", session_id="dev_owner")
        client.force_login(other)
        assert (
            client.post(reverse("identity:dev_session", args=["dev_owner"]), {"outcome": "verified"}).status_code == 404
        )


def test_daily_job_command_path(holder_with_grants):
    assert expire_verifications() == 0
    IdentityVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_verifications() == 1

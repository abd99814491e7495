import pytest
from django.test import Client
from django.urls import reverse

from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditEvent
from accessgate.identity.models import IdentityVerification
from tests.support.accounts import change_user

from .. import factories

pytestmark = pytest.mark.django_db


def test_admin_deactivates_an_account_audited_and_effective_at_once(client, admin_user):
    user = factories.UserFactory()
    _, secret = token_create(actor=user, name="cluster")
    client.force_login(admin_user)
    response = change_user(client, user, is_active="", deactivation_reason="Left the lab.")
    assert response.status_code == 302, [str(e) for e in response.context["errors"]] if response.context else ""
    user.refresh_from_db()
    assert not user.is_active
    event = AuditEvent.objects.get(action="account.deactivated")
    assert event.actor == admin_user and event.target_id == str(user.pk)
    assert Client().get(reverse("access:my_access"), HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 302
    change_user(client, user, is_active="on")
    assert AuditEvent.objects.filter(action="account.reactivated").count() == 1


def test_admin_cannot_deactivate_themself(client, admin_user):
    client.force_login(admin_user)
    change_user(client, admin_user, is_active="", deactivation_reason="Testing.")
    admin_user.refresh_from_db()
    assert admin_user.is_active and not AuditEvent.objects.filter(action="account.deactivated").exists()


@pytest.mark.parametrize(
    "url_name",
    ["admin:accounts_user_delete", "admin:auth_user_password_change"],
)
def test_admin_cannot_delete_users_or_set_their_passwords(client, admin_user, url_name):
    user = factories.UserFactory()
    client.force_login(admin_user)
    assert client.get(reverse(url_name, args=[user.pk])).status_code == 403
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403


def test_admin_cannot_delete_audit_relevant_records(client, admin_user, model):
    verification = IdentityVerification.objects.create(user=admin_user, provider="dev", session_id="dev_1")
    client.force_login(admin_user)
    for url in (
        reverse("admin:identity_identityverification_delete", args=[verification.pk]),
        reverse("admin:access_accesspolicy_delete", args=[model.policy.pk]),
        reverse("admin:catalog_model_delete", args=[model.pk]),
        reverse("admin:audit_auditevent_delete", args=[AuditEvent.objects.first().pk]),
    ):
        assert client.post(url, {"post": "yes"}).status_code == 403, url
    assert IdentityVerification.objects.filter(pk=verification.pk).exists()

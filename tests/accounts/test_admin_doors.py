"""No unaudited door: every model in the Django admin either changes through an audited
service or cannot be changed there at all."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditEvent

from .. import factories

pytestmark = pytest.mark.django_db


def changes(events):
    return [action for action in events() if action != "account.logged_in"]


def _row_counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _url(model, view, *args):
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    except NoReverseMatch:
        return None


@pytest.fixture
def populated(model, researcher, reviewer):
    """At least one row of every registered model we can make, so change/delete have a target."""
    from allauth.socialaccount.models import SocialAccount, SocialApp
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval = IntervalSchedule.objects.create(every=5, period="minutes")
    PeriodicTask.objects.create(name="t", task="accessgate.notifications.tasks.redeliver_pending", interval=interval)
    SocialApp.objects.create(provider="orcid", name="ORCID", client_id="id", secret="s3cret")
    SocialAccount.objects.create(user=researcher, provider="orcid", uid="0000-0002-1825-0097")
    Group.objects.get_or_create(name="reviewer")


def test_every_admin_change_is_audited_or_refused(client, admin_user, populated):
    client.force_login(admin_user)
    unaudited = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        obj = model.objects.order_by("pk").first()
        attempts = [("add", _url(model, "add"), {})]
        if obj is not None:
            attempts += [
                ("change", _url(model, "change", obj.pk), {}),
                ("delete", _url(model, "delete", obj.pk), {"post": "yes"}),
            ]
            # bulk actions (delete_selected, "make verified", "run task"…)
            for action in model_admin.get_actions(type("R", (), {"user": admin_user, "GET": {}, "POST": {}})()) or {}:
                attempts.append(
                    (
                        f"action {action}",
                        _url(model, "changelist"),
                        {"action": action, "_selected_action": [obj.pk], "post": "yes"},
                    )
                )
        for what, url, data in attempts:
            if url is None:
                continue
            # Each attempt in a savepoint rolled back afterwards: a deleted "admin" group must
            # not lock the next attempts out.
            with transaction.atomic():
                client.force_login(admin_user)
                rows, events = _row_counts(), AuditEvent.objects.count()
                snapshot = list(model.objects.order_by("pk").values()) if obj is not None else None
                response = client.post(url, data)
                assert response.status_code < 500, (label, what, response.status_code)
                assert "/admin/login/" not in response.get("Location", ""), (label, what)
                changed = _row_counts() != rows or (
                    snapshot is not None and list(model.objects.order_by("pk").values()) != snapshot
                )
                if changed and AuditEvent.objects.count() == events:
                    unaudited.append((label, what))
                transaction.set_rollback(True)
    assert unaudited == []


@pytest.mark.parametrize(
    "label",
    [
        "account.emailaddress",
        "mfa.authenticator",
        "auth.group",
        "django_celery_beat.periodictask",
        "socialaccount.socialapp",
    ],
)
def test_foreign_models_are_read_only(client, admin_user, label):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    request = type("R", (), {"user": admin_user})()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")).status_code == 403


def test_verified_email_cannot_be_added_in_the_admin(client, admin_user, researcher):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:account_emailaddress_add"),
        {"user": researcher.pk, "email": "r@ox.ac.uk", "verified": "on", "primary": ""},
    )
    assert response.status_code == 403
    assert not EmailAddress.objects.filter(email="r@ox.ac.uk").exists()


def test_authenticator_cannot_be_deleted_in_the_admin(client, admin_user, reviewer):
    authenticator = Authenticator.objects.filter(user=reviewer).first()
    client.force_login(admin_user)
    response = client.post(reverse("admin:mfa_authenticator_delete", args=[authenticator.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_social_app_secret_is_not_shown(client, admin_user):
    from allauth.socialaccount.models import SocialApp

    app = SocialApp.objects.create(provider="orcid", name="ORCID", client_id="id", secret="very-secret-value")
    client.force_login(admin_user)
    page = client.get(reverse("admin:socialaccount_socialapp_change", args=[app.pk]))
    assert page.status_code == 200
    assert b"very-secret-value" not in page.content
    assert reverse("admin:index") and "socialaccount.SocialToken" not in {m._meta.label for m in admin.site._registry}


class TestRolesPage:
    def test_admin_grants_and_removes_a_role_audited(self, client, admin_user, researcher, events):
        client.force_login(admin_user)
        url = reverse("admin:roles")
        assert client.get(url).status_code == 200
        response = client.post(url, {"email": researcher.email, "role": "reviewer", "verb": "grant"})
        assert response.status_code == 302
        assert researcher.groups.filter(name="reviewer").exists()
        client.post(url, {"email": researcher.email, "role": "reviewer", "verb": "remove"})
        assert not researcher.groups.filter(name="reviewer").exists()
        assert changes(events) == ["account.role.granted", "account.role.removed"]
        event = AuditEvent.objects.filter(action="account.role.granted").order_by("id").last()
        assert event.actor == admin_user and event.target_id == str(researcher.pk)

    def test_unknown_user_is_an_error_and_changes_nothing(self, client, admin_user, events):
        client.force_login(admin_user)
        response = client.post(
            reverse("admin:roles"), {"email": "nobody@example.org", "role": "auditor", "verb": "grant"}
        )
        assert response.status_code == 400 and changes(events) == []

    @pytest.mark.parametrize("role", [None, "researcher", "reviewer", "auditor"])
    def test_only_admins_open_it(self, role):
        client = Client()
        if role:
            user = factories.UserFactory(role=role if role != "researcher" else None)
            client.force_login(user)
        response = client.get(reverse("admin:roles"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


class TestDeactivation:
    def _post(self, client, user, **data):
        from tests.support.accounts import change_user

        return change_user(client, user, **data)

    def test_needs_a_reason(self, client, admin_user, events):
        user = factories.UserFactory()
        client.force_login(admin_user)
        response = self._post(client, user, is_active="")
        assert response.status_code == 200 and b"Give a reason" in response.content
        user.refresh_from_db()
        assert user.is_active and changes(events) == []

    def test_revokes_tokens_for_good_and_emails_the_reason(self, client, admin_user, events, model):
        from accessgate.notifications.models import Email

        user = factories.UserFactory()
        _, secret = token_create(actor=user, name="cluster")
        client.force_login(admin_user)
        response = self._post(client, user, is_active="", deactivation_reason="Shared the weights publicly.")
        assert response.status_code == 302
        event = AuditEvent.objects.get(action="account.deactivated")
        assert event.details["reason"] == "Shared the weights publicly."
        assert len(event.details["tokens_revoked"]) == 1
        email = Email.objects.get(to=[user.email])
        assert "Shared the weights publicly." in email.body_text and "deactivated" in email.subject
        self._post(client, user, is_active="on")
        user.refresh_from_db()
        assert user.is_active
        # Reactivation does not bring the old token back.
        manifest = reverse("downloads:manifest", args=[model.namespace, model.name, "1.0"])
        response = Client().get(manifest, HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 401
        assert events()[-1] == "account.reactivated"

import pytest
from django.db import transaction

from accessgate.audit import actions
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta, client_ip
from accessgate.audit.models import AuditEvent
from accessgate.audit.services import record
from accessgate.audit.signals import event_recorded

from .. import factories


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_event_rolls_back_with_its_change():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
        1 / 0
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
class TestRecord:
    def test_snapshot_of_actor_target_and_request(self):
        user = factories.UserFactory(email="ada@example.org")
        event = record(
            actor=user,
            action=AuditAction.ACCOUNT_PROFILE_UPDATED,
            target=user,
            meta=RequestMeta(ip="2001:db8::1", user_agent="curl/8"),
            fields=["affiliation"],
        )
        assert (event.actor_label, event.target_type, event.target_id) == (
            "ada@example.org",
            "accounts.user",
            str(user.pk),
        )
        assert (event.ip, event.user_agent) == ("2001:db8::1", "curl/8")
        assert event.details == {"fields": ["affiliation"]}

    def test_system_actor(self):
        assert record(actor=None, action=AuditAction.GRANT_EXPIRED).actor_label == "system"

    @pytest.mark.parametrize("details", [{"ratio": 0.5}, {"nested": {"x": [1, 2.0]}}, {"when": object()}])
    def test_details_must_be_canonical_json_friendly(self, details):
        with pytest.raises(TypeError):
            record(actor=None, action=AuditAction.GRANT_EXPIRED, **details)

    def test_unknown_action_is_refused(self):
        with pytest.raises(ValueError):
            record(actor=None, action="made.up")

    def test_events_cannot_be_changed_or_deleted(self):
        event = record(actor=None, action=AuditAction.GRANT_EXPIRED)
        event.action = AuditAction.GRANT_CREATED
        with pytest.raises(TypeError):
            event.save()
        with pytest.raises(TypeError):
            event.delete()
        with pytest.raises(TypeError):
            AuditEvent.objects.filter(pk=event.pk).update(action="grant.created")
        with pytest.raises(TypeError):
            AuditEvent.objects.all().delete()
        event.refresh_from_db()
        assert event.action == AuditAction.GRANT_EXPIRED

    def test_deleting_a_user_keeps_their_events(self):
        user = factories.UserFactory(email="gone@example.org")
        event = record(actor=user, action=AuditAction.ACCOUNT_LOGGED_IN, target=user)
        user.emailaddress_set.all().delete()
        user.profile.delete()
        user.delete()
        event = AuditEvent.objects.get(pk=event.pk)
        assert event.actor_label == "gone@example.org"
        assert event.target_label == "gone@example.org"


def test_client_ip_trusts_forwarded_for_only_behind_configured_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.4")
    settings.ACCESSGATE_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.ACCESSGATE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.4"
    settings.ACCESSGATE_TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.9"


@pytest.mark.django_db(transaction=True)
def test_event_recorded_is_sent_inside_the_transaction_with_the_saved_event():
    seen = []

    def receiver(sender, event, **kwargs):
        seen.append((event.pk, event.action, transaction.get_connection().in_atomic_block))

    event_recorded.connect(receiver)
    try:
        with transaction.atomic():
            event = record(actor=None, action=AuditAction.GRANT_EXPIRED)
    finally:
        event_recorded.disconnect(receiver)
    assert seen == [(event.pk, "grant.expired", True)]


@pytest.mark.django_db
def test_an_action_added_at_run_time_is_recorded_without_a_migration():
    action = actions.register("publish.model.listed", "Model listed")
    try:
        with transaction.atomic():
            event = record(actor=None, action=action, model="acme/m")
        event.refresh_from_db()
        assert event.action == "publish.model.listed"
        assert event.get_action_display() == "Model listed"
        assert "publish.model.listed" in actions.known_actions()
    finally:
        actions.unregister(action)
    with pytest.raises(ValueError, match="Unknown audit action"), transaction.atomic():
        record(actor=None, action=action)


def test_the_database_holds_no_list_of_actions():
    # A new action is a line in actions.py: nothing about the list reaches a migration.
    assert not AuditEvent._meta.get_field("action").choices


@pytest.mark.parametrize("name", ["Upper.case", "nodots", "trailing.", "a..b"])
def test_action_names_are_dotted_lower_case(name):
    with pytest.raises(ValueError, match="dotted lower-case"):
        actions.register(name, "x")


def test_each_member_is_named_after_its_dotted_value():
    # Grouped by app: ACCESS_REQUEST_APPROVED is "access.request.approved", and so on.
    for member in AuditAction:
        assert member.name == member.value.replace(".", "_").upper(), member

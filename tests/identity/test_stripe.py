import time

import pytest
from django.core import mail
from django.urls import reverse

from accessgate.access.models import Grant
from accessgate.audit.models import AuditEvent
from accessgate.identity.models import IdentityVerification, VerificationStatus, WebhookEvent
from tests.support.applications import make_policy

from .. import factories

pytestmark = pytest.mark.django_db
WEBHOOK = "/identity/webhooks/stripe/"


@pytest.fixture
def user(db):
    return factories.UserFactory(profile__full_name="Rosalind Franklin", profile__country="GB")


def start(client, user):
    client.force_login(user)
    return client.post(reverse("identity:start"))


def post_event(client, payload, signature):
    return client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


@pytest.fixture
def session(client, user, fake_stripe):
    response = start(client, user)
    verification = IdentityVerification.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == fake_stripe.sessions[verification.session_id]["url"]
    return verification


def test_start_creates_a_document_and_selfie_session(events, session, fake_stripe, user):
    method, path, form = fake_stripe.requests[0]
    assert (method, path) == ("POST", "/v1/identity/verification_sessions")
    assert form["type"] == ["document"]
    assert form["options[document][require_matching_selfie]"] == ["true"]
    assert form["metadata[user_id]"] == [str(user.pk)]
    assert form["return_url"] == ["http://testserver/identity/return/"]
    assert session.status == VerificationStatus.PENDING and session.provider == "stripe"
    assert events()[-1] == "identity.verification.started"


def test_provider_down_is_a_clear_error_and_changes_nothing(client, user, fake_stripe, settings):
    settings.ACCESSGATE_STRIPE_API_BASE = "http://127.0.0.1:9"
    response = start(client, user)
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()
    assert not IdentityVerification.objects.exists()


def test_starts_are_rate_limited(client, user, fake_stripe, monkeypatch):
    # Fixed windows: keep all six starts inside one window whatever the wall clock says.
    monkeypatch.setattr("accessgate.core.ratelimit._clock", lambda: 1_800_000_000.0)
    statuses = [start(client, user).status_code for _ in range(6)]
    assert statuses[:5] == [302] * 5 and statuses[5] == 429
    assert IdentityVerification.objects.count() == 5


@pytest.mark.parametrize(
    "signature",
    [
        "t=1,v1=deadbeef",
        "",
        "garbage",
    ],
)
def test_bad_signatures_are_refused_before_reading(client, session, fake_stripe, signature):
    fake_stripe.complete(session.session_id)
    payload, _ = fake_stripe.signed_event(session.session_id, "identity.verification_session.verified")
    response = post_event(client, payload, signature)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    session.refresh_from_db()
    assert session.status == VerificationStatus.PENDING


def test_stale_and_wrongly_keyed_signatures_are_refused(client, session, fake_stripe):
    fake_stripe.complete(session.session_id)
    stale = fake_stripe.signed_event(
        session.session_id, "identity.verification_session.verified", timestamp=time.time() - 3600
    )
    other_key = fake_stripe.signed_event(
        session.session_id, "identity.verification_session.verified", secret="whsec_other"
    )
    assert post_event(client, *stale).status_code == 400
    assert post_event(client, *other_key).status_code == 400
    session.refresh_from_db()
    assert session.status == VerificationStatus.PENDING


def test_verified_reads_outputs_from_the_api_and_never_keeps_id_numbers(
    client, session, fake_stripe, django_capture_on_commit_callbacks, events
):
    fake_stripe.complete(session.session_id, first_name="Rosalind", last_name="Franklin", country="GB")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(
            client, *fake_stripe.signed_event(session.session_id, "identity.verification_session.verified")
        )
    assert response.content == b"accepted"
    session.refresh_from_db()
    assert session.status == VerificationStatus.VERIFIED
    assert (session.verified_name, session.document_country) == ("Rosalind Franklin", "GB")
    assert 364 <= (session.expires_at - session.verified_at).days <= 365
    stored = str(IdentityVerification.objects.filter(pk=session.pk).values().get())
    assert "123-45-6789" not in stored and "X1234567" not in stored
    assert "1 Strand" not in stored and "1920" not in stored
    event = AuditEvent.objects.get(action="identity.verification.verified")
    assert event.details["name_matches"] is True and event.details["document_country"] == "GB"
    # The retrieval asked Stripe for the outputs itself.
    assert ("GET", f"/v1/identity/verification_sessions/{session.session_id}") in [r[:2] for r in fake_stripe.requests]
    assert "identity.verification.verified" in events()


def test_duplicate_events_are_ignored(client, session, fake_stripe, django_capture_on_commit_callbacks):
    fake_stripe.complete(session.session_id)
    payload, signature = fake_stripe.signed_event(
        session.session_id, "identity.verification_session.verified", event_id="evt_once"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, payload, signature).content == b"accepted"
        assert post_event(client, payload, signature).content == b"duplicate"
    assert WebhookEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action="identity.verification.verified").count() == 1


def test_name_mismatch_is_flagged(client, session, fake_stripe, django_capture_on_commit_callbacks):
    fake_stripe.complete(session.session_id, first_name="Maurice", last_name="Wilkins")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, *fake_stripe.signed_event(session.session_id, "identity.verification_session.verified"))
    assert AuditEvent.objects.get(action="identity.verification.verified").details["name_matches"] is False


@pytest.mark.parametrize(
    ("event_type", "move", "status", "action"),
    [
        (
            "identity.verification_session.processing",
            "processing",
            VerificationStatus.PROCESSING,
            "identity.verification.processing",
        ),
        (
            "identity.verification_session.canceled",
            "canceled",
            VerificationStatus.CANCELED,
            "identity.verification.canceled",
        ),
    ],
)
def test_processing_and_canceled(
    client, session, fake_stripe, django_capture_on_commit_callbacks, event_type, move, status, action
):
    fake_stripe.set_status(session.session_id, move)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, *fake_stripe.signed_event(session.session_id, event_type))
    session.refresh_from_db()
    assert session.status == status
    assert AuditEvent.objects.filter(action=action).count() == 1


def test_requires_input_stores_the_code_and_tells_the_user_how_to_retry(
    client, session, fake_stripe, user, django_capture_on_commit_callbacks
):
    fake_stripe.set_status(session.session_id, "processing")
    fake_stripe.fail(session.session_id, code="document_expired")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(
            client, *fake_stripe.signed_event(session.session_id, "identity.verification_session.requires_input")
        )
    session.refresh_from_db()
    assert (session.status, session.last_error_code) == (VerificationStatus.REQUIRES_INPUT, "document_expired")
    assert mail.outbox[-1].to == [user.email]
    assert "The document has expired" in mail.outbox[-1].body
    page = client.get(reverse("identity:status")).content.decode()
    assert "The document has expired" in page and "Start a new verification" in page


def test_redacted_clears_the_personal_data(client, session, fake_stripe, django_capture_on_commit_callbacks):
    fake_stripe.complete(session.session_id)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, *fake_stripe.signed_event(session.session_id, "identity.verification_session.verified"))
        fake_stripe.redact(session.session_id)
        post_event(client, *fake_stripe.signed_event(session.session_id, "identity.verification_session.redacted"))
    session.refresh_from_db()
    assert session.redacted_at is not None
    assert (session.verified_name, session.document_country) == ("", "")
    assert AuditEvent.objects.filter(action="identity.verification.redacted").count() == 1


def test_return_page_trusts_the_api_not_the_browser(client, session, fake_stripe, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("identity:returned") + "?status=verified&verified_name=Mallory")
    assert response["Location"] == reverse("identity:status")
    session.refresh_from_db()
    assert session.status == VerificationStatus.PENDING  # Stripe still says requires_input
    fake_stripe.complete(session.session_id)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("identity:returned"))
    session.refresh_from_db()
    assert session.status == VerificationStatus.VERIFIED and session.verified_name == "Rosalind Franklin"


def test_unknown_sessions_and_other_event_types_are_ignored(client, session, fake_stripe):
    payload, signature = fake_stripe.signed_event(session.session_id, "charge.succeeded")
    assert post_event(client, payload, signature).content == b"ignored"
    other = factories.UserFactory()
    client.force_login(other)
    client.post(reverse("identity:start"))
    orphan = IdentityVerification.objects.get(user=other)
    orphan.delete()
    assert (
        post_event(
            client, *fake_stripe.signed_event(orphan.session_id, "identity.verification_session.verified")
        ).content
        == b"unknown session"
    )


def test_end_to_end_through_a_signed_webhook_to_auto_approval(
    client, fake_stripe, licence, django_capture_on_commit_callbacks
):
    """Checklist → Stripe session → signed webhook → verified → applied → approved at once."""
    model = factories.ModelFactory()
    make_policy(model, licence, gating="auto", require_identity=True, require_mfa=True)
    user = factories.UserFactory(profile__full_name="Rosalind Franklin", profile__country="GB")
    factories.add_totp(user)
    client.force_login(user)
    apply_url = reverse("apply:form", args=[model.namespace, model.name])
    assert "To do:" in client.get(apply_url).content.decode()

    response = client.post(reverse("identity:start"))
    verification = IdentityVerification.objects.get(user=user)
    assert response["Location"].startswith("https://verify.stripe.com/start/")
    fake_stripe.set_status(verification.session_id, "processing")
    fake_stripe.complete(verification.session_id)
    with django_capture_on_commit_callbacks(execute=True):
        for event_type in ("processing", "verified"):
            payload, signature = fake_stripe.signed_event(
                verification.session_id, f"identity.verification_session.{event_type}"
            )
            assert post_event(client, payload, signature).status_code == 200

    assert "To do:" not in client.get(apply_url).content.decode()
    data = {"intended_use": "Evaluating jailbreak robustness for a safety paper.", "typed_name": "Rosalind Franklin"}
    data.update({f"statement_{s.pk}": "on" for s in model.policy.statements.filter(is_active=True)})
    response = client.post(apply_url, data, follow=True)
    assert f"Access to {model.full_name} is granted." in response.content.decode()
    assert Grant.objects.active().filter(user=user, model=model).exists()


def test_no_provider_and_already_verified_are_refused(
    client, user, fake_stripe, settings, django_capture_on_commit_callbacks
):
    settings.ACCESSGATE_IDENTITY_PROVIDER = "none"
    response = start(client, user)
    assert response.status_code == 403 and "not available" in response.content.decode()
    settings.ACCESSGATE_IDENTITY_PROVIDER = "stripe"
    start(client, user)
    verification = IdentityVerification.objects.get(user=user)
    fake_stripe.complete(verification.session_id)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, *fake_stripe.signed_event(verification.session_id, "identity.verification_session.verified"))
    response = start(client, user)
    assert response.status_code == 409 and "already verified until" in response.content.decode()
    assert IdentityVerification.objects.filter(user=user).count() == 1


def test_webhook_without_a_configured_secret_is_refused(client, session, fake_stripe, settings):
    fake_stripe.complete(session.session_id)
    payload, signature = fake_stripe.signed_event(session.session_id, "identity.verification_session.verified")
    settings.ACCESSGATE_STRIPE_WEBHOOK_SECRET = ""
    response = post_event(client, payload, signature)
    assert response.status_code == 400 and not WebhookEvent.objects.exists()

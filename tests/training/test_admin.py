"""Admins define trainings in the Django admin; every save is an audit event committed with it."""

import pytest
from django.urls import reverse

from accessgate.audit.models import AuditEvent
from accessgate.training.models import Training

pytestmark = pytest.mark.django_db

INLINE = {
    "questions-TOTAL_FORMS": "1",
    "questions-INITIAL_FORMS": "0",
    "questions-MIN_NUM_FORMS": "0",
    "questions-MAX_NUM_FORMS": "1000",
    "questions-0-position": "0",
    "questions-0-text": "May you share the weights?",
    "questions-0-choices": '["Yes", "No"]',
    "questions-0-correct": "1",
}


def test_defining_and_changing_a_training_is_audited(client, admin_user):
    client.force_login(admin_user)
    data = {"name": "Dual-use basics", "kind": "quiz", "validity_days": "365", "pass_mark": "80", "is_active": "on"}
    response = client.post(reverse("admin:training_training_add"), {**data, **INLINE})
    assert response.status_code == 302, response.content.decode()[:2000]
    training = Training.objects.get(name="Dual-use basics")
    assert training.questions.count() == 1
    event = AuditEvent.objects.filter(action="training.definition.saved").get()
    assert event.actor_id == admin_user.pk and event.target_id == str(training.pk)
    assert event.details["created"] is True and event.details["pass_mark"] == 80

    change = {
        **data,
        "pass_mark": "90",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "1",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-id": str(training.questions.get().pk),
        "questions-0-training": str(training.pk),
        "questions-0-position": "0",
        "questions-0-text": "May you share the weights?",
        "questions-0-choices": '["Yes", "No"]',
        "questions-0-correct": "1",
    }
    response = client.post(reverse("admin:training_training_change", args=[training.pk]), change)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = AuditEvent.objects.filter(action="training.definition.saved").order_by("-id").first()
    assert latest.details["created"] is False and latest.details["changed"] == ["pass_mark"]
    assert latest.details["pass_mark"] == 90

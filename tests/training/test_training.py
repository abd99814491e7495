"""Required training: quiz and certificate, checked at application and download; a lapse
suspends the grants that need it and passing again restores them."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services as access
from accessgate.access.models import Grant, GrantStatus
from accessgate.access.rules.downloads import download_check
from accessgate.access.rules.requirements import Facts, evaluate
from accessgate.core.errors import AccessDenied, PolicyNotMet, ValidationFailed
from accessgate.training import services
from accessgate.training.models import Question, Training, TrainingRecord
from tests.support.applications import application, make_policy

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def quiz(db):
    training = Training.objects.create(name="Responsible use", kind="quiz", validity_days=30, pass_mark=50)
    Question.objects.create(training=training, text="Share the weights?", choices=["Yes", "No"], correct=1)
    Question.objects.create(training=training, text="Report misuse?", choices=["Yes", "No"], correct=0)
    return training


@pytest.fixture
def certificate(db):
    return Training.objects.create(name="Human subjects", kind="certificate", validity_days=365)


def answers(training, right=True):
    return {q.pk: (q.correct if right else 1 - q.correct) for q in training.questions.all()}


def test_quiz_pass_and_fail_are_audited(researcher, quiz, events):
    failed = services.training_quiz_submit(actor=researcher, training=quiz, answers=answers(quiz, right=False))
    assert (failed.status, failed.score) == ("failed", 0)
    passed = services.training_quiz_submit(actor=researcher, training=quiz, answers=answers(quiz))
    assert passed.status == "passed" and passed.expires_at > timezone.now() + timedelta(days=29)
    assert events() == ["training.quiz.taken", "training.quiz.taken"]
    with pytest.raises(ValidationFailed, match="Answer every question"):
        services.training_quiz_submit(actor=researcher, training=quiz, answers={})


def test_certificate_is_type_and_size_checked_and_reviewed(researcher, reviewer, certificate, settings, events):
    with pytest.raises(ValidationFailed, match="must be a PDF"):
        services.training_certificate_upload(
            actor=researcher, training=certificate, upload=io.BytesIO(b"GIF89a..."), size=9, filename="x.pdf"
        )
    settings.ACCESSGATE_TRAINING_CERTIFICATE_MAX_BYTES = 10
    with pytest.raises(ValidationFailed, match="larger than"):
        services.training_certificate_upload(
            actor=researcher, training=certificate, upload=io.BytesIO(PDF), size=len(PDF), filename="c.pdf"
        )
    settings.ACCESSGATE_TRAINING_CERTIFICATE_MAX_BYTES = 5_000_000
    uploaded = services.training_certificate_upload(
        actor=researcher, training=certificate, upload=io.BytesIO(PDF), size=len(PDF), filename="c.pdf"
    )
    assert uploaded.status == "pending"
    with pytest.raises(AccessDenied):
        services.training_certificate_decide(actor=researcher, training_record=uploaded, accept=True)
    with pytest.raises(ValidationFailed, match="Say why"):
        services.training_certificate_decide(actor=reviewer, training_record=uploaded, accept=False)
    accepted = services.training_certificate_decide(actor=reviewer, training_record=uploaded, accept=True)
    assert accepted.status == "passed" and accepted.reviewed_by == reviewer
    assert events() == ["training.certificate.uploaded", "training.certificate.approved"]


def test_lapsed_training_suspends_downloads_and_passing_again_restores(researcher, reviewer, model, quiz, events):
    make_policy(model, model.policy.license, required_trainings=[quiz])
    model.policy.refresh_from_db()
    release = model.releases.get()
    requirement = next(r for r in evaluate(model.policy, Facts(researcher)) if r.key == "training")
    assert not requirement.met and requirement.label == "Training: Responsible use"
    services.training_quiz_submit(actor=researcher, training=quiz, answers=answers(quiz))
    request = access.access_request_submit(actor=researcher, **application(model))
    grant = access.access_request_approve(actor=reviewer, access_request=request)
    assert download_check(researcher, release) == grant
    # The clock passes the training's validity: the daily job lapses it, the grant is suspended.
    start = len(events())
    assert services.training_expire_due(now=timezone.now() + timedelta(days=31)) == 1
    grant.refresh_from_db()
    assert (grant.status, grant.suspended_reason) == (GrantStatus.SUSPENDED, "training_expired")
    assert events()[start:] == ["training.expired", "grant.suspended"]
    with pytest.raises(PolicyNotMet, match="complete its required training"):
        download_check(researcher, release)
    # Passing again restores it.
    services.training_quiz_submit(actor=researcher, training=quiz, answers=answers(quiz))
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE
    assert events()[-2:] == ["training.quiz.taken", "grant.restored"]
    assert download_check(researcher, release) == grant


def test_training_checked_at_download_even_before_the_job(researcher, reviewer, model, quiz):
    make_policy(model, model.policy.license, required_trainings=[quiz])
    services.training_quiz_submit(actor=researcher, training=quiz, answers=answers(quiz))
    request = access.access_request_submit(actor=researcher, **application(model))
    access.access_request_approve(actor=reviewer, access_request=request)
    TrainingRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(PolicyNotMet, match="Responsible use"):
        download_check(researcher, model.releases.get())
    assert Grant.objects.get().status == GrantStatus.ACTIVE


def test_auto_gating_needs_the_training_to_apply(researcher, auto_model, quiz):
    make_policy(auto_model, auto_model.policy.license, gating="auto", required_trainings=[quiz])
    with pytest.raises(PolicyNotMet, match="Training: Responsible use"):
        access.access_request_submit(actor=researcher, **application(auto_model))


def test_the_pages(client, researcher, reviewer, quiz, certificate):
    client.force_login(researcher)
    assert "Responsible use" in client.get(reverse("training:list")).content.decode()
    form = {f"q_{q.pk}": q.correct for q in quiz.questions.all()}
    response = client.post(reverse("training:detail", args=[quiz.pk]), form, follow=True)
    assert "Passed with 100%" in response.content.decode()
    bad = SimpleUploadedFile("c.pdf", b"<html>", content_type="application/pdf")
    response = client.post(reverse("training:detail", args=[certificate.pk]), {"certificate": bad})
    assert "must be a PDF" in response.content.decode()
    good = SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf")
    client.post(reverse("training:detail", args=[certificate.pk]), {"certificate": good})
    pending = TrainingRecord.objects.get(training=certificate)
    client.force_login(reviewer)
    assert researcher.email in client.get(reverse("training:certificates")).content.decode() or "Rosalind" in (
        client.get(reverse("training:certificates")).content.decode()
    )
    pdf = client.get(reverse("training:certificate_file", args=[pending.pk]))
    assert b"".join(pdf.streaming_content) == PDF
    client.post(reverse("training:check", args=[pending.pk]), {"decision": "accept", "note": ""})
    pending.refresh_from_db()
    assert pending.status == "passed"


def test_training_lapse_reminder_is_sent_once(researcher, reviewer, model, quiz):
    make_policy(model, model.policy.license, required_trainings=[quiz], grant_days=90)
    result = services.training_quiz_submit(actor=researcher, training=quiz, answers=answers(quiz))
    request = access.access_request_submit(actor=researcher, **application(model))
    access.access_request_approve(actor=reviewer, access_request=request)
    later = result.expires_at - timedelta(days=5)
    assert access.reminders_send_due(now=later)["training_lapse"] == 1
    assert access.reminders_send_due(now=later + timedelta(hours=1))["training_lapse"] == 0


def test_a_grant_approved_while_waiting_for_the_training_starts_when_it_is_passed(
    researcher, reviewer, model, quiz, events
):
    make_policy(model, model.policy.license, required_trainings=[quiz], requirements_timing="after")
    request = access.access_request_submit(actor=researcher, **application(model))
    grant = access.access_request_approve(actor=reviewer, access_request=request)
    assert (grant.status, grant.waiting_for) == (GrantStatus.PENDING, ["Training: Responsible use"])
    start = len(events())
    services.training_quiz_submit(actor=researcher, training=quiz, answers=answers(quiz))
    grant.refresh_from_db()
    assert (grant.status, grant.waiting_for) == (GrantStatus.ACTIVE, [])
    assert events()[start:] == ["training.quiz.taken", "grant.activated"]
    assert download_check(researcher, model.releases.get()) == grant

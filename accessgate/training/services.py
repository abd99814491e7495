"""Completing trainings: a quiz scored at once, or a PDF certificate a reviewer checks; and the
daily lapse of completions past their validity. Lapses and restorations are announced with
`training.signals` so the access app suspends and restores the grants that need them."""

import hashlib
import tempfile
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, has_role
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from accessgate.core.storage import get_storage
from accessgate.core.storage.prefixes import TRAINING_CERTIFICATES

from .models import RECORD_TRANSITIONS, RecordStatus, Training, TrainingKind, TrainingRecord
from .signals import training_lapsed, training_restored

PDF_MAGIC = b"%PDF-"


def training_definition_saved(
    *, actor: User, training: Training, created: bool, changed: list[str], meta: RequestMeta | None = None
) -> None:
    """Record an admin's new or changed training (its fields and questions) in the caller's
    transaction: the admin saves the rows, this writes the event beside them."""
    questions = list(training.questions.order_by("pk").values_list("text", flat=True))
    record(
        actor=actor,
        action=AuditAction.TRAINING_DEFINITION_SAVED,
        target=training,
        meta=meta,
        created=created,
        changed=sorted(changed),
        name=training.name,
        kind=training.kind,
        validity_days=training.validity_days,
        pass_mark=training.pass_mark,
        is_active=training.is_active,
        questions_sha256=hashlib.sha256("\n".join(questions).encode()).hexdigest(),
    )


def _restored(user: User, training: Training, *, had_valid: bool) -> None:
    if not had_valid:
        training_restored.send(sender=Training, user=user, training=training)


@transaction.atomic
def training_quiz_submit(
    *, actor: User, training: Training, answers: Mapping[int, int], meta: RequestMeta | None = None
) -> TrainingRecord:
    """Score a quiz (`answers`: question id → chosen index). Passing makes the training valid
    for its validity days."""
    if training.kind != TrainingKind.QUIZ or not training.is_active:
        raise InvalidTransition(_("%(name)s is not a quiz you can take.") % {"name": training.name})
    questions = list(training.questions.all())
    if not questions:
        raise InvalidTransition(_("%(name)s has no questions yet.") % {"name": training.name})
    unanswered = [q for q in questions if q.pk not in answers]
    if unanswered:
        raise ValidationFailed(
            _("Answer every question (%(unanswered)s left).") % {"unanswered": len(unanswered)}, field="answers"
        )
    right = sum(1 for q in questions if answers[q.pk] == q.correct)
    score = round(100 * right / len(questions))
    passed = score >= training.pass_mark
    had_valid = TrainingRecord.objects.valid().filter(user=actor, training=training).exists()
    now = timezone.now()
    result = TrainingRecord.objects.create(
        user=actor,
        training=training,
        status=RecordStatus.PASSED if passed else RecordStatus.FAILED,
        score=score,
        created_at=now,
        expires_at=now + timedelta(days=training.validity_days) if passed else None,
    )
    record(
        actor=actor,
        action=AuditAction.TRAINING_QUIZ_TAKEN,
        target=result,
        meta=meta,
        training=training.name,
        score=score,
        pass_mark=training.pass_mark,
        passed=passed,
        # Ignored: a passed result has its expiry.
        expires_at=result.expires_at.isoformat() if passed else None,  # type: ignore[union-attr]
    )
    if passed:
        _restored(actor, training, had_valid=had_valid)
    return result


def _check_pdf(upload: BinaryIO, size: int) -> None:
    limit = settings.ACCESSGATE_TRAINING_CERTIFICATE_MAX_BYTES
    if size > limit:
        raise ValidationFailed(
            _("The certificate is larger than %(megabytes)s MB.") % {"megabytes": limit // 1_000_000},
            field="certificate",
        )
    upload.seek(0)
    if upload.read(len(PDF_MAGIC)) != PDF_MAGIC:
        raise ValidationFailed(_("The certificate must be a PDF file."), field="certificate")
    upload.seek(0)


def training_certificate_upload(
    *, actor: User, training: Training, upload: BinaryIO, size: int, filename: str, meta: RequestMeta | None = None
) -> TrainingRecord:
    """Store a certificate (a PDF, checked by its first bytes and its size) for a reviewer. The
    file is written before the row commits; a failed commit leaves an unreferenced file."""
    if training.kind != TrainingKind.CERTIFICATE or not training.is_active:
        raise InvalidTransition(_("%(name)s does not take a certificate.") % {"name": training.name})
    _check_pdf(upload, size)
    key = f"{TRAINING_CERTIFICATES}{actor.pk}/{uuid.uuid4().hex}.pdf"
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "certificate.pdf"
        with path.open("wb") as out:
            for chunk in iter(lambda: upload.read(65536), b""):
                digest.update(chunk)
                out.write(chunk)
        get_storage().put_file(key, path)
    with transaction.atomic():
        result = TrainingRecord.objects.create(
            user=actor,
            training=training,
            status=RecordStatus.PENDING,
            certificate_key=key,
            certificate_sha256=digest.hexdigest(),
            certificate_name=Path(filename).name[:200],
        )
        record(
            actor=actor,
            action=AuditAction.TRAINING_CERTIFICATE_UPLOADED,
            target=result,
            meta=meta,
            training=training.name,
            sha256=result.certificate_sha256,
            size=size,
        )
    return result


def can_check_certificates(user) -> bool:
    return has_role(user, Role.REVIEWER) or has_role(user, Role.ADMIN)


@transaction.atomic
def training_certificate_decide(
    *,
    actor: User,
    training_record: TrainingRecord,
    accept: bool,
    completed_on: datetime | None = None,
    note: str = "",
    meta: RequestMeta | None = None,
) -> TrainingRecord:
    """A reviewer accepts a certificate (valid `validity_days` from the completion date on it,
    default today) or rejects it with a note."""
    result = TrainingRecord.objects.select_for_update().select_related("training", "user").get(pk=training_record.pk)
    if not can_check_certificates(actor):
        raise AccessDenied(_("Only reviewers check training certificates."))
    if result.user_id == actor.pk:
        raise AccessDenied(_("Nobody checks their own certificate."))
    note = note.strip()
    if not accept and not note:
        raise ValidationFailed(_("Say why the certificate is rejected; the researcher will see it."), field="note")
    now = timezone.now()
    had_valid = TrainingRecord.objects.valid().filter(user=result.user, training=result.training).exists()
    RECORD_TRANSITIONS.move(result, RecordStatus.PASSED if accept else RecordStatus.REJECTED)
    result.reviewed_by, result.reviewed_at, result.review_note = actor, now, note
    if accept:
        result.expires_at = (completed_on or now) + timedelta(days=result.training.validity_days)
        if result.expires_at <= now:
            raise ValidationFailed(_("That certificate has already expired."), field="completed_on")
    result.save()
    record(
        actor=actor,
        action=AuditAction.TRAINING_CERTIFICATE_APPROVED if accept else AuditAction.TRAINING_CERTIFICATE_REJECTED,
        target=result,
        meta=meta,
        user=result.user.email,
        training=result.training.name,
        # Ignored: an accepted certificate has its expiry.
        expires_at=result.expires_at.isoformat() if accept else None,  # type: ignore[union-attr]
        note=note,
    )
    if accept:
        _restored(result.user, result.training, had_valid=had_valid)
    return result


def training_expire_due(*, now: datetime | None = None) -> int:
    """Mark completions past their validity; announce a lapse when no other one is valid."""
    now = now or timezone.now()
    expired = 0
    due = TrainingRecord.objects.filter(status=RecordStatus.PASSED, expires_at__lte=now).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            result = (
                TrainingRecord.objects.select_for_update()
                .select_related("training", "user")
                .filter(pk=pk, status=RecordStatus.PASSED)
                .first()
            )
            if result is None:
                continue
            RECORD_TRANSITIONS.move(result, RecordStatus.EXPIRED)
            result.save(update_fields=["status"])
            record(
                actor=None,
                action=AuditAction.TRAINING_EXPIRED,
                target=result,
                user=result.user.email,
                training=result.training.name,
                # Ignored: only results with an expiry expire.
                expired_at=result.expires_at.isoformat(),  # type: ignore[union-attr]
            )
            if not TrainingRecord.objects.valid(now=now).filter(user=result.user, training=result.training).exists():
                training_lapsed.send(sender=Training, user=result.user, training=result.training)
            expired += 1
    return expired

"""Reminders, run by Celery beat (`access.tasks.send_reminders`, hourly).

Each reminder is sent once: a `ReminderSent` row keyed on (kind, subject, key) is created in
the same transaction as the queued e-mail and its audit event, so a retry or a second run of
the schedule finds the row and sends nothing. Every function takes `now` so tests can freeze
the clock.

- Grant expiry: at each of the policy's `reminder_days` before expiry (default 30, 7, 1); a
  run that missed a day sends only the nearest one. Not while a renewal is open.
- Identity lapse: at `ACCESSGATE_IDENTITY_REMINDER_DAYS` (default 30, 7) before a verification
  expires, to holders of a grant on a model that requires one.
- Training lapse: the same days, to holders of a grant whose model requires the training.
- Licence: once per (grant, licence version) to holders who have not accepted the model's
  current licence, `ACCESSGATE_LICENCE_REMINDER_AFTER_DAYS` (default 7) after its publication.
- Close-out: a week before it is due, and once when it is overdue.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Model, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.services import record
from accessgate.identity.models import IdentityVerification
from accessgate.training.models import TrainingRecord

from ..models import OPEN_STATUSES, AccessPolicy, Agreement, Grant
from ..models.over_time import Closeout, CloseoutStatus, ReminderSent
from ..rules.downloads import signed_under
from ._emails import email_user

Kind = ReminderSent.Kind
CLOSEOUT_DUE_SOON = timedelta(days=7)


def _send_once(*, kind: str, target: Model, key: str, user: User, template: str, now: datetime, **context) -> bool:
    subject = f"{target._meta.model_name}:{target.pk}"
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReminderSent.objects.create(kind=kind, subject=subject, key=key, user=user, sent_at=now)
        except IntegrityError:
            return False  # sent before
        email_user(user, template, **context)
        record(actor=None, action=AuditAction.ACCESS_REMINDER_SENT, target=target, kind=kind, key=key, user=user.email)
    return True


def _bucket(remaining: timedelta, days: list[int]) -> int | None:
    """The nearest reminder day that has been reached: with [30, 7, 1] and 5 days left, 7."""
    reached = [d for d in days if remaining <= timedelta(days=d)]
    return min(reached) if reached else None


def remind_grant_expiry(now: datetime) -> int:
    sent = 0
    horizon = max(
        (max(days, default=0) for days in AccessPolicy.objects.values_list("reminder_days", flat=True)), default=0
    )
    grants = (
        Grant.objects.active(now=now)
        .filter(expires_at__gt=now, expires_at__lte=now + timedelta(days=horizon))
        .exclude(renewals__status__in=OPEN_STATUSES)
        .select_related("model__policy", "user")
    )
    for grant in grants:
        policy = grant.model.policy
        day = _bucket(grant.expires_at - now, [int(d) for d in policy.reminder_days])
        if day is None:
            continue
        sent += _send_once(
            kind=Kind.GRANT_EXPIRY,
            target=grant,
            key=f"{grant.expires_at:%Y-%m-%dT%H:%M}/{day}d",
            user=grant.user,
            template="reminder_grant_expiry",
            now=now,
            model_name=grant.model.full_name,
            expires_at=grant.expires_at,
            days=day,
            can_renew=bool(policy.renewal_window_days),
            my_access_path=reverse("access:my_access"),
        )
    return sent


def remind_identity_lapse(now: datetime) -> int:
    days = list(settings.ACCESSGATE_IDENTITY_REMINDER_DAYS)
    if not days:
        return 0
    holders = Grant.objects.active(now=now).filter(model__policy__require_identity=True).values("user")
    verifications = IdentityVerification.objects.active(now=now).filter(
        user__in=holders, expires_at__lte=now + timedelta(days=max(days))
    )
    sent = 0
    for verification in verifications.select_related("user"):
        day = _bucket(verification.expires_at - now, days)
        sent += _send_once(
            kind=Kind.IDENTITY_LAPSE,
            target=verification,
            key=f"{day}d",
            user=verification.user,
            template="reminder_identity_lapse",
            now=now,
            expires_at=verification.expires_at,
            identity_path=reverse("identity:status"),
        )
    return sent


def remind_training_lapse(now: datetime) -> int:
    """Like identity: holders of a grant whose model requires the training, at the same days."""
    days = list(settings.ACCESSGATE_IDENTITY_REMINDER_DAYS)
    if not days:
        return 0
    records = TrainingRecord.objects.valid(now=now).filter(
        expires_at__lte=now + timedelta(days=max(days)),
        training__policies__model__grants__in=Grant.objects.active(now=now),
        training__policies__model__grants__user=F("user"),
    )
    sent = 0
    for training_record in records.distinct().select_related("training", "user"):
        day = _bucket(training_record.expires_at - now, days)
        sent += _send_once(
            kind=Kind.TRAINING_LAPSE,
            target=training_record,
            key=f"{day}d",
            user=training_record.user,
            template="reminder_training_lapse",
            now=now,
            training=training_record.training.name,
            expires_at=training_record.expires_at,
            training_path=reverse("training:detail", args=[training_record.training_id]),
        )
    return sent


def remind_licence(now: datetime) -> int:
    after = timedelta(days=settings.ACCESSGATE_LICENCE_REMINDER_AFTER_DAYS)
    latest = Subquery(
        Agreement.objects.filter(signed_under(OuterRef("pk"))).order_by("-signed_at", "-id").values("license")[:1]
    )
    grants = (
        Grant.objects.active(now=now)
        .annotate(signed_licence=latest)
        .exclude(signed_licence=F("model__policy__license"))
        .filter(model__policy__license__published_at__lte=now - after)
        .select_related("model__policy__license", "user")
    )
    sent = 0
    for grant in grants:
        licence = grant.model.policy.license
        sent += _send_once(
            kind=Kind.LICENCE,
            target=grant,
            key=f"licence:{licence.pk}",
            user=grant.user,
            template="reminder_licence",
            now=now,
            model_name=grant.model.full_name,
            licence=str(licence),
            accept_path=reverse("access:licence_accept", args=[grant.pk]),
        )
    return sent


def remind_closeouts(now: datetime) -> int:
    sent = 0
    due = Closeout.objects.filter(status=CloseoutStatus.DUE, due_at__lte=now + CLOSEOUT_DUE_SOON)
    for closeout in due.select_related("grant__model", "user"):
        overdue = closeout.due_at <= now
        sent += _send_once(
            kind=Kind.CLOSEOUT,
            target=closeout,
            key="overdue" if overdue else "due_soon",
            user=closeout.user,
            template="closeout_overdue" if overdue else "closeout_due",
            now=now,
            model_name=closeout.grant.model.full_name,
            reason=closeout.get_reason_display(),
            due_at=closeout.due_at,
            closeout_path=reverse("access:closeout", args=[closeout.pk]),
        )
    return sent


def reminders_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """Send every reminder that is due and was not sent before; counts by kind."""
    now = now or timezone.now()
    return {
        Kind.GRANT_EXPIRY: remind_grant_expiry(now),
        Kind.IDENTITY_LAPSE: remind_identity_lapse(now),
        Kind.TRAINING_LAPSE: remind_training_lapse(now),
        Kind.LICENCE: remind_licence(now),
        Kind.CLOSEOUT: remind_closeouts(now),
    }

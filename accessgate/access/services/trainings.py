"""Grants that need a training: suspended when the holder's training lapses, restored when
every training their model requires is valid again (announced by `training.signals`)."""

from django.db import transaction
from django.utils import timezone

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.training.models import Training
from accessgate.training.selectors import valid_training_ids

from ..models import Grant, GrantStatus, SuspensionReason
from .door import grant_reopen
from .grants import _expire, grant_suspend_locked


@transaction.atomic
def grants_suspend_for_training(*, user: User, training: Training) -> list[Grant]:
    suspended = []
    for grant in (
        Grant.objects.select_for_update()
        .filter(user=user, status=GrantStatus.ACTIVE, model__policy__required_trainings=training)
        .select_related("model")
    ):
        grant_suspend_locked(
            grant, holder=user, reason=SuspensionReason.TRAINING_EXPIRED, actor=None, training=training.name
        )
        suspended.append(grant)
    return suspended


@transaction.atomic
def grants_restore_after_training(*, user: User) -> list[Grant]:
    restored = []
    now = timezone.now()
    valid = valid_training_ids(user, now=now)
    for grant in (
        Grant.objects.select_for_update(of=("self",))  # the policy is the nullable side of a join
        .filter(user=user, status=GrantStatus.SUSPENDED, suspended_reason=SuspensionReason.TRAINING_EXPIRED)
        .select_related("model__policy")
    ):
        needed = set(grant.model.policy.required_trainings.values_list("pk", flat=True))
        if not needed <= valid:
            continue
        if grant.expires_at <= now:
            _expire(grant, now)
            continue
        grant = grant_reopen(grant, actor=None, meta=None, now=now, action=AuditAction.GRANT_RESTORED)
        if grant.status == GrantStatus.ACTIVE:
            restored.append(grant)
    return restored

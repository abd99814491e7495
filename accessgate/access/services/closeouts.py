"""Close-outs: when a grant ends, its holder attests what happened to the weights."""

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.accounts.selectors import profile_for
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, ValidationFailed

from ..models import Grant
from ..models.over_time import CLOSEOUT_TRANSITIONS, Closeout, CloseoutStatus
from ._checks import check_signature
from ._emails import email_user


def closeout_open(*, grant: Grant, reason: str, now: datetime) -> Closeout | None:
    """Ask the holder of a grant that just ended for a close-out, when its policy wants one.
    Runs inside the transaction that ended the grant."""
    policy = getattr(grant.model, "policy", None)
    if policy is None or not policy.require_closeout or Closeout.objects.filter(grant=grant).exists():
        return None
    closeout = Closeout.objects.create(
        grant=grant, user=grant.user, reason=reason, opened_at=now, due_at=now + timedelta(days=policy.closeout_days)
    )
    record(
        actor=None,
        action=AuditAction.ACCESS_CLOSEOUT_OPENED,
        target=closeout,
        user=grant.user.email,
        model=grant.model.full_name,
        grant_id=grant.pk,
        reason=reason,
        due_at=closeout.due_at.isoformat(),
    )
    email_user(
        grant.user,
        "closeout_due",
        model_name=grant.model.full_name,
        reason=closeout.get_reason_display(),
        due_at=closeout.due_at,
        closeout_path=reverse("access:closeout", args=[closeout.pk]),
    )
    return closeout


@transaction.atomic
def closeout_file(
    *,
    actor: User,
    closeout: Closeout,
    deleted_everywhere: bool,
    systems: str,
    remaining: str = "",
    typed_name: str,
    meta: RequestMeta | None = None,
) -> Closeout:
    """File the attestation: every system the weights were on, and either that they are
    deleted from all of them or what remains and why. Signed with the typed name."""
    meta = meta or RequestMeta()
    closeout = Closeout.objects.select_for_update().select_related("grant__model").get(pk=closeout.pk)
    if closeout.user_id != actor.pk:
        raise AccessDenied(_("Only the grant holder can file its close-out."))
    CLOSEOUT_TRANSITIONS.move(closeout, CloseoutStatus.FILED)
    systems, remaining = (text.replace("\r\n", "\n").strip() for text in (systems, remaining))
    if not systems:
        raise ValidationFailed(
            _("List every system the weights or derived copies were on (machines, clusters, buckets, backups)."),
            field="systems",
        )
    if not deleted_everywhere and not remaining:
        raise ValidationFailed(_("Say what remains, where, and why."), field="remaining")
    check_signature(profile_for(actor), typed_name)
    closeout.filed_at = timezone.now()
    closeout.deleted_everywhere = deleted_everywhere
    closeout.systems = systems
    closeout.remaining = "" if deleted_everywhere else remaining
    closeout.typed_name = " ".join(typed_name.split())
    closeout.ip = meta.ip
    closeout.save()
    record(
        actor=actor,
        action=AuditAction.ACCESS_CLOSEOUT_FILED,
        target=closeout,
        meta=meta,
        model=closeout.grant.model.full_name,
        grant_id=closeout.grant_id,
        deleted_everywhere=deleted_everywhere,
        systems=closeout.systems,
        remaining=closeout.remaining,
        typed_name=closeout.typed_name,
        late=closeout.filed_at > closeout.due_at,
    )
    return closeout

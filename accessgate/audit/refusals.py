"""Refused attempts in the trail, aggregated so that a flood cannot fill it.

Each refusal (a download URL refused, a bearer token rejected) is counted in a `RefusalTally`
row keyed by (action, reason, caller, target, minute): the caller is the user when known,
else the client IP. Counting is one short upsert in its own transaction, so it never waits on
the audit chain. Once a minute has closed (and one more minute has passed, so in-flight
requests of that minute have committed), the window becomes exactly ONE audit event carrying
the count, the first and last time and the client of the first refusal:

    download.refused        reason: no_grant, pending, expired, revoked, ended, suspended (identity
                            lapsed), suspended_by_hand, training_expired (suspended for a lapsed
                            training), training_required, not_signed (a direct grant not yet
                            signed), licence_not_accepted (a newer licence version),
                            identity_required, mfa_required, country_blocked, account_inactive,
                            release_withdrawn, quota, rate_limited, token_scope (the token lacks
                            the download scope), token_model (the token is limited to other
                            models), link_expired, link_invalid (a local-storage /dl/ link);
                            a `HEAD` or a file listing refused is counted the same way
    account.token.rejected  reason: bad_token, revoked_token, expired_token, inactive_user

Race-free: concurrent counts of one window meet on its unique row (`get_or_create`, then an
atomic `count = count + 1` that only touches an unrecorded row); the flush locks the row it
records, so a count is either in the event or, arriving after it, in the next window's row.
Fails closed: the refusal is answered whether or not it could be counted (a database error
while counting is logged, never turned into access).
"""

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Model
from django.utils import timezone

from .context import RequestMeta
from .models import RefusalTally
from .services import record

if TYPE_CHECKING:
    from django.contrib.auth.models import _User

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=1)
KEEP_RECORDED = timedelta(days=1)
REASONS = (
    "no_grant", "pending", "expired", "revoked", "ended", "suspended", "suspended_by_hand", "training_expired",
    "training_required", "not_signed", "licence_not_accepted", "identity_required", "mfa_required",
    "country_blocked", "account_inactive", "release_withdrawn", "quota", "rate_limited", "token_scope", "token_model",
    "link_expired", "link_invalid", "bad_token", "revoked_token", "expired_token", "inactive_user",
    "unsafe_path",
)  # fmt: skip
_clock = timezone.now  # tests pin it


def window_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def refusal_note(
    *,
    action: str,
    reason: str,
    actor: "_User | None" = None,
    target: Model | None = None,
    meta: RequestMeta | None = None,
    **details: Any,
) -> RefusalTally | None:
    """Count one refusal. Never raises; returns the tally row, or None if counting failed."""
    meta = meta or RequestMeta()
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    now = _clock()
    keys = {
        "action": str(action),
        "reason": reason,
        "caller_key": f"user:{user.pk}" if user is not None else f"ip:{meta.ip or 'unknown'}",
        "target_key": f"{target._meta.label_lower}:{target.pk}" if target is not None else "",
    }
    first = {
        "count": 1,
        "first_at": now,
        "last_at": now,
        "actor": user,
        "ip": meta.ip or None,
        "user_agent": meta.user_agent[:512],
        "target_type": target._meta.label_lower if target is not None else "",
        "target_id": str(target.pk) if target is not None else "",
        "details": details,
    }
    try:
        tally = _count(keys, first, window_of(now), now)
    except DatabaseError:
        logger.exception("Could not count a refusal (%s %s)", action, reason)
        return None
    try:
        if RefusalTally.objects.filter(recorded_seq=None, window_start__lt=_flush_cutoff(now)).exists():
            refusals_flush(limit=20)
    except DatabaseError:
        logger.exception("Could not record closed refusal windows; the scheduled job will")
    return tally


def _count(keys: dict[str, str], first: dict[str, Any], window: datetime, now: datetime) -> RefusalTally:
    for _ in range(3):
        try:
            with transaction.atomic():
                tally, created = RefusalTally.objects.get_or_create(**keys, window_start=window, defaults=first)
                if created:
                    return tally
                counted = RefusalTally.objects.filter(pk=tally.pk, recorded_seq=None).update(
                    count=F("count") + 1, last_at=now
                )
                if counted:
                    return tally
        except IntegrityError:  # a parallel first count of this window won: count on its row
            continue
        # Already recorded (this request was slow): count it in the next window instead.
        window += WINDOW
    raise DatabaseError("refusal window kept moving")


def _flush_cutoff(now: datetime) -> datetime:
    # A window is recorded once it has been closed for a whole window.
    return window_of(now) - WINDOW


def _target(tally: RefusalTally) -> Model | None:
    if not tally.target_type:
        return None
    try:
        model = apps.get_model(tally.target_type)
    except (LookupError, ValueError):
        return None
    found: Model | None = model._default_manager.filter(pk=tally.target_id).first()
    return found


def refusals_flush(*, limit: int = 1000) -> int:
    """Record every closed window as one audit event; returns how many were recorded."""
    cutoff = _flush_cutoff(_clock())
    pending = list(
        RefusalTally.objects.filter(recorded_seq=None, window_start__lt=cutoff)
        .order_by("window_start", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    recorded = 0
    for pk in pending:
        with transaction.atomic():
            tally = RefusalTally.objects.select_for_update(skip_locked=True).filter(pk=pk, recorded_seq=None).first()
            if tally is None:  # another worker has it
                continue
            target = _target(tally)
            gone = target is None and tally.target_type
            extra = {"target": f"{tally.target_type}:{tally.target_id}"} if gone else {}
            event = record(
                actor=tally.actor,
                action=tally.action,
                target=target,
                meta=RequestMeta(ip=tally.ip, user_agent=tally.user_agent),
                reason=tally.reason,
                count=tally.count,
                window_start=tally.window_start.isoformat(),
                first_at=tally.first_at.isoformat(),
                last_at=tally.last_at.isoformat(),
                caller=tally.caller_key,
                **extra,
                **tally.details,
            )
            # The event's insertion id: its chain `seq` is assigned moments later by the chainer.
            RefusalTally.objects.filter(pk=pk).update(recorded_seq=event.pk)
            recorded += 1
    # Recorded windows live on as events; their counters are only kept a day.
    RefusalTally.objects.filter(recorded_seq__isnull=False, window_start__lt=cutoff - KEEP_RECORDED).delete()
    return recorded

"""The access app's models, one module per aggregate, all importable from here."""

from .collections import Collection
from .decisions import Appeal, AppealOutcome, Escalation, EscalationReason, Recusal, RequestReviewer
from .formfields import CHOICE_KINDS, FieldKind, FormField
from .grants import Grant, GrantQuerySet, GrantStatus, SuspensionReason
from .over_time import CLOSEOUT_TRANSITIONS, Closeout, CloseoutStatus, GrantPeriod, ReminderSent
from .policies import AccessPolicy, AttestationStatement, Gating, RequirementTiming, default_reminder_days
from .requests import OPEN_STATUSES, AccessRequest, Agreement, Decision, RequestKind, RequestStatus, Review
from .rollup import DownloadDay, DownloadDayBuilt, DownloadUserDay
from .signoffs import SIGNOFF_TRANSITIONS, Signoff, SignoffStatus
from .transitions import GRANT_TRANSITIONS, REQUEST_TRANSITIONS
from .workbench import ReviewerSettings, ReviewNote, ReviewNotifications

__all__ = [
    "CHOICE_KINDS",
    "CLOSEOUT_TRANSITIONS",
    "GRANT_TRANSITIONS",
    "OPEN_STATUSES",
    "REQUEST_TRANSITIONS",
    "SIGNOFF_TRANSITIONS",
    "AccessPolicy",
    "AccessRequest",
    "Agreement",
    "Appeal",
    "AppealOutcome",
    "AttestationStatement",
    "Closeout",
    "CloseoutStatus",
    "Collection",
    "Decision",
    "DownloadDay",
    "DownloadDayBuilt",
    "DownloadUserDay",
    "Escalation",
    "EscalationReason",
    "FieldKind",
    "FormField",
    "Gating",
    "Grant",
    "GrantPeriod",
    "GrantQuerySet",
    "GrantStatus",
    "Recusal",
    "ReminderSent",
    "RequestKind",
    "RequestReviewer",
    "RequestStatus",
    "RequirementTiming",
    "Review",
    "ReviewNote",
    "ReviewNotifications",
    "ReviewerSettings",
    "Signoff",
    "SignoffStatus",
    "SuspensionReason",
    "default_reminder_days",
]

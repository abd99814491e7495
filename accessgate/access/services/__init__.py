"""Every state change of access requests, agreements, reviews, grants and policies.

One module per life cycle; callers import from here (`from accessgate.access.services import
access_request_submit`), so moving a function between modules changes no caller.
"""

from .agreements import agreement_renew
from .closeouts import closeout_file, closeout_open
from .direct import access_request_return_to_pending, grant_create_direct
from .grants import (
    IDENTITY_LAPSED,
    grant_end,
    grant_expire_due,
    grant_revoke,
    grants_restore_after_identity,
    grants_suspend_for_identity,
)
from .policies import PolicySettings, policy_set
from .reminders import reminders_send_due
from .renewals import renewal_opens_at, renewal_refusal, renewal_submit
from .requests import access_request_resubmit, access_request_submit, access_request_withdraw
from .reviews import access_request_approve, access_request_reject, access_request_request_changes
from .signoffs import (
    signoff_by_token,
    signoff_countersign,
    signoff_decline,
    signoff_request,
    signoff_resend,
    signoff_token,
)

__all__ = [
    "IDENTITY_LAPSED",
    "PolicySettings",
    "access_request_approve",
    "access_request_reject",
    "access_request_return_to_pending",
    "access_request_request_changes",
    "access_request_resubmit",
    "access_request_submit",
    "access_request_withdraw",
    "agreement_renew",
    "closeout_file",
    "closeout_open",
    "grant_create_direct",
    "grant_end",
    "grant_expire_due",
    "grant_revoke",
    "grants_restore_after_identity",
    "grants_suspend_for_identity",
    "policy_set",
    "reminders_send_due",
    "renewal_opens_at",
    "renewal_refusal",
    "renewal_submit",
    "signoff_by_token",
    "signoff_countersign",
    "signoff_decline",
    "signoff_request",
    "signoff_resend",
    "signoff_token",
]

"""Every state change of access requests, agreements, reviews, grants and policies.

One module per life cycle; callers import from here (`from accessgate.access.services import
access_request_submit`), so moving a function between modules changes no caller.
"""

from .agreements import agreement_renew, grant_sign
from .appeals import access_request_appeal, access_request_appeal_decide
from .closeouts import closeout_file, closeout_open
from .collections import collection_add_model, collection_create
from .direct import access_request_return_to_pending, grant_create_direct
from .escalations import access_request_escalate, access_request_reviewer_add, requests_escalate
from .grants import (
    grant_end,
    grant_expire_due,
    grant_reinstate,
    grant_revoke,
    grant_suspend,
    grants_activate_all_ready,
    grants_activate_ready,
    grants_restore_after_identity,
    grants_suspend_for_identity,
)
from .policies import PolicySettings, QuestionSpec, holders_to_reaccept, policy_licence_switch, policy_set
from .reminders import reminders_send_due
from .renewals import renewal_opens_at, renewal_refusal, renewal_submit
from .requests import access_request_resubmit, access_request_submit, access_request_withdraw
from .reviews import (
    access_request_approve,
    access_request_recuse,
    access_request_reject,
    access_request_request_changes,
)
from .signoffs import (
    signoff_by_token,
    signoff_countersign,
    signoff_decline,
    signoff_request,
    signoff_resend,
    signoff_token,
)
from .workbench import (
    BulkResult,
    access_request_assign,
    access_requests_bulk_decide,
    review_digests_send,
    review_note_add,
    reviewer_notifications_set,
)

__all__ = [
    "access_request_escalate",
    "access_request_reviewer_add",
    "requests_escalate",
    "BulkResult",
    "access_request_assign",
    "access_requests_bulk_decide",
    "review_digests_send",
    "review_note_add",
    "reviewer_notifications_set",
    "PolicySettings",
    "QuestionSpec",
    "access_request_appeal",
    "access_request_appeal_decide",
    "access_request_approve",
    "access_request_recuse",
    "access_request_reject",
    "access_request_return_to_pending",
    "access_request_request_changes",
    "access_request_resubmit",
    "access_request_submit",
    "access_request_withdraw",
    "agreement_renew",
    "closeout_file",
    "closeout_open",
    "collection_add_model",
    "collection_create",
    "grant_create_direct",
    "grant_end",
    "grant_expire_due",
    "grant_reinstate",
    "grant_sign",
    "grant_revoke",
    "grant_suspend",
    "grants_activate_all_ready",
    "grants_activate_ready",
    "grants_restore_after_identity",
    "grants_suspend_for_identity",
    "holders_to_reaccept",
    "policy_licence_switch",
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

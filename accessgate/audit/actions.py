"""Every audited action: a stable dotted name, grouped by app (`<app>.<entity>.<verb>`).

The names are validated here, in Python, not as database choices: `AuditEvent.action` is a
plain column, so adding an action is one line below and no migration. `record()` refuses a
name that is neither a member of `AuditAction` nor registered at run time with `register`.
"""

import re
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class AuditAction(models.TextChoices):
    """The portal's own actions. Add new ones to their app's group; never rename a value."""

    ACCOUNT_SIGNED_UP = "account.signed_up", _("Account signed up")
    ACCOUNT_LOGGED_IN = "account.logged_in", _("Logged in")
    ACCOUNT_PROFILE_UPDATED = "account.profile.updated", _("Profile updated")
    ACCOUNT_DEACTIVATED = "account.deactivated", _("Account deactivated")
    ACCOUNT_REACTIVATED = "account.reactivated", _("Account reactivated")
    ACCOUNT_ROLE_GRANTED = "account.role.granted", _("Role granted")
    ACCOUNT_ROLE_REMOVED = "account.role.removed", _("Role removed")
    ACCOUNT_TOKEN_CREATED = "account.token.created", _("Access token created")
    ACCOUNT_TOKEN_REVOKED = "account.token.revoked", _("Access token revoked")
    ACCOUNT_PASSWORD_CHANGED = "account.password.changed", _("Password changed")
    ACCOUNT_PASSWORD_RESET = "account.password.reset", _("Password reset")
    ACCOUNT_EMAIL_ADDED = "account.email.added", _("E-mail address added")
    ACCOUNT_EMAIL_CONFIRMED = "account.email.confirmed", _("E-mail address verified")
    ACCOUNT_EMAIL_REMOVED = "account.email.removed", _("E-mail address removed")
    ACCOUNT_EMAIL_PRIMARY_CHANGED = "account.email.primary_changed", _("Primary e-mail changed")
    ACCOUNT_MFA_ADDED = "account.mfa.added", _("Second factor added")
    ACCOUNT_MFA_REMOVED = "account.mfa.removed", _("Second factor removed")
    ACCOUNT_MFA_RESET = "account.mfa.reset", _("Recovery codes regenerated")
    ACCOUNT_ORCID_LINKED = "account.orcid.linked", _("ORCID iD linked")
    ACCOUNT_ORCID_UNLINKED = "account.orcid.unlinked", _("ORCID iD unlinked")

    CATALOG_LICENSE_PUBLISHED = "catalog.license.published", _("Licence version published")
    CATALOG_MODEL_CREATED = "catalog.model.created", _("Model created")
    CATALOG_MODEL_UPDATED = "catalog.model.updated", _("Model updated")
    CATALOG_RELEASE_CREATED = "catalog.release.created", _("Release created")
    CATALOG_RELEASE_WITHDRAWN = "catalog.release.withdrawn", _("Release withdrawn")
    CATALOG_RELEASE_RESTORED = "catalog.release.restored", _("Release restored")
    CATALOG_MODEL_PUBLISHED = "catalog.model.published", _("Model published")
    CATALOG_MODEL_PUBLISHERS_CHANGED = "catalog.model.publishers_changed", _("Model publishers changed")
    CATALOG_IMPORT_PREFIX_ADDED = "catalog.import_prefix.added", _("Import prefix opened to a publisher")
    CATALOG_IMPORT_PREFIX_REMOVED = "catalog.import_prefix.removed", _("Import prefix closed")

    ACCESS_POLICY_CREATED = "access.policy.created", _("Access policy created")
    ACCESS_POLICY_UPDATED = "access.policy.updated", _("Access policy updated")
    ACCESS_POLICY_LICENCE_SWITCHED = (
        "access.policy.licence_switched",
        _("Licence version switched; holders must re-accept"),
    )
    ACCESS_REQUEST_SUBMITTED = "access.request.submitted", _("Access request submitted")
    ACCESS_REQUEST_RESUBMITTED = "access.request.resubmitted", _("Access request resubmitted")
    ACCESS_REQUEST_APPROVED = "access.request.approved", _("Access request approved")
    ACCESS_REQUEST_REJECTED = "access.request.rejected", _("Access request rejected")
    ACCESS_REQUEST_CHANGES_REQUESTED = "access.request.changes_requested", _("Changes requested")
    ACCESS_REQUEST_WITHDRAWN = "access.request.withdrawn", _("Access request withdrawn")
    ACCESS_REQUEST_APPROVAL_RECORDED = "access.request.approval_recorded", _("Approval recorded (more needed)")
    ACCESS_REQUEST_RECUSED = "access.request.recused", _("Reviewer recused")
    ACCESS_REQUEST_ESCALATED = "access.request.escalated", _("Request escalated")
    ACCESS_REQUEST_REVIEWER_ADDED = "access.request.reviewer_added", _("Reviewer added to one request")
    ACCESS_REQUEST_ASSIGNED = "access.request.assigned", _("Request assigned")
    ACCESS_REQUEST_NOTE_ADDED = "access.request.note_added", _("Internal note added")
    ACCESS_COLLECTION_CREATED = "access.collection.created", _("Collection created")
    ACCESS_COLLECTION_APPLIED = "access.collection.applied", _("Applied to a collection (one request per model)")
    ACCESS_COLLECTION_MODEL_ADDED = "access.collection.model_added", _("Model added to a collection")
    ACCESS_REVIEWER_NOTIFICATIONS_SET = "access.reviewer.notifications_set", _("Review notifications chosen")
    ACCESS_REQUEST_APPEALED = "access.request.appealed", _("Rejection appealed")
    ACCESS_APPEAL_GRANTED = "access.appeal.granted", _("Appeal granted")
    ACCESS_APPEAL_DENIED = "access.appeal.denied", _("Appeal denied")
    ACCESS_APPEAL_APPROVAL_RECORDED = "access.appeal.approval_recorded", _("Appeal approval recorded (more needed)")
    ACCESS_REQUEST_REOPENED = "access.request.reopened", _("Access request returned to pending")
    ACCESS_RENEWAL_SUBMITTED = "access.renewal.submitted", _("Renewal submitted")
    ACCESS_CLOSEOUT_OPENED = "access.closeout.opened", _("Close-out requested")
    ACCESS_CLOSEOUT_FILED = "access.closeout.filed", _("Close-out attestation filed")
    ACCESS_REMINDER_SENT = "access.reminder.sent", _("Reminder sent")
    ACCESS_AGREEMENT_SIGNED = "access.agreement.signed", _("Application completed and signed under a waiting grant")
    ACCESS_SIGNOFF_REQUESTED = "access.signoff.requested", _("Signing official asked to countersign")
    ACCESS_SIGNOFF_RESENT = "access.signoff.resent", _("Sign-off link resent")
    ACCESS_SIGNOFF_SIGNED = "access.signoff.signed", _("Countersigned by the signing official")
    ACCESS_SIGNOFF_DECLINED = "access.signoff.declined", _("Declined by the signing official")
    ACCESS_SIGNOFF_VOIDED = "access.signoff.voided", _("Sign-off void: the application changed")

    GRANT_CREATED = "grant.created", _("Grant created")
    GRANT_REVOKED = "grant.revoked", _("Grant revoked")
    GRANT_EXPIRED = "grant.expired", _("Grant expired")
    GRANT_SUSPENDED = "grant.suspended", _("Grant suspended")
    GRANT_RESTORED = "grant.restored", _("Grant restored")
    GRANT_RENEWED = "grant.renewed", _("Grant renewed")
    GRANT_ENDED = "grant.ended", _("Grant ended by the holder")
    GRANT_ACTIVATED = "grant.activated", _("Grant active (requirements now met)")
    GRANT_REINSTATED = "grant.reinstated", _("Grant reinstated")
    GRANT_WAITING = "grant.waiting", _("Grant waiting (what it waits for changed)")

    IDENTITY_VERIFICATION_STARTED = "identity.verification.started", _("Identity verification started")
    IDENTITY_VERIFICATION_PROCESSING = "identity.verification.processing", _("Identity verification processing")
    IDENTITY_VERIFICATION_VERIFIED = "identity.verification.verified", _("Identity verified")
    IDENTITY_VERIFICATION_REQUIRES_INPUT = "identity.verification.requires_input", _("Identity check needs another try")
    IDENTITY_VERIFICATION_CANCELED = "identity.verification.canceled", _("Identity verification canceled")
    IDENTITY_VERIFICATION_REDACTED = "identity.verification.redacted", _("Identity data redacted")
    IDENTITY_VERIFICATION_EXPIRED = "identity.verification.expired", _("Identity verification expired")

    TRAINING_DEFINITION_SAVED = "training.definition.saved", _("Training defined or changed")
    TRAINING_QUIZ_TAKEN = "training.quiz.taken", _("Training quiz taken")
    TRAINING_CERTIFICATE_UPLOADED = "training.certificate.uploaded", _("Training certificate uploaded")
    TRAINING_CERTIFICATE_APPROVED = "training.certificate.approved", _("Training certificate accepted")
    TRAINING_CERTIFICATE_REJECTED = "training.certificate.rejected", _("Training certificate rejected")
    TRAINING_EXPIRED = "training.expired", _("Training expired")

    DOWNLOAD_URL_ISSUED = "download.url_issued", _("Download URL issued")
    DOWNLOAD_MANIFEST_ISSUED = "download.manifest_issued", _("Download manifest issued")
    DOWNLOAD_RELEASE_IMPORT_REQUESTED = "download.release_import_requested", _("Release import requested")
    DOWNLOAD_RELEASE_IMPORTED = "download.release_imported", _("Release imported")
    DOWNLOAD_UPLOAD_STARTED = "download.upload.started", _("Browser upload started")
    DOWNLOAD_UPLOAD_COMPLETED = "download.upload.completed", _("Browser upload completed")

    ACCESS_AGREEMENT_RENEWED = "access.agreement.renewed", _("Licence re-accepted")

    NOTIFICATIONS_WEBHOOK_CREATED = "notifications.webhook.created", _("Webhook endpoint registered")
    NOTIFICATIONS_WEBHOOK_UPDATED = "notifications.webhook.updated", _("Webhook endpoint changed")
    NOTIFICATIONS_WEBHOOK_SECRET_ROTATED = "notifications.webhook.secret_rotated", _("Webhook secret rotated")
    NOTIFICATIONS_WEBHOOK_DISABLED = "notifications.webhook.disabled", _("Webhook endpoint disabled")
    NOTIFICATIONS_WEBHOOK_ENABLED = "notifications.webhook.enabled", _("Webhook endpoint enabled")
    NOTIFICATIONS_WEBHOOK_REDELIVERED = "notifications.webhook.redelivered", _("Webhook redelivered")

    AUDIT_CHAIN_VERIFIED = "audit.chain.verified", _("Audit chain verified")
    AUDIT_EXPORT_REQUESTED = "audit.export.requested", _("Audit export requested")
    AUDIT_EXPORT_COMPLETED = "audit.export.completed", _("Audit export completed")
    AUDIT_EXPORT_FAILED = "audit.export.failed", _("Audit export failed")
    AUDIT_EXPORT_DOWNLOADED = "audit.export.downloaded", _("Audit export downloaded")
    AUDIT_CHECKPOINT_CREATED = "audit.checkpoint.created", _("Audit checkpoint signed")

    DOWNLOAD_REFUSED = "download.refused", _("Download refused")
    ACCOUNT_TOKEN_REJECTED = "account.token.rejected", _("Access token rejected")


_known: "dict[str, StrOrPromise]" = dict(AuditAction.choices)


def register(action: str, label: "StrOrPromise") -> str:
    """Make an action recordable at run time (an extension's own actions; tests). No migration."""
    if not ACTION_NAME.fullmatch(action):
        raise ValueError(f"An audit action is a dotted lower-case name like 'access.request.approved', not {action!r}.")
    if _known.get(action, label) != label:
        raise ValueError(f"The audit action {action!r} is already registered as {_known[action]!r}.")
    _known[action] = label
    return action


def unregister(action: str) -> None:
    """Forget an action registered at run time (the portal's own cannot be removed)."""
    if action in AuditAction.values:
        raise ValueError(f"{action!r} is one of the portal's own audit actions.")
    _known.pop(action, None)


def validate(action: str) -> str:
    """The action's name, or ValueError for a name nobody declared."""
    action = str(action)
    if action not in _known:
        raise ValueError(
            f"Unknown audit action {action!r}: add it to AuditAction in accessgate/audit/actions.py "
            "(or register it) before recording it."
        )
    return action


def label(action: str) -> "StrOrPromise":
    return _known.get(action, action)


def known_actions() -> list[str]:
    return sorted(_known)

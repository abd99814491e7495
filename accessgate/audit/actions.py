"""Every audited action: a stable dotted name, grouped by app (`<app>.<entity>.<verb>`).

The names are validated here, in Python, not as database choices: `AuditEvent.action` is a
plain column, so adding an action is one line below and no migration. `record()` refuses a
name that is neither a member of `AuditAction` nor registered at run time with `register`.
"""

import re

from django.db import models

ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class AuditAction(models.TextChoices):
    """The portal's own actions. Add new ones to their app's group; never rename a value."""

    ACCOUNT_SIGNED_UP = "account.signed_up", "Account signed up"
    ACCOUNT_LOGGED_IN = "account.logged_in", "Logged in"
    ACCOUNT_PROFILE_UPDATED = "account.profile.updated", "Profile updated"
    ACCOUNT_DEACTIVATED = "account.deactivated", "Account deactivated"
    ACCOUNT_REACTIVATED = "account.reactivated", "Account reactivated"
    ACCOUNT_ROLE_GRANTED = "account.role.granted", "Role granted"
    ACCOUNT_ROLE_REMOVED = "account.role.removed", "Role removed"
    ACCOUNT_TOKEN_CREATED = "account.token.created", "Access token created"
    ACCOUNT_TOKEN_REVOKED = "account.token.revoked", "Access token revoked"
    ACCOUNT_PASSWORD_CHANGED = "account.password.changed", "Password changed"
    ACCOUNT_PASSWORD_RESET = "account.password.reset", "Password reset"
    ACCOUNT_EMAIL_ADDED = "account.email.added", "E-mail address added"
    ACCOUNT_EMAIL_CONFIRMED = "account.email.confirmed", "E-mail address verified"
    ACCOUNT_EMAIL_REMOVED = "account.email.removed", "E-mail address removed"
    ACCOUNT_EMAIL_PRIMARY_CHANGED = "account.email.primary_changed", "Primary e-mail changed"
    ACCOUNT_MFA_ADDED = "account.mfa.added", "Second factor added"
    ACCOUNT_MFA_REMOVED = "account.mfa.removed", "Second factor removed"
    ACCOUNT_MFA_RESET = "account.mfa.reset", "Recovery codes regenerated"
    ACCOUNT_ORCID_LINKED = "account.orcid.linked", "ORCID iD linked"
    ACCOUNT_ORCID_UNLINKED = "account.orcid.unlinked", "ORCID iD unlinked"

    CATALOG_LICENSE_PUBLISHED = "catalog.license.published", "Licence version published"
    CATALOG_MODEL_CREATED = "catalog.model.created", "Model created"
    CATALOG_MODEL_UPDATED = "catalog.model.updated", "Model updated"
    CATALOG_RELEASE_CREATED = "catalog.release.created", "Release created"
    CATALOG_RELEASE_WITHDRAWN = "catalog.release.withdrawn", "Release withdrawn"
    CATALOG_RELEASE_RESTORED = "catalog.release.restored", "Release restored"
    CATALOG_MODEL_PUBLISHED = "catalog.model.published", "Model published"
    CATALOG_MODEL_PUBLISHERS_CHANGED = "catalog.model.publishers_changed", "Model publishers changed"

    ACCESS_POLICY_CREATED = "access.policy.created", "Access policy created"
    ACCESS_POLICY_UPDATED = "access.policy.updated", "Access policy updated"
    ACCESS_POLICY_LICENCE_SWITCHED = (
        "access.policy.licence_switched",
        "Licence version switched; holders must re-accept",
    )
    ACCESS_REQUEST_SUBMITTED = "access.request.submitted", "Access request submitted"
    ACCESS_REQUEST_RESUBMITTED = "access.request.resubmitted", "Access request resubmitted"
    ACCESS_REQUEST_APPROVED = "access.request.approved", "Access request approved"
    ACCESS_REQUEST_REJECTED = "access.request.rejected", "Access request rejected"
    ACCESS_REQUEST_CHANGES_REQUESTED = "access.request.changes_requested", "Changes requested"
    ACCESS_REQUEST_WITHDRAWN = "access.request.withdrawn", "Access request withdrawn"
    ACCESS_REQUEST_APPROVAL_RECORDED = "access.request.approval_recorded", "Approval recorded (more needed)"
    ACCESS_REQUEST_RECUSED = "access.request.recused", "Reviewer recused"
    ACCESS_REQUEST_ASSIGNED = "access.request.assigned", "Request assigned"
    ACCESS_REQUEST_NOTE_ADDED = "access.request.note_added", "Internal note added"
    ACCESS_COLLECTION_CREATED = "access.collection.created", "Collection created"
    ACCESS_COLLECTION_MODEL_ADDED = "access.collection.model_added", "Model added to a collection"
    ACCESS_REVIEWER_NOTIFICATIONS_SET = "access.reviewer.notifications_set", "Review notifications chosen"
    ACCESS_REQUEST_APPEALED = "access.request.appealed", "Rejection appealed"
    ACCESS_APPEAL_GRANTED = "access.appeal.granted", "Appeal granted"
    ACCESS_APPEAL_DENIED = "access.appeal.denied", "Appeal denied"
    ACCESS_REQUEST_REOPENED = "access.request.reopened", "Access request returned to pending"
    ACCESS_RENEWAL_SUBMITTED = "access.renewal.submitted", "Renewal submitted"
    ACCESS_CLOSEOUT_OPENED = "access.closeout.opened", "Close-out requested"
    ACCESS_CLOSEOUT_FILED = "access.closeout.filed", "Close-out attestation filed"
    ACCESS_REMINDER_SENT = "access.reminder.sent", "Reminder sent"
    ACCESS_SIGNOFF_REQUESTED = "access.signoff.requested", "Signing official asked to countersign"
    ACCESS_SIGNOFF_RESENT = "access.signoff.resent", "Sign-off link resent"
    ACCESS_SIGNOFF_SIGNED = "access.signoff.signed", "Countersigned by the signing official"
    ACCESS_SIGNOFF_DECLINED = "access.signoff.declined", "Declined by the signing official"

    GRANT_CREATED = "grant.created", "Grant created"
    GRANT_REVOKED = "grant.revoked", "Grant revoked"
    GRANT_EXPIRED = "grant.expired", "Grant expired"
    GRANT_SUSPENDED = "grant.suspended", "Grant suspended"
    GRANT_RESTORED = "grant.restored", "Grant restored"
    GRANT_RENEWED = "grant.renewed", "Grant renewed"
    GRANT_ENDED = "grant.ended", "Grant ended by the holder"
    GRANT_ACTIVATED = "grant.activated", "Grant active (requirements now met)"
    GRANT_REINSTATED = "grant.reinstated", "Grant reinstated"

    IDENTITY_VERIFICATION_STARTED = "identity.verification.started", "Identity verification started"
    IDENTITY_VERIFICATION_PROCESSING = "identity.verification.processing", "Identity verification processing"
    IDENTITY_VERIFICATION_VERIFIED = "identity.verification.verified", "Identity verified"
    IDENTITY_VERIFICATION_REQUIRES_INPUT = "identity.verification.requires_input", "Identity check needs another try"
    IDENTITY_VERIFICATION_CANCELED = "identity.verification.canceled", "Identity verification canceled"
    IDENTITY_VERIFICATION_REDACTED = "identity.verification.redacted", "Identity data redacted"
    IDENTITY_VERIFICATION_EXPIRED = "identity.verification.expired", "Identity verification expired"

    TRAINING_DEFINITION_SAVED = "training.definition.saved", "Training defined or changed"
    TRAINING_QUIZ_TAKEN = "training.quiz.taken", "Training quiz taken"
    TRAINING_CERTIFICATE_UPLOADED = "training.certificate.uploaded", "Training certificate uploaded"
    TRAINING_CERTIFICATE_APPROVED = "training.certificate.approved", "Training certificate accepted"
    TRAINING_CERTIFICATE_REJECTED = "training.certificate.rejected", "Training certificate rejected"
    TRAINING_EXPIRED = "training.expired", "Training expired"

    DOWNLOAD_URL_ISSUED = "download.url_issued", "Download URL issued"
    DOWNLOAD_MANIFEST_ISSUED = "download.manifest_issued", "Download manifest issued"
    DOWNLOAD_RELEASE_IMPORT_REQUESTED = "download.release_import_requested", "Release import requested"
    DOWNLOAD_RELEASE_IMPORTED = "download.release_imported", "Release imported"
    DOWNLOAD_UPLOAD_STARTED = "download.upload.started", "Browser upload started"
    DOWNLOAD_UPLOAD_COMPLETED = "download.upload.completed", "Browser upload completed"

    ACCESS_AGREEMENT_RENEWED = "access.agreement.renewed", "Licence re-accepted"

    NOTIFICATIONS_WEBHOOK_CREATED = "notifications.webhook.created", "Webhook endpoint registered"
    NOTIFICATIONS_WEBHOOK_UPDATED = "notifications.webhook.updated", "Webhook endpoint changed"
    NOTIFICATIONS_WEBHOOK_SECRET_ROTATED = "notifications.webhook.secret_rotated", "Webhook secret rotated"
    NOTIFICATIONS_WEBHOOK_DISABLED = "notifications.webhook.disabled", "Webhook endpoint disabled"
    NOTIFICATIONS_WEBHOOK_ENABLED = "notifications.webhook.enabled", "Webhook endpoint enabled"
    NOTIFICATIONS_WEBHOOK_REDELIVERED = "notifications.webhook.redelivered", "Webhook redelivered"

    AUDIT_CHAIN_VERIFIED = "audit.chain.verified", "Audit chain verified"
    AUDIT_EXPORT_REQUESTED = "audit.export.requested", "Audit export requested"
    AUDIT_EXPORT_COMPLETED = "audit.export.completed", "Audit export completed"
    AUDIT_EXPORT_FAILED = "audit.export.failed", "Audit export failed"
    AUDIT_EXPORT_DOWNLOADED = "audit.export.downloaded", "Audit export downloaded"
    AUDIT_CHECKPOINT_CREATED = "audit.checkpoint.created", "Audit checkpoint signed"

    DOWNLOAD_REFUSED = "download.refused", "Download refused"
    ACCOUNT_TOKEN_REJECTED = "account.token.rejected", "Access token rejected"


_known: dict[str, str] = dict(AuditAction.choices)


def register(action: str, label: str) -> str:
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


def label(action: str) -> str:
    return _known.get(action, action)


def known_actions() -> list[str]:
    return sorted(_known)


def actions_by_app() -> dict[str, list[str]]:
    """Actions grouped by their first segment (the app or area that records them)."""
    groups: dict[str, list[str]] = {}
    for action in known_actions():
        groups.setdefault(action.split(".", 1)[0], []).append(action)
    return groups

"""Domain errors: each carries a message a user can act on.

Views and the API map them to a page or `{"error": {"code", "message"}}` in one place
(`accessgate.middleware.DomainErrorMiddleware`).
"""


class DomainError(Exception):
    code = "error"
    http_status = 400

    def __init__(
        self, message: str, *, field: str | None = None, help_url: str | None = None, reason: str | None = None
    ):
        super().__init__(message)
        self.message = message
        # A stable code for why (`grant_suspended`, `quota`…), audited with a refused download;
        # None when the refusal is not counted.
        self.reason = reason
        # The form field the message belongs to, when the error is about one input.
        self.field = field
        # Where the user can fix it (apply, accept the new licence…), shown as a link.
        self.help_url = help_url


class ValidationFailed(DomainError):
    code = "invalid"
    http_status = 400


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    http_status = 401


class AccessDenied(DomainError):
    code = "access_denied"
    http_status = 403


class PolicyNotMet(DomainError):
    code = "policy_not_met"
    http_status = 403


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class QuotaExceeded(DomainError):
    code = "quota_exceeded"
    http_status = 429


class WebhookRejected(DomainError):
    code = "webhook_rejected"
    http_status = 400


class ProviderUnavailable(DomainError):
    """An outside provider (identity, storage) cannot be reached; nothing was changed."""

    code = "provider_unavailable"
    http_status = 503


class TooLarge(DomainError):
    """A request body over the limit its route allows; refused before it is read or parsed."""

    code = "payload_too_large"
    http_status = 413

"""Identity providers: Stripe Identity, and a development stand-in for the embedded demo.

Each provider starts a session (returning its id and the URL to send the user to) and
fetches a session's current state, normalised to `SessionState`.
"""

import secrets
from dataclasses import dataclass

import stripe
from django.conf import settings
from django.urls import reverse


@dataclass(frozen=True)
class SessionState:
    session_id: str
    status: str  # pending | requires_input | processing | verified | canceled
    error_code: str = ""
    error_reason: str = ""
    first_name: str = ""
    last_name: str = ""
    document_country: str = ""
    redacted: bool = False


def _object(value):
    return value if hasattr(value, "get") else {}


class StripeIdentity:
    """Stripe Identity: a document check with a matching selfie, on Stripe's hosted page."""

    name = "stripe"

    def __init__(self):
        base = settings.ACCESSGATE_STRIPE_API_BASE
        self.client = stripe.StripeClient(
            settings.ACCESSGATE_STRIPE_SECRET_KEY,
            base_addresses={"api": base} if base else None,
            max_network_retries=2,
        )

    def start(self, *, user, return_url: str) -> tuple[str, str]:
        session = self.client.v1.identity.verification_sessions.create(
            params={
                "type": "document",
                "options": {"document": {"require_matching_selfie": True}},
                "metadata": {"user_id": str(user.pk)},
                "return_url": return_url,
            }
        )
        return session.id, session.url

    def fetch(self, session_id: str) -> SessionState:
        session = self.client.v1.identity.verification_sessions.retrieve(
            session_id, params={"expand": ["verified_outputs", "last_verification_report"]}
        ).to_dict()
        outputs = _object(session.get("verified_outputs"))
        # Expanded, the report is an object; otherwise just its id.
        document = _object(_object(session.get("last_verification_report")).get("document"))
        address = _object(outputs.get("address"))
        error = _object(session.get("last_error"))
        redaction = _object(session.get("redaction"))
        status = session["status"]
        if status == "requires_input" and not error:
            # Stripe starts every session in requires_input: waiting for the user, not failed.
            status = "pending"
        return SessionState(
            session_id=session["id"],
            status=status,
            error_code=error.get("code") or "",
            error_reason=error.get("reason") or "",
            first_name=outputs.get("first_name") or "",
            last_name=outputs.get("last_name") or "",
            document_country=(document.get("issuing_country") or address.get("country") or "").upper(),
            redacted=redaction.get("status") == "redacted",
        )


class DevIdentity:
    """For the embedded demo only: a page with "simulate verified / failed" buttons.
    A system check refuses it whenever DEBUG is off."""

    name = "dev"

    def start(self, *, user, return_url: str) -> tuple[str, str]:
        session_id = f"dev_{secrets.token_hex(8)}"
        return session_id, reverse("identity:dev_session", args=[session_id])

    def fetch(self, session_id: str) -> SessionState:
        raise NotImplementedError("The development provider's outcome is set on its own page.")


def get_provider():
    name = settings.ACCESSGATE_IDENTITY_PROVIDER
    if name == "stripe":
        return StripeIdentity()
    if name == "dev":
        return DevIdentity()
    return None

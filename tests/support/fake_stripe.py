"""A local stand-in for the two Stripe endpoints accessgate calls, so the real `stripe`
client runs in tests without the network:

    POST /v1/identity/verification_sessions        (form-encoded, like Stripe)
    GET  /v1/identity/verification_sessions/<id>   (expand[]=verified_outputs, last_verification_report)

Responses follow Stripe's documented VerificationSession and VerificationReport objects.
Tests move a session along with `complete()`, `fail()`, `set_status()` and `redact()`, and
sign webhook payloads with `signed_event()` using Stripe's scheme.
"""

import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_KEY = "sk_test_accessgate"
WEBHOOK_SECRET = "whsec_test_accessgate"


class FakeStripe:
    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.reports: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- moving sessions along (what Stripe would do as the user goes through the flow) ---

    def set_status(self, session_id: str, status: str, **changes):
        self.sessions[session_id].update(status=status, **changes)

    def complete(self, session_id: str, *, first_name="Rosalind", last_name="Franklin", country="GB"):
        report_id = f"vr_{secrets.token_hex(8)}"
        self.reports[report_id] = {
            "id": report_id,
            "object": "identity.verification_report",
            "type": "document",
            "verification_session": session_id,
            "document": {
                "status": "verified",
                "type": "passport",
                "first_name": first_name,
                "last_name": last_name,
                "issuing_country": country,
                "number": "X1234567",  # present at Stripe; accessgate must never store it
                "error": None,
            },
            "selfie": {"status": "verified", "error": None},
        }
        self.set_status(
            session_id,
            "verified",
            last_error=None,
            last_verification_report=report_id,
            verified_outputs={
                "first_name": first_name,
                "last_name": last_name,
                "address": {"country": country, "city": "London", "line1": "1 Strand"},
                "dob": {"day": 25, "month": 7, "year": 1920},
                "id_number": "123-45-6789",
                "id_number_type": "us_ssn",
            },
        )

    def fail(self, session_id: str, code="selfie_face_mismatch", reason="The selfie did not match."):
        self.set_status(session_id, "requires_input", last_error={"code": code, "reason": reason})

    def redact(self, session_id: str):
        self.sessions[session_id]["redaction"] = {"status": "redacted"}
        self.sessions[session_id]["verified_outputs"] = None

    def signed_event(self, session_id: str, event_type: str, *, timestamp=None, secret=WEBHOOK_SECRET, event_id=None):
        """(payload bytes, Stripe-Signature header) as Stripe sends them."""
        payload = json.dumps(
            {
                "id": event_id or f"evt_{secrets.token_hex(8)}",
                "object": "event",
                "api_version": "2025-01-27.acacia",
                "created": int(time.time()),
                "type": event_type,
                "livemode": False,
                "data": {"object": self._public(self.sessions[session_id])},
            }
        ).encode()
        stamp = int(timestamp if timestamp is not None else time.time())
        signature = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
        return payload, f"t={stamp},v1={signature}"

    # --- HTTP ------------------------------------------------------------------------------

    def _public(self, session, expand=()):
        public = dict(session)
        if "last_verification_report" in expand and public.get("last_verification_report"):
            public["last_verification_report"] = self.reports[public["last_verification_report"]]
        if "verified_outputs" not in expand:
            public["verified_outputs"] = None
        return public

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self):
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._reply(
                        401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
                    )
                    return False
                return True

            def do_POST(self):
                if not self._authorised():
                    return
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                fake.requests.append(("POST", self.path, form))
                if urlsplit(self.path).path != "/v1/identity/verification_sessions":
                    return self._reply(
                        404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}
                    )
                session_id = f"vs_{secrets.token_hex(12)}"
                fake.sessions[session_id] = {
                    "id": session_id,
                    "object": "identity.verification_session",
                    "client_secret": f"{session_id}_secret_{secrets.token_hex(8)}",
                    "created": int(time.time()),
                    "last_error": None,
                    "last_verification_report": None,
                    "livemode": False,
                    "metadata": {k[9:-1]: v[0] for k, v in form.items() if k.startswith("metadata[")},
                    "options": {
                        "document": {
                            "require_matching_selfie": form.get("options[document][require_matching_selfie]", [""])[0]
                            == "true"
                        }
                    },
                    "redaction": None,
                    "return_url": form.get("return_url", [None])[0],
                    "status": "requires_input",
                    "type": form.get("type", [""])[0],
                    "url": f"https://verify.stripe.com/start/test_{secrets.token_hex(8)}",
                    "verified_outputs": None,
                }
                self._reply(200, fake.sessions[session_id])

            def do_GET(self):
                if not self._authorised():
                    return
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                fake.requests.append(("GET", parts.path, query))
                prefix = "/v1/identity/verification_sessions/"
                session = fake.sessions.get(parts.path[len(prefix) :]) if parts.path.startswith(prefix) else None
                if session is None:
                    return self._reply(404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}})
                # stripe-python sends arrays as expand[0]=…&expand[1]=…
                expand = [v for key, values in query.items() if key.startswith("expand[") for v in values]
                self._reply(200, fake._public(session, expand=expand))

        return Handler

"""Webhook secrets: made, kept encrypted at rest, and used to sign each delivery.

A receiver checks `Webhook-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
with the endpoint's secret (docs/webhooks.md). We must sign with the secret, so it
cannot be stored as a hash like access tokens; it is stored encrypted (Fernet, AES-128-CBC
plus HMAC) under a key derived from `ACCESSGATE_WEBHOOK_SECRET_KEY`, or from `SECRET_KEY`
when that is not set. Several comma-separated keys may be given: the first encrypts, every
one decrypts, so the key can be rotated without losing the endpoints.
"""

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Webhook-Signature"
ID_HEADER = "Webhook-Id"


class SecretUnreadable(Exception):
    """The stored secret does not decrypt with any configured key (the key was changed)."""


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _fernet_key(material: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"accessgate webhook secrets").derive(
        material.encode()
    )
    return base64.urlsafe_b64encode(derived)


def _fernet() -> MultiFernet:
    configured = [k.strip() for k in settings.ACCESSGATE_WEBHOOK_SECRET_KEY.split(",") if k.strip()]
    keys = configured or [settings.SECRET_KEY]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "The endpoint's secret cannot be decrypted with ACCESSGATE_WEBHOOK_SECRET_KEY; rotate the secret."
        ) from error


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"

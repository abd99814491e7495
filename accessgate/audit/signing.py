"""The portal's audit signing key (Ed25519). Export manifests are signed with it; the
public key is published at /audit/public-key.pem for outside auditors."""

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .chain import canonical_json


def _load_pem() -> bytes:
    pem: str = settings.ACCESSGATE_AUDIT_SIGNING_KEY
    if pem:
        # An environment variable often carries the PEM's newlines as literal "\\n".
        return pem.replace("\\n", "\n").encode()
    if settings.ACCESSGATE_AUDIT_SIGNING_KEY_FILE:
        key: bytes = settings.ACCESSGATE_AUDIT_SIGNING_KEY_FILE.read_bytes()
        return key
    if not settings.DEBUG:
        raise ImproperlyConfigured("Set ACCESSGATE_AUDIT_SIGNING_KEY (or _FILE) to sign audit exports.")
    # Development only: one generated key, kept outside the repository.
    path = settings.VAR_DIR / "audit_signing_key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generate_private_key_pem())
        path.chmod(0o600)
    return path.read_bytes()


def generate_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@lru_cache(maxsize=4)
def _private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("The audit signing key must be an Ed25519 private key (PEM, PKCS#8).")
    return key


def private_key() -> Ed25519PrivateKey:
    return _private_key(_load_pem())


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_pem() -> str:
    return (
        public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    )


def key_id() -> str:
    """A short, stable name for the key: sha256 of the raw public key, first 16 hex characters."""
    raw = public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(document: dict[str, Any]) -> str:
    """Base64 Ed25519 signature over the document's canonical JSON."""
    return base64.b64encode(private_key().sign(canonical_json(document))).decode()


def verify(document: dict[str, Any], signature: str, key: Ed25519PublicKey | None = None) -> bool:
    """Whether `signature` (base64) is the portal key's (or `key`'s) signature of `document`."""
    from cryptography.exceptions import InvalidSignature

    try:
        (key or public_key()).verify(base64.b64decode(signature, validate=True), canonical_json(document))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True

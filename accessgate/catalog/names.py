"""Model names and release versions, addressed like the Hugging Face Hub: `<namespace>/<name>`,
and the namespaces no model may take."""

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accessgate.core.storage.prefixes import portal_prefixes

# The first path segments the root URLconf routes itself. The Hugging Face client addresses a
# model at the site root (`/<namespace>/<name>/resolve/…`), so a namespace equal to one of
# them would be shadowed by the portal's own pages; a test walks the URLconf against this list.
TOP_LEVEL_ROUTES = (
    "models",
    "access",
    "review",
    "audit",
    "identity",
    "training",
    "accounts",
    "admin",
    "dl",
    "api",
    "static",
    "publish",
    "health",
    "favicon.ico",
)

NAME_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
NAME_PART_RE = re.compile(rf"^{NAME_PART}$")
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
REVISION_RE = re.compile(r"^[0-9a-f]{40}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def validate_name_part(value: str) -> None:
    if not NAME_PART_RE.match(value) or "--" in value or ".." in value:
        raise ValidationError(
            _(
                "Use letters, digits, '-', '_' and '.', starting and ending with a letter or digit, "
                "without '--' or '..' (at most 96 characters)."
            )
        )


def reserved_namespaces() -> frozenset[str]:
    """Lower-cased: the top-level routes, the static files' root and the first segment of each
    of the portal's own storage prefixes (a model's files live under `<namespace>/<name>/`)."""
    names = set(TOP_LEVEL_ROUTES)
    names.add(urlsplit(settings.STATIC_URL).path.strip("/").split("/", 1)[0])
    names.update(prefix.strip("/").split("/", 1)[0] for prefix in portal_prefixes())
    return frozenset(name.lower() for name in names if name)


def validate_namespace(value: str) -> None:
    """A name part that is none of the portal's reserved names (compared case-insensitively)."""
    validate_name_part(value)
    if value.lower() in reserved_namespaces():
        raise ValidationError(
            _("'%(namespace)s' is reserved by the portal (its pages or its storage); choose another namespace.")
            % {"namespace": value}
        )


def validate_version(value: str) -> None:
    if not VERSION_RE.match(value):
        raise ValidationError(_("A version uses letters, digits, '.', '_', '+' and '-' (e.g. 1.0 or 2025-06)."))
    if REVISION_RE.match(value):
        raise ValidationError(_("A version cannot be 40 hexadecimal characters; that form is kept for revision ids."))


def validate_file_path(value: str) -> None:
    parts = value.split("/")
    if not value or value.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in value:
        raise ValidationError(_("'%(path)s' is not a clean relative path inside the release.") % {"path": value})


def compute_revision(files: Iterable[tuple[str, str]]) -> str:
    """The immutable 40-hex id of a release: SHA-1 over its sorted `path NUL sha256 LF` lines."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path, sha256 in sorted(files):
        digest.update(f"{path}\0{sha256}\n".encode())
    return digest.hexdigest()

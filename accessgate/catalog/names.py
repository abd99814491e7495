"""Model names and release versions, addressed like the Hugging Face Hub: `<namespace>/<name>`."""

import hashlib
import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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

"""Model names, release versions and file paths, addressed like the Hugging Face Hub:
`<namespace>/<name>`, the namespaces no model may take, and the one grammar of a stored file
path (docs/paths.md).

Every pattern is anchored with `\\Z`, never `$`: `$` also matches before a trailing newline."""

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accessgate.core.errors import ValidationFailed
from accessgate.core.storage.prefixes import portal_prefixes
from accessgate.core.text import character_name

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

# ASCII only, as on the Hub (`[\w\-.]` in ASCII mode): no look-alike letters from other scripts.
NAME_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
NAME_PART_RE = re.compile(rf"^{NAME_PART}\Z")
NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\Z")
REVISION_RE = re.compile(r"^[0-9a-f]{40}\Z")
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")


def validate_name_part(value: str) -> None:
    """A namespace or model name: ASCII letters, digits, '-', '_' and '.', at most 96."""
    foreign = next((ch for ch in value if ch not in NAME_CHARACTERS), None)
    if foreign is not None:
        raise ValidationError(
            _("A name cannot hold %(character)s; use ASCII letters, digits, '-', '_' and '.'.")
            % {"character": character_name(foreign)}
        )
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


def compute_revision(files: Iterable[tuple[str, str]]) -> str:
    """The immutable 40-hex id of a release: SHA-1 over its sorted `path NUL sha256 LF` lines."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path, sha256 in sorted(files):
        digest.update(f"{path}\0{sha256}\n".encode())
    return digest.hexdigest()


# --- file paths ----------------------------------------------------------------------------

# A folder or file name fits every common filesystem (NAME_MAX); the whole path fits the
# 500-character column, and under the longest `<namespace>/<name>/<version>/` prefix (259
# bytes) the storage key stays within S3's 1,024-byte limit.
PATH_SEGMENT_MAX_BYTES = 255
PATH_MAX_BYTES = 500

# Unicode's names for the C0 controls and DEL (`unicodedata.name` has none for them).


def shown(text: str, limit: int = 80) -> str:
    """`text` quoted for a message, every character that is not printable written as its
    escape (`\\n`, `\\x1b`, `\\u202e`), cut to `limit` characters: a message never carries a
    line break, an escape sequence or a bidi control of its own."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return "'" + "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in cut) + "'"


def _not_allowed(ch: str) -> bool:
    # Not printable: every control (Cc) and format character (Cf, the bidi controls among
    # them), surrogates, private-use and unassigned code points, and every separator but the
    # ASCII space (line and paragraph separators, no-break and other spaces).
    return not ch.isprintable() or ch == "\\"


def _first_not_composed(text: str) -> str:
    """The character a reader should look at in a text that is not NFC: the first one that
    NFC replaces by another (U+212B ANGSTROM SIGN), else the first combining mark."""
    changed = next((ch for ch in text if unicodedata.normalize("NFC", ch) != ch), None)
    return changed or next((ch for ch in text if unicodedata.combining(ch)), text[0])


def file_path_problem(path: str) -> str | None:
    """Why `path` is not a file path a release may store, said for a person; None when it is.

    A path is relative, its segments separated by '/'; it is printable and in Unicode NFC;
    no segment is empty, '.' or '..', nor begins or ends with a space; a segment is at most
    `PATH_SEGMENT_MAX_BYTES` and the path `PATH_MAX_BYTES` in UTF-8."""
    if not isinstance(path, str) or not path:
        return _("A file path cannot be empty.")
    bad = next((ch for ch in path if _not_allowed(ch)), None)
    if bad == "\\":
        return _("The file path %(path)s holds a backslash; separate folders with '/'.") % {"path": shown(path)}
    if bad is not None:
        return _("The file path %(path)s holds %(character)s, which a file path cannot hold.") % {
            "path": shown(path),
            "character": character_name(bad),
        }
    if not unicodedata.is_normalized("NFC", path):
        return _(
            "The file path %(path)s is not in Unicode normal form NFC (see %(character)s); rename the file "
            "to its NFC form and send it again."
        ) % {"path": shown(path), "character": character_name(_first_not_composed(path))}
    if path.startswith("/"):
        return _("The file path %(path)s starts with '/'; paths are relative to the release.") % {"path": shown(path)}
    if len(path.encode()) > PATH_MAX_BYTES:
        return _("The file path %(path)s is longer than %(limit)s bytes in UTF-8.") % {
            "path": shown(path),
            "limit": PATH_MAX_BYTES,
        }
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            return _("The file path %(path)s has an empty, '.' or '..' segment; name each folder once.") % {
                "path": shown(path)
            }
        if segment != segment.strip(" "):
            return _("In the file path %(path)s a name begins or ends with a space.") % {"path": shown(path)}
        if len(segment.encode()) > PATH_SEGMENT_MAX_BYTES:
            return _("In the file path %(path)s a name is longer than %(limit)s bytes in UTF-8.") % {
                "path": shown(path),
                "limit": PATH_SEGMENT_MAX_BYTES,
            }
    return None


def validate_file_path(value: str) -> None:
    """The model field's validator: `file_path_problem` as a `ValidationError`."""
    problem = file_path_problem(value)
    if problem is not None:
        raise ValidationError(problem)


def require_file_path(path: str, *, field: str) -> None:
    """What every service that stores a file path calls: `ValidationFailed` naming `field`."""
    problem = file_path_problem(path)
    if problem is not None:
        raise ValidationFailed(problem, field=field)

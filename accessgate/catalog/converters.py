"""Path converters for model addresses (`<part:namespace>/<part:name>/<ref:ref>`).

Registered once, explicitly, by the root URLconf (`accessgate/urls.py`) before it includes
any app's URLs.
"""

from django.urls import register_converter


class NamePartConverter:
    """A namespace or model name: letters, digits, '.', '_', '-', not starting or ending with punctuation."""

    regex = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class ReleaseRefConverter(NamePartConverter):
    """A release version (letters, digits, '.', '_', '+', '-') or its 40-hex revision."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._+-]*"


_registered = False


def register_converters() -> None:
    """Idempotent: Django warns when a converter name is registered twice."""
    global _registered
    if not _registered:
        register_converter(NamePartConverter, "part")
        register_converter(ReleaseRefConverter, "ref")
        _registered = True

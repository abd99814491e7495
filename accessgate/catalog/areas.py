"""Areas of the store, as key prefixes: each model's own `<namespace>/<name>/`, the portal's
own areas (`core.storage.prefixes`), and the rest. Stores name keys literally, so a prefix is
normalised before it is compared, and any spelling that could hide where it points is refused.
"""

import re

from django.conf import settings
from django.utils.translation import gettext as _

from accessgate.core.errors import ValidationFailed
from accessgate.core.storage.prefixes import portal_prefixes, prefixes_overlap

from .models import Model, WeightFile

PERCENT_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")


def model_prefix(model: Model) -> str:
    """Where a model's uploaded and copied files live (an indexed release's files stay where they were)."""
    return f"{model.namespace}/{model.name}/"


def normalise_key_prefix(text: str, *, field: str) -> str:
    """`a//b/./c` → `a/b/c/`; the bucket root is ''. Refuses `..` segments, percent-encoding,
    backslashes and control characters, naming `field`."""
    if PERCENT_ENCODED.search(text):
        raise ValidationFailed(
            _("Write the prefix as it is stored, without percent-encoding (%(text)s).") % {"text": text}, field=field
        )
    if "\\" in text or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValidationFailed(_("A prefix cannot hold backslashes or control characters."), field=field)
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValidationFailed(_("A prefix cannot hold '..'; name the folder itself."), field=field)
    return "/".join(parts) + "/" if parts else ""


def split_s3_address(address: str, *, field: str) -> str:
    """The normalised key prefix of `s3://<the configured bucket>/<prefix>`."""
    bucket, _slash, key = address.removeprefix("s3://").partition("/")
    configured = settings.ACCESSGATE_S3["bucket"]
    if bucket != configured:
        raise ValidationFailed(
            _(
                "The source bucket %(bucket)s is not the configured bucket %(configured)s; "
                "copy the files there first or import from a local directory."
            )
            % {"bucket": repr(bucket), "configured": repr(configured)},
            field=field,
        )
    return normalise_key_prefix(key, field=field)


def foreign_area(prefix: str, *, model: Model | None = None) -> str | None:
    """What the (normalised) prefix reaches besides `model`'s own files, said for a person:
    the whole bucket, one of the portal's areas, another model's area or another model's
    indexed files; None when it reaches none of them."""
    if not prefix:
        return _("the whole bucket")
    for area, what in portal_prefixes().items():
        if prefixes_overlap(prefix, area):
            return _("the portal's %(what)s (%(area)s)") % {"what": what, "area": area or "/"}
    namespace, _slash, rest = prefix.partition("/")
    name = rest.split("/", 1)[0]
    others = Model.objects.filter(namespace__iexact=namespace)
    if name:
        others = others.filter(name__iexact=name)
    if model is not None:
        others = others.exclude(pk=model.pk)
    other = others.order_by("namespace", "name").first()
    if other is not None:
        return _("the model %(full_name)s") % {"full_name": other.full_name}
    # Releases indexed in place keep their keys wherever they were.
    files = WeightFile.objects.filter(storage_key__startswith=prefix)
    if model is not None:
        files = files.exclude(release__model=model)
    found = files.select_related("release__model").first()
    if found is not None:
        return _("the files of %(full_name)s") % {"full_name": found.release.model.full_name}
    return None


def import_prefix_clean(text: str) -> str:
    """An import prefix an admin may open to a publisher: normalised, and reaching neither the
    whole bucket, the portal's areas nor any model's area or files."""
    text = text.strip()
    prefix = (
        split_s3_address(text, field="prefix")
        if text.startswith("s3://")
        else normalise_key_prefix(text, field="prefix")
    )
    reached = foreign_area(prefix)
    if reached is not None:
        raise ValidationFailed(
            _("The prefix %(prefix)s would reach %(area)s.") % {"prefix": prefix or "/", "area": reached},
            field="prefix",
        )
    return prefix

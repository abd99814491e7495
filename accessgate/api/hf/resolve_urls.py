"""`/<namespace>/<name>/resolve/<rev>/<path>` for `hf_hub_download`, mounted at the site root,
last. A namespace that is one of the portal's own top-level routes never matches here."""

import re

from django.urls import re_path

from accessgate.catalog.converters import NamePartConverter
from accessgate.catalog.names import TOP_LEVEL_ROUTES

from . import views

PART = NamePartConverter.regex
NAMESPACE = rf"(?!(?:{'|'.join(map(re.escape, TOP_LEVEL_ROUTES))})/){PART}"

app_name = "hf_resolve"

urlpatterns = [
    re_path(
        rf"^(?P<namespace>{NAMESPACE})/(?P<name>{PART})/resolve/(?P<revision>[^/]+)/(?P<path>.+)$",
        views.resolve,
        name="resolve",
    ),
]

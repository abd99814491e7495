"""`/<namespace>/<name>/resolve/<rev>/<path>` for `hf_hub_download`, mounted at the site root,
last. A namespace that is one of the portal's own top-level routes never matches here."""

from django.urls import re_path

from accessgate.catalog.converters import NamePartConverter

from . import views

# The portal's own top-level routes: never a Hugging Face namespace at the root.
RESERVED = (
    "models",
    "access",
    "review",
    "audit",
    "identity",
    "accounts",
    "admin",
    "dl",
    "api",
    "static",
    "publish",
    "health",
)
PART = NamePartConverter.regex
NAMESPACE = rf"(?!(?:{'|'.join(RESERVED)})/){PART}"

app_name = "hf_resolve"

urlpatterns = [
    re_path(
        rf"^(?P<namespace>{NAMESPACE})/(?P<name>{PART})/resolve/(?P<revision>[^/]+)/(?P<path>.+)$",
        views.resolve,
        name="resolve",
    ),
]

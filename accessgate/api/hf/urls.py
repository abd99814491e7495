"""Mounted at `api/models/` (before anything else) by `accessgate/urls.py`; `resolve_urlpatterns`
are mounted at the site root, last, with namespaces that cannot be a top-level route."""

from django.urls import path, re_path, register_converter

from accessgate.catalog.urls import NamePartConverter

from . import access_requests, views

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


class HubNamespaceConverter(NamePartConverter):
    regex = rf"(?!(?:{'|'.join(RESERVED)})(?![A-Za-z0-9._-])){NamePartConverter.regex}"


register_converter(HubNamespaceConverter, "hubns")

app_name = "hf"

urlpatterns = [
    path("<part:namespace>/<part:name>", views.model_info, name="model_info"),
    path("<part:namespace>/<part:name>/revision/<path:revision>", views.model_info, name="model_info_revision"),
    path("<part:namespace>/<part:name>/tree/<str:revision>", views.tree, name="tree"),
    path("<part:namespace>/<part:name>/tree/<str:revision>/<path:path>", views.tree, name="tree_path"),
    re_path(
        r"^(?P<namespace>[^/]+)/(?P<name>[^/]+)/user-access-request/(?P<status>pending|accepted|rejected)$",
        access_requests.request_list,
        name="access_requests",
    ),
    path("<part:namespace>/<part:name>/user-access-request/handle", access_requests.handle, name="access_handle"),
    path("<part:namespace>/<part:name>/user-access-request/grant", access_requests.grant, name="access_grant"),
]

resolve_urlpatterns = [
    path("<hubns:namespace>/<part:name>/resolve/<str:revision>/<path:path>", views.resolve, name="resolve"),
]

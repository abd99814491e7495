"""Mounted at `api/models/` (before anything else) by `accessgate/urls.py`. The `resolve` route
lives in `resolve_urls.py`, mounted at the site root, last."""

from django.urls import path, re_path

from . import access_requests, views

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

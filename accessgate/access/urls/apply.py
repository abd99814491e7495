"""The application form, addressed under its model (`/models/<namespace>/<name>/apply/`)."""

from django.urls import path

from ..views import researcher

app_name = "apply"

urlpatterns = [
    path("<part:namespace>/<part:name>/apply/", researcher.apply, name="form"),
    path("collections/<part:namespace>/<part:name>/apply/", researcher.apply_collection, name="collection"),
]

from django.urls import path, register_converter

from accessgate.access.views import researcher

from . import views


class NamePartConverter:
    regex = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class ReleaseRefConverter(NamePartConverter):
    """A release version (letters, digits, '.', '_', '+', '-') or its 40-hex revision."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._+-]*"


register_converter(NamePartConverter, "part")
register_converter(ReleaseRefConverter, "ref")

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_list, name="list"),
    path("<part:namespace>/<part:name>/", views.model_detail, name="model_detail"),
    path("<part:namespace>/<part:name>/apply/", researcher.apply, name="apply"),
]

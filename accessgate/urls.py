from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accessgate import health
from accessgate.catalog.converters import register_converters

# The one place path converters are registered: before any include() imports an app's URLs.
register_converters()


def favicon(request):
    # Resolved per request: the static manifest of a production build exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    # The Hugging Face protocol's API first: nothing else may answer /api/models/….
    path("api/models/", include("accessgate.api.hf.urls")),
    path("", RedirectView.as_view(pattern_name="catalog:list", permanent=False), name="home"),
    # Pages link the SVG icon; this answers clients that ask for the old name anyway.
    path("favicon.ico", favicon, name="favicon"),
    path("", include("accessgate.downloads.urls")),
    path("models/", include("accessgate.access.urls.apply")),
    path("models/", include("accessgate.catalog.urls")),
    path("access/", include("accessgate.access.urls")),
    path("review/", include("accessgate.access.urls.review")),
    path("publish/", include("accessgate.publishing.urls")),
    path("audit/", include("accessgate.audit.urls")),
    path("identity/", include("accessgate.identity.urls")),
    path("training/", include("accessgate.training.urls")),
    path("accounts/", include("accessgate.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("health/live", health.live, name="health_live"),
    path("health/ready", health.ready, name="health_ready"),
    path("api/", include("accessgate.api.urls")),
    # Last: /<namespace>/<name>/resolve/<rev>/<path> for hf_hub_download (reserved names excluded).
    path("", include("accessgate.api.hf.resolve_urls")),
]

handler500 = "accessgate.http_guards.server_error"

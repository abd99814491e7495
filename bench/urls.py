from django.http import HttpResponseRedirect
from django.urls import include, path


def bare_redirect(request):
    """The baseline: a 302 with no authentication, checks, signing or audit."""
    return HttpResponseRedirect("http://127.0.0.1:9/bucket/key?X-Amz-Signature=0")


urlpatterns = [
    path("bench/bare", bare_redirect),
    path("", include("accessgate.urls")),
]

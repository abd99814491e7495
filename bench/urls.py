from django.db import connection
from django.http import HttpResponseRedirect
from django.urls import include, path

TARGET = "http://127.0.0.1:9/bucket/key?X-Amz-Signature=0"

# The same shape as an audit row; bench/run.py creates the table.
AUDITED_INSERT = (
    "INSERT INTO bench_audited (created_at, actor_label, action, target_id, ip, user_agent, details) "
    "VALUES (now(), %s, 'download.url_issued', %s, %s, %s, %s)"
)


def bare_redirect(request):
    """Anchor 1: a 302 with no authentication, checks, signing or audit."""
    return HttpResponseRedirect(TARGET)


def audited_bare_redirect(request):
    """Anchor 2 ("audited bare"): insert one row durably in its own transaction, then 302.

    Django runs in autocommit here, so the INSERT is its own transaction and returns only
    after PostgreSQL's commit reached the WAL (synchronous_commit=on). Nothing resolve does
    can be cheaper than this: it is the real limit of an audited redirect.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            AUDITED_INSERT,
            ["bench@example.org", "1", request.META.get("REMOTE_ADDR"), request.META.get("HTTP_USER_AGENT", ""), "{}"],
        )
    return HttpResponseRedirect(TARGET)


urlpatterns = [
    path("bench/bare", bare_redirect),
    path("bench/audited", audited_bare_redirect),
    path("", include("accessgate.urls")),
]

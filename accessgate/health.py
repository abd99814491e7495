"""`/health/live` and `/health/ready` for load balancers and orchestrators.

Public (no log-in), uncached, cheap: one `SELECT 1`, one cache round trip, one storage
probe and one broker connection, each with a short timeout. `ready` answers 503 with the
failing check named when any backing service is down, so a balancer stops sending traffic.
"""

import logging
import time
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

TIMEOUT = 2  # seconds, per check
logger = logging.getLogger("accessgate.health")


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache():
    key = "accessgate:health"
    cache.set(key, "ok", timeout=30)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was written")


@lru_cache(maxsize=2)
def _s3_client(endpoint_url, region, access_key_id, secret_access_key, addressing_style):
    import boto3
    from botocore.config import Config

    return boto3.session.Session(
        aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None, region_name=region
    ).client(
        "s3",
        endpoint_url=endpoint_url or None,
        config=Config(
            s3={"addressing_style": addressing_style},
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=TIMEOUT,
            read_timeout=TIMEOUT,
        ),
    )


def _storage():
    if settings.ACCESSGATE_STORAGE_BACKEND == "s3":
        s3 = settings.ACCESSGATE_S3
        client = _s3_client(
            s3["endpoint_url"], s3["region"], s3["access_key_id"], s3["secret_access_key"], s3["addressing_style"]
        )
        client.head_bucket(Bucket=s3["bucket"])
        return
    # The directory imports write to (created on first use, as LocalStorage does).
    settings.ACCESSGATE_LOCAL_STORAGE_ROOT.mkdir(parents=True, exist_ok=True)


def _broker():
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL:
        return "eager"  # no broker: tasks run in-process
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT)
    return None


CHECKS = {"database": _database, "cache": _cache, "storage": _storage, "broker": _broker}


@never_cache
@require_http_methods(["GET", "HEAD"])
def live(request):
    """The process answers HTTP. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_http_methods(["GET", "HEAD"])
def ready(request):
    results, ready = {}, True
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            note = check()
        except Exception as error:  # noqa: BLE001 (any failure means not ready; named, not raised)
            ready = False
            # The type only: this page is public, and messages can name internal hosts.
            logger.warning("health check %s failed: %s", name, error)
            results[name] = {"status": "error", "error": type(error).__name__}
        else:
            results[name] = {"status": note or "ok"}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)

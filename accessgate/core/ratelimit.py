"""A fixed-window rate limit on the shared cache (Redis in production, via CACHE_URL)."""

import time

from django.core.cache import cache

from accessgate.core.errors import QuotaExceeded

_clock = time.time  # tests pin it


def parse(spec: str) -> tuple[int, int]:
    count, seconds = (int(part) for part in spec.split("/"))
    return count, seconds


def check_rate(key: str, spec: str, message: str) -> None:
    """Count one use of `key`; raise QuotaExceeded (429) with `message` past `count/seconds`."""
    count, seconds = parse(spec)
    window_key = f"accessgate:rate:{key}:{int(_clock() // seconds)}"
    cache.add(window_key, 0, timeout=seconds + 1)
    try:
        used = cache.incr(window_key)
    except ValueError:  # evicted between add and incr
        cache.set(window_key, 1, timeout=seconds + 1)
        used = 1
    if used > count:
        raise QuotaExceeded(message)

"""A fixed-window rate limit on the shared cache (Redis in production, via CACHE_URL)."""

import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from accessgate.core.errors import QuotaExceeded

_clock = time.time  # tests pin it


def parse(spec: str) -> tuple[int, int]:
    count, seconds = (int(part) for part in spec.split("/"))
    return count, seconds


def check_rate(key: str, spec: str, message: str) -> None:
    """Count one use of `key`; raise QuotaExceeded (429) with `message` past `count/seconds`."""
    count, seconds = parse(spec)
    window_key = _window_key(key, seconds)
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        used = _redis_count(backend, window_key, seconds + 1)
    else:
        cache.add(window_key, 0, timeout=seconds + 1)
        try:
            used = cache.incr(window_key)
        except ValueError:  # evicted between add and incr
            cache.set(window_key, 1, timeout=seconds + 1)
            used = 1
    if used > count:
        raise QuotaExceeded(message)


def uncount(key: str, spec: str) -> None:
    """Take back one use `check_rate` counted in this window: the caller handed the request on
    to a path that counts it itself (the resolve fast path, deferring)."""
    _, seconds = parse(spec)
    try:
        cache.decr(_window_key(key, seconds))
    except ValueError:  # the window has just ended (or the key was evicted): nothing to take back
        pass


def _window_key(key: str, seconds: int) -> str:
    return f"accessgate:rate:{key}:{int(_clock() // seconds)}"


def _redis_count(backend: RedisCache, window_key: str, timeout: int) -> int:
    """INCR and EXPIRE in one round trip (a pipeline), where Django's `add` and `incr` take
    three (SET NX, EXISTS, INCR) on every download. INCR creates the key at 1; EXPIRE is
    renewed with each use, and the window's number in the key starts a new count anyway.
    The value is a plain integer, as Django's Redis cache stores ints, so `cache.get` reads it."""
    key = backend.make_and_validate_key(window_key)
    pipe = backend._cache.get_client(key, write=True).pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, timeout)
    count: int = pipe.execute()[0]
    return count

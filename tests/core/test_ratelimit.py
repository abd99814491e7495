"""The fixed-window rate limit: the same counts on Redis (one round trip) and elsewhere."""

import pytest
import redis
from django.core.cache import caches

from accessgate.core import ratelimit
from accessgate.core.errors import QuotaExceeded


def _use_redis(settings, url):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    caches["default"].clear()


@pytest.fixture(params=["locmem", "redis"])
def backend(request, settings):
    if request.param == "redis":
        _use_redis(settings, request.getfixturevalue("redis_url"))
    return request.param


def test_the_limit_holds_per_window_and_key(backend, monkeypatch):
    monkeypatch.setattr(ratelimit, "_clock", lambda: 1_800_000_000.0)
    for _ in range(3):
        ratelimit.check_rate("download:1", "3/60", "slow down")
    with pytest.raises(QuotaExceeded, match="slow down"):
        ratelimit.check_rate("download:1", "3/60", "slow down")
    ratelimit.check_rate("download:2", "3/60", "slow down")  # another key counts apart
    monkeypatch.setattr(ratelimit, "_clock", lambda: 1_800_000_060.0)
    ratelimit.check_rate("download:1", "3/60", "slow down")  # a new window starts again


def test_on_redis_one_round_trip_and_an_expiry(redis_url, settings, monkeypatch):
    _use_redis(settings, redis_url)
    monkeypatch.setattr(ratelimit, "_clock", lambda: 1_800_000_000.0)
    sent = []
    original = redis.client.Pipeline.execute

    def spy(self, *args, **kwargs):
        sent.append([command[0][0] for command in self.command_stack])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", spy)
    ratelimit.check_rate("download:7", "5/60", "slow down")
    assert sent == [["INCRBY", "EXPIRE"]]
    cache = caches["default"]
    key = f"accessgate:rate:download:7:{1_800_000_000 // 60}"
    assert cache.get(key) == 1  # Django's cache reads the counter
    client = cache._cache.get_client(cache.make_and_validate_key(key))
    assert 0 < client.ttl(cache.make_and_validate_key(key)) <= 61

"""Shared test helpers (plain functions and values, not fixtures)."""

from contextlib import contextmanager

from accessgate import celery_app


@contextmanager
def broker(url):
    """Point Celery at a real broker, not eager mode, for the duration of a test."""
    previous = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    _reset_pools()
    try:
        yield
    finally:
        celery_app.conf.update(previous)
        _reset_pools()


def _reset_pools():
    # Celery caches its connection and producer pools per broker URL.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None

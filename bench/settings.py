"""Benchmark settings: the product's settings plus a bare baseline view (bench/urls.py)."""

from accessgate.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

"""Production settings: `check --deploy` is clean, and the embedded defaults cannot leak into it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.support.services import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "ACCESSGATE_DEBUG": "false",
    "ACCESSGATE_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-0123456789",
    "ACCESSGATE_ALLOWED_HOSTS": "weights.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "ACCESSGATE_IDENTITY_PROVIDER": "stripe",
    "ACCESSGATE_STRIPE_SECRET_KEY": "sk_live_placeholder_for_the_check",
    "ACCESSGATE_STRIPE_WEBHOOK_SECRET": "whsec_placeholder_for_the_check",
}


def manage(*args, env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACCESSGATE_", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production(audit_signing_key_pem):
    env = {**PRODUCTION_ENV, "ACCESSGATE_AUDIT_SIGNING_KEY": audit_signing_key_pem.replace("\n", "\\n")}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_audit_signing_key_is_refused():
    result = manage("check", "--deploy", env=PRODUCTION_ENV)
    assert result.returncode != 0
    assert "accessgate.E010" in result.stderr


def test_an_empty_environment_is_production_and_needs_a_secret_key():
    # Nothing set but PATH: DEBUG is off, so the portal refuses to start without its key.
    bare = {"PATH": os.environ["PATH"]}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=bare, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "ACCESSGATE_SECRET_KEY must be set when ACCESSGATE_DEBUG is off." in result.stderr
    code = "from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={**bare, "ACCESSGATE_SECRET_KEY": PRODUCTION_ENV["ACCESSGATE_SECRET_KEY"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def test_the_test_run_imports_the_development_settings(settings):
    # pyproject.toml sets ACCESSGATE_DEBUG=1 for the run: plain-HTTP test requests, no
    # required key; pytest-django still serves each test with DEBUG False.
    assert os.environ["ACCESSGATE_DEBUG"] == "1"
    assert not settings.SECURE_SSL_REDIRECT and not settings.SESSION_COOKIE_SECURE
    assert settings.DEBUG is False


def test_production_without_secret_key_refuses_to_start():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ACCESSGATE_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ACCESSGATE_SECRET_KEY must be set" in result.stderr


def test_ci_runs_on_postgresql(db):
    """With ACCESSGATE_REQUIRE_SERVICES=1 (CI) the suite must not quietly fall back to SQLite."""
    if not REQUIRE_SERVICES:
        pytest.skip("only enforced when ACCESSGATE_REQUIRE_SERVICES=1")
    assert connection.vendor == "postgresql"

"""Production settings: `check --deploy` is clean, and the embedded defaults cannot leak into it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler, OperationalError

from .conftest import REQUIRE_SERVICES

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


def _sqlite_options(tmp_path) -> dict:
    """The OPTIONS the embedded (SQLite) setup really gets, read from a fresh process."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}"}
    code = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sqlite_writers_queue_instead_of_deadlocking(tmp_path, django_db_blocker):
    """`snapshot_download` resolves files in parallel; on SQLite two transactions that read and
    then write (a download issuance) must not lock each other out ("database is locked" 500s).
    With BEGIN IMMEDIATE the second writer waits at its start (here: fails at once, timeout 0)
    and the first always finishes."""
    options = {**_sqlite_options(tmp_path), "timeout": 0}
    path = tmp_path / "race.sqlite3"
    handler = ConnectionHandler(
        {
            alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": options}
            for alias in ("default", "second")
        }
    )
    first, second = handler["default"], handler["second"]
    with django_db_blocker.unblock():
        _race(first, second)
    handler.close_all()


def _race(first, second) -> None:
    """`first` reads then writes; `second` starts, reads and writes in between."""
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n integer)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    second.ensure_connection()
    first._start_transaction_under_autocommit()  # what `transaction.atomic` runs first
    first.cursor().execute("SELECT n FROM counter").fetchall()
    try:
        second._start_transaction_under_autocommit()
        second.cursor().execute("SELECT n FROM counter").fetchall()
        second.cursor().execute("UPDATE counter SET n = n + 1")
    except OperationalError:
        pass  # the second writer is told to wait before it did anything
    first.cursor().execute("UPDATE counter SET n = n + 1")  # before the fix: "database is locked"
    first.cursor().execute("COMMIT")

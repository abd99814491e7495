"""The production shape, end to end: `scripts/run-production.sh` (gunicorn + Celery worker +
beat, PostgreSQL, Redis, DEBUG off) on a free port, then real HTTP clients apply, approve
and download through it, and it stops cleanly. Needs PostgreSQL and Redis (CI has both)."""

import hashlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.support.services import need_service

from .support.http_client import Browser

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[1]
MODEL = "/models/demo-lab/frontier-demo-7b"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production(tmp_path, redis_url):
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    need_service(url.startswith("postgres"), "PostgreSQL (set DATABASE_URL=postgres://…)")
    parts = urlsplit(url)
    database = parts.path.lstrip("/") + "_smoke"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    key = tmp_path / "audit.pem"
    from accessgate.audit.signing import generate_private_key_pem

    key.write_bytes(generate_private_key_pem())
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ACCESSGATE_", "PYTEST", "DJANGO_"))},
        "DATABASE_URL": urlunsplit(parts._replace(path="/" + database)),
        "CACHE_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "ACCESSGATE_SECRET_KEY": secrets.token_urlsafe(50),
        "ACCESSGATE_ALLOWED_HOSTS": "127.0.0.1",
        "ACCESSGATE_SITE_URL": f"https://127.0.0.1:{port}",
        "ACCESSGATE_AUDIT_SIGNING_KEY_FILE": str(key),
        "ACCESSGATE_VAR_DIR": str(tmp_path / "var"),
        "ACCESSGATE_LOCAL_STORAGE_ROOT": str(tmp_path / "weights"),
        "ACCESSGATE_SILENCED_CHECKS": "accessgate.W020",  # the smoke lab verifies no identities
        "ACCESSGATE_BIND": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        "PYTHON": sys.executable,
    }
    log = tmp_path / "production.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "run-production.sh")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if requests.get(base + "/health/ready", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        yield {"base": base, "env": env, "log": log, "process": process, "db": env["DATABASE_URL"]}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_apply_approve_download_through_the_production_shape(production):
    import psycopg

    seeded = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--force"],  # demo accounts on purpose, DEBUG off
        cwd=ROOT,
        env=production["env"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    passwords = dict(re.findall(r"^\s+(\S+@demo\.accessgate\.test)\s+(demo-\S+)$", seeded.stdout, re.M))
    with psycopg.connect(production["db"]) as conn:
        totp_secret = conn.execute(
            "SELECT a.data->>'secret' FROM mfa_authenticator a JOIN accounts_user u ON u.id = a.user_id "
            "WHERE u.email = 'reviewer@demo.accessgate.test' AND a.type = 'totp'"
        ).fetchone()[0]

    base = production["base"]
    assert requests.get(base + "/health/live", timeout=5).json() == {"status": "ok"}
    researcher = Browser(base)
    researcher.log_in("researcher@demo.accessgate.test", passwords["researcher@demo.accessgate.test"])
    form = researcher.get(f"{MODEL}/apply/")
    assert form.status_code == 200
    assert "unsafe-inline" not in form.headers["Content-Security-Policy"]
    statements = {name: "on" for name in re.findall(r'name="(statement_\d+)"', form.text)}
    applied = researcher.post(
        f"{MODEL}/apply/",
        {
            "intended_use": "Evaluating refusal robustness for a university safety study.",
            "typed_name": "Rosalind Franklin",
            **statements,
        },
    )
    assert applied.status_code == 302, applied.text[:1000]
    request_pk = re.search(r"/access/requests/(\d+)/", applied.headers["Location"]).group(1)

    reviewer = Browser(base)
    reviewer.log_in("reviewer@demo.accessgate.test", passwords["reviewer@demo.accessgate.test"], totp_secret)
    approved = reviewer.post(
        f"/review/requests/{request_pk}/approve/", {"message": "Welcome."}, form_page=f"/review/requests/{request_pk}/"
    )
    assert approved.status_code == 302, approved.text[:1000]

    sums = researcher.get(f"{MODEL}/1.0/SHA256SUMS")
    assert sums.status_code == 200
    expected = dict(line.split("  ", 1)[::-1] for line in sums.text.splitlines())
    path, sha256 = next(iter(expected.items()))
    issued = researcher.get(f"{MODEL}/1.0/files/{path}")
    assert issued.status_code == 302
    assert issued.headers["Referrer-Policy"] == "same-origin"
    signed = urlsplit(issued.headers["Location"])
    token = signed.path.split("/")[2]
    downloaded = researcher.get(signed.path)
    assert downloaded.status_code == 200
    assert hashlib.sha256(downloaded.content).hexdigest() == sha256

    # The worker delivered the approval e-mail from the outbox.
    deadline = time.monotonic() + 60
    with psycopg.connect(production["db"], autocommit=True) as conn:
        while True:
            sent = conn.execute("SELECT count(*) FROM notifications_email WHERE status = 'sent'").fetchone()[0]
            if sent:
                break
            assert time.monotonic() < deadline, production["log"].read_text()[-3000:]
            time.sleep(0.5)

    os.killpg(production["process"].pid, signal.SIGTERM)
    assert production["process"].wait(timeout=60) is not None
    log = production["log"].read_text()
    assert "/dl/[redacted]/" in log
    assert token not in log

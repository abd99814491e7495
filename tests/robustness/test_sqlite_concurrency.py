"""The embedded SQLite demo under concurrent writes: 30 parallel downloads and 10 parallel
approvals of one request give no 500 (WAL, a busy timeout, IMMEDIATE transactions).
A real `runserver` (threaded, as `make demo` runs it) on a SQLite file."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from ..support.http_client import Browser

ROOT = Path(__file__).resolve().parents[2]
MODEL = "/models/demo-lab/frontier-demo-7b"
OPEN_FILE = "/models/demo-lab/tiny-demo-1b/1.0/files/"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo(tmp_path):
    port = _free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ACCESSGATE_", "PYTEST", "DJANGO_", "DATABASE_URL"))
        },
        "ACCESSGATE_DEBUG": "1",  # as `make demo` runs it
        "ACCESSGATE_VAR_DIR": str(tmp_path),
        "ACCESSGATE_SITE_URL": f"http://127.0.0.1:{port}",
        "ACCESSGATE_DOWNLOAD_RATE_LIMIT": "1000/60",
    }
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 300}
    assert subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run).returncode == 0
    seeded = subprocess.run([sys.executable, "manage.py", "seed_demo"], **run)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/health/live", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.3)
        yield {
            "base": base,
            "stdout": seeded.stdout,
            "db": tmp_path / "accessgate.sqlite3",
            "log": tmp_path / "server.log",
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_parallel_downloads_and_approvals_give_no_500(demo):
    base, out = demo["base"], demo["stdout"]
    token = re.search(r"Bearer (agt_\S+)\"", out).group(1)
    passwords = dict(re.findall(r"^\s+(\S+@demo\.accessgate\.test)\s+(demo-\S+)$", out, re.M))
    with sqlite3.connect(demo["db"]) as conn:
        pass
        files = [
            row[0]
            for row in conn.execute(
                "SELECT f.path FROM catalog_weightfile f JOIN catalog_release r ON r.id = f.release_id "
                "JOIN catalog_model m ON m.id = r.model_id WHERE m.name = 'tiny-demo-1b'"
            )
        ]
        totp_secret = conn.execute(
            "SELECT json_extract(a.data, '$.secret') FROM mfa_authenticator a JOIN accounts_user u "
            "ON u.id = a.user_id WHERE u.email = 'reviewer@demo.accessgate.test'"
        ).fetchone()[0]

    def download(i):
        response = requests.get(
            base + OPEN_FILE + files[i % len(files)],
            headers={"Authorization": f"Bearer {token}"},
            allow_redirects=False,
            timeout=60,
        )
        return response.status_code

    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(download, range(30)))
    assert 500 not in statuses and statuses.count(302) + statuses.count(429) == 30, statuses
    assert statuses.count(302) >= 1

    researcher = Browser(base, behind_tls_proxy=False)
    researcher.log_in("researcher@demo.accessgate.test", passwords["researcher@demo.accessgate.test"])
    form = researcher.get(f"{MODEL}/apply/")
    statements = {name: "on" for name in re.findall(r'name="(statement_\d+)"', form.text)}
    applied = researcher.post(
        f"{MODEL}/apply/",
        {
            "intended_use": "Evaluating refusal robustness for a university safety study.",
            "typed_name": "Rosalind Franklin",
            **statements,
        },
    )
    assert applied.status_code == 302, applied.text[:500]
    pk = re.search(r"/access/requests/(\d+)/", applied.headers["Location"]).group(1)

    reviewer = Browser(base, behind_tls_proxy=False)
    reviewer.log_in("reviewer@demo.accessgate.test", passwords["reviewer@demo.accessgate.test"], totp_secret)
    page = reviewer.get(f"/review/requests/{pk}/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def approve(_):
        return reviewer._send(
            "POST",
            f"/review/requests/{pk}/approve/",
            data={"csrfmiddlewaretoken": csrf, "message": ""},
            headers={"Origin": reviewer.origin},
        ).status_code

    with ThreadPoolExecutor(10) as pool:
        decisions = list(pool.map(approve, range(10)))
    assert sorted(decisions) == [302] + [409] * 9, decisions
    with sqlite3.connect(demo["db"]) as conn:
        grants = conn.execute("SELECT count(*) FROM access_grant WHERE request_id = ?", (pk,)).fetchone()[0]
    assert grants == 1
    assert "database is locked" not in demo["log"].read_text()

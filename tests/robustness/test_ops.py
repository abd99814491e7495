"""Log-in throttling, health endpoints, request ids, security headers and log redaction."""

import json
import logging

import pytest
from django.urls import reverse

from accessgate.logs import JsonFormatter, RedactTokensFilter

from .. import factories

pytestmark = pytest.mark.django_db


def wrong_login(client, email, **headers):
    return client.post(reverse("account_login"), {"login": email, "password": "wrong password!"}, **headers)


class TestLoginThrottle:
    """ACCOUNT_RATE_LIMITS["login_failed"] = "10/m/ip,5/5m/key": five failures per account
    (its e-mail, any case) in five minutes, ten per client IP per minute; then 429."""

    @pytest.mark.parametrize("n", range(3))
    def test_every_account_is_throttled_after_five_failures(self, client, n):
        user = factories.UserFactory()
        statuses = [wrong_login(client, user.email.upper() if i % 2 else user.email).status_code for i in range(7)]
        assert statuses == [200] * 5 + [429, 429]

    def test_throttled_answer_says_so_and_refuses_the_right_password(self, client):
        user = factories.UserFactory()
        for _ in range(5):
            wrong_login(client, user.email)
        response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
        assert response.status_code == 429 and response["Retry-After"] == "300"
        assert b"Too many failed login attempts" in response.content
        assert "_auth_user_id" not in client.session

    def test_ip_limit_ignores_x_forwarded_for_without_trusted_proxies(self, client):
        statuses = []
        for i in range(12):
            user_email = f"nobody{i}@example.org"  # a new account each time: only the IP limit applies
            statuses.append(wrong_login(client, user_email, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code)
        assert statuses == [200] * 10 + [429, 429]

    def test_ip_limit_uses_the_trusted_proxy_setting(self, client, settings):
        settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
        statuses = [
            wrong_login(client, f"nobody{i}@example.org", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
            for i in range(12)
        ]
        assert statuses == [200] * 12


class TestHealth:
    def test_live(self, client):
        response = client.get("/health/live")
        assert response.status_code == 200 and response.json() == {"status": "ok"}

    def test_ready_names_each_check(self, client):
        response = client.get("/health/ready")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert {name: check["status"] for name, check in body["checks"].items()} == {
            "database": "ok",
            "cache": "ok",
            "storage": "ok",
            "broker": "eager",
        }
        assert response["Cache-Control"].startswith("max-age=0")

    def test_ready_is_503_when_the_cache_is_down(self, client, settings):
        from tests.support.network import closed_port

        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{closed_port()}/13",
            }
        }
        response = client.get("/health/ready")
        assert response.status_code == 503 and response.has_header("Retry-After")
        checks = response.json()["checks"]
        assert checks["cache"]["status"] == "error" and checks["database"]["status"] == "ok"
        assert "127.0.0.1" not in response.content.decode()  # public: no internal addresses

    def test_ready_is_503_when_the_broker_is_down(self, client, settings):
        from tests.support.network import closed_port

        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/13"
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["checks"]["broker"]["status"] == "error"

    def test_ready_is_503_when_storage_is_missing(self, client, settings, tmp_path):
        (tmp_path / "a-file").write_text("")
        settings.ACCESSGATE_LOCAL_STORAGE_ROOT = tmp_path / "a-file" / "weights"
        response = client.get("/health/ready")
        assert response.status_code == 503 and response.json()["checks"]["storage"]["status"] == "error"


class TestHeaders:
    def test_request_id_is_sent_back(self, client):
        response = client.get("/health/live")
        assert len(response["X-Request-ID"]) == 32
        assert client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
        assert client.get("/health/live", HTTP_X_REQUEST_ID="bad id\x7f")["X-Request-ID"] != "bad id\x7f"

    def test_strict_csp_everywhere(self, client):
        policy = client.get("/models/")["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy

    def test_no_inline_script_in_our_templates(self):
        from pathlib import Path

        from django.conf import settings

        for template in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
            text = template.read_text()
            if "notifications/email" in str(template):
                continue  # e-mail bodies, never served by the portal
            assert "javascript:" not in text, template
            for attribute in ("onclick=", "onload=", "onsubmit=", "onchange=", " style="):
                assert attribute not in text, (template, attribute)
            for chunk in text.split("<script")[1:]:
                head = chunk.split(">", 1)[0]
                assert "src=" in head or 'type="application/json"' in head, template

    def test_signed_url_pages_send_no_referrer_to_other_origins(self, client, settings):
        # `same-origin`, not `no-referrer`: the latter makes browsers post `Origin: null`,
        # which the CSRF check refuses. Pinned on these pages even when the site-wide policy
        # is looser.
        settings.SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
        assert client.get("/dl/anything/model.bin")["Referrer-Policy"] == "same-origin"
        assert client.get("/models/a/b/1.0/download/")["Referrer-Policy"] == "same-origin"
        assert client.get("/a/b/resolve/main/config.json")["Referrer-Policy"] == "same-origin"
        assert client.get("/accounts/tokens/")["Referrer-Policy"] == "same-origin"
        assert client.get("/models/")["Referrer-Policy"] == "strict-origin-when-cross-origin"


class TestLogs:
    def record(self, msg, *args):
        return logging.LogRecord("django.server", logging.INFO, __file__, 1, msg, args, None)

    def test_dl_tokens_are_redacted_from_the_access_log(self):
        record = self.record('"%s" %s %s', "GET /dl/eyJrIjoiYSJ9:1abc:sig/model.bin HTTP/1.1", "200", "5")
        RedactTokensFilter().filter(record)
        assert record.getMessage() == '"GET /dl/[redacted]/model.bin HTTP/1.1" 200 5'

    def test_runserver_access_log_handler_redacts(self):
        logger = logging.getLogger("django.server")
        assert any(isinstance(f, RedactTokensFilter) for h in logger.handlers for f in h.filters)

    def test_json_lines_carry_the_request_id(self):
        record = self.record("hello %s", "world")
        record.request_id = "r1"
        entry = json.loads(JsonFormatter().format(record))
        assert entry["message"] == "hello world" and entry["request_id"] == "r1" and entry["level"] == "INFO"


def test_sentry_events_carry_no_download_token():
    from accessgate.logs import scrub_sentry_event

    event = scrub_sentry_event(
        {
            "request": {"url": "https://portal/dl/eyJrIjoi.sig/model.bin"},
            "breadcrumbs": {"values": [{"message": "GET /dl/eyJrIjoi.sig/model.bin"}]},
        }
    )
    assert event["request"]["url"] == "https://portal/dl/[redacted]/model.bin"
    assert "eyJrIjoi" not in event["breadcrumbs"]["values"][0]["message"]


def test_sentry_is_initialised_only_with_a_dsn():
    import subprocess
    import sys

    code = "import django, os; django.setup(); import sentry_sdk; print(sentry_sdk.get_client().is_active())"
    env = {k: v for k, v in __import__("os").environ.items() if k != "SENTRY_DSN"}
    env["DJANGO_SETTINGS_MODULE"] = "accessgate.settings"
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    on = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "SENTRY_DSN": "https://key@127.0.0.1:9/1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert off.stdout.strip() == "False", off.stderr[-500:]
    assert on.stdout.strip() == "True", on.stderr[-500:]

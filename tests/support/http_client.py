"""A small HTTP client that logs in and posts forms like a browser (CSRF, cookies, TOTP)."""

import re
from urllib.parse import urlsplit

import requests

from .. import factories


class Browser:
    """A browser behind a TLS-terminating proxy: plain HTTP to gunicorn with
    X-Forwarded-Proto: https. The session and CSRF cookies are Secure, which cookie jars
    keep off plain HTTP, so this one keeps its cookies itself."""

    def __init__(self, base, *, behind_tls_proxy=True):
        self.base = base
        self.cookies = {}
        scheme = "https" if behind_tls_proxy else "http"
        self.origin = f"{scheme}://{urlsplit(base).netloc}"
        self.headers = {"User-Agent": "smoke-test"}
        if behind_tls_proxy:
            self.headers["X-Forwarded-Proto"] = "https"

    def _send(self, method, path, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(
            method, self.base + path, headers=headers, allow_redirects=False, timeout=30, **kwargs
        )
        self.cookies.update(response.cookies.get_dict())
        return response

    def get(self, path, **kwargs):
        return self._send("GET", path, **kwargs)

    def post(self, path, data, form_page=None):
        page = self.get(form_page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, (path, page.status_code, page.text[:500])
        headers = {"Origin": self.origin, "Referer": self.origin + path}
        return self._send("POST", path, data={"csrfmiddlewaretoken": token.group(1), **data}, headers=headers)

    def log_in(self, email, password, totp_secret=None):
        response = self.post("/accounts/login/", {"login": email, "password": password})
        assert response.status_code == 302, response.text[:500]
        if totp_secret:
            step = urlsplit(response.headers["Location"]).path
            assert "2fa" in step
            response = self.post(step, {"code": factories.totp_code(totp_secret)})
            assert response.status_code == 302, response.text[:500]

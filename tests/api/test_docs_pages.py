"""The API docs pages keep the portal's CSP: no inline script on either, and the ReDoc page's
style nonce is fresh per response and on that page only."""

import re

import pytest
from django.conf import settings

from accessgate.api.v1.views.docs import policy_with_source

pytestmark = pytest.mark.django_db


def directives(response):
    return {part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split("; ")}


def test_swagger_ui_starts_from_a_static_file_under_the_site_policy(client):
    response = client.get("/api/v1/docs/")
    assert response["Content-Security-Policy"] == settings.ACCESSGATE_CSP
    html = response.content.decode()
    assert "/static/api/swagger-init.js" in html
    assert not re.search(r"<script>|<style", html)


def test_redoc_gets_a_fresh_style_nonce_and_nothing_else_inline(client):
    first, second = client.get("/api/v1/redoc/"), client.get("/api/v1/redoc/")
    policy = directives(first)
    assert policy["script-src"] == ["'self'"]
    nonce = next(source for source in policy["style-src"] if source.startswith("'nonce-"))
    assert nonce != next(s for s in directives(second)["style-src"] if s.startswith("'nonce-"))
    assert f'data-style-nonce="{nonce[7:-1]}"' in first.content.decode()
    assert "'unsafe-inline'" not in first["Content-Security-Policy"]
    assert policy["worker-src"] == ["'self'", "blob:"]
    assert not re.search(r"<script>|<style|fonts\.googleapis", first.content.decode())
    assert client.get("/models/")["Content-Security-Policy"] == settings.ACCESSGATE_CSP


def test_policy_with_source_adds_to_a_directive_or_adds_the_directive():
    policy = "default-src 'self'; style-src 'self'"
    assert policy_with_source(policy, "style-src", "'nonce-x'") == "default-src 'self'; style-src 'self' 'nonce-x'"
    assert policy_with_source(policy, "worker-src", "blob:") == policy + "; worker-src 'self' blob:"

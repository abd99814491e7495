"""Scoped tokens: what a token may do, which models it may touch, who may create staff scopes."""

import pytest
from django.urls import reverse

from accessgate.access import services as access_services
from accessgate.accounts.models import ApiToken, TokenScope
from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import ValidationFailed
from tests.support.applications import application

from .. import factories

pytestmark = pytest.mark.django_db


def test_default_is_download_only_and_audited_with_scopes(events):
    user = factories.UserFactory()
    token, _ = token_create(actor=user, name="cluster")
    assert token.scopes == ["download"]
    assert token.allows(TokenScope.DOWNLOAD) and not token.allows(TokenScope.REVIEW)
    assert events() == ["account.token.created"]
    details = AuditEvent.objects.get(action="account.token.created").details
    assert details["scopes"] == ["download"] and details["models"] == [] and details["mfa"] is False


def test_model_limit(model):
    user = factories.UserFactory()
    other = factories.ModelFactory()
    token, _ = token_create(actor=user, name="one model", models=[model])
    assert token.allows("download", model)
    assert not token.allows("download", other)
    assert token.allows("download")  # no model asked: the scope alone
    details = AuditEvent.objects.filter(action="account.token.created").latest("id").details
    assert details["models"] == [model.full_name]


@pytest.mark.parametrize(("role", "scope"), [("reviewer", "review"), ("auditor", "audit"), ("admin", "review")])
def test_staff_scope_needs_role_and_mfa(role, scope):
    staff = factories.UserFactory(role=role)
    with pytest.raises(ValidationFailed, match="two-factor"):
        token_create(actor=staff, name="x", scopes=[scope], mfa_passed=False)
    token, _ = token_create(actor=staff, name="x", scopes=["download", scope], mfa_passed=True)
    assert token.scopes == sorted(["download", scope]) and token.created_with_mfa


@pytest.mark.parametrize("scope", ["review", "audit"])
def test_researcher_cannot_get_staff_scopes_even_with_mfa(scope):
    with pytest.raises(ValidationFailed, match="role"):
        token_create(actor=factories.UserFactory(), name="x", scopes=[scope], mfa_passed=True)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("scopes", [[], ["root"]])
def test_bad_scopes_refused(scopes):
    with pytest.raises(ValidationFailed):
        token_create(actor=factories.UserFactory(), name="x", scopes=scopes)


def test_tokens_page_creates_scoped_limited_token_and_shows_it(client, model, events):
    user = factories.UserFactory()
    client.force_login(user)
    page = client.get(reverse("accounts:tokens")).content.decode()
    assert 'value="download"' in page and 'value="apply"' in page
    assert 'value="review"' not in page  # not offered without the role
    response = client.post(
        reverse("accounts:tokens"), {"name": "ci", "days": 7, "scopes": ["download", "apply"], "models": [model.pk]}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    assert token.scopes == ["apply", "download"] and list(token.models.all()) == [model]
    listing = client.get(reverse("accounts:tokens")).content.decode()
    assert "apply, download" in listing and model.full_name in listing and "never" in listing


def test_tokens_page_refuses_review_scope_without_mfa_session(client):
    reviewer = factories.UserFactory(role="reviewer")
    client.force_login(reviewer)
    page = client.post(reverse("accounts:tokens"), {"name": "bot", "days": 7, "scopes": ["review"]}).content.decode()
    assert "two-factor" in page
    assert not ApiToken.objects.exists()


# --- the download path checks the scope and the model limit ---------------------------------


@pytest.fixture
def holder(model, researcher, reviewer):
    request = access_services.access_request_submit(actor=researcher, **application(model))
    access_services.access_request_approve(actor=reviewer, access_request=request)
    return researcher


@pytest.mark.parametrize(
    ("scopes", "limit", "expected"),
    [
        (["download"], None, 302),
        (["download"], "same", 302),
        (["download"], "other", 403),
        (["apply"], None, 403),
    ],
)
def test_resolve_checks_scope_and_model_limit(client, model, holder, scopes, limit, expected):
    models = {None: [], "same": [model], "other": [factories.ModelFactory()]}[limit]
    _, secret = token_create(actor=holder, name="t", scopes=scopes, models=models)
    release = model.releases.get()
    url = reverse("downloads:resolve", args=[model.namespace, model.name, release.version, "config.json"])
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == expected
    if expected == 403:
        message = response.json()["error"]["message"]
        assert ("limited to other models" in message) if limit == "other" else ("'download' scope" in message)
        assert not AuditEvent.objects.filter(action="download.url_issued").exists()


@pytest.mark.parametrize("name", ["manifest", "manifest_txt", "sha256sums", "release"])
def test_other_download_endpoints_check_the_scope(client, model, holder, name):
    _, secret = token_create(actor=holder, name="t", scopes=["apply"])
    release = model.releases.get()
    url = reverse(f"downloads:{name}", args=[model.namespace, model.name, release.version])
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403

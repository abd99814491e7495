"""Authentication, scopes, roles and the one error shape for everything."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accessgate.access import services
from accessgate.access.models import AccessRequest
from accessgate.accounts.roles import Role
from accessgate.accounts.services import role_remove, token_create, token_revoke
from tests.support.api import apply_body, bearer, error_of
from tests.support.applications import application

from .. import factories

pytestmark = pytest.mark.django_db


def test_anonymous_is_401_with_bearer_challenge():
    response = APIClient().get("/api/v1/me/")
    error_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="accessgate"'


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer agt_not-a-real-token", "Bearer x y"])
def test_bad_credentials_are_401(researcher, header):
    client = APIClient()
    client.force_login(researcher)  # a bad header is refused, not ignored in favour of the session
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    error_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_and_inactive_user_are_401(researcher):
    token, secret = token_create(actor=researcher, name="x", scopes=["download"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/me/").status_code == 200
    token_revoke(actor=researcher, token=token)
    error_of(client.get("/api/v1/me/"), 401)
    other = factories.UserFactory()
    client = bearer(other)
    other.is_active = False
    other.save(update_fields=["is_active"])
    error_of(client.get("/api/v1/me/"), 401)


def test_session_needs_csrf_for_changes(researcher, model):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(researcher)
    assert client.get("/api/v1/me/").json()["token"] is None
    error = error_of(client.post("/api/v1/requests/", apply_body(model), format="json"), 403, "access_denied")
    assert "CSRF" in error["message"]
    assert not AccessRequest.objects.exists()
    client.get("/models/")  # any page sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post("/api/v1/requests/", apply_body(model), format="json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, response.content


def test_download_only_token_cannot_apply(researcher, model):
    client = bearer(researcher, ("download",))
    assert client.get("/api/v1/requests/").status_code == 200  # reading one's own: any scope
    error = error_of(client.post("/api/v1/requests/", apply_body(model), format="json"), 403, "access_denied")
    assert "'apply' scope" in error["message"] and error["help_url"] == "http://testserver/accounts/tokens/"
    assert not AccessRequest.objects.exists()


def test_apply_only_token_cannot_download(researcher, reviewer, model):
    request = services.access_request_submit(actor=researcher, **application(model))
    services.access_request_approve(actor=reviewer, access_request=request)
    client = bearer(researcher, ("apply",))
    error = error_of(client.get(f"/api/v1/models/{model.full_name}/releases/1.0/manifest/"), 403)
    assert "'download' scope" in error["message"]


def test_model_limited_token(researcher, model, auto_model, events):
    client = bearer(researcher, ("download", "apply"), models=[auto_model])
    start = len(events())
    error = error_of(client.post("/api/v1/requests/", apply_body(model), format="json"), 403)
    assert "limited to other models" in error["message"]
    assert events()[start:] == []
    assert client.post("/api/v1/requests/", apply_body(auto_model), format="json").status_code == 201


def test_review_token_limited_to_models_sees_only_them(reviewer, researcher, model):
    services.access_request_submit(actor=researcher, **application(model))
    other = factories.ModelFactory(reviewers=[reviewer])
    client = bearer(reviewer, ("review",), models=[other])
    assert client.get("/api/v1/review/requests/").json()["results"] == []
    request = AccessRequest.objects.get()
    error_of(client.post(f"/api/v1/review/requests/{request.pk}/approve/", {}, format="json"), 403)
    request.refresh_from_db()
    assert request.status == "submitted"


def test_staff_scope_without_role_and_role_without_scope(reviewer, researcher, model):
    services.access_request_submit(actor=researcher, **application(model))
    download_only = bearer(reviewer, ("download",))
    assert "'review' scope" in error_of(download_only.get("/api/v1/review/requests/"), 403)["message"]
    with_scope = bearer(reviewer, ("review",))
    assert with_scope.get("/api/v1/review/requests/").status_code == 200
    with transaction.atomic():
        role_remove(actor=None, user=reviewer, role=Role.REVIEWER)
    error = error_of(with_scope.get("/api/v1/review/requests/"), 403)
    assert "role" in error["message"]


def test_staff_session_needs_a_second_factor(researcher, model):
    staff = factories.UserFactory()
    with transaction.atomic():
        from accessgate.accounts.services import role_grant

        role_grant(actor=None, user=staff, role=Role.AUDITOR)
    client = APIClient()
    client.force_login(staff)
    error = error_of(client.get("/api/v1/audit/events/"), 403)
    assert "two-factor" in error["message"] and error["help_url"].startswith("http://testserver/")


def test_unknown_path_and_wrong_method_are_json(as_researcher):
    error_of(as_researcher.get("/api/v1/nothing/here/"), 404, "not_found")
    error_of(APIClient().post("/api/v1/nothing/"), 404, "not_found")
    response = as_researcher.delete("/api/v1/me/")
    error_of(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]
    error_of(as_researcher.get("/api/v1/me/", HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_rate_limit_is_429(settings, researcher, reviewer, model):
    settings.ACCESSGATE_DOWNLOAD_RATE_LIMIT = "1/60"
    request = services.access_request_submit(actor=researcher, **application(model))
    services.access_request_approve(actor=reviewer, access_request=request)
    client = bearer(researcher)
    url = f"/api/v1/models/{model.full_name}/releases/1.0/manifest/"
    assert client.get(url).status_code == 200
    error_of(client.get(url), 429, "quota_exceeded")

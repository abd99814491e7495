"""Researchers through /api/v1/: catalog, profile, apply, withdraw, resubmit, grants, manifests."""

import pytest

from accessgate.access import services
from accessgate.access.models import AccessRequest, Agreement, Grant
from accessgate.audit.models import AuditEvent
from tests.support.api import apply_body, bearer, error_of
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db


def test_catalog_list_and_search(as_researcher, model):
    hidden = factories.ModelFactory(is_listed=False)
    body = as_researcher.get("/api/v1/models/").json()
    names = [m["full_name"] for m in body["results"]]
    assert model.full_name in names and hidden.full_name not in names
    assert set(body) == {"next", "previous", "results"}
    assert as_researcher.get("/api/v1/models/", {"q": "no-such-thing"}).json()["results"] == []


def test_model_detail_shows_licence_statements_and_my_requirements(as_researcher, model):
    body = as_researcher.get(f"/api/v1/models/{model.full_name}/").json()
    policy = body["policy"]
    assert policy["licence"]["sha256"] == model.policy.license.sha256
    assert policy["licence"]["text"] == model.policy.license.text
    assert [s["id"] for s in policy["statements"]] == list(
        model.policy.statements.filter(is_active=True).values_list("pk", flat=True)
    )
    assert policy["requirements"][0]["key"] == "profile" and policy["requirements"][0]["met"] is True
    assert policy["requirements"][0]["help_url"].startswith("http://testserver/")
    assert body["releases"][0]["version"] == "1.0"
    assert body["my_access"] == {"open_request_id": None, "grant_id": None, "grant_expires_at": None}


def test_unlisted_and_unknown_models_are_not_found(as_researcher):
    hidden = factories.ModelFactory(is_listed=False)
    for path in (f"/api/v1/models/{hidden.full_name}/", "/api/v1/models/nobody/nothing/"):
        assert error_of(as_researcher.get(path), 404, "not_found")["help_url"] is None


def test_nul_bytes_in_the_address_are_not_found_not_a_server_error(as_researcher, model):
    """PostgreSQL text never holds a NUL: a query with one fails, so the address is checked first."""
    for path in (
        "/api/v1/models/demo%00lab/x/",
        f"/api/v1/models/{model.full_name}/releases/1%000/",
        f"/api/v1/models/{model.full_name}/releases/%00/manifest/",
    ):
        assert as_researcher.get(path).status_code in {400, 404}  # the bad-input guard, or the view
    assert as_researcher.get("/api/v1/models/?q=a%00b").status_code in {200, 400}


def test_release_files_only_for_grant_holders(researcher, as_researcher, model):
    url = f"/api/v1/models/{model.full_name}/releases/1.0/"
    assert as_researcher.get(url).json()["files"] is None
    request = services.access_request_submit(actor=researcher, **application(model))
    services.access_request_approve(actor=model.reviewers.get(), access_request=request)
    files = as_researcher.get(url).json()["files"]
    assert {f["path"] for f in files} == {"config.json", "model.safetensors"}
    revision = model.releases.get().revision
    assert as_researcher.get(f"/api/v1/models/{model.full_name}/releases/{revision}/").json()["version"] == "1.0"
    error_of(as_researcher.get(f"/api/v1/models/{model.full_name}/releases/9.9/"), 404, "not_found")


def test_me(researcher, as_researcher):
    body = as_researcher.get("/api/v1/me/").json()
    assert body["email"] == researcher.email and body["full_name"] == "Rosalind Franklin"
    assert body["is_complete"] is True and body["roles"] == ["researcher"]
    assert body["token"]["scopes"] == ["apply", "download"] and body["token"]["models"] == []


def test_apply_signs_and_is_audited(researcher, as_researcher, model, events):
    response = as_researcher.post("/api/v1/requests/", apply_body(model), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted" and body["model"] == model.full_name
    assert body["agreements"][0]["license_sha256"] == model.policy.license.sha256
    assert events() == ["access.request.submitted"]
    event = AuditEvent.objects.get(action="access.request.submitted")
    assert event.actor_id == researcher.pk and event.details["license_sha256"] == model.policy.license.sha256
    listed = as_researcher.get("/api/v1/requests/").json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    assert as_researcher.get(f"/api/v1/requests/{body['id']}/").json()["status"] == "submitted"


def test_apply_auto_gated_grants_at_once(as_researcher, auto_model, events):
    response = as_researcher.post("/api/v1/requests/", apply_body(auto_model), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "approved" and response.json()["grant_id"]
    assert events() == ["access.request.submitted", "access.request.approved", "grant.created"]
    grants = as_researcher.get("/api/v1/grants/").json()["results"]
    assert grants[0]["model"] == auto_model.full_name and grants[0]["is_active"] is True


def _nothing_changed(events):
    assert not AccessRequest.objects.exists() and not Agreement.objects.exists()
    assert events() == []


def test_apply_with_a_stale_licence_is_refused(as_researcher, model, licence, events):
    shown = model.policy.license.sha256
    newer = factories.LicenseFactory(name=licence.name, version="2.0", text="New terms.")
    make_policy(model, newer)
    start = events()
    response = as_researcher.post("/api/v1/requests/", apply_body(model, license_sha256=shown), format="json")
    error = error_of(response, 409, "conflict")
    assert "license_sha256" in error["fields"] and newer.sha256 in error["message"]
    assert events() == start
    assert not AccessRequest.objects.exists()


def test_apply_with_a_stale_statement_set_is_refused(as_researcher, model, events):
    shown = apply_body(model)["statement_ids"]
    make_policy(model, model.policy.license, statements=["A brand new statement."])
    start = events()
    error = error_of(
        as_researcher.post("/api/v1/requests/", apply_body(model, statement_ids=shown), format="json"), 409
    )
    assert "statement_ids" in error["fields"]
    # Leaving out a current statement is a validation error on the same field.
    error = error_of(as_researcher.post("/api/v1/requests/", apply_body(model, statement_ids=[]), format="json"), 400)
    assert error["code"] == "invalid" and "statement_ids" in error["fields"]
    assert events() == start and not AccessRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"intended_use": "too short"}, "intended_use", "invalid"),
        ({"typed_name": "Someone Else"}, "typed_name", "invalid"),
        ({"license_sha256": "not-a-hash"}, "license_sha256", "invalid"),
        ({"statement_ids": "1,2"}, "statement_ids", "invalid"),
        ({"model": "no-slash"}, "model", "invalid"),
    ],
)
def test_apply_bad_input_is_a_clear_400(as_researcher, model, events, overrides, field, code):
    error = error_of(as_researcher.post("/api/v1/requests/", apply_body(model, **overrides), format="json"), 400, code)
    assert field in error["fields"], error
    _nothing_changed(events)


def test_apply_missing_fields_and_bad_json(as_researcher, model, events):
    error = error_of(as_researcher.post("/api/v1/requests/", {}, format="json"), 400, "invalid")
    assert {"model", "license_sha256", "statement_ids", "intended_use", "typed_name"} <= set(error["fields"])
    response = as_researcher.post("/api/v1/requests/", "{not json", content_type="application/json")
    error_of(response, 400, "parse_error")
    response = as_researcher.post("/api/v1/requests/", "a=b", content_type="application/x-www-form-urlencoded")
    error_of(response, 415, "unsupported_media_type")
    _nothing_changed(events)


def test_apply_twice_is_a_conflict(as_researcher, model, events):
    assert as_researcher.post("/api/v1/requests/", apply_body(model), format="json").status_code == 201
    error_of(as_researcher.post("/api/v1/requests/", apply_body(model), format="json"), 409, "conflict")
    assert AccessRequest.objects.count() == 1 and events() == ["access.request.submitted"]


def test_withdraw(researcher, as_researcher, model, events):
    request = services.access_request_submit(actor=researcher, **application(model))
    start = len(events())
    response = as_researcher.post(f"/api/v1/requests/{request.pk}/withdraw/")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert events()[start:] == ["access.request.withdrawn"]
    error_of(as_researcher.post(f"/api/v1/requests/{request.pk}/withdraw/"), 409, "invalid_transition")
    assert events()[start:] == ["access.request.withdrawn"]


def test_others_requests_are_not_found(researcher, model):
    request = services.access_request_submit(actor=researcher, **application(model))
    stranger = bearer(factories.UserFactory())
    error_of(stranger.get(f"/api/v1/requests/{request.pk}/"), 404, "not_found")
    error_of(stranger.post(f"/api/v1/requests/{request.pk}/withdraw/"), 404, "not_found")
    request.refresh_from_db()
    assert request.status == "submitted"


def test_resubmit_after_changes(researcher, reviewer, as_researcher, model, events):
    request = services.access_request_submit(actor=researcher, **application(model))
    url = f"/api/v1/requests/{request.pk}/resubmit/"
    body = {k: v for k, v in apply_body(model).items() if k != "model"}
    error_of(as_researcher.post(url, body, format="json"), 409, "invalid_transition")
    services.access_request_request_changes(actor=reviewer, access_request=request, message="Say more.")
    start = len(events())
    error = error_of(as_researcher.post(url, {**body, "intended_use": "short"}, format="json"), 400)
    assert "intended_use" in error["fields"]
    request.refresh_from_db()
    assert request.status == "changes_requested" and events()[start:] == []
    longer = "A longer description of the red-teaming study and who sees the weights."
    response = as_researcher.post(url, {**body, "intended_use": longer}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted" and response.json()["intended_use"] == longer
    assert len(response.json()["agreements"]) == 2
    assert events()[start:] == ["access.request.resubmitted"]


def test_manifest_issues_urls_and_is_audited(researcher, as_researcher, model, events):
    url = f"/api/v1/models/{model.full_name}/releases/1.0/manifest/"
    error = error_of(as_researcher.get(url), 403, "access_denied")
    assert error["help_url"].endswith(f"/models/{model.full_name}/apply/")
    request = services.access_request_submit(actor=researcher, **application(model))
    services.access_request_approve(actor=model.reviewers.get(), access_request=request)
    start = len(events())
    response = as_researcher.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["revision"] == model.releases.get().revision
    assert {f["path"] for f in body["files"]} == {"config.json", "model.safetensors"}
    assert all(f["url"].startswith("http://testserver/") for f in body["files"])
    assert events()[start:] == ["download.manifest_issued"]
    event = AuditEvent.objects.get(action="download.manifest_issued")
    assert event.details["via"] == "token" and event.details["token_prefix"]


def test_grants_are_only_mine(researcher, as_researcher, model):
    other = factories.UserFactory()
    request = services.access_request_submit(actor=other, **application(model, typed_name=other.profile.full_name))
    services.access_request_approve(actor=model.reviewers.get(), access_request=request)
    assert as_researcher.get("/api/v1/grants/").json()["results"] == []
    assert Grant.objects.count() == 1


def test_head_is_not_a_way_to_issue_urls(researcher, reviewer, as_researcher, model, events):
    request = services.access_request_submit(actor=researcher, **application(model))
    services.access_request_approve(actor=reviewer, access_request=request)
    start = len(events())
    response = as_researcher.head(f"/api/v1/models/{model.full_name}/releases/1.0/manifest/")
    assert response.status_code == 405
    assert events()[start:] == []


def test_accept_a_new_licence_under_a_grant(researcher, reviewer, as_researcher, model, licence, events):
    request = services.access_request_submit(actor=researcher, **application(model))
    grant = services.access_request_approve(actor=reviewer, access_request=request)
    newer = factories.LicenseFactory(name=licence.name, version="2.0", text="New terms.")
    make_policy(model, newer)
    manifest = f"/api/v1/models/{model.full_name}/releases/1.0/manifest/"
    error = error_of(as_researcher.get(manifest), 403, "policy_not_met")
    assert "new version" in error["message"]
    url = f"/api/v1/grants/{grant.pk}/accept-licence/"
    statement_ids = sorted(model.policy.statements.filter(is_active=True).values_list("pk", flat=True))
    body = {"license_sha256": licence.sha256, "statement_ids": statement_ids, "typed_name": "Rosalind Franklin"}
    start = len(events())
    error = error_of(as_researcher.post(url, body, format="json"), 409, "conflict")
    assert "license_sha256" in error["fields"]
    error = error_of(
        as_researcher.post(url, {**body, "license_sha256": newer.sha256, "typed_name": "X"}, format="json"), 400
    )
    assert "typed_name" in error["fields"]
    assert events()[start:] == []
    response = as_researcher.post(url, {**body, "license_sha256": newer.sha256}, format="json")
    assert response.status_code == 200, response.content
    assert events()[start:] == ["access.agreement.renewed"]
    assert Agreement.objects.filter(request=request).latest("signed_at").license_sha256 == newer.sha256
    assert as_researcher.get(manifest).status_code == 200
    error_of(as_researcher.post(url, {**body, "license_sha256": newer.sha256}, format="json"), 409, "conflict")
    error_of(bearer(factories.UserFactory()).post(url, body, format="json"), 404, "not_found")

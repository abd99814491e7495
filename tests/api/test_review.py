"""Reviewers through /api/v1/: queue, detail, decisions (retry-safe), grants, revocation."""

import threading

import pytest
from django.db import connection

from accessgate.access import services
from accessgate.access.models import Grant, Review
from accessgate.audit.models import AuditEvent
from tests.support.api import bearer, error_of
from tests.support.applications import application

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(researcher, model):
    return services.access_request_submit(actor=researcher, **application(model))


def test_queue_with_filters(as_reviewer, pending, model):
    results = as_reviewer.get("/api/v1/review/requests/").json()["results"]
    assert [r["id"] for r in results] == [pending.pk]
    assert results[0]["applicant"]["full_name"] == "Rosalind Franklin"
    assert as_reviewer.get("/api/v1/review/requests/", {"status": "approved"}).json()["results"] == []
    assert len(as_reviewer.get("/api/v1/review/requests/", {"status": "any"}).json()["results"]) == 1
    assert len(as_reviewer.get("/api/v1/review/requests/", {"q": "Rosalind"}).json()["results"]) == 1
    assert as_reviewer.get("/api/v1/review/requests/", {"q": "nobody-matches"}).json()["results"] == []
    error = error_of(as_reviewer.get("/api/v1/review/requests/", {"status": "bogus"}), 400, "invalid")
    assert "status" in error["fields"]


def test_queue_is_limited_to_my_models(pending):
    other_reviewer = factories.UserFactory(role="reviewer")
    client = bearer(other_reviewer, ("review",))
    assert client.get("/api/v1/review/requests/").json()["results"] == []
    error_of(client.get(f"/api/v1/review/requests/{pending.pk}/"), 404, "not_found")
    error_of(client.post(f"/api/v1/review/requests/{pending.pk}/approve/", {}, format="json"), 404)
    assert not Grant.objects.exists()


def test_detail_has_the_checklist(as_reviewer, pending):
    body = as_reviewer.get(f"/api/v1/review/requests/{pending.pk}/").json()
    assert body["requirements"][0] == {
        "key": "profile",
        "label": "A complete profile",
        "met": True,
        "help_url": "http://testserver/accounts/profile/",
        "detail": "",
    }
    assert body["agreements"][0]["typed_name"] == "Rosalind Franklin"
    assert body["is_own"] is False and body["grant_id"] is None and body["history"] == []


def test_approve_creates_one_grant_and_a_second_approval_is_409(as_reviewer, reviewer, pending, events):
    url = f"/api/v1/review/requests/{pending.pk}/approve/"
    response = as_reviewer.post(url, {"message": "Welcome."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved" and response.json()["grant_id"]
    assert events() == ["access.request.approved", "grant.created"]
    assert AuditEvent.objects.get(action="access.request.approved").actor_id == reviewer.pk
    error = error_of(as_reviewer.post(url, {"message": "Welcome."}, format="json"), 409, "invalid_transition")
    assert "approved" in error["message"]
    assert Grant.objects.count() == 1 and Review.objects.count() == 1
    assert events() == ["access.request.approved", "grant.created"]


def test_reject_needs_a_reason(as_reviewer, pending, events):
    url = f"/api/v1/review/requests/{pending.pk}/reject/"
    error = error_of(as_reviewer.post(url, {}, format="json"), 400, "invalid")
    assert list(error["fields"]) == ["reason"]
    pending.refresh_from_db()
    assert pending.status == "submitted" and events() == []
    response = as_reviewer.post(url, {"reason": "Not a research use."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert response.json()["reviews"][0]["message"] == "Not a research use."
    assert events() == ["access.request.rejected"]


def test_request_changes(as_reviewer, pending, events):
    url = f"/api/v1/review/requests/{pending.pk}/request-changes/"
    error = error_of(as_reviewer.post(url, {"message": "  "}, format="json"), 400)
    assert "message" in error["fields"] and events() == []
    response = as_reviewer.post(url, {"message": "Name the project."}, format="json")
    assert response.json()["status"] == "changes_requested"
    assert events() == ["access.request.changes_requested"]


def test_cannot_decide_own_request(reviewer, model, events):
    own = services.access_request_submit(actor=reviewer, **application(model, typed_name=reviewer.profile.full_name))
    client = bearer(reviewer, ("review",))
    start = len(events())
    error = error_of(client.post(f"/api/v1/review/requests/{own.pk}/approve/", {}, format="json"), 403)
    assert "own request" in error["message"]
    assert events()[start:] == [] and not Grant.objects.exists()


def test_grants_and_revoke(as_reviewer, reviewer, pending, events):
    grant = services.access_request_approve(actor=reviewer, access_request=pending)
    listed = as_reviewer.get("/api/v1/review/grants/").json()["results"]
    assert [g["id"] for g in listed] == [grant.pk] and listed[0]["holder"]["full_name"] == "Rosalind Franklin"
    url = f"/api/v1/review/grants/{grant.pk}/revoke/"
    start = len(events())
    error = error_of(as_reviewer.post(url, {"reason": ""}, format="json"), 400)
    assert "reason" in error["fields"] and events()[start:] == []
    response = as_reviewer.post(url, {"reason": "Licence breach."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert events()[start:] == ["grant.revoked"]
    error_of(as_reviewer.post(url, {"reason": "Again."}, format="json"), 409, "invalid_transition")
    assert as_reviewer.get("/api/v1/review/grants/").json()["results"] == []
    assert len(as_reviewer.get("/api/v1/review/grants/", {"all": "true"}).json()["results"]) == 1
    assert events()[start:] == ["grant.revoked"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_make_one_grant(postgres, researcher, reviewer, model):
    pending = services.access_request_submit(actor=researcher, **application(model))
    clients = [bearer(reviewer, ("review",)) for _ in range(2)]
    barrier = threading.Barrier(2)
    statuses = []

    def approve(client):
        try:
            barrier.wait()
            response = client.post(f"/api/v1/review/requests/{pending.pk}/approve/", {}, format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert Grant.objects.filter(request=pending).count() == 1
    assert AuditEvent.objects.filter(action="grant.created").count() == 1

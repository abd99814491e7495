"""The protocol's details, through Django's test client: headers, codes, pagination, routing."""

import pytest
from django.urls import resolve, reverse

from accessgate.access.models import AccessPolicy
from accessgate.accounts.services import token_create
from accessgate.api.hf import views as hf_views
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Release
from accessgate.catalog.names import TOP_LEVEL_ROUTES as RESERVED
from tests.support.hf import FILES, sha256

from .. import factories

pytestmark = pytest.mark.django_db
REPO = ["demo-lab", "tiny-demo-1b"]


def auth(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def resolve_url(revision="main", path="config.json"):
    return reverse("hf_resolve:resolve", args=[*REPO, revision, path])


def test_head_answers_metadata_and_never_xet(client, hf_model, hf_holder):
    _, release = hf_model
    _, secret = hf_holder
    response = client.head(resolve_url(), **auth(secret))
    assert response.status_code == 200
    assert response["X-Repo-Commit"] == release.revision
    assert response["X-Linked-Etag"] == response["ETag"] == f'"{sha256(FILES["config.json"])}"'
    assert response["X-Linked-Size"] == str(len(FILES["config.json"]))
    got = client.get(resolve_url(), **auth(secret))
    assert got.status_code == 302 and got["Location"].startswith("http://testserver/dl/")
    for answer in (response, got):
        assert not [h for h in answer.headers if h.lower().startswith("x-xet")]
        assert "xet-auth" not in answer.get("Link", "")


@pytest.mark.parametrize(
    ("who", "status", "code", "words"),
    [
        ("anonymous", 401, "GatedRepo", "/models/demo-lab/tiny-demo-1b/apply/"),
        ("stranger", 403, "GatedRepo", "http://testserver/models/demo-lab/tiny-demo-1b/apply/"),
    ],
)
def test_refusals_carry_code_and_a_page_in_the_header(client, hf_model, who, status, code, words):
    headers = {} if who == "anonymous" else auth(token_create(actor=factories.UserFactory(), name="t")[1])
    for method in (client.head, client.get):
        response = method(resolve_url(), **headers)
        assert response.status_code == status
        assert response["X-Error-Code"] == code and words in response["X-Error-Message"]
    assert not AuditEvent.objects.filter(action="download.url_issued").exists()


def test_invalid_token_is_the_clients_credentials_error(client, hf_model):
    response = client.head(resolve_url(), HTTP_AUTHORIZATION="Bearer agt_nope")
    assert response.status_code == 401
    assert response["X-Error-Message"] == "Invalid credentials in Authorization header"
    assert "X-Error-Code" not in response


def test_not_found_codes(client, hf_model, hf_holder):
    _, release = hf_model
    _, secret = hf_holder
    unknown = client.head(reverse("hf_resolve:resolve", args=["demo-lab", "nope", "main", "x"]), **auth(secret))
    assert (unknown.status_code, unknown["X-Error-Code"]) == (404, "RepoNotFound")
    missing = client.head(resolve_url(path="nope.bin"), **auth(secret))
    assert (missing.status_code, missing["X-Error-Code"]) == (404, "EntryNotFound")
    assert missing["X-Repo-Commit"] == release.revision
    quoted = client.get("/api/models/demo-lab/tiny-demo-1b/revision/refs%2Fpr%2F1", **auth(secret))
    assert (quoted.status_code, quoted["X-Error-Code"]) == (404, "RevisionNotFound")
    assert quoted.json() == {"error": quoted["X-Error-Message"]}


def test_withdrawn_release_is_revision_not_found(client, hf_model, hf_holder):
    _, release = hf_model
    _, secret = hf_holder
    Release.objects.filter(pk=release.pk).update(is_active=False)
    response = client.head(resolve_url(revision="1.1"), **auth(secret))
    assert response["X-Error-Code"] == "RevisionNotFound" and "withdrawn" in response["X-Error-Message"]
    # `main` is now the newest active release.
    info = client.get(reverse("hf:model_info", args=REPO), **auth(secret)).json()
    assert info["sha"] == Release.objects.get(version="1.0").revision


def test_quota_exhausted_is_403_without_retry_bait(client, hf_model, hf_holder):
    model, _ = hf_model
    _, secret = hf_holder
    AccessPolicy.objects.filter(model=model).update(max_downloads_per_file=1)
    assert client.get(resolve_url(), **auth(secret)).status_code == 302
    from accessgate.downloads.models import DownloadCounter

    DownloadCounter.objects.update(counted_until=None)
    response = client.get(resolve_url(), **auth(secret))
    assert response.status_code == 403 and "X-Error-Code" not in response
    assert "used all 1 downloads" in response["X-Error-Message"]


def test_tree_is_paginated_with_link(client, hf_model, hf_holder, monkeypatch):
    _, release = hf_model
    _, secret = hf_holder
    monkeypatch.setattr(hf_views, "TREE_PAGE_SIZE", 2)
    url = reverse("hf:tree", args=[*REPO, release.revision]) + "?recursive=true"
    paths, pages = [], 0
    while url:
        response = client.get(url, **auth(secret))
        paths += [entry["path"] for entry in response.json()]
        pages += 1
        link = response.get("Link", "")
        url = link.split(";")[0].strip("<>") if 'rel="next"' in link else None
    assert pages == 2
    assert sorted(paths) == sorted([*FILES, "tokenizer"])


def test_tree_of_a_folder_and_the_chat_templates_folder(client, hf_model, hf_holder):
    _, secret = hf_holder
    folder = client.get(reverse("hf:tree_path", args=[*REPO, "main", "tokenizer"]), **auth(secret)).json()
    assert [entry["path"] for entry in folder] == ["tokenizer/vocab.json"]
    templates = client.get(reverse("hf:tree_path", args=[*REPO, "main", "additional_chat_templates"]), **auth(secret))
    assert templates.status_code == 200 and templates.json() == []
    other = client.get(reverse("hf:tree_path", args=[*REPO, "main", "nothing"]), **auth(secret))
    assert other.status_code == 404 and other["X-Error-Code"] == "EntryNotFound"


@pytest.mark.parametrize("reserved", RESERVED)
def test_resolve_never_shadows_a_top_level_route(reserved):
    match = None
    try:
        match = resolve(f"/{reserved}/x/resolve/main/config.json")
    except Exception:  # noqa: BLE001 - no route at all is fine too
        pass
    assert match is None or match.view_name != "hf_resolve:resolve"
    assert resolve("/demo-lab/x/resolve/main/config.json").view_name == "hf_resolve:resolve"


def test_access_request_api_refuses_sessions(client, hf_model, reviewer):
    client.force_login(reviewer)
    url = reverse("hf:access_handle", args=REPO)
    response = client.post(url, {"user": "x", "status": "accepted"}, content_type="application/json")
    assert response.status_code == 401


def test_access_request_api_refuses_other_reviewers(client, hf_model):
    other = factories.UserFactory(role="reviewer")
    _, secret = token_create(actor=other, name="bot", scopes=["review"], mfa_passed=True)
    response = client.get(reverse("hf:access_requests", args=[*REPO, "pending"]), **auth(secret))
    assert response.status_code == 403 and "not a reviewer" in response["X-Error-Message"]


def test_handle_refuses_what_cannot_move(client, hf_model, researcher, review_token):
    from accessgate.access import services as access_services
    from tests.support.applications import application

    model, _ = hf_model
    access_services.access_request_submit(actor=researcher, **application(model))
    url = reverse("hf:access_handle", args=REPO)
    pending = client.post(
        url, {"user": researcher.username, "status": "pending"}, content_type="application/json", **auth(review_token)
    )
    assert pending.status_code == 400 and "already pending" in pending.json()["error"]
    no_reason = client.post(
        url, {"user": researcher.username, "status": "rejected"}, content_type="application/json", **auth(review_token)
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]
    bad = client.post(
        url, {"user": researcher.username, "status": "maybe"}, content_type="application/json", **auth(review_token)
    )
    assert bad.status_code == 400


def test_download_page_shows_the_hf_lines(client, hf_model, hf_holder):
    model, release = hf_model
    user, _ = hf_holder
    AccessPolicy.objects.filter(model=model).update(max_downloads_per_file=3)
    client.force_login(user)
    page = client.get(reverse("downloads:release", args=[*REPO, release.version])).content.decode()
    assert "HF_ENDPOINT=http://testserver HF_TOKEN=$TOKEN hf download demo-lab/tiny-demo-1b --revision 1.1" in page
    assert "snapshot_download('demo-lab/tiny-demo-1b', revision='1.1')" in page
    assert "hf_hub_download('demo-lab/tiny-demo-1b', 'config.json', revision='1.1')" in page
    assert 'id="quota-rule"' in page and "costs nothing more" in page


@pytest.mark.parametrize(
    ("requirement", "page"), [("require_identity", "http://testserver/identity/"), ("require_mfa", "/accounts/2fa/")]
)
def test_clearance_refusals_name_the_page_that_fixes_them(client, hf_model, hf_holder, requirement, page):
    model, _ = hf_model
    _, secret = hf_holder
    AccessPolicy.objects.filter(model=model).update(**{requirement: True})
    response = client.head(resolve_url(), **auth(secret))
    assert (response.status_code, response["X-Error-Code"]) == (403, "GatedRepo")
    assert page in response["X-Error-Message"]


@pytest.mark.parametrize(
    "body",
    [
        {"user": "x", "status": ["accepted"]},
        {"user": "x", "status": {"accepted": 1}},
        {"requestId": "\u00b2", "status": "accepted"},
        {"requestId": "9" * 30, "status": "accepted"},
        {"requestId": 9 * 10**30, "status": "accepted"},
    ],
)
def test_handle_answers_odd_bodies_without_a_server_error(client, hf_model, review_token, body):
    response = client.post(
        reverse("hf:access_handle", args=REPO), body, content_type="application/json", **auth(review_token)
    )
    assert response.status_code in {400, 404}
    assert response.json()["error"]


def test_handle_refuses_a_reason_that_is_not_text(client, hf_model, researcher, review_token):
    from accessgate.access import services as access_services
    from tests.support.applications import application

    model, _ = hf_model
    access_services.access_request_submit(actor=researcher, **application(model))
    response = client.post(
        reverse("hf:access_handle", args=REPO),
        {"user": researcher.username, "status": "rejected", "rejectionReason": {"why": "no"}},
        content_type="application/json",
        **auth(review_token),
    )
    assert response.status_code == 400 and "rejectionReason" in response.json()["error"]
    assert not AuditEvent.objects.filter(action="access.request.rejected").exists()


@pytest.mark.parametrize("revision", ["%00", "a%01b%7F", "%E2%80%AE"])
def test_error_headers_carry_no_control_characters(client, hf_model, revision):
    """gunicorn refuses a response header with a control character (the client sees a 500),
    so nothing the caller sends may reach X-Error-Message raw."""
    url = f"/api/models/{'/'.join(REPO)}/revision/{revision}"
    response = client.get(url)
    # The bad-input guard may answer a control character in the path with 400 first.
    assert response.status_code in {400, 404}
    if response.status_code == 404:
        assert response["X-Error-Code"] == "RevisionNotFound"
    assert all(" " <= char <= "~" for char in response.get("X-Error-Message", ""))


def test_nul_bytes_in_a_path_or_username_are_not_found(client, hf_model, hf_holder, review_token):
    """PostgreSQL fails a query holding a NUL; such input is answered before it reaches one."""
    _, secret = hf_holder
    # In a path the bad-input guard may answer 400 first; the views refuse it themselves too.
    assert client.get(resolve_url(path="config%00.json"), **auth(secret)).status_code in {400, 404}
    assert client.get("/api/models/demo%00lab/tiny-demo-1b", **auth(secret)).status_code in {400, 404}
    for view in ("hf:access_grant", "hf:access_handle"):
        response = client.post(
            reverse(view, args=REPO),
            {"user": "rosalind\u0000", "status": "accepted"},
            content_type="application/json",
            **auth(review_token),
        )
        # The JSON guard refuses a NUL in any string (400) before the view looks the name up.
        assert response.status_code in {400, 404}

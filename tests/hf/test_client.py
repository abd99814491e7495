"""Contract tests: the real huggingface_hub 2.4.0 client through the gate (live server, local storage)."""

from pathlib import Path

import pytest
from django.db import connection
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from accessgate.access import services as access_services
from accessgate.access.models import AccessPolicy, AccessRequest
from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditEvent
from accessgate.downloads.models import DownloadCounter
from tests.support.applications import application
from tests.support.hf import FILES, sha256

from .. import factories

pytestmark = pytest.mark.django_db(transaction=True)
REPO = "demo-lab/tiny-demo-1b"


def test_snapshot_download_of_a_granted_release(live_server, hf_model, hf_holder, cache_dir):
    # The client's 8 parallel workers on PostgreSQL; one on the in-memory SQLite of fast runs,
    # which locks its tables under parallel writers.
    workers = 1 if connection.vendor == "sqlite" else 8
    _, release = hf_model
    _, secret = hf_holder
    folder = Path(
        snapshot_download(REPO, endpoint=live_server.url, token=secret, cache_dir=cache_dir, max_workers=workers)
    )
    assert folder.name == release.revision
    got = {p.relative_to(folder).as_posix(): sha256(p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    assert got == {path: sha256(content) for path, content in FILES.items()}
    issued = AuditEvent.objects.filter(action="download.url_issued")
    assert sorted(e.details["path"] for e in issued) == sorted(FILES)
    assert {e.details["via"] for e in issued} == {"token"}


@pytest.mark.parametrize("revision", ["main", "1.1", "revision"])
def test_hf_hub_download_by_main_version_and_revision(live_server, hf_model, hf_holder, cache_dir, revision):
    _, release = hf_model
    _, secret = hf_holder
    revision = release.revision if revision == "revision" else revision
    path = hf_hub_download(
        REPO, "tokenizer/vocab.json", revision=revision, endpoint=live_server.url, token=secret, cache_dir=cache_dir
    )
    assert Path(path).read_bytes() == FILES["tokenizer/vocab.json"]
    assert f"/snapshots/{release.revision}/" in path
    assert AuditEvent.objects.filter(action="download.url_issued").count() == 1


def test_older_version_by_its_number(live_server, hf_model, hf_holder, cache_dir):
    _, secret = hf_holder
    path = hf_hub_download(
        REPO, "model.safetensors", revision="1.0", endpoint=live_server.url, token=secret, cache_dir=cache_dir
    )
    assert Path(path).read_bytes() == b"old"


def test_gated_without_grant_names_the_apply_page(live_server, hf_model, cache_dir):
    _, secret = token_create(actor=factories.UserFactory(), name="hf")
    apply_url = f"{live_server.url}/models/demo-lab/tiny-demo-1b/apply/"
    with pytest.raises(GatedRepoError) as error:
        snapshot_download(REPO, endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    assert apply_url in str(error.value)
    with pytest.raises(GatedRepoError) as error:
        hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    assert apply_url in str(error.value) and error.value.response.status_code == 403
    assert not AuditEvent.objects.filter(action="download.url_issued").exists()


def test_gated_anonymous_is_401_naming_apply_and_tokens(live_server, hf_model, cache_dir):
    with pytest.raises(GatedRepoError) as error:
        hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=False, cache_dir=cache_dir)
    assert error.value.response.status_code == 401
    assert "/apply/" in str(error.value) and "/accounts/tokens/" in str(error.value)


def test_gated_after_revocation(live_server, hf_model, hf_holder, reviewer, cache_dir):
    user, secret = hf_holder
    hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    access_services.grant_revoke(actor=reviewer, grant=user.grants.get(), reason="Terms breached.")
    with pytest.raises(GatedRepoError) as error:
        hf_hub_download(REPO, "model.safetensors", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    assert "Terms breached." in str(error.value) and "/apply/" in str(error.value)


def test_new_licence_names_the_reaccept_page(live_server, hf_model, hf_holder, cache_dir):
    from accessgate.catalog.services import license_publish
    from tests.support.applications import make_policy

    model, _ = hf_model
    user, secret = hf_holder
    make_policy(model, license_publish(actor=None, name="Demo", version="9", text="New terms."))
    with pytest.raises(GatedRepoError) as error:
        hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    grant = user.grants.get()
    assert "has a new version" in str(error.value)
    assert f"{live_server.url}/access/grants/{grant.pk}/accept-licence/" in str(error.value)


@pytest.mark.parametrize("repo", ["demo-lab/unknown", "demo-lab/hidden"])
def test_unknown_or_unlisted_is_repository_not_found(live_server, hf_model, hf_holder, licence, cache_dir, repo):
    from tests.support.applications import make_policy

    hidden = factories.ModelFactory(namespace="demo-lab", name="hidden", is_listed=False)
    make_policy(hidden, licence)
    factories.make_release(hidden)
    _, secret = hf_holder
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(repo, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=live_server.url, token=secret).model_info(repo)


def test_entry_and_revision_not_found(live_server, hf_model, hf_holder, cache_dir):
    _, release = hf_model
    _, secret = hf_holder
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "missing.bin", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    assert (
        Path(cache_dir) / "models--demo-lab--tiny-demo-1b" / ".no_exist" / release.revision / "missing.bin"
    ).exists()
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(
            REPO, "config.json", revision="9.9", endpoint=live_server.url, token=secret, cache_dir=cache_dir
        )
    with pytest.raises(RevisionNotFoundError):
        snapshot_download(REPO, revision="9.9", endpoint=live_server.url, token=secret, cache_dir=cache_dir)


def test_model_info_and_tree(live_server, hf_model, hf_holder):
    model, release = hf_model
    _, secret = hf_holder
    api = HfApi(endpoint=live_server.url, token=secret)
    info = api.model_info(REPO)
    assert info.sha == release.revision and info.gated == "manual"
    assert {s.rfilename: s.lfs.sha256 for s in info.siblings} == {p: sha256(c) for p, c in FILES.items()}
    files = {
        f.path: f.lfs.sha256
        for f in api.list_repo_tree(REPO, recursive=True, revision=release.revision)
        if hasattr(f, "lfs")
    }
    assert files == {p: sha256(c) for p, c in FILES.items()}
    top = [f.path for f in api.list_repo_tree(REPO)]
    assert sorted(top) == ["config.json", "model.safetensors", "tokenizer"]


def test_head_costs_no_quota_and_writes_no_event(live_server, hf_model, hf_holder, cache_dir):
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    model, release = hf_model
    AccessPolicy.objects.filter(model=model).update(max_downloads_per_file=1)
    _, secret = hf_holder
    before = AuditEvent.objects.count()
    url = hf_hub_url(REPO, "config.json", endpoint=live_server.url)
    for _ in range(5):
        meta = get_hf_file_metadata(url, token=secret)
        assert meta.commit_hash == release.revision and meta.etag == sha256(FILES["config.json"])
        assert meta.size == len(FILES["config.json"])
    assert AuditEvent.objects.count() == before and not DownloadCounter.objects.exists()
    # The quota of one is still there for the real download, and a retry inside the URL's life is free.
    hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    hf_hub_download(
        REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir, force_download=True
    )
    assert DownloadCounter.objects.get().issued == 1
    assert AuditEvent.objects.filter(action="download.url_issued").count() == 2


def test_token_limited_to_another_model_is_refused(live_server, hf_model, hf_holder, cache_dir):
    user, _ = hf_holder
    _, secret = token_create(actor=user, name="other", models=[factories.ModelFactory()])
    with pytest.raises(GatedRepoError) as error:
        hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    assert "limited to other models" in str(error.value)


# --- HfApi access-request methods -----------------------------------------------------------


def test_access_request_methods_end_to_end(live_server, hf_model, researcher, other_researcher, reviewer, review_token):
    model, _ = hf_model
    api = HfApi(endpoint=live_server.url, token=review_token)
    access_services.access_request_submit(actor=researcher, **application(model))
    pending = list(api.list_pending_access_requests(REPO))
    assert [r.username for r in pending] == [researcher.username]
    assert pending[0].fullname == "Rosalind Franklin" and pending[0].fields["intended_use"].startswith("Red-teaming")

    api.accept_access_request(REPO, researcher.username)
    assert [r.username for r in list(api.list_accepted_access_requests(REPO))] == [researcher.username]
    assert researcher.grants.get().status == "active"

    api.cancel_access_request(REPO, researcher.username)  # access withdrawn, back to pending
    assert researcher.grants.get().status == "revoked"
    assert [r.username for r in list(api.list_pending_access_requests(REPO))] == [researcher.username]
    assert list(api.list_accepted_access_requests(REPO)) == []

    api.reject_access_request(REPO, researcher.username, rejection_reason="Not a safety study.")
    assert [r.username for r in list(api.list_rejected_access_requests(REPO))] == [researcher.username]
    assert AccessRequest.objects.filter(user=researcher, status="rejected").latest("pk").reviewer_message == (
        "Not a safety study."
    )

    api.grant_access(REPO, other_researcher.username)
    # A direct grant waits for the researcher's application and signature (docs/one-door.md).
    assert other_researcher.grants.get().status == "pending"
    assert other_researcher.grants.get().waiting_for == ["your intended use", "your signature"]
    actions = AuditEvent.objects.filter(actor=reviewer).exclude(action="account.token.created").order_by("id")
    assert list(actions.values_list("action", flat=True)) == [
        "access.request.approved",
        "grant.created",
        "grant.revoked",
        "access.request.reopened",
        "access.request.rejected",
        "access.request.approved",
        "grant.created",
    ]


def test_access_request_errors(live_server, hf_model, researcher, reviewer, review_token):
    from huggingface_hub.errors import HfHubHTTPError

    model, _ = hf_model
    api = HfApi(endpoint=live_server.url, token=review_token)
    with pytest.raises(HfHubHTTPError) as error:
        api.grant_access(REPO, "nobody-here")
    assert error.value.response.status_code == 404
    api.grant_access(REPO, researcher.username)
    with pytest.raises(HfHubHTTPError) as error:
        api.grant_access(REPO, researcher.username)
    assert error.value.response.status_code == 400 and "already approved and waiting" in str(error.value)
    # A download token (no review scope) and a non-reviewer are refused.
    _, download_only = token_create(actor=reviewer, name="dl")
    with pytest.raises(HfHubHTTPError) as error:
        list(HfApi(endpoint=live_server.url, token=download_only).list_pending_access_requests(REPO))
    assert error.value.response.status_code == 403 and "'review' scope" in str(error.value)


def test_direct_grant_needs_signature_before_first_download(
    live_server, client, hf_model, researcher, review_token, cache_dir
):
    model, _ = hf_model
    HfApi(endpoint=live_server.url, token=review_token).grant_access(REPO, researcher.username)
    _, secret = token_create(actor=researcher, name="hf")
    with pytest.raises(GatedRepoError) as error:
        hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    grant = researcher.grants.get()
    assert "waiting for: your intended use, your signature" in str(error.value)
    assert f"{live_server.url}/access/grants/{grant.pk}/accept-licence/" in str(error.value)
    client.force_login(researcher)
    from django.urls import reverse

    accept_url = reverse("access:licence_accept", args=[grant.pk])
    assert "Sign the licence" in client.get(accept_url).content.decode()
    data = {"typed_name": "Rosalind Franklin", "intended_use": "Red-teaming refusal behaviour for a safety study."}
    data.update({f"statement_{s.pk}": "on" for s in model.policy.statements.filter(is_active=True)})
    assert client.post(accept_url, data).status_code == 302
    assert researcher.grants.get().status == "active"
    path = hf_hub_download(REPO, "config.json", endpoint=live_server.url, token=secret, cache_dir=cache_dir)
    assert Path(path).read_bytes() == FILES["config.json"]

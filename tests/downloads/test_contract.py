"""The same download promises, on the local backend and on S3 (s3rver checking SigV4)."""

import hashlib
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services as access_services
from accessgate.access.models import AccessPolicy
from accessgate.accounts.models import ApiToken
from accessgate.accounts.services import token_create, token_revoke
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import LicenseVersion
from accessgate.catalog.services import license_publish
from accessgate.core.errors import AccessDenied, Conflict
from accessgate.downloads.models import DownloadCounter
from accessgate.downloads.services import download_manifest_issue, download_url_issue
from tests.support.applications import application, make_policy
from tests.support.downloads import FILES, file_url

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(release, reviewer):
    user = factories.UserFactory(profile__full_name="Grace Holder")
    factories.GrantFactory(user=user, model=release.model)
    return user


def fetch(client, url, **headers):
    """GET a signed URL: through Django for the local backend, over HTTP for S3."""
    if url.startswith("http://testserver/"):
        django_headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        response = client.get(url, **django_headers)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, body, response
    response = requests.get(url, headers=headers, timeout=10)
    return response.status_code, response.content, response


def test_import_recorded_every_file(release, backend):
    files = {f.path: f for f in release.files.all()}
    assert set(files) == set(FILES)
    for path, content in FILES.items():
        assert files[path].size == len(content)
        assert files[path].sha256 == hashlib.sha256(content).hexdigest()
    event = AuditEvent.objects.get(action="download.release_imported")
    assert event.details["file_count"] == 4 and event.details["backend"] == backend


def test_holder_downloads_the_bytes(client, release, holder):
    client.force_login(holder)
    response = client.get(file_url(release, "model-00001-of-00002.safetensors"), REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 302
    status, body, raw = fetch(client, response["Location"])
    assert status == 200
    assert body == FILES["model-00001-of-00002.safetensors"]
    assert "model-00001-of-00002.safetensors" in raw.headers["Content-Disposition"]

    event = AuditEvent.objects.get(action="download.url_issued")
    assert event.actor == holder and event.ip == "203.0.113.5"
    assert event.details["path"] == "model-00001-of-00002.safetensors"
    assert event.details["ttl_seconds"] == 300 and event.details["via"] == "session"
    assert event.details["size"] == len(FILES["model-00001-of-00002.safetensors"])


def test_range_requests(client, release, holder):
    client.force_login(holder)
    url = client.get(file_url(release, "model-00001-of-00002.safetensors"))["Location"]
    status, body, raw = fetch(client, url, Range="bytes=1000-1999")
    assert status == 206
    assert body == FILES["model-00001-of-00002.safetensors"][1000:2000]
    assert raw.headers["Content-Range"] == f"bytes 1000-1999/{len(FILES['model-00001-of-00002.safetensors'])}"


def test_tampered_url_is_refused(client, release, holder, backend):
    client.force_login(holder)
    url = client.get(file_url(release, "config.json"))["Location"]
    if backend == "s3":
        tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    else:
        token_start = url.index("/dl/") + 4
        tampered = url[: token_start + 5] + ("A" if url[token_start + 5] != "A" else "B") + url[token_start + 6 :]
    status, body, _ = fetch(client, tampered)
    assert status == 403
    assert body != FILES["config.json"]


def test_expired_url_is_refused(client, release, holder):
    # 2 s: S3 signs with the time truncated to the second, so a URL lives between 1 and 2 s.
    AccessPolicy.objects.filter(model=release.model).update(url_ttl_seconds=2)
    client.force_login(holder)
    url = client.get(file_url(release, "config.json"))["Location"]
    assert fetch(client, url)[0] == 200
    time.sleep(3.1)
    assert fetch(client, url)[0] == 403


def test_revoked_grant_gets_no_new_url_at_once(client, release, holder, reviewer):
    client.force_login(holder)
    assert client.get(file_url(release, "config.json")).status_code == 302
    access_services.grant_revoke(actor=reviewer, grant=holder.grants.get(), reason="Paused pending review.")
    response = client.get(file_url(release, "config.json"))
    assert response.status_code == 403
    assert "was revoked" in response.content.decode() and "Paused pending review." in response.content.decode()
    assert AuditEvent.objects.filter(action="download.url_issued").count() == 1


def test_manifest_sha256_matches_downloaded_bytes(client, release, holder):
    client.force_login(holder)
    args = [release.model.namespace, release.model.name, release.revision]  # by revision id
    manifest = client.get(reverse("downloads:manifest", args=args)).json()
    assert manifest["revision"] == release.revision
    assert {f["path"] for f in manifest["files"]} == set(FILES)
    for entry in manifest["files"]:
        status, body, _ = fetch(client, entry["url"])
        assert status == 200
        assert hashlib.sha256(body).hexdigest() == entry["sha256"] == hashlib.sha256(FILES[entry["path"]]).hexdigest()
        assert entry["size"] == len(body)
    event = AuditEvent.objects.get(action="download.manifest_issued")
    assert sorted(event.details["paths"]) == sorted(FILES)


def test_manifest_txt_and_sha256sums(client, release, holder):
    client.force_login(holder)
    args = [release.model.namespace, release.model.name, release.version]
    lines = client.get(reverse("downloads:manifest_txt", args=args)).content.decode().splitlines()
    urls, outs = lines[0::2], lines[1::2]
    assert outs == [f"  out={path}" for path in sorted(FILES)]
    for url, out in zip(urls, outs, strict=True):
        assert fetch(client, url)[1] == FILES[out.strip()[4:]]
    sums = client.get(reverse("downloads:sha256sums", args=args)).content.decode()
    assert sums == "".join(f"{hashlib.sha256(FILES[p]).hexdigest()}  {p}\n" for p in sorted(FILES))


def test_others_get_nothing(client, release, holder):
    stranger = factories.UserFactory()
    url = file_url(release, "config.json")
    client.force_login(stranger)
    response = client.get(url)
    assert response.status_code == 403
    assert "Apply for it first" in response.content.decode()
    json_response = client.get(url, HTTP_ACCEPT="application/json")
    assert json_response.json()["error"]["code"] == "access_denied"
    assert json_response.json()["error"]["help_url"].endswith(f"/models/{release.model.full_name}/apply/")
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert not AuditEvent.objects.filter(action="download.url_issued").exists()


def test_bearer_tokens(release, holder):
    api = Client()
    token, secret = token_create(actor=holder, name="cluster")
    url = file_url(release, "config.json")
    response = api.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="download.url_issued")
    assert event.details["via"] == "token" and event.details["token_prefix"] == token.prefix
    token.refresh_from_db()
    assert token.last_used_at is not None

    for bad in ["Bearer agt_wrong", "Bearer ", "Basic abc", f"Bearer {secret}x"]:
        response = api.get(url, HTTP_AUTHORIZATION=bad)
        assert response.status_code == 401, bad
        assert response.json()["error"]["code"] == "not_authenticated"


def test_revoked_and_expired_tokens_are_refused(release, holder):
    api = Client()
    url = file_url(release, "config.json")
    revoked, revoked_secret = token_create(actor=holder, name="old laptop")
    token_revoke(actor=holder, token=revoked)
    expired, expired_secret = token_create(actor=holder, name="expired")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    inactive_user_token, inactive_secret = token_create(actor=holder, name="inactive")
    for secret in (revoked_secret, expired_secret):
        assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    holder.is_active = False
    holder.save()
    assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {inactive_secret}").status_code == 401


def _window_passes():
    """Every counted URL's validity ends (as if its TTL went by)."""
    from datetime import timedelta

    from django.utils import timezone

    DownloadCounter.objects.update(counted_until=timezone.now() - timedelta(seconds=1))


def test_quota_counts_and_refuses_with_429(client, release, holder):
    AccessPolicy.objects.filter(model=release.model).update(max_downloads_per_file=2)
    client.force_login(holder)
    url = file_url(release, "config.json")
    assert client.get(url)["X-Downloads-Remaining"] == "1"
    _window_passes()
    assert client.get(url)["X-Downloads-Remaining"] == "0"
    _window_passes()
    response = client.get(url)
    assert response.status_code == 429
    assert "used all 2 downloads of config.json" in response.content.decode()
    # Another file has its own count; the download page shows what is left.
    assert client.get(file_url(release, "tokenizer/vocab.json")).status_code == 302
    page = client.get(
        reverse("downloads:release", args=[release.model.namespace, release.model.name, release.version])
    ).content.decode()
    assert "0 of 2 left" in page and "1 of 2 left" in page


def test_a_cap_of_zero_issues_nothing(client, release, holder):
    AccessPolicy.objects.filter(model=release.model).update(max_downloads_per_file=0)
    client.force_login(holder)
    response = client.get(file_url(release, "config.json"))
    assert response.status_code == 429
    assert not DownloadCounter.objects.exists()


def test_a_capped_manifest_counts_every_file_at_once_or_none(client, release, holder):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    def urls_expire():
        DownloadCounter.objects.update(counted_until=timezone.now() - timedelta(seconds=1))

    AccessPolicy.objects.filter(model=release.model).update(max_downloads_per_file=2)
    client.force_login(holder)
    args = [release.model.namespace, release.model.name, release.version]
    with CaptureQueriesContext(connection) as queries:
        manifest = client.get(reverse("downloads:manifest", args=args)).json()
    assert {f["downloads_remaining"] for f in manifest["files"]} == {1}
    assert sum("downloads_downloadcounter" in q["sql"] for q in queries.captured_queries) == 1  # one statement
    urls_expire()
    assert client.get(file_url(release, "config.json"))["X-Downloads-Remaining"] == "0"
    urls_expire()
    # config.json is at its limit: the whole manifest is refused and no other file is counted.
    response = client.get(reverse("downloads:manifest", args=args))
    assert response.status_code == 429 and "used all 2 downloads of config.json" in response.content.decode()
    counts = dict(DownloadCounter.objects.values_list("weight_file__path", "issued"))
    assert counts["config.json"] == 2 and {v for k, v in counts.items() if k != "config.json"} == {1}


def test_new_licence_version_needs_reacceptance(client, release, holder, licence):
    new_licence = license_publish(actor=None, name=licence.name, version="2.0", text="New terms.")
    make_policy(release.model, new_licence, url_ttl_seconds=300)
    client.force_login(holder)
    url = file_url(release, "config.json")
    response = client.get(url)
    assert response.status_code == 403 and "new version" in response.content.decode()

    grant = holder.grants.get()
    accept_url = reverse("access:licence_accept", args=[grant.pk])
    data = {"typed_name": "Grace Holder"}
    data.update({f"statement_{s.pk}": "on" for s in release.model.policy.statements.filter(is_active=True)})
    assert client.post(accept_url, {**data, "typed_name": "Someone"}).status_code == 200
    client.post(accept_url, data)
    agreement = grant.request.agreements.order_by("-id").first()
    assert agreement.license == new_licence and agreement.license_sha256 == new_licence.sha256
    assert client.get(url).status_code == 302
    assert AuditEvent.objects.filter(action="access.agreement.renewed").count() == 1


def test_reissue_while_valid_costs_nothing(client, release, holder):
    """A manifest, then the single file, then a retry: one download counted, each URL audited."""
    AccessPolicy.objects.filter(model=release.model).update(max_downloads_per_file=2)
    client.force_login(holder)
    address = [release.model.namespace, release.model.name, release.version]
    client.get(reverse("downloads:manifest", args=address), HTTP_ACCEPT="application/json")
    client.get(reverse("downloads:manifest_txt", args=address))
    assert client.get(file_url(release, "config.json"))["X-Downloads-Remaining"] == "1"
    assert client.get(file_url(release, "config.json"))["X-Downloads-Remaining"] == "1"
    assert set(DownloadCounter.objects.values_list("issued", flat=True)) == {1}
    events = AuditEvent.objects.filter(action__in=["download.url_issued", "download.manifest_issued"]).order_by("id")
    assert [e.details["quota_counted"] for e in events] == [len(FILES), 0, 0, 0]
    _window_passes()
    assert client.get(file_url(release, "config.json"))["X-Downloads-Remaining"] == "0"


def test_free_reissue_expires_with_the_counted_url(release, holder):
    """A free URL is a copy of the counted one: re-issuing late in its life must not hand out
    a URL that outlives it (else each counted download could be stretched to twice the TTL)."""
    AccessPolicy.objects.filter(model=release.model).update(max_downloads_per_file=2)
    weight_file = release.files.get(path="config.json")
    first = download_url_issue(user=holder, release=release, weight_file=weight_file, mfa_verified=False)
    # The counted URL is about to expire (10 s left of its 300 s).
    counted_until = timezone.now() + timedelta(seconds=10)
    DownloadCounter.objects.update(counted_until=counted_until)
    again = download_url_issue(user=holder, release=release, weight_file=weight_file, mfa_verified=False)
    assert first.remaining == again.remaining == 1
    assert again.expires_at <= counted_until
    [manifest_entry] = [
        item
        for item in download_manifest_issue(user=holder, release=release, mfa_verified=False)
        if item.path == "config.json"
    ]
    assert manifest_entry.expires_at <= counted_until
    assert DownloadCounter.objects.get(weight_file=weight_file).counted_until == counted_until


def test_head_costs_nothing_and_records_nothing(client, release, holder):
    AccessPolicy.objects.filter(model=release.model).update(max_downloads_per_file=1)
    client.force_login(holder)
    before = AuditEvent.objects.count()
    for _ in range(3):
        response = client.head(file_url(release, "config.json"))
        assert response.status_code == 200 and "Location" not in response
        assert response["X-Repo-Commit"] == release.revision
        sha = hashlib.sha256(FILES["config.json"]).hexdigest()
        assert response["X-Linked-Etag"] == f'"{sha}"' and response["X-Linked-Size"] == str(len(FILES["config.json"]))
    assert AuditEvent.objects.count() == before and not DownloadCounter.objects.exists()
    assert client.get(file_url(release, "config.json")).status_code == 302


def test_head_is_refused_like_get(client, release):
    client.force_login(factories.UserFactory())
    before = AuditEvent.objects.count()
    assert client.head(file_url(release, "config.json")).status_code == 403
    assert AuditEvent.objects.count() == before


def _race(url, user, threads=16):
    statuses = []
    barrier = threading.Barrier(threads)

    def worker():
        client = Client()
        client.force_login(user)
        barrier.wait()
        try:
            statuses.append(client.get(url).status_code)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return sorted(statuses)


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_count_once_and_never_exceed_the_quota(postgres, backend, tmp_path):
    """16 threads race, three times, for a quota of 2 (PostgreSQL row locks):
    in a fresh window exactly one issuance counts and the other 15 URLs are free; once the
    quota is used up and no counted URL is valid, all 16 are refused and nothing counts."""

    licence = LicenseVersion.objects.create(name="Race", version="1", text="t")
    reviewer = factories.UserFactory(role="reviewer")
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, max_downloads_per_file=2)
    release = factories.make_release(model)
    user = factories.UserFactory(profile__full_name="Racer")
    request = access_services.access_request_submit(actor=user, **application(model, typed_name="Racer"))
    access_services.access_request_approve(actor=reviewer, access_request=request)
    url = file_url(release, "config.json")
    assert _race(url, user) == [302] * 16
    assert DownloadCounter.objects.get().issued == 1
    _window_passes()
    assert _race(url, user) == [302] * 16
    assert DownloadCounter.objects.get().issued == 2
    _window_passes()
    assert _race(url, user) == [429] * 16
    assert DownloadCounter.objects.get().issued == 2
    issued = AuditEvent.objects.filter(action="download.url_issued")
    assert issued.count() == 32
    assert sorted(e.details["quota_counted"] for e in issued) == [0] * 30 + [1] * 2


def test_licence_reacceptance_refusals(release, holder, licence):
    grant = holder.grants.get()
    ids = set(release.model.policy.statements.filter(is_active=True).values_list("pk", flat=True))
    with pytest.raises(Conflict, match="already accepted"):
        access_services.agreement_renew(
            actor=holder, grant=grant, accepted_statement_ids=ids, typed_name="Grace Holder"
        )
    with pytest.raises(AccessDenied):
        access_services.agreement_renew(
            actor=factories.UserFactory(), grant=grant, accepted_statement_ids=ids, typed_name="Grace Holder"
        )

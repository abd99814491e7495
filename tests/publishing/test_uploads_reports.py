"""Browser uploads (both backends), the access report and CSV, and the public page's truth."""

import csv
import hashlib
import io
import json

import pytest
import requests
from django.urls import reverse

from accessgate.access import services as access_services
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Release
from accessgate.core.errors import Conflict, ValidationFailed
from accessgate.downloads import uploads
from accessgate.downloads.models import UPLOAD_PART_SIZE, ReleaseImport, ReleaseUpload
from accessgate.downloads.services import download_url_issue
from accessgate.publishing.reports import access_report, access_report_csv, csv_safe
from tests.support.api import bearer
from tests.support.applications import application, make_policy

from .. import factories


def console(name, model, *extra):
    return reverse(f"publish:{name}", args=[model.namespace, model.name, *extra])


@pytest.fixture
def owned(model, publisher):
    model.publishers.add(publisher)
    return model


def _holder(model, researcher, reviewer):
    return access_services.access_request_approve(
        actor=reviewer,
        access_request=access_services.access_request_submit(
            actor=researcher, **application(model, typed_name=researcher.profile.full_name)
        ),
    )


class TestLocalUpload:
    def test_chunks_resume_and_the_import_records_who_asked(
        self, client, owned, publisher, django_capture_on_commit_callbacks
    ):
        content = b"x" * 1000 + b"y" * 500
        client.force_login(publisher)
        start = client.post(
            console("upload_start", owned),
            json.dumps({"version": "2.0", "notes": "web", "files": [{"path": "w/model.bin", "size": len(content)}]}),
            content_type="application/json",
        )
        assert start.status_code == 201
        state = start.json()
        assert state["backend"] == "local"
        upload_id, file_id = state["id"], state["files"][0]["id"]
        chunk = reverse("publish:upload_chunk", args=[owned.namespace, owned.name, upload_id, file_id])
        first = client.post(chunk + "?offset=0", content[:1000], content_type="application/octet-stream")
        assert first.json() == {"bytes_received": 1000}
        # A resumed browser that resends from 0 is told where to continue.
        again = client.post(chunk + "?offset=0", content[:1000], content_type="application/octet-stream")
        assert again.status_code == 409 and "offset 1000" in again.json()["error"]["message"]
        resumed = client.get(reverse("publish:upload_state", args=[owned.namespace, owned.name, upload_id]))
        assert resumed.json()["files"][0]["bytes_received"] == 1000
        client.post(chunk + "?offset=1000", content[1000:], content_type="application/octet-stream")
        complete = reverse("publish:upload_complete", args=[owned.namespace, owned.name, upload_id, file_id])
        assert client.post(complete).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            finish = client.post(reverse("publish:upload_finish", args=[owned.namespace, owned.name, upload_id]))
        job = ReleaseImport.objects.get()
        assert finish.json()["redirect"] == console("import", owned, job.pk)
        assert (job.status, job.requested_by) == ("done", publisher)
        release = Release.objects.get(model=owned, version="2.0")
        weight = release.files.get()
        assert (weight.path, weight.size, weight.sha256) == (
            "w/model.bin",
            len(content),
            hashlib.sha256(content).hexdigest(),
        )
        assert not ReleaseUpload.objects.get().staging_dir.exists()  # the staged copy is gone
        created = AuditEvent.objects.get(action="catalog.release.created", target_id=str(release.pk))
        assert created.actor == publisher
        page = client.get(console("import", owned, job.pk)).content.decode()
        assert publisher.email in page and "Requested by" in page

    def test_finishing_before_every_file_is_in_is_refused(self, owned, publisher):
        upload = uploads.upload_start(actor=publisher, model=owned, version="3.0", files=[("a.bin", 5)])
        with pytest.raises(Exception, match="not uploaded yet"):
            uploads.upload_finish(actor=publisher, upload=upload)

    @pytest.mark.parametrize(
        ("size", "message"), [(1, "a.bin: 1 byte is missing."), (5, "a.bin: 5 bytes are missing.")]
    )
    def test_completing_a_short_file_says_how_much_is_missing(self, owned, publisher, size, message):
        upload = uploads.upload_start(actor=publisher, model=owned, version="3.0", files=[("a.bin", size)])
        with pytest.raises(ValidationFailed) as refused:
            uploads.upload_file_complete(uploaded=upload.files.get())
        assert refused.value.message == message

    def test_a_version_that_exists_is_refused(self, owned, publisher):
        with pytest.raises(Exception, match="already has a release 1.0"):
            uploads.upload_start(actor=publisher, model=owned, version="1.0", files=[("a.bin", 5)])


class TestS3Upload:
    def test_parts_go_straight_to_the_bucket(
        self,
        owned,
        publisher,
        settings,
        s3rver,
        django_capture_on_commit_callbacks,
    ):
        settings.ACCESSGATE_STORAGE_BACKEND = "s3"
        settings.ACCESSGATE_S3 = s3rver
        content = b"a" * UPLOAD_PART_SIZE + b"b" * 1000
        upload = uploads.upload_start(actor=publisher, model=owned, version="2.0", files=[("big.bin", len(content))])
        uploaded = upload.files.get()
        assert uploaded.part_count == 2 and uploaded.s3_upload_id
        for number in (1, 2):
            url = uploads.upload_part_url(uploaded=uploaded, part_number=number)
            part = content[(number - 1) * UPLOAD_PART_SIZE : number * UPLOAD_PART_SIZE]
            response = requests.put(url, data=part, timeout=30)  # what the browser does
            assert response.status_code == 200
            uploads.upload_part_done(uploaded=uploaded, part_number=number, etag=response.headers["ETag"])
        uploaded.refresh_from_db()
        uploads.upload_file_complete(uploaded=uploaded)
        with django_capture_on_commit_callbacks(execute=True):
            uploads.upload_finish(actor=publisher, upload=upload)
        release = Release.objects.get(model=owned, version="2.0")
        assert release.files.get().sha256 == hashlib.sha256(content).hexdigest()
        with pytest.raises(Conflict):
            uploads.upload_part_url(uploaded=uploaded, part_number=1)


class TestReport:
    def test_rows_match_the_audit_trail(self, client, owned, publisher, researcher, reviewer):
        grant = _holder(owned, researcher, reviewer)
        release = owned.releases.get()
        config = release.files.get(path="config.json")
        for _ in range(2):
            download_url_issue(user=researcher, release=release, weight_file=config, mfa_verified=False)
        report = access_report(owned)
        (row,) = report["holders"]
        events = AuditEvent.objects.filter(action="download.url_issued", details__grant_id=grant.pk)
        assert row.urls_issued == events.count() == 2
        assert row.bytes == sum(e.details["size"] for e in events)
        assert row.licence_signed == str(owned.policy.license)
        assert row.identity == "not verified"
        assert [(f.path, f.urls_issued, f.people_count) for f in report["files"]] == [("config.json", 2, 1)]
        client.force_login(publisher)
        response = client.get(console("report_csv", owned))
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert rows[0]["email"] == researcher.email and rows[0]["download_urls_issued"] == "2"
        assert rows[0]["grant_id"] == str(grant.pk)
        page = client.get(console("reports", owned)).content.decode()
        assert researcher.email in page and "config.json" in page

    def test_the_csv_neutralises_formulas(self, owned, reviewer):
        researcher = factories.UserFactory(profile__full_name="=HYPERLINK(1)")
        _holder(owned, researcher, reviewer)
        text = access_report_csv(owned)
        assert "'=HYPERLINK(1)" in text
        assert [csv_safe(v) for v in ("=1", "+1", "-1", "@x", "\tx", "\rx", "ok")] == [
            "'=1",
            "'+1",
            "'-1",
            "'@x",
            "'\tx",
            "'\rx",
            "ok",
        ]

    def test_the_report_reads_a_bounded_number_of_queries(self, owned, reviewer, django_assert_max_num_queries):
        for _ in range(3):
            user = factories.UserFactory()
            _holder(owned, user, reviewer)
        with django_assert_max_num_queries(4):
            access_report(owned)


class TestPublicPage:
    def test_every_requirement_the_quota_and_the_url_lifetime(self, client, licence):
        model = factories.ModelFactory()
        make_policy(
            model,
            licence,
            require_identity=True,
            require_mfa=True,
            blocked_countries=["KP"],
            max_downloads_per_file=3,
            url_ttl_seconds=600,
        )
        page = client.get(reverse("catalog:model_detail", args=[model.namespace, model.name])).content.decode()
        for text in (
            "A complete profile",
            "A verified identity (document and selfie)",
            "Two-factor authentication",
            "Not resident in or documented by a country",
            "3 download links per file per grant",
            "600 seconds",
        ):
            assert text in page, text


class TestReportApi:
    def test_a_publisher_token_reads_the_report(self, owned, publisher, researcher, reviewer):
        grant = _holder(owned, researcher, reviewer)
        release = owned.releases.get()
        download_url_issue(
            user=researcher, release=release, weight_file=release.files.get(path="config.json"), mfa_verified=False
        )
        client = bearer(publisher, scopes=["review"])
        response = client.get(f"/api/v1/models/{owned.full_name}/access-report/")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["model"] == owned.full_name
        (holder,) = body["holders"]
        assert (holder["email"], holder["grant_id"], holder["download_urls_issued"]) == (researcher.email, grant.pk, 1)
        assert body["files"] == [{"path": "config.json", "download_urls_issued": 1, "people": 1, "bytes_downloaded": 2}]

    def test_refusals(self, owned, publisher, reviewer):
        other = factories.UserFactory(role="publisher")
        url = f"/api/v1/models/{owned.full_name}/access-report/"
        assert bearer(other, scopes=["review"]).get(url).status_code == 404
        assert bearer(reviewer, scopes=["review"]).get(url).status_code == 403
        assert bearer(publisher, scopes=["download"]).get(url).status_code == 403

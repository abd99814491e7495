"""Bad file paths refused on every surface that stores one, changing nothing; manifests and
SHA256SUMS never emit a line from a bad path that reached the database past the services."""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accessgate.audit.models import AuditEvent, RefusalTally
from accessgate.catalog.models import Release
from accessgate.core.errors import ValidationFailed
from accessgate.core.storage import get_storage
from accessgate.downloads import uploads
from accessgate.downloads.imports import release_import_prepare
from accessgate.downloads.models import DownloadCounter, ReleaseImport, ReleaseUpload, UploadedFile
from tests.support.api import bearer

from .. import factories

pytestmark = pytest.mark.django_db

INJECTION = "weights.bin\n  dir=~/.ssh\n  out=authorized_keys"
BAD = [
    (INJECTION, "U+000A LINE FEED"),
    ("w\x1b]0;pwned\x07.bin", "U+001B ESCAPE"),
    ("evil\u202enib.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("a\x00b.bin", "U+0000 NULL"),
    ("a\rb.bin", "U+000D CARRIAGE RETURN"),
    ("a\tb.bin", "U+0009 CHARACTER TABULATION"),
    ("../outside.bin", "'..'"),
    ("./x", "'.'"),
    ("a//b", "empty"),
    ("/abs.bin", "starts with '/'"),
    ("\\\\win\\share.bin", "backslash"),
    ("x" * 256, "255 bytes"),
    ("cafe\u0301.bin", "NFC"),
]
IDS = [repr(path)[:24] for path, _ in BAD]
GOOD = ["modèles/café.bin", "Модель/shards/вага-00001.bin", "a/b/c/d.bin"]


@pytest.fixture
def owned(model, publisher):
    model.publishers.add(publisher)
    return model


def _nothing_changed(before: int):
    assert not ReleaseUpload.objects.exists() and not UploadedFile.objects.exists()
    assert not ReleaseImport.objects.exists() and not Release.objects.exclude(version="1.0").exists()
    assert AuditEvent.objects.exclude(action="account.logged_in").count() == before


def _start(client, model, files, version="2.0"):
    return client.post(
        reverse("publish:upload_start", args=[model.namespace, model.name]),
        json.dumps({"version": version, "files": [{"path": p, "size": 3} for p in files]}),
        content_type="application/json",
    )


@pytest.mark.parametrize(("path", "says"), BAD, ids=IDS)
def test_the_upload_api_refuses_a_bad_path_and_changes_nothing(client, owned, publisher, settings, path, says):
    client.force_login(publisher)
    before = AuditEvent.objects.exclude(action="account.logged_in").count()
    response = _start(client, owned, ["fine.bin", path])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and says in error["message"]
    assert "\n" not in error["message"] and "\x1b" not in error["message"] and "\u202e" not in error["message"]
    _nothing_changed(before)
    root = settings.ACCESSGATE_UPLOAD_ROOT
    assert not root.exists() or not any(root.iterdir())  # no staged file


@pytest.mark.parametrize(("path", "says"), BAD, ids=IDS)
def test_the_upload_service_refuses_naming_the_field(owned, publisher, path, says):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        uploads.upload_start(actor=publisher, model=owned, version="2.0", files=[(path, 3)])
    assert refused.value.field == "files" and says in refused.value.message
    _nothing_changed(before)


@pytest.mark.parametrize("version", ["2.0\n  out=x", "2.\u202e0", "2.0\x00"])
def test_the_upload_api_refuses_a_bad_version(client, owned, publisher, version):
    client.force_login(publisher)
    response = _start(client, owned, ["fine.bin"], version=version)
    assert response.status_code == 400 and not ReleaseUpload.objects.exists()


def test_good_paths_upload_and_become_the_release(client, owned, publisher, django_capture_on_commit_callbacks):
    client.force_login(publisher)
    state = _start(client, owned, GOOD).json()
    assert sorted(f["path"] for f in state["files"]) == sorted(GOOD)
    args = [owned.namespace, owned.name, state["id"]]
    for f in state["files"]:
        chunk = reverse("publish:upload_chunk", args=[*args, f["id"]])
        assert client.post(chunk + "?offset=0", b"abc", content_type="application/octet-stream").status_code == 200
        assert client.post(reverse("publish:upload_complete", args=[*args, f["id"]])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("publish:upload_finish", args=args)).status_code == 200
    release = Release.objects.get(model=owned, version="2.0")
    assert sorted(release.files.values_list("path", flat=True)) == sorted(GOOD)


def test_finish_refuses_a_row_written_past_the_service(owned, publisher):
    upload = uploads.upload_start(actor=publisher, model=owned, version="2.0", files=[("w.bin", 0)])
    uploads.upload_file_complete(uploaded=upload.files.get())
    UploadedFile.objects.filter(upload=upload).update(path=INJECTION)  # a database owner's edit
    with pytest.raises(ValidationFailed, match="U\\+000A LINE FEED"):
        uploads.upload_finish(actor=publisher, upload=upload)
    assert ReleaseUpload.objects.get().status == "open" and not ReleaseImport.objects.exists()


# The characters a Linux file name can hold (not NUL, not '/'): an operator's import directory.
ON_DISK = [p for p in BAD if "\x00" not in p[0] and "/" not in p[0] and p[0] not in ("./x",) and len(p[0]) < 256]


@pytest.mark.parametrize(("name", "says"), ON_DISK, ids=[repr(n)[:24] for n, _ in ON_DISK])
def test_the_import_service_refuses_a_directory_holding_a_bad_name(tmp_path, model, publisher, name, says):
    before = AuditEvent.objects.count()
    source = tmp_path / "source"
    (source / "ok").mkdir(parents=True)
    (source / "ok" / "config.json").write_text("{}")
    (source / "ok" / name).write_bytes(b"x")
    with pytest.raises(ValidationFailed) as refused:
        release_import_prepare(actor=None, model=model, version="2.0", source=str(source), operator=True)
    assert refused.value.field == "source" and says in refused.value.message
    assert not ReleaseImport.objects.exists() and AuditEvent.objects.count() == before


def test_the_import_service_accepts_nested_non_ascii_names(tmp_path, model):
    source = tmp_path / "source"
    for path in GOOD:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_bytes(path.encode())
    call_command("import_release", model.full_name, "2.0", str(source))
    release = Release.objects.get(model=model, version="2.0")
    assert sorted(release.files.values_list("path", flat=True)) == sorted(GOOD)


# Keys S3's XML listing can carry (it has no form for ESC or NUL).
S3_BAD = [("evil\u202enib.exe", "U+202E"), ("a\tb.bin", "U+0009"), ("cafe\u0301.bin", "NFC")]


@pytest.mark.parametrize(("key", "says"), S3_BAD, ids=[repr(k)[:20] for k, _ in S3_BAD])
def test_the_consoles_index_page_fails_the_job_before_hashing_a_bad_key(
    client, owned, publisher, settings, s3rver, django_capture_on_commit_callbacks, key, says
):
    settings.ACCESSGATE_STORAGE_BACKEND = "s3"
    settings.ACCESSGATE_S3 = s3rver
    prefix = f"{owned.namespace}/{owned.name}/drop-{len(key)}/"
    client_s3 = get_storage().client
    for name in ("config.json", key):
        client_s3.put_object(Bucket=s3rver["bucket"], Key=prefix + name, Body=b"x")
    client.force_login(publisher)
    created = AuditEvent.objects.filter(action__in=["catalog.release.created", "download.release_imported"]).count()
    url = reverse("publish:releases", args=[owned.namespace, owned.name])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"version": "2.0", "source": f"s3://{s3rver['bucket']}/{prefix}"})
    assert response.status_code == 302
    job = ReleaseImport.objects.get()
    assert job.status == "failed" and says in job.error
    assert not Release.objects.filter(model=owned, version="2.0").exists()
    assert (
        AuditEvent.objects.filter(action__in=["catalog.release.created", "download.release_imported"]).count()
        == created
    )


# --- manifests: a bad path written straight into the database is never emitted -------------


@pytest.fixture
def tampered(release, reviewer):
    """A release whose file path a database owner rewrote to the injection (no service ran)."""
    holder = factories.UserFactory()
    factories.GrantFactory(user=holder, model=release.model)
    victim = release.files.order_by("path").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_weightfile SET path = %s WHERE id = %s", [INJECTION, victim.pk])
    return holder, victim


@pytest.mark.parametrize(
    ("route", "query"),
    [("manifest_txt", ""), ("manifest_txt", "?format=urls"), ("manifest", ""), ("sha256sums", "")],
)
def test_a_manifest_refuses_a_release_holding_a_bad_path(client, release, tampered, route, query):
    holder, victim = tampered
    client.force_login(holder)
    args = [release.model.namespace, release.model.name, release.version]
    response = client.get(reverse(f"downloads:{route}", args=args) + query, HTTP_ACCEPT="application/json")
    body = response.content.decode()
    assert response.status_code == 409
    assert f"#{victim.pk}" in body
    assert "dir=~/.ssh" not in body and "authorized_keys" not in body
    assert not DownloadCounter.objects.exists()
    assert not AuditEvent.objects.filter(action="download.manifest_issued").exists()
    tally = RefusalTally.objects.get(action="download.refused")  # recorded once its minute closes
    assert (tally.reason, tally.count) == ("unsafe_path", 1)


def test_the_api_manifest_refuses_it_too(release, tampered):
    holder, victim = tampered
    url = f"/api/v1/models/{release.model.full_name}/releases/{release.version}/manifest/"
    response = bearer(holder).get(url)
    assert response.status_code == 409 and f"#{victim.pk}" in response.json()["error"]["message"]
    assert "authorized_keys" not in response.content.decode()


def test_a_clean_release_still_lists(client, release, tampered):
    holder, victim = tampered
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_weightfile SET path = %s WHERE id = %s", ["clean/name.bin", victim.pk])
    client.force_login(holder)
    args = [release.model.namespace, release.model.name, release.version]
    lines = client.get(reverse("downloads:manifest_txt", args=args)).content.decode().splitlines()
    assert "  out=clean/name.bin" in lines and all(line.startswith(("http", "  out=")) for line in lines)

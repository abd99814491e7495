"""Re-running an interrupted import: files the store vouches for (same size and sha256)
are not sent again, anything else is; S3 multipart uploads continue with their missing parts.

s3rver 3.7.1 answers `ListMultipartUploads` and `ListParts` with NotImplemented (and has no
`AbortMultipartUpload` route), so the multipart tests wrap the real boto3 client: every
upload and part still goes to s3rver, and the wrapper answers those listings from the parts
it saw s3rver accept (their real ETags), like S3 would.
"""

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from botocore.exceptions import EndpointConnectionError
from django.core.management import call_command
from django.core.management.base import CommandError

from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Release
from accessgate.core.jobs import JobStatus
from accessgate.core.storage import LocalStorage, S3Storage, get_storage, multipart
from accessgate.downloads.models import ReleaseImport

from .. import factories

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(storage, key) -> bytes:
    stream = storage.open(key)
    try:
        return stream.read()
    finally:
        stream.close()


@pytest.fixture
def source(tmp_path):
    directory = tmp_path / "checkpoint"
    directory.mkdir()
    for name, byte in (("a.bin", b"a"), ("b.bin", b"b"), ("c.bin", b"c")):
        (directory / name).write_bytes(byte * 5000)
    return directory


@pytest.fixture
def sent(monkeypatch, backend):
    """The keys put_file stores, and a switch to make the n-th put fail (an interruption)."""
    cls = S3Storage if backend == "s3" else LocalStorage
    real = cls.put_file
    state = {"keys": [], "fail_at": None}

    def put_file(self, key, source, **options):
        if state["fail_at"] is not None and len(state["keys"]) + 1 == state["fail_at"]:
            raise OSError("connection reset by peer")
        real(self, key, source, **options)
        state["keys"].append(key.rsplit("/", 1)[-1])

    monkeypatch.setattr(cls, "put_file", put_file)
    return state


def test_a_rerun_sends_only_what_is_missing_or_unvouched(source, backend, sent):
    model = factories.ModelFactory()
    sent["fail_at"] = 3
    with pytest.raises(CommandError, match="connection reset by peer.*Run the same command again to resume"):
        call_command("import_release", model.full_name, "1.0", str(source), "--quiet")
    failed = ReleaseImport.objects.get()
    assert failed.status == JobStatus.FAILED and "connection reset" in failed.error
    assert (failed.files_done, sent["keys"]) == (2, ["a.bin", "b.bin"])
    assert not Release.objects.filter(model=model).exists()

    storage = get_storage()
    prefix = f"{model.namespace}/{model.name}/1.0/"
    # b.bin's stored copy changes behind our back, keeping its size: never trusted on size alone.
    if backend == "s3":
        storage.client.put_object(Bucket=storage.bucket, Key=prefix + "b.bin", Body=b"X" * 5000)
    else:
        storage.path(prefix + "b.bin").write_bytes(b"X" * 5000)

    sent.update(keys=[], fail_at=None)
    call_command("import_release", model.full_name, "1.0", str(source), "--quiet")
    assert sent["keys"] == ["b.bin", "c.bin"]  # a.bin was re-used
    job = ReleaseImport.objects.latest("pk")
    assert (job.status, job.files_done, job.files_reused, job.bytes_reused) == (JobStatus.DONE, 3, 1, 5000)
    files = {f.path: f for f in Release.objects.get(model=model).files.all()}
    for name in ("a.bin", "b.bin", "c.bin"):
        content = (source / name).read_bytes()
        assert files[name].sha256 == sha(content) and files[name].size == len(content)
        assert read(storage, files[name].storage_key) == content
    imported = AuditEvent.objects.get(action="download.release_imported")
    assert imported.details["files_reused"] == 1 and imported.details["file_count"] == 3


def test_a_stored_copy_with_the_same_size_but_another_hash_is_replaced(source, backend, sent):
    """The record of what was stored names another sha256 (the source changed since)."""
    model = factories.ModelFactory()
    storage = get_storage()
    prefix = f"{model.namespace}/{model.name}/1.0/"
    other = source.parent / "other.bin"
    other.write_bytes(b"z" * 5000)
    for name in ("a.bin", "b.bin", "c.bin"):
        storage.put_file(prefix + name, other, sha256=sha(b"z" * 5000))
    assert storage.stored_sha256(prefix + "a.bin") == (5000, sha(b"z" * 5000))
    sent["keys"] = []
    call_command("import_release", model.full_name, "1.0", str(source), "--quiet")
    assert sent["keys"] == ["a.bin", "b.bin", "c.bin"]
    assert storage.stored_sha256(prefix + "a.bin") == (5000, sha(b"a" * 5000))


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_a_local_copy_left_half_written_is_written_again(source, sent):
    model = factories.ModelFactory()
    storage = get_storage()
    key = f"{model.namespace}/{model.name}/1.0/a.bin"
    storage.put_file(key, source / "a.bin", sha256=sha(b"a" * 5000))
    with open(storage.path(key), "r+b") as stream:  # truncated after the record was written
        stream.truncate(100)
    assert storage.stored_sha256(key) is None
    call_command("import_release", model.full_name, "1.0", str(source), "--quiet")
    assert "a.bin" in sent["keys"] and read(storage, key) == b"a" * 5000


class RecordingClient:
    """The real client (s3rver), plus the multipart listings s3rver lacks and a way to cut
    the connection after `fail_after` parts."""

    def __init__(self, real):
        self._real = real
        self.uploads: dict[str, dict] = {}
        self.parts_sent: list[tuple[str, int]] = []
        self.fail_after: int | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._real, name)

    def create_multipart_upload(self, **params):
        answer = self._real.create_multipart_upload(**params)
        self.uploads[answer["UploadId"]] = {"Key": params["Key"], "Initiated": datetime.now(UTC), "parts": {}}
        return answer

    def upload_part(self, **params):
        with self._lock:
            if self.fail_after is not None and len(self.parts_sent) >= self.fail_after:
                raise EndpointConnectionError(endpoint_url="http://s3.test")
            self.parts_sent.append((params["Key"], params["PartNumber"]))
        answer = self._real.upload_part(**params)
        self.uploads[params["UploadId"]]["parts"][params["PartNumber"]] = (len(params["Body"]), answer["ETag"])
        return answer

    def complete_multipart_upload(self, **params):
        answer = self._real.complete_multipart_upload(**params)
        self.uploads.pop(params["UploadId"])
        return answer

    def abort_multipart_upload(self, **params):
        self.uploads.pop(params["UploadId"], None)

    def get_paginator(self, operation):
        if operation == "list_multipart_uploads":
            return Pages(
                lambda Bucket, Prefix: {
                    "Uploads": [
                        {"Key": u["Key"], "UploadId": i, "Initiated": u["Initiated"]}
                        for i, u in self.uploads.items()
                        if u["Key"].startswith(Prefix)
                    ]
                }
            )
        if operation == "list_parts":
            return Pages(
                lambda Bucket, Key, UploadId: {
                    "Parts": [
                        {"PartNumber": n, "Size": size, "ETag": etag}
                        for n, (size, etag) in sorted(self.uploads[UploadId]["parts"].items())
                    ]
                }
            )
        return self._real.get_paginator(operation)


class Pages:
    def __init__(self, answer):
        self.answer = answer

    def paginate(self, **params):
        yield self.answer(**params)


@pytest.fixture
def s3(settings, s3rver, monkeypatch):
    settings.ACCESSGATE_STORAGE_BACKEND = "s3"
    settings.ACCESSGATE_S3 = s3rver
    storage = get_storage()
    client = RecordingClient(storage.client)
    monkeypatch.setattr(storage, "client", client)
    # 1 MiB parts above 1 MiB, so a 6.5 MiB file is seven parts (S3's 5 MiB floor is not s3rver's).
    monkeypatch.setattr(multipart, "PART_SIZE", MIB)
    monkeypatch.setattr(storage, "multipart_threshold", MIB)
    return storage, client


@pytest.fixture
def big(tmp_path):
    directory = tmp_path / "big"
    directory.mkdir()
    data = bytes(range(256)) * (26 * 1024)  # 6.5 MiB
    (directory / "model.safetensors").write_bytes(data)
    return directory, data


def test_an_interrupted_multipart_upload_continues_with_its_missing_parts(s3, big):
    storage, client = s3
    directory, data = big
    model = factories.ModelFactory()
    client.fail_after = 3
    with pytest.raises(CommandError, match="Could not connect"):
        call_command("import_release", model.full_name, "1.0", str(directory), "--quiet")
    ((upload_id, upload),) = client.uploads.items()
    stored_first = set(upload["parts"])
    assert 0 < len(stored_first) < 7

    # One stored part no longer matches the file (its ETag is another MD5): it is sent again.
    tampered = min(stored_first)
    upload["parts"][tampered] = (upload["parts"][tampered][0], '"00000000000000000000000000000000"')
    client.fail_after, client.parts_sent = None, []
    call_command("import_release", model.full_name, "1.0", str(directory), "--quiet")
    assert sorted(n for _, n in client.parts_sent) == sorted(set(range(1, 8)) - stored_first | {tampered})
    assert not client.uploads  # completed
    weight = Release.objects.get(model=model).files.get()
    assert (weight.size, weight.sha256) == (len(data), sha(data))
    assert read(storage, weight.storage_key) == data
    assert storage.stored_sha256(weight.storage_key) == (len(data), sha(data))


def test_parts_of_another_size_are_not_reused(s3, big):
    storage, client = s3
    directory, data = big
    model = factories.ModelFactory()
    key = f"{model.namespace}/{model.name}/1.0/model.safetensors"
    upload_id = client.create_multipart_upload(Bucket=storage.bucket, Key=key, Metadata={"sha256": sha(data)})[
        "UploadId"
    ]
    client.upload_part(Bucket=storage.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=data[: MIB // 2])
    client.parts_sent = []
    call_command("import_release", model.full_name, "1.0", str(directory), "--quiet")
    assert sorted(n for _, n in client.parts_sent) == list(range(1, 8))
    assert read(storage, key) == data


def test_a_file_changed_between_runs_ends_with_the_new_content_and_hash(s3, big):
    """The resumed upload still carries the old sha256 as metadata: the import notices
    after completing it and sends the whole file again."""
    storage, client = s3
    directory, data = big
    model = factories.ModelFactory()
    client.fail_after = 2
    with pytest.raises(CommandError):
        call_command("import_release", model.full_name, "1.0", str(directory), "--quiet")
    changed = data[:-1] + b"!"
    (directory / "model.safetensors").write_bytes(changed)
    client.fail_after = None
    call_command("import_release", model.full_name, "1.0", str(directory), "--quiet")
    weight = Release.objects.get(model=model).files.get()
    assert weight.sha256 == sha(changed) and read(storage, weight.storage_key) == changed
    assert storage.stored_sha256(weight.storage_key) == (len(changed), sha(changed))


def test_part_sizes_stay_within_s3s_ten_thousand_parts():
    assert multipart.part_size_for(1000) == 16 * MIB
    assert multipart.part_size_for(160 * 1024 * MIB) == 16 * MIB + MIB  # just over 10,000 × 16 MiB
    size = 2 * 1024**4  # 2 TiB
    assert -(-size // multipart.part_size_for(size)) <= 10_000


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_ctrl_c_marks_the_job_failed_and_says_how_to_resume(source, sent, monkeypatch):
    model = factories.ModelFactory()

    def interrupt(self, key, source, **options):
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalStorage, "put_file", interrupt)
    with pytest.raises(CommandError, match="Interrupted; nothing was created. Run the same command again"):
        call_command("import_release", model.full_name, "1.0", str(source), "--quiet")
    job = ReleaseImport.objects.get()
    assert (job.status, job.error) == (JobStatus.FAILED, "Interrupted.")  # not "running" forever
    assert not Release.objects.filter(model=model).exists()

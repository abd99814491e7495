import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Release
from accessgate.core.jobs import JobStatus
from accessgate.core.storage import get_storage
from accessgate.downloads.models import ReleaseImport

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(tmp_path):
    directory = tmp_path / "checkpoint"
    (directory / "sub").mkdir(parents=True)
    (directory / "a.bin").write_bytes(b"a" * 1000)
    (directory / "sub" / "b.json").write_bytes(b"{}")
    (directory / ".cache").mkdir()
    (directory / ".cache" / "ignored").write_bytes(b"x")
    return directory


def test_local_import_skips_hidden_files_and_tracks_progress(source, backend, capsys):
    model = factories.ModelFactory()
    call_command("import_release", model.full_name, "2025-06", str(source), "--notes", "June")
    release = Release.objects.get(model=model)
    assert sorted(release.files.values_list("path", flat=True)) == ["a.bin", "sub/b.json"]
    job = ReleaseImport.objects.get()
    assert (job.status, job.files_done, job.bytes_done, job.percent) == (JobStatus.DONE, 2, 1002, 100)
    assert job.release == release and release.notes == "June"
    assert "Imported 2 files" in capsys.readouterr().out

    requested = AuditEvent.objects.get(action="download.release_import_requested")
    assert requested.details == {"model": model.full_name, "version": "2025-06", "source": str(source)}


def test_background_import_runs_as_a_task(source, django_capture_on_commit_callbacks):
    model = factories.ModelFactory()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_release", model.full_name, "1.0", str(source), "--background")
    assert ReleaseImport.objects.get().status == JobStatus.DONE


def test_s3_prefix_is_indexed_in_place(settings, s3rver, tmp_path, source):
    settings.ACCESSGATE_STORAGE_BACKEND = "s3"
    settings.ACCESSGATE_S3 = s3rver

    storage = get_storage()
    for path in ["a.bin", "sub/b.json"]:
        storage.put_file(f"uploads/ckpt/{path}", source / path)
    model = factories.ModelFactory()
    # Outside the model's own prefix: an operator says so explicitly.
    call_command("import_release", model.full_name, "1.0", f"s3://{s3rver['bucket']}/uploads/ckpt", any_prefix=True)
    files = {f.path: f for f in Release.objects.get(model=model).files.all()}
    assert set(files) == {"a.bin", "sub/b.json"}
    assert files["a.bin"].storage_key == "uploads/ckpt/a.bin" and files["a.bin"].size == 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody/none", "1.0", "/tmp"], "No model named"),
        (["MODEL", "1.0", "/does/not/exist"], "is not a directory"),
        (["MODEL", "1.0", "s3://weights/x"], "needs the S3 storage backend"),
    ],
)
def test_refusals(args, message, tmp_path):
    model = factories.ModelFactory()
    args = [model.full_name if a == "MODEL" else a for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("import_release", *args)
    assert not Release.objects.exists()


def test_existing_version_and_empty_directory_are_refused(source, tmp_path):
    model = factories.ModelFactory()
    factories.make_release(model, "1.0")
    with pytest.raises(CommandError, match="already has a release 1.0"):
        call_command("import_release", model.full_name, "1.0", str(source))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="no files"):
        call_command("import_release", model.full_name, "2.0", str(tmp_path / "empty"))


def test_other_bucket_is_refused(settings, s3rver):
    settings.ACCESSGATE_STORAGE_BACKEND = "s3"
    settings.ACCESSGATE_S3 = s3rver
    model = factories.ModelFactory()
    with pytest.raises(CommandError, match="not the configured bucket"):
        call_command("import_release", model.full_name, "1.0", "s3://elsewhere/x")

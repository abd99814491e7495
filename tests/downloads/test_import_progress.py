"""Import progress: recorded on the job (throttled), said the same way everywhere, and
shown on the terminal as a live line (TTY) or plain periodic lines (logs)."""

import io

import pytest
from django.core.management import call_command

from accessgate.core.jobs import JobStatus
from accessgate.downloads import progress
from accessgate.downloads.imports import release_import_prepare, release_import_run
from accessgate.downloads.models import ReleaseImport
from accessgate.downloads.progress import ImportProgress, import_status, progress_text

from .. import factories

pytestmark = pytest.mark.django_db


class Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def source(tmp_path):
    directory = tmp_path / "checkpoint"
    directory.mkdir()
    (directory / "a.bin").write_bytes(b"a" * 3_000_000)  # three hashing chunks
    (directory / "b.json").write_bytes(b"{}")
    return directory


@pytest.fixture
def every_tick(monkeypatch):
    monkeypatch.setattr(progress, "PROGRESS_INTERVAL", 0)


def test_progress_is_recorded_on_the_job_as_files_are_hashed_and_stored(source, backend, every_tick):
    model = factories.ModelFactory()
    job = release_import_prepare(actor=None, model=model, version="1.0", source=str(source), operator=True)
    seen = []

    def watch(watched):
        row = ReleaseImport.objects.get(pk=watched.pk)  # what the admin and console read
        seen.append((row.files_done, row.bytes_done, row.current_file, row.status))

    release_import_run(job, on_progress=watch)

    assert all(status == JobStatus.RUNNING for *_, status in seen)
    assert [b for _, b, _, _ in seen] == sorted(b for _, b, _, _ in seen)  # never goes back
    assert {f for _, _, f, _ in seen} >= {"a.bin", "b.json"}
    # Hashing a.bin moves it halfway, storing it the other half: some tick shows a.bin in between.
    assert any(f == "a.bin" and 0 < b < 3_000_000 for _, b, f, _ in seen)
    job.refresh_from_db()
    assert (job.status, job.files_done, job.bytes_done, job.bytes_total, job.current_file) == (
        JobStatus.DONE,
        2,
        3_000_002,
        3_000_002,
        "",
    )
    assert job.files_reused == 0


def test_writes_are_throttled(source):
    """With a clock that never moves, only the forced writes happen (start, first file, end)."""
    model = factories.ModelFactory()
    job = ReleaseImport.objects.create(model=model, version="1.0", source=str(source))
    writes = []
    tracker = ImportProgress(job, on_update=writes.append, clock=lambda: 100.0)
    tracker.begin(files_total=2, bytes_total=2_000_000, hash_share=0.5)
    for name in ("a", "b"):
        tracker.start_file(name, 1_000_000)
        for _ in range(100):
            tracker.hashed(5_000)
            tracker.stored(5_000)
        tracker.finish_file()
    tracker.finish()
    assert len(writes) == 3
    job.refresh_from_db()
    assert (job.files_done, job.bytes_done) == (2, 2_000_000)


def test_rate_and_time_left_come_from_the_bytes_moved():
    model = factories.ModelFactory()
    job = ReleaseImport.objects.create(model=model, version="1.0", source="/x", status=JobStatus.RUNNING)
    now = [0.0]
    tracker = ImportProgress(job, clock=lambda: now[0])
    tracker.begin(files_total=1, bytes_total=400_000_000, hash_share=1.0)
    tracker.start_file("big.bin", 400_000_000)
    now[0] = 2.0
    tracker.hashed(100_000_000)  # 50 MB/s over two seconds
    job.refresh_from_db()
    assert (job.bytes_done, job.rate) == (100_000_000, 50_000_000)
    assert import_status(job)["eta_seconds"] == 6
    assert progress_text(job) == "0 of 1 file · 100 MB of 400 MB · 50 MB/s · about 6 s left"


def test_the_text_reads_as_the_pages_show_it():
    job = ReleaseImport(
        status=JobStatus.RUNNING,
        files_done=3,
        files_total=9,
        bytes_done=1_200_000_000,
        bytes_total=4_000_000_000,
        rate=85_000_000,
        files_reused=2,
    )
    assert progress_text(job) == (
        "3 of 9 files · 1.2 GB of 4.0 GB · 85 MB/s · about 33 s left · 2 files already stored"
    )
    job.status, job.bytes_done, job.files_done = JobStatus.DONE, 4_000_000_000, 9
    assert progress_text(job) == "9 of 9 files · 4.0 GB of 4.0 GB · 2 files already stored"


def test_a_terminal_gets_one_line_redrawn_in_place(source, every_tick):
    model = factories.ModelFactory()
    out = Tty()
    call_command("import_release", model.full_name, "1.0", str(source), stdout=out)
    text = out.getvalue()
    assert "\r" in text and "\x1b[K" in text
    assert "of 2 files ·" in text and "a.bin" in text
    assert text.rstrip().splitlines()[-1].startswith("Imported 2 files (3.0 MB, 3000002 bytes)")


def test_a_log_gets_plain_lines(source, every_tick):
    model = factories.ModelFactory()
    out = io.StringIO()
    call_command("import_release", model.full_name, "1.0", str(source), stdout=out)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert lines[0].startswith("0 of 2 files · 0 B of 3.0 MB")
    assert lines[-1].startswith("Imported 2 files")


def test_quiet_prints_only_the_summary(source, every_tick):
    model = factories.ModelFactory()
    out = Tty()
    call_command("import_release", model.full_name, "1.0", str(source), "--quiet", stdout=out)
    assert out.getvalue().splitlines() == [
        line for line in out.getvalue().splitlines() if line.startswith("Imported 2 files")
    ]
    assert len(out.getvalue().splitlines()) == 1
